"""Assignments (检查任务): who may assign, bulk by district and type, the phone's feed, coverage."""

import json
import urllib.parse
import urllib.request
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from inspect_app.assignments.models import Assignment
from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection
from tests.factories import Factory
from tests.support.campaign_work import staged_campaign

STAGE = "排查摸底阶段"


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def world(app, factory, make_user, login):
    """东城区: three fuel stations and a depot; 西城区: one fuel station; one user per role."""
    code = staged_campaign(app, factory)
    ids = {
        "insp_a": make_user("insp_a", "inspector", ["东城区"]),
        "insp_b": make_user("insp_b", "inspector", ["东城区", "西城区"]),
        "insp_west": make_user("insp_west", "inspector", ["西城区"]),
        "lead": make_user("lead", "team_lead", ["东城区"]),
        "office": make_user("office", "office", []),
    }
    sites = {
        "east1": factory.site("昆仑路加油站", "东城区"),
        "east2": factory.site("柴达木路加油站", "东城区"),
        "east3": factory.site("盐湖路加油站", "东城区"),
        "depot": factory.site("东城油库", "东城区", "油库"),
        "west": factory.site("西城加油站", "西城区"),
    }
    headers = {name: login(name) for name in ids}
    return {"code": code, "ids": ids, "sites": sites, "h": headers}


def assign(client, world, who, **body):
    return client.post(
        "/api/v1/assignments",
        json={"campaign": world["code"], "stage": STAGE, **body},
        headers=world["h"][who],
    )


def count_assignments(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Assignment))


def test_office_assigns_a_district_by_site_type_to_a_team(client, world):
    ids = world["ids"]
    answer = assign(
        client,
        world,
        "office",
        district="东城区",
        site_type="加油站",
        inspector_ids=[ids["insp_a"], ids["insp_b"]],
        department="市商务局",
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert (body["created"], body["updated"]) == (3, 0)
    names = sorted(item["site_name"] for item in body["items"])
    assert names == ["昆仑路加油站", "柴达木路加油站", "盐湖路加油站"]  # no depot, no 西城区
    item = body["items"][0]
    assert item["due_on"] == "2025-06-30"  # the stage's end by default
    assert [m["username"] for m in item["members"]] == ["insp_a", "insp_b"]

    for who, expected in (("insp_a", 3), ("insp_b", 3), ("insp_west", 0), ("lead", 3)):
        listed = client.get("/api/v1/assignments", headers=world["h"][who]).get_json()["items"]
        assert len(listed) == expected, who


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("insp_a", {"district": "东城区"}, 403),  # inspectors do not assign
        ("lead", {"district": "西城区"}, 403),  # another district
        ("lead", {"site_ids": ["west"]}, 422),  # a site the lead cannot see names nothing
        ("office", {"site_ids": ["east1"], "stage": "不存在的阶段"}, 422),
        ("office", {"site_ids": ["west"], "team": ["insp_a"]}, 422),  # insp_a not in 西城区
        ("office", {"site_ids": ["east1"], "department": "市教育局"}, 422),
        ("office", {"site_ids": ["east1"], "district": "东城区"}, 422),  # both at once
        ("office", {}, 422),  # neither
    ],
)
def test_who_may_assign_what(app, client, world, who, body, status):
    ids, sites = world["ids"], world["sites"]
    body = dict(body)  # the parameters are shared by both databases' runs
    payload = {"inspector_ids": [ids[name] for name in body.pop("team", ["insp_b"])]}
    if "site_ids" in body:
        payload["site_ids"] = [sites[name] for name in body.pop("site_ids")]
    payload.update(body)
    answer = assign(client, world, who, **payload)
    assert answer.status_code == status, answer.get_json()
    assert set(answer.get_json()["error"]) <= {"code", "message", "fields"}
    assert count_assignments(app) == 0  # nothing half written


def test_team_lead_assigns_within_their_district(client, world):
    answer = assign(
        client,
        world,
        "lead",
        site_ids=[world["sites"]["east1"], world["sites"]["depot"]],
        inspector_ids=[world["ids"]["insp_a"]],
        due_on="2025-06-15",
    )
    assert answer.status_code == 201, answer.get_json()
    assert {i["due_on"] for i in answer.get_json()["items"]} == {"2025-06-15"}


def sync(client, headers, since=None):
    query = f"?since={since}" if since else ""
    answer = client.get(f"/api/v1/sync{query}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_the_phone_sees_its_assignments_in_the_feed_and_loses_them_when_reassigned(client, world):
    ids, h = world["ids"], world["h"]
    site = world["sites"]["east1"]
    assert (
        assign(client, world, "office", site_ids=[site], inspector_ids=[ids["insp_a"]]).status_code
        == 201
    )
    first = sync(client, h["insp_a"])
    (mine,) = first["changes"]["assignments"]
    assert (mine["site_id"], mine["stage"], mine["deleted"]) == (site, STAGE, False)
    # The feed keeps its other lists.
    assert {"sites", "findings", "checklists", "reminders"} <= set(first["changes"])
    assert sync(client, h["insp_b"])["changes"]["assignments"] == []

    again = assign(client, world, "office", site_ids=[site], inspector_ids=[ids["insp_b"]])
    assert (again.get_json()["created"], again.get_json()["updated"]) == (0, 1)
    (gone,) = sync(client, h["insp_a"], first["next_cursor"])["changes"]["assignments"]
    assert (gone["id"], gone["deleted"]) == (mine["id"], True)
    (now_b,) = sync(client, h["insp_b"])["changes"]["assignments"]
    assert (now_b["id"], now_b["deleted"]) == (mine["id"], False)
    assert client.get("/api/v1/assignments", headers=h["insp_a"]).get_json()["items"] == []
    assert client.get(f"/api/v1/assignments/{mine['id']}", headers=h["insp_a"]).status_code == 404


def test_coverage_counts_sites_inspected_within_the_stage(app, client, factory, world):
    ids, sites = world["ids"], world["sites"]
    assign(
        client,
        world,
        "office",
        district="东城区",
        inspector_ids=[ids["insp_a"]],
        department="市商务局",
    )
    assign(client, world, "office", site_ids=[sites["west"]], inspector_ids=[ids["insp_west"]])
    # east1 inspected in the stage (the factory's date, 2025-05-12); east2 only in the next
    # stage; east3 has a draft only; the depot not at all.
    factory.inspection(sites["east1"], ids["insp_a"])
    late = factory.inspection(sites["east2"], ids["insp_a"])
    factory.inspection(sites["east3"], ids["insp_a"], final=False)
    with app.app_context():
        db.session.execute(
            update(Inspection)
            .where(Inspection.id == late)
            .values(started_at=datetime(2025, 7, 2, 2, 0, tzinfo=UTC))
        )
        db.session.commit()

    answer = client.get(
        f"/api/v1/campaigns/{world['code']}/coverage?stage={STAGE}", headers=world["h"]["office"]
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    rows = {
        r["key"]: (r["assigned"], r["inspected"], r["not_inspected"]) for r in body["by_district"]
    }
    assert rows == {"东城区": (4, 1, 3), "西城区": (1, 0, 1)}
    departments = {r["key"]: r["assigned"] for r in body["by_department"]}
    assert departments == {"市商务局": 4, "未指定部门": 1}
    assert (body["total"]["assigned"], body["total"]["inspected"]) == (5, 1)
    assert body["ended"] is True  # 2025's stage is over

    lead_view = client.get(
        f"/api/v1/campaigns/{world['code']}/coverage?stage={STAGE}", headers=world["h"]["lead"]
    ).get_json()
    assert [r["key"] for r in lead_view["by_district"]] == ["东城区"]
    inspector = client.get(
        f"/api/v1/campaigns/{world['code']}/coverage", headers=world["h"]["insp_a"]
    )
    assert inspector.status_code == 403

    listed = client.get("/api/v1/assignments", headers=world["h"]["insp_a"]).get_json()["items"]
    assert {i["site_name"]: i["inspected"] for i in listed} == {
        "昆仑路加油站": True,
        "柴达木路加油站": False,
        "盐湖路加油站": False,
        "东城油库": False,
    }


# ---------------------------------------------------------------------------
# The dashboard's coverage page in a real Chromium


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    from tests.support.browser import DemoSite, require_chromium

    require_chromium()
    site = DemoSite(tmp_path_factory.mktemp("coverage")).start()
    yield site
    site.stop()


def call(demo_site, username: str, method: str, path: str, body: dict) -> dict:
    demo_site.api(username, "/api/v1/campaigns")  # logs in once, keeps the token
    request = urllib.request.Request(
        f"{demo_site.base}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {demo_site._tokens[username]}",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_coverage_page_shows_the_api_figures_accessibly(demo_site, device):
    from tests.support.a11y import assert_accessible, format_problems, keyboard_walk
    from tests.support.browser import DEVICES, log_in, running_chromium, shot

    code = "refined-oil-2025"
    (inspector,) = demo_site.query("SELECT id FROM users WHERE username = 'insp_east'")[0]
    stage = demo_site.api("office", "/api/v1/campaigns")
    stage = next(c for c in stage["items"] if c["code"] == code)["stages"][0]["name"]
    if device == "desktop":  # the data is made once for the module
        call(
            demo_site,
            "office",
            "POST",
            "/api/v1/assignments",
            {"campaign": code, "stage": stage, "district": "东城区", "inspector_ids": [inspector]},
        )
        drawn = call(
            demo_site,
            "lead_city",
            "POST",
            f"/api/v1/campaigns/{code}/revisit-draws",
            {"due_on": "2026-12-31", "seed": 17, "districts": ["东城区"]},
        )
        first = drawn["assignments"][0]
        call(
            demo_site,
            "lead_city",
            "POST",
            f"/api/v1/assignments/{first['id']}/revisit",
            {"outcome": "relapsed", "note": "回头看发现复燃"},
        )
    expected = demo_site.api(
        "lead_city", f"/api/v1/campaigns/{code}/coverage?stage={urllib.parse.quote(stage)}"
    )
    relapse = demo_site.api("lead_city", f"/api/v1/campaigns/{code}/relapse")
    assert expected["total"]["assigned"] > 0 and relapse["total"]["relapsed"] == 1

    with running_chromium() as browser:
        context = browser.new_context(base_url=demo_site.base, locale="zh-CN", **DEVICES[device])
        page = context.new_page()
        assert log_in(page, demo_site.base, "lead_city").status == 302
        page.goto(f"/dashboard/campaigns/{code}")
        page.get_by_role("link", name="检查覆盖与回头看").click()
        page.wait_for_load_state()
        page.select_option("#stage", stage)
        page.get_by_role("button", name="查看").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text().startswith("检查覆盖与回头看")

        rows = page.locator("#coverage-district tbody tr")
        shown = {
            rows.nth(i).locator("th").inner_text(): [
                int(t) for t in rows.nth(i).locator("td").all_inner_texts()[:3]
            ]
            for i in range(rows.count())
        }
        assert shown == {
            r["key"]: [r["assigned"], r["inspected"], r["not_inspected"]]
            for r in expected["by_district"]
        }
        relapse_row = page.locator("#relapse-district tbody tr").first
        assert relapse_row.locator("th").inner_text() == "东城区"
        assert relapse_row.locator("td").all_inner_texts()[1] == "1"

        assert_accessible(page)
        walk = keyboard_walk(page)
        assert walk["reached"] > 0
        assert not walk["unreachable"], format_problems(
            [
                {"rule": "unreachable", "message": "Tab never gets here", "element": e}
                for e in walk["unreachable"]
            ]
        )
        assert not walk["noIndicator"], format_problems(
            [
                {"rule": "focus", "message": "no focus indicator", "element": e}
                for e in walk["noIndicator"]
            ]
        )
        if device == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"coverage-{device}")

        page.get_by_role("link", name="提醒").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "提醒"
        assert_accessible(page)
        context.close()
