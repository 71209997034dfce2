"""回头看: the draw of closed findings, reproducible from its seed, every 重大隐患 in it;
revisits that reopen a finding; the relapse rate."""

import math

import pytest
from sqlalchemy import func, select

from inspect_app.assignments.models import Assignment, RevisitDraw
from inspect_app.extensions import db
from tests.factories import Factory
from tests.support.campaign_work import staged_campaign


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def world(app, factory, make_user, login):
    """Closed findings: 东城区 10 (2 major hazards), 西城区 5 (1 major); open ones beside."""
    code = staged_campaign(app, factory)
    ids = {
        "insp": make_user("insp", "inspector", ["东城区"]),
        "insp_west": make_user("insp_west", "inspector", ["西城区"]),
        "lead": make_user("lead", "team_lead", ["东城区"]),
        "office": make_user("office", "office", []),
    }
    closed = {"东城区": [], "西城区": []}
    majors, open_ids = set(), []
    for district, count, major_count in (("东城区", 10, 2), ("西城区", 5, 1)):
        site = factory.site(f"{district}加油站", district)
        inspection = factory.inspection(site, ids["insp"])
        for n in range(count):
            major = n < major_count
            item = "T-01" if n % 2 else "T-02"
            fid = factory.finding(inspection, status="closed", major_hazard=major, item=item)
            closed[district].append(fid)
            if major:
                majors.add(fid)
        open_ids.append(factory.finding(inspection, status="open", major_hazard=True))
    headers = {name: login(name) for name in ids}
    return {
        "code": code,
        "ids": ids,
        "h": headers,
        "closed": closed,
        "majors": majors,
        "open": open_ids,
    }


def draw(client, world, who="office", **body):
    return client.post(
        f"/api/v1/campaigns/{world['code']}/revisit-draws",
        json={"due_on": "2025-12-31", **body},
        headers=world["h"][who],
    )


def test_the_draw_takes_a_share_per_district_with_every_major_hazard(client, world):
    answer = draw(client, world, seed=20250601, inspector_ids=[world["ids"]["insp"]])
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    drawn = set(body["finding_ids"])
    assert world["majors"] <= drawn
    assert not drawn & set(world["open"])  # only closed findings
    east, west = set(world["closed"]["东城区"]), set(world["closed"]["西城区"])
    assert len(drawn & east) == math.ceil(10 * 0.3)
    assert len(drawn & west) == math.ceil(5 * 0.3)
    assert drawn <= east | west
    assert body["seed"] == 20250601 and body["share_percent"] == 30
    assert body["population_size"] == 15
    assert body["reproducible"] is True

    # Each drawn finding became a revisit assignment; the inspector got those of 东城区.
    revisits = {a["finding_id"]: a for a in body["assignments"]}
    assert set(revisits) == drawn
    assert all(a["kind"] == "revisit" for a in revisits.values())
    mine = client.get("/api/v1/assignments?kind=revisit", headers=world["h"]["insp"]).get_json()
    assert {a["finding_id"] for a in mine["items"]} == drawn & east


def test_the_draw_is_shown_and_repeated_from_its_seed(app, client, world):
    first = draw(client, world, seed=7).get_json()
    shown = client.get(f"/api/v1/revisit-draws/{first['id']}", headers=world["h"]["office"])
    assert shown.status_code == 200
    assert shown.get_json()["finding_ids"] == first["finding_ids"]
    assert shown.get_json()["reproducible"] is True
    again = draw(client, world, seed=7).get_json()
    assert again["id"] != first["id"] and again["finding_ids"] == first["finding_ids"]

    # A draw whose stored result no longer follows from its seed is shown as such.
    with app.app_context():
        record = db.session.get(RevisitDraw, first["id"])
        record.drawn = sorted(set(record.drawn) ^ {world["closed"]["东城区"][-1]})
        db.session.commit()
    tampered = client.get(f"/api/v1/revisit-draws/{first['id']}", headers=world["h"]["office"])
    assert tampered.get_json()["reproducible"] is False


def test_a_draw_without_a_seed_records_the_one_it_used(client, world):
    body = draw(client, world, share_percent=50).get_json()
    assert isinstance(body["seed"], int)
    again = draw(client, world, share_percent=50, seed=body["seed"]).get_json()
    assert again["finding_ids"] == body["finding_ids"]


def test_who_may_draw(app, client, world):
    assert draw(client, world, "insp").status_code == 403
    lead = draw(client, world, "lead", seed=1)
    assert lead.status_code == 201
    assert set(lead.get_json()["districts"]) == {"东城区"}
    assert set(lead.get_json()["finding_ids"]) <= set(world["closed"]["东城区"])
    assert draw(client, world, "lead", districts=["西城区"]).status_code == 403
    assert draw(client, world, "office", share_percent=0).status_code == 422
    # The lead may not look at a draw of the whole city.
    city = draw(client, world, "office", seed=2).get_json()
    assert (
        client.get(f"/api/v1/revisit-draws/{city['id']}", headers=world["h"]["lead"]).status_code
        == 404
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RevisitDraw)) == 2


def finding(client, world, finding_id):
    return client.get(f"/api/v1/findings/{finding_id}", headers=world["h"]["office"]).get_json()


def test_a_relapse_reopens_the_finding_and_counts_in_the_relapse_rate(app, client, world):
    body = draw(client, world, seed=99, inspector_ids=[world["ids"]["insp"]]).get_json()
    east = [a for a in body["assignments"] if a["district"] == "东城区"]
    relapsed, fixed, inspector_try = east[0], east[1], east[2]

    # An inspector on the team may say it is fixed, not reopen it (the lifecycle's rule).
    refused = client.post(
        f"/api/v1/assignments/{inspector_try['id']}/revisit",
        json={"outcome": "relapsed", "note": "又出现了"},
        headers=world["h"]["insp"],
    )
    assert refused.status_code == 403
    assert finding(client, world, inspector_try["finding_id"])["status"] == "closed"
    ok = client.post(
        f"/api/v1/assignments/{fixed['id']}/revisit",
        json={"outcome": "fixed"},
        headers=world["h"]["insp"],
    )
    assert ok.status_code == 200 and ok.get_json()["outcome"] == "fixed"

    answer = client.post(
        f"/api/v1/assignments/{relapsed['id']}/revisit",
        json={"outcome": "relapsed", "note": "油罐区警示标志再次缺失"},
        headers=world["h"]["lead"],
    )
    assert answer.status_code == 200, answer.get_json()
    reopened = finding(client, world, relapsed["finding_id"])
    assert reopened["status"] == "rectifying"
    last = reopened["events"][-1]
    assert (last["action"], last["actor"]["username"]) == ("reopen", "lead")
    assert "回头看" in last["note"] and "警示标志" in last["note"]
    again = client.post(
        f"/api/v1/assignments/{relapsed['id']}/revisit",
        json={"outcome": "fixed"},
        headers=world["h"]["lead"],
    )
    assert again.status_code == 409

    rates = client.get(
        f"/api/v1/campaigns/{world['code']}/relapse", headers=world["h"]["office"]
    ).get_json()
    assert rates["by_district"] == [
        {"key": "东城区", "revisited": 2, "relapsed": 1, "relapse_rate": 0.5}
    ]
    assert rates["total"]["relapse_rate"] == 0.5
    assert {r["key"] for r in rates["by_department"]} <= {"商务局", "应急管理局"}
    assert sum(r["revisited"] for r in rates["by_department"]) == 2

    with app.app_context():
        done = db.session.scalar(
            select(func.count()).select_from(Assignment).where(Assignment.done_at.is_not(None))
        )
    assert done == 2


def test_an_inspection_assignment_takes_no_revisit_outcome(client, world):
    sites = client.get("/api/v1/sites", headers=world["h"]["office"]).get_json()["items"]
    site = next(s for s in sites if s["district"] == "东城区")
    made = client.post(
        "/api/v1/assignments",
        json={
            "campaign": world["code"],
            "stage": "排查摸底阶段",
            "site_ids": [site["id"]],
            "inspector_ids": [world["ids"]["lead"]],
        },
        headers=world["h"]["office"],
    ).get_json()["items"][0]
    answer = client.post(
        f"/api/v1/assignments/{made['id']}/revisit",
        json={"outcome": "fixed"},
        headers=world["h"]["lead"],
    )
    assert answer.status_code == 409
