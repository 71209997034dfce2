"""Replacing a draft inspection deletes nothing a team lead may have synced.

Findings the new body keeps keep their server id and history; findings it drops are
withdrawn (撤回): voided by the inspector's "withdraw" event, a tombstone in GET /sync,
and out of the lists, statistics and overdue counts like voided findings.
"""

import uuid

import pytest

from inspect_app import check
from inspect_app.extensions import db
from tests.helpers import assert_error
from tests.test_inspections import body


@pytest.fixture
def people(make_user, login):
    make_user("east", "inspector", ["东城区"])
    make_user("lead", "team_lead", ["东城区"])
    return {"east": login("east"), "lead": login("lead")}


def finding(checklist, description, item=0, **extra):
    return {
        "id": str(uuid.uuid4()),
        "item_code": checklist["plain"][item],
        "description": description,
        "severity": "general",
        "deadline": "2025-06-12",
        "photos": [],
        **extra,
    }


def draft(checklist, site, findings):
    data = body(checklist, site, final=False, findings=findings)
    data["answers"] = [{"item_code": checklist["plain"][0], "result": "fail", "note": ""}]
    return data


def sync(client, headers, since=None):
    query = f"?since={since}" if since is not None else ""
    response = client.get(f"/api/v1/sync{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def put(client, headers, url, data, status):
    response = client.put(url, json=data, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_a_synced_finding_dropped_from_a_draft_is_a_tombstone(
    app, client, people, checklist, make_site
):
    site = make_site()
    url = f"/api/v1/inspections/{uuid.uuid4()}"
    kept = finding(checklist, "加油机未接地")
    dropped = finding(checklist, "灭火器过期")
    first = put(client, people["east"], url, draft(checklist, site, [kept, dropped]), 201)
    ids = {f["uuid"]: f["id"] for f in first["findings"]}

    seen = sync(client, people["lead"])
    assert {f["uuid"] for f in seen["changes"]["findings"]} == {kept["id"], dropped["id"]}
    assert all(f["deleted"] is False for f in seen["changes"]["findings"])

    added = finding(checklist, "储油罐无防渗")
    revised = {**kept, "description": "加油机未接地，静电导线断开"}
    second = put(client, people["east"], url, draft(checklist, site, [revised, added]), 200)
    assert second["id"] == first["id"]
    assert {f["uuid"] for f in second["findings"]} == {kept["id"], added["id"]}
    assert {f["uuid"]: f["id"] for f in second["findings"]}[kept["id"]] == ids[kept["id"]]

    later = sync(client, people["lead"], seen["next_cursor"])["changes"]["findings"]
    changes = {f["uuid"]: f for f in later}
    assert set(changes) == {kept["id"], dropped["id"], added["id"]}
    tombstone = changes[dropped["id"]]
    assert tombstone["deleted"] is True and tombstone["id"] == ids[dropped["id"]]
    assert tombstone["status"] == "voided" and tombstone["last_action"] == "withdraw"
    assert changes[kept["id"]]["deleted"] is False
    assert changes[kept["id"]]["id"] == ids[kept["id"]]
    assert changes[kept["id"]]["description"] == "加油机未接地，静电导线断开"

    # The lead can still read what was withdrawn, by whom and when.
    detail = client.get(f"/api/v1/findings/{ids[dropped['id']]}", headers=people["lead"])
    events = detail.get_json()["events"]
    assert [e["action"] for e in events] == ["record", "withdraw"]
    assert events[-1]["actor"]["username"] == "east" and events[-1]["action_label"] == "撤回"
    # Out of the default list, like voided findings; the kept one has its one history.
    listed = client.get("/api/v1/findings", headers=people["lead"]).get_json()["items"]
    assert {f["uuid"] for f in listed} == {kept["id"], added["id"]}
    kept_detail = client.get(f"/api/v1/findings/{kept['id']}", headers=people["lead"]).get_json()
    assert [e["action"] for e in kept_detail["events"]] == ["record"]

    # The inspection as stored is the body as last sent; a replay answers the same.
    stored = client.get(url, headers=people["east"]).get_json()
    assert {f["id"] for f in stored["findings"]} == {kept["id"], added["id"]}
    assert put(client, people["east"], url, draft(checklist, site, [revised, added]), 200) == second
    with app.app_context():
        report = check.Report()
        check.statuses_agree_with_history(report)
        assert report.ok, report.problems
        db.session.remove()


def test_a_withdrawn_finding_sent_again_comes_back_with_its_id(
    app, client, people, checklist, make_site
):
    site = make_site()
    url = f"/api/v1/inspections/{uuid.uuid4()}"
    one = finding(checklist, "未设置安全警示标志")
    two = finding(checklist, "应急物资不足")
    first = put(client, people["east"], url, draft(checklist, site, [one, two]), 201)
    put(client, people["east"], url, draft(checklist, site, [one]), 200)
    cursor = sync(client, people["lead"])["next_cursor"]
    back = put(client, people["east"], url, draft(checklist, site, [one, two]), 200)
    assert back["findings"] == first["findings"]
    change = {f["uuid"]: f for f in sync(client, people["lead"], cursor)["changes"]["findings"]}[
        two["id"]
    ]
    assert change["deleted"] is False and change["status"] == "open"
    detail = client.get(f"/api/v1/findings/{two['id']}", headers=people["lead"]).get_json()
    assert [e["action"] for e in detail["events"]] == ["record", "withdraw", "record"]


def test_a_kept_finding_fixed_on_the_spot_gets_the_event_not_a_new_id(
    app, client, people, checklist, make_site
):
    site = make_site()
    url = f"/api/v1/inspections/{uuid.uuid4()}"
    one = finding(checklist, "地面油污未清理")
    first = put(client, people["east"], url, draft(checklist, site, [one]), 201)
    fixed = {**one, "fixed_on_spot": True, "photos": ["c" * 64]}
    second = put(client, people["east"], url, draft(checklist, site, [fixed]), 200)
    assert second["findings"] == [{**first["findings"][0], "status": "closed"}]
    assert second["missing_photos"] == ["c" * 64]
    detail = client.get(f"/api/v1/findings/{one['id']}", headers=people["lead"]).get_json()
    assert [(e["action"], e["to_status"]) for e in detail["events"]] == [
        ("record", "open"),
        ("fix_on_spot", "closed"),
    ]
    assert detail["photos"] == ["c" * 64]
    # Undone again: back to open, through an event, same id.
    third = put(client, people["east"], url, draft(checklist, site, [one]), 200)
    assert third["findings"] == first["findings"] and third["missing_photos"] == []


def test_withdrawn_findings_leave_the_statistics(app, client, people, checklist, make_site):
    site = make_site()
    url = f"/api/v1/inspections/{uuid.uuid4()}"
    findings = [finding(checklist, f"问题{i}") for i in range(3)]
    put(client, people["east"], url, draft(checklist, site, findings), 201)
    put(client, people["east"], url, draft(checklist, site, findings[:1]), 200)
    stats = client.get(
        f"/api/v1/campaigns/{checklist['campaign']}/stats?group_by=district",
        headers=people["lead"],
    ).get_json()
    assert stats["total"]["findings"] == 1 and stats["total"]["open"] == 1
    summary = client.get(f"/api/v1/sites/{site}", headers=people["lead"]).get_json()
    assert summary["rectification"][0]["findings"] == 1


def test_a_finding_moved_by_the_lead_still_blocks_the_replacement(
    client, people, checklist, make_site
):
    site = make_site()
    url = f"/api/v1/inspections/{uuid.uuid4()}"
    one = finding(checklist, "油罐区未设围堰")
    put(client, people["east"], url, draft(checklist, site, [one]), 201)
    moved = client.post(
        f"/api/v1/findings/{one['id']}/events", json={"action": "start"}, headers=people["lead"]
    )
    assert moved.status_code == 200
    other = finding(checklist, "另一项问题")
    response = client.put(url, json=draft(checklist, site, [other]), headers=people["east"])
    assert_error(response, 409, "conflict")
    detail = client.get(f"/api/v1/findings/{one['id']}", headers=people["lead"]).get_json()
    assert detail["status"] == "rectifying"
