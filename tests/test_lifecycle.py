"""POST /findings/{id}/events: every move and every forbidden one, per role; races.

The expected table below is written out by hand from API-CONTRACT.md, not read from
inspect_app.findings.lifecycle, so that a slip in the code's table shows up here.
"""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from inspect_app.domain import today_shanghai
from inspect_app.errors import Conflict
from inspect_app.extensions import db
from inspect_app.findings.models import Enforcement, Finding, RectificationEvent
from tests.factories import Factory
from tests.helpers import assert_error

SHA_A = "a" * 64
SHA_B = "b" * 64
STATUSES = ("open", "rectifying", "pending_review", "closed", "voided")
ROLES = ("inspector", "team_lead", "office")
REVIEWERS = ("team_lead", "office")

# (action, status before) → status after. Anything missing is a 409.
ALLOWED = {
    ("start", "open"): "rectifying",
    ("submit", "open"): "pending_review",
    ("submit", "rectifying"): "pending_review",
    ("approve", "pending_review"): "closed",
    ("reject", "pending_review"): "rectifying",
    ("reopen", "closed"): "rectifying",
    ("void", "open"): "voided",
    ("void", "rectifying"): "voided",
    ("void", "pending_review"): "voided",
    ("void", "closed"): "voided",
    ("extend", "open"): "open",
    ("extend", "rectifying"): "rectifying",
    ("extend", "pending_review"): "pending_review",
}
MAY = {
    "start": ROLES,
    "submit": ROLES,
    "approve": REVIEWERS,
    "reject": REVIEWERS,
    "reopen": REVIEWERS,
    "void": ("office",),
    "extend": REVIEWERS,
}
STATUS_LABELS = {
    "open": "待整改",
    "rectifying": "整改中",
    "pending_review": "待复查",
    "closed": "已销号",
    "voided": "已作废",
}
ACTION_LABELS = {
    "start": "开始整改",
    "submit": "提交整改",
    "approve": "复查销号",
    "reject": "驳回",
    "reopen": "重新打开",
    "void": "作废",
    "extend": "延期",
}
CURRENT_DEADLINE = date(2025, 6, 12)


def new_deadline() -> date:
    return max(today_shanghai(), CURRENT_DEADLINE) + timedelta(days=30)


def valid_body(action: str) -> dict:
    body = {"action": action, "note": "复查说明：现场已整改"}
    if action == "submit":
        body["photos"] = [SHA_A]
    if action == "extend":
        body["deadline"] = new_deadline().isoformat()
    return body


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def people(make_user, login):
    """One user per role, all for 东城区; returns {role: (user id, headers)}."""
    ids = {
        "inspector": make_user("insp", "inspector", ["东城区"]),
        "team_lead": make_user("lead", "team_lead", ["东城区"]),
        "office": make_user("office", "office", []),
    }
    return {
        role: (ids[role], login(name))
        for role, name in zip(ROLES, ("insp", "lead", "office"), strict=True)
    }


@pytest.fixture
def inspection(factory, people):
    site = factory.site("格尔木昆仑路加油站", "东城区")
    return factory.inspection(site, people["inspector"][0])


def post_event(client, ref, body, headers):
    return client.post(f"/api/v1/findings/{ref}/events", json=body, headers=headers)


@pytest.mark.parametrize("action", list(MAY))
@pytest.mark.parametrize("status", STATUSES)
def test_every_move_per_role(client, factory, people, inspection, action, status):
    """For each role: 200 and the new status, 403 for the role, or 409 naming the status."""
    for role in ROLES:
        user_id, headers = people[role]
        finding = factory.finding(inspection, status=status, deadline=CURRENT_DEADLINE)
        before = factory.get_finding(finding)
        response = post_event(client, finding, valid_body(action), headers)
        after = factory.get_finding(finding)
        case = (action, status, role)

        if role not in MAY[action]:
            error = assert_error(response, 403, "forbidden")
            assert ACTION_LABELS[action] in error["message"], case
            assert after == before, case
        elif (action, status) not in ALLOWED:
            error = assert_error(response, 409, "conflict")
            expected = f"当前状态为「{STATUS_LABELS[status]}」，不能执行「{ACTION_LABELS[action]}」"
            assert error["message"] == expected, case
            assert after == before, case
        else:
            assert response.status_code == 200, (case, response.get_json())
            answer = response.get_json()
            to_status = ALLOWED[(action, status)]
            assert answer["status"] == after["status"] == to_status, case
            assert answer["status_label"] == STATUS_LABELS[to_status]
            # One new event, the earlier ones untouched.
            assert after["events"][:-1] == before["events"], case
            event = after["events"][-1]
            assert (event["action"], event["from_status"], event["to_status"]) == (
                action,
                status,
                to_status,
            )
            assert event["actor_id"] == user_id
            assert event["note"] == "复查说明：现场已整改"
            assert (
                answer["events"][-1]["actor"]["username"]
                == {
                    "inspector": "insp",
                    "team_lead": "lead",
                    "office": "office",
                }[role]
            )
            # Phones see the change in the sync feed; the optimistic lock moved on.
            assert after["sync_seq"] > before["sync_seq"]
            assert after["version"] == before["version"] + 1
            assert after["updated_at"] > before["updated_at"]
            if action == "extend":
                assert after["deadline"] == new_deadline() == event["deadline"]
            else:
                assert after["deadline"] == CURRENT_DEADLINE
            assert (after["closed_at"] is not None) == (to_status == "closed"), case


@pytest.mark.parametrize("action", list(MAY))
@pytest.mark.parametrize("role", ["inspector", "team_lead"])
def test_finding_in_another_district_is_404_for_every_action(
    client, factory, make_user, login, people, action, role
):
    west = factory.site("西城区加油站", "西城区")
    finding = factory.finding(factory.inspection(west, people["office"][0]), status="open")
    make_user("west_lead", role, ["西城区"])
    make_user("east_user", role, ["东城区", "郭勒木德镇"])
    before = factory.get_finding(finding)
    assert_error(
        post_event(client, finding, valid_body(action), login("east_user")), 404, "not_found"
    )
    assert_error(
        client.get(f"/api/v1/findings/{finding}", headers=login("east_user")), 404, "not_found"
    )
    assert factory.get_finding(finding) == before
    # The same finding is there for someone of its district.
    assert client.get(f"/api/v1/findings/{finding}", headers=login("west_lead")).status_code == 200


def test_unknown_finding_is_404(client, people):
    headers = people["office"][1]
    for ref in ("999999", "7d4a1c1e-0000-4000-8000-000000000000", "not-an-id"):
        assert_error(post_event(client, ref, valid_body("start"), headers), 404, "not_found")


def test_finding_is_addressed_by_its_uuid_too(app, client, factory, people, inspection):
    finding = factory.finding(inspection, status="open")
    with app.app_context():
        key = db.session.get(Finding, finding).uuid
    response = post_event(client, key, valid_body("start"), people["inspector"][1])
    assert response.status_code == 200
    assert response.get_json()["id"] == finding
    assert client.get(f"/api/v1/findings/{key}", headers=people["inspector"][1]).get_json()[
        "status"
    ] == ("rectifying")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"action": "reject"}, "note"),
        ({"action": "reject", "note": "   "}, "note"),
        ({"action": "void"}, "note"),
        ({"action": "extend", "deadline": "2031-01-01"}, "note"),
        ({"action": "extend", "note": "申请延期"}, "deadline"),
        ({"action": "submit", "note": "已整改"}, "photos"),
        ({"action": "submit", "photos": ["not-a-sha"]}, "photos[0]"),
        ({"action": "submit", "photos": [SHA_A.upper()]}, "photos[0]"),
        ({"action": "submit", "photos": [SHA_A, SHA_A]}, "photos"),
        ({"action": "start", "deadline": "2031-01-01"}, "deadline"),
        ({"action": "close"}, "action"),
        ({}, "action"),
        ({"action": "start", "enforcement": {"kind": "fine"}}, "enforcement.fine_yuan"),
        (
            {"action": "start", "enforcement": {"kind": "fine", "fine_yuan": 0}},
            "enforcement.fine_yuan",
        ),
        (
            {"action": "start", "enforcement": {"kind": "ban", "fine_yuan": 100}},
            "enforcement.fine_yuan",
        ),
        ({"action": "start", "enforcement": {"kind": "jail"}}, "enforcement.kind"),
        (
            {"action": "void", "note": "录入错误", "enforcement": {"kind": "ban"}},
            "enforcement",
        ),
        ({"action": "start", "status": "closed"}, "status"),
    ],
)
def test_bad_body_is_422_by_field_and_changes_nothing(
    client, factory, people, inspection, body, field
):
    finding = factory.finding(inspection, status="pending_review")
    before = factory.get_finding(finding)
    error = assert_error(
        post_event(client, finding, body, people["office"][1]), 422, "validation_error"
    )
    assert field in error["fields"], error
    assert factory.get_finding(finding) == before


@pytest.mark.parametrize(
    "deadline, message",
    [
        (CURRENT_DEADLINE, "晚于原整改时限"),
        (CURRENT_DEADLINE - timedelta(days=1), "晚于原整改时限"),
        (None, "不能早于今天"),  # yesterday: later than the old deadline, but past
    ],
)
def test_extend_needs_a_later_deadline_not_in_the_past(
    client, factory, people, inspection, deadline, message
):
    yesterday = today_shanghai() - timedelta(days=1)
    current = CURRENT_DEADLINE if deadline is not None else yesterday - timedelta(days=10)
    finding = factory.finding(inspection, status="rectifying", deadline=current)
    body = {
        "action": "extend",
        "note": "企业申请延期",
        "deadline": (deadline or yesterday).isoformat(),
    }
    error = assert_error(
        post_event(client, finding, body, people["team_lead"][1]), 422, "validation_error"
    )
    assert any(message in text for text in error["fields"]["deadline"]), error
    assert factory.get_finding(finding)["deadline"] == current


def test_extend_to_today_is_allowed_when_overdue(client, factory, people, inspection):
    today = today_shanghai()
    finding = factory.finding(inspection, status="rectifying", deadline=today - timedelta(days=3))
    body = {"action": "extend", "note": "停电延误", "deadline": today.isoformat()}
    response = post_event(client, finding, body, people["office"][1])
    assert response.status_code == 200
    assert response.get_json()["overdue"] is False


def test_a_whole_rectification_keeps_every_event(client, factory, people, inspection):
    finding = factory.finding(inspection, status="open")
    insp, lead = people["inspector"][1], people["team_lead"][1]
    steps = [
        (insp, {"action": "start", "note": "企业已着手整改"}),
        (insp, {"action": "submit", "note": "已整改", "photos": [SHA_A]}),
        (lead, {"action": "reject", "note": "照片看不清油罐铭牌"}),
        (insp, {"action": "submit", "note": "补拍", "photos": [SHA_B]}),
        (lead, {"action": "approve", "note": "复查合格，予以销号"}),
        (lead, {"action": "reopen", "note": "回头看发现问题反弹"}),
    ]
    for headers, body in steps:
        response = post_event(client, finding, body, headers)
        assert response.status_code == 200, (body, response.get_json())
        if body["action"] == "approve":
            assert response.get_json()["closed_at"] is not None
    detail = client.get(f"/api/v1/findings/{finding}", headers=insp).get_json()
    assert detail["status"] == "rectifying" and detail["closed_at"] is None
    events = detail["events"]
    assert [e["action"] for e in events] == [
        "record",
        "start",
        "submit",
        "reject",
        "submit",
        "approve",
        "reopen",
    ]
    assert [e["actor"]["username"] for e in events[1:]] == [
        "insp",
        "insp",
        "lead",
        "insp",
        "lead",
        "lead",
    ]
    assert events[3]["note"] == "照片看不清油罐铭牌"
    assert events[3]["actor"]["display_name"] == "lead 姓名"
    assert events[4]["photos"] == [SHA_B]
    assert events[1]["action_label"] == "开始整改"
    assert all(e["at"].endswith("+00:00") for e in events)
    # Evidence not uploaded yet is named, so the phone knows what to send.
    assert detail["missing_photos"] == [SHA_A, SHA_B]


def test_enforcement_with_a_move_is_recorded(app, client, factory, people, inspection):
    finding = factory.finding(inspection, status="open")
    body = {
        "action": "start",
        "note": "责令停业整顿并处罚款",
        "enforcement": {"kind": "fine", "fine_yuan": 50000, "note": "格应急罚〔2025〕12号"},
    }
    answer = post_event(client, finding, body, people["team_lead"][1]).get_json()
    assert [(e["kind"], e["kind_label"], e["fine_yuan"]) for e in answer["enforcements"]] == [
        ("fine", "行政处罚", 50000)
    ]
    assert answer["enforcements"][0]["actor"]["username"] == "lead"
    with app.app_context():
        row = db.session.scalar(select(Enforcement))
        assert (row.finding_id, row.note) == (finding, "格应急罚〔2025〕12号")


def test_a_forbidden_move_records_no_enforcement(app, client, factory, people, inspection):
    finding = factory.finding(inspection, status="closed")
    body = {"action": "start", "enforcement": {"kind": "ban"}}
    assert_error(post_event(client, finding, body, people["office"][1]), 409, "conflict")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Enforcement)) == 0


def test_a_stale_finding_is_a_conflict_not_a_second_move(app, factory, people, inspection):
    """The optimistic lock: the row changed after it was read → Conflict, nothing written."""
    from inspect_app.auth.models import User
    from inspect_app.findings.services import apply_event

    finding_id = factory.finding(inspection, status="pending_review")
    with app.app_context():
        user = db.session.get(User, people["team_lead"][0])
        finding = db.session.get(Finding, finding_id)  # read: version 1, pending_review
        # End the reading transaction but keep what was read (SQLite would otherwise hold
        # its write lock and the other writer below would wait for it).
        db.session().expire_on_commit = False
        db.session.commit()
        with db.engine.begin() as other:  # another reviewer's transaction commits meanwhile
            other.execute(
                update(Finding)
                .where(Finding.id == finding_id)
                .values(status="closed", version=Finding.version + 1)
            )
        with pytest.raises(Conflict):
            apply_event(user, finding, {"action": "approve", "note": "", "photos": []})
        db.session.rollback()
        events = db.session.scalar(
            select(func.count()).where(RectificationEvent.finding_id == finding_id)
        )
        assert events == 2  # record + the factory's one; no approve


def test_two_reviewers_at_once_one_wins(app, factory, people, make_user, login, inspection):
    """Two real threads, two clients, the same findings: exactly one approve each."""
    make_user("lead2", "team_lead", ["东城区"])
    reviewers = [people["team_lead"][1], login("lead2")]
    findings = [factory.finding(inspection, status="pending_review") for _ in range(4)]
    for finding in findings:
        start = threading.Barrier(2)
        results: list[tuple[int, dict]] = []

        def approve(headers, finding=finding, start=start, results=results):
            client = app.test_client()
            start.wait(timeout=10)
            response = client.post(
                f"/api/v1/findings/{finding}/events",
                json={"action": "approve", "note": "复查合格"},
                headers=headers,
            )
            results.append((response.status_code, response.get_json()))

        threads = [threading.Thread(target=approve, args=(h,)) for h in reviewers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(code for code, _ in results) == [200, 409], results
        loser = next(body for code, body in results if code == 409)
        assert loser["error"]["code"] == "conflict"
        stored = factory.get_finding(finding)
        assert stored["status"] == "closed"
        assert [e["action"] for e in stored["events"]].count("approve") == 1


def test_a_move_made_offline_keeps_its_time_apart_from_its_receipt(
    client, factory, people, inspection
):
    """A submit made on the phone on 20 May, sent when it found a signal."""
    finding = factory.finding(inspection, status="rectifying")
    made = "2025-05-20T15:10:00+08:00"
    headers = people["inspector"][1]
    response = post_event(client, finding, valid_body("submit") | {"at": made}, headers)
    assert response.status_code == 200, response.get_json()
    event = response.get_json()["events"][-1]
    assert event["action"] == "submit"
    assert datetime.fromisoformat(event["at"]) == datetime.fromisoformat(made)
    received = datetime.fromisoformat(event["received_at"])
    assert received.date() == datetime.now(UTC).date()
    # Without a time of its own, a move happened when it was received.
    review = post_event(client, finding, valid_body("approve"), people["team_lead"][1])
    shown = review.get_json()
    assert shown["events"][-1]["at"] == shown["events"][-1]["received_at"] == shown["closed_at"]


@pytest.mark.parametrize(
    "at, message",
    [
        ("2099-01-01T08:00:00+08:00", "操作时间晚于当前时间"),
        ("2024-01-01T08:00:00+08:00", "操作时间早于发现问题的时间"),
    ],
)
def test_a_move_time_in_the_future_or_before_the_finding_is_refused(
    client, factory, people, inspection, at, message
):
    finding = factory.finding(inspection, status="rectifying")
    before = factory.get_finding(finding)
    body = valid_body("submit") | {"at": at}
    error = assert_error(
        post_event(client, finding, body, people["inspector"][1]), 422, "validation_error"
    )
    assert message in error["message"] and "at" in error["fields"]
    assert factory.get_finding(finding) == before
