"""PUT /inspections/{uuid}: idempotent, all or nothing, every bad reference named."""

import copy
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from inspect_app.extensions import db
from inspect_app.findings.models import Finding, RectificationEvent
from inspect_app.inspections.models import Answer, Inspection
from tests.helpers import assert_error

SHA_A = "a" * 64
SHA_B = "b" * 64


@pytest.fixture
def east(make_user, login):
    make_user("east", "inspector", ["东城区"])
    return login("east")


@pytest.fixture
def site(make_site):
    return make_site()


def body(checklist, site, **overrides):
    plain = checklist["plain"]
    data = {
        "campaign": checklist["campaign"],
        "checklist_version": checklist["version"],
        "site_id": site,
        "started_at": "2025-05-12T09:30:00+08:00",
        "finished_at": "2025-05-12T10:05:00+08:00",
        "location": {"lat": 36.4167, "lon": 94.9033},
        "answers": [
            {"item_code": plain[0], "result": "fail", "note": ""},
            {"item_code": plain[1], "result": "pass", "note": ""},
            {"item_code": plain[2], "result": "na", "note": "不适用"},
        ],
        "findings": [
            {
                "id": str(uuid.uuid4()),
                "item_code": plain[0],
                "description": "未取得《成品油零售经营批准证书》擅自销售柴油",
                "severity": "key",
                "major_hazard": False,
                "requirement": "立即停止销售，限期办理证照",
                "deadline": "2025-06-12",
                "fixed_on_spot": False,
                "photos": [SHA_A],
            }
        ],
        "final": True,
    }
    data.update(overrides)
    return data


def counts(app):
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Inspection, Answer, Finding, RectificationEvent)
        )


def test_first_put_is_201_and_names_missing_photos(app, client, east, checklist, site):
    response = client.put(
        f"/api/v1/inspections/{uuid.uuid4()}", json=body(checklist, site), headers=east
    )
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert result["status"] == "awaiting_photos"
    assert result["missing_photos"] == [SHA_A]
    assert len(result["findings"]) == 1 and result["findings"][0]["status"] == "open"
    assert counts(app) == (1, 3, 1, 1)


def test_replay_is_200_with_the_same_answer_and_no_copies(app, client, east, checklist, site):
    url = f"/api/v1/inspections/{uuid.uuid4()}"
    data = body(checklist, site)
    first = client.put(url, json=data, headers=east)
    replay = client.put(url, json=data, headers=east)
    assert (first.status_code, replay.status_code) == (201, 200)
    assert first.get_json() == replay.get_json()
    assert counts(app) == (1, 3, 1, 1)


def test_different_body_for_a_final_inspection_is_409(app, client, east, checklist, site):
    url = f"/api/v1/inspections/{uuid.uuid4()}"
    data = body(checklist, site)
    client.put(url, json=data, headers=east)
    changed = copy.deepcopy(data)
    changed["findings"][0]["description"] = "改过的描述"
    assert_error(client.put(url, json=changed, headers=east), 409, "conflict")
    assert counts(app) == (1, 3, 1, 1)


def test_second_phone_with_same_uuid_is_409(client, east, make_user, login, checklist, site):
    make_user("east2", "inspector", ["东城区"])
    url = f"/api/v1/inspections/{uuid.uuid4()}"
    data = body(checklist, site)
    assert client.put(url, json=data, headers=east).status_code == 201
    assert_error(client.put(url, json=data, headers=login("east2")), 409, "conflict")


def test_draft_can_be_replaced_until_final(app, client, east, checklist, site):
    url = f"/api/v1/inspections/{uuid.uuid4()}"
    draft = body(checklist, site, final=False, findings=[], answers=[])
    assert client.put(url, json=draft, headers=east).get_json()["status"] == "draft"
    final = body(checklist, site)
    response = client.put(url, json=final, headers=east)
    assert response.status_code == 200
    assert response.get_json()["status"] == "awaiting_photos"
    assert counts(app) == (1, 3, 1, 1)


def test_failed_answer_without_finding_is_422_naming_the_item(app, client, east, checklist, site):
    data = body(checklist, site, findings=[])
    response = client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=data, headers=east)
    error = assert_error(response, 422, "validation_error")
    assert checklist["plain"][0] in error["fields"]["answers[0].result"][0]
    assert counts(app) == (0, 0, 0, 0)


def test_photo_required_item_without_photo_is_422(app, client, east, checklist, site):
    if not checklist["photo_required"]:
        pytest.skip("the refined-oil checklist has no photo-required item")
    code = checklist["photo_required"][0]
    data = body(checklist, site)
    data["answers"].append({"item_code": code, "result": "fail", "note": ""})
    data["findings"].append(
        {"id": str(uuid.uuid4()), "item_code": code, "description": "现场问题", "photos": []}
    )
    error = assert_error(
        client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=data, headers=east),
        422,
        "validation_error",
    )
    assert code in error["fields"]["findings[1].photos"][0]
    assert counts(app) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "mutate, path",
    [
        (
            lambda d: d["answers"].append({"item_code": "HC-01", "result": "pass"}),
            "answers[3].item_code",
        ),
        (lambda d: d.update(checklist_version=99), "checklist_version"),
        (lambda d: d.update(campaign="no-such-campaign"), "campaign"),
        (lambda d: d.update(site_id=999999), "site_id"),
        (lambda d: d["findings"][0].update(deadline="2025-05-01"), "findings[0].deadline"),
        (lambda d: d["findings"][0].update(fixed_on_spot=True, photos=[]), "findings[0].photos"),
        (lambda d: d.update(started_at="2025-05-12T09:30:00"), "started_at"),
        (lambda d: d["findings"][0].update(photos=["../../etc/passwd"]), "findings[0].photos[0]"),
        (lambda d: d["findings"][0].update(severity="critical"), "findings[0].severity"),
        (lambda d: d.update(location={"lat": 95.0, "lon": 36.0}), "location.lat"),
        (lambda d: d.update(extra="x"), "extra"),
    ],
)
def test_bad_references_are_422_by_json_path_and_store_nothing(
    app, client, east, checklist, site, mutate, path
):
    data = body(checklist, site)
    mutate(data)
    response = client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=data, headers=east)
    error = assert_error(response, 422, "validation_error")
    assert path in error["fields"], error
    assert counts(app) == (0, 0, 0, 0)


def test_site_of_another_district_is_not_revealed(client, east, checklist, make_site):
    west = make_site(name="西城站", district="西城区")
    response = client.put(
        f"/api/v1/inspections/{uuid.uuid4()}", json=body(checklist, west), headers=east
    )
    assert "site_id" in assert_error(response, 422, "validation_error")["fields"]


def test_bad_uuid_in_path_is_400(client, east, checklist, site):
    assert_error(
        client.put("/api/v1/inspections/not-a-uuid", json=body(checklist, site), headers=east),
        400,
        "bad_request",
    )


def test_defaults_come_from_the_item_and_campaign(app, client, east, checklist, site):
    code = checklist["plain"][0]
    data = body(checklist, site)
    finding = data["findings"][0]
    for key in ("severity", "deadline"):
        finding.pop(key)
    client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=data, headers=east)
    with app.app_context():
        stored = db.session.scalar(select(Finding))
        assert stored.severity == checklist["severity"][code]
        assert stored.responsible_department == checklist["lead"][code]
        days = 30 if stored.severity == "key" else 7
        assert (stored.deadline - stored.found_at.date()).days in (days, days + 1)


def test_fixed_on_the_spot_is_closed_at_once(app, client, east, checklist, site):
    data = body(checklist, site)
    data["findings"][0].update(fixed_on_spot=True, severity="general")
    result = client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=data, headers=east).get_json()
    assert result["findings"][0]["status"] == "closed"
    with app.app_context():
        actions = db.session.scalars(
            select(RectificationEvent.action).order_by(RectificationEvent.id)
        ).all()
        assert actions == ["record", "fix_on_spot"]


def test_a_late_sync_keeps_the_inspection_time_and_the_receipt_apart(client, east, checklist, site):
    """Found on 12 May at 09:30, fixed by 10:05, synced today: the history says so."""
    data = body(checklist, site)
    fixed = {**data["findings"][0], "id": str(uuid.uuid4()), "fixed_on_spot": True}
    fixed["severity"] = "general"
    data["findings"].append(fixed)
    before = datetime.now(UTC)
    result = client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=data, headers=east)
    assert result.status_code == 201, result.get_json()
    started = datetime.fromisoformat(data["started_at"])
    finished = datetime.fromisoformat(data["finished_at"])
    by_status = {f["status"]: f["id"] for f in result.get_json()["findings"]}

    def history(finding_id):
        shown = client.get(f"/api/v1/findings/{finding_id}", headers=east).get_json()
        events = [
            (e["action"], datetime.fromisoformat(e["at"]), datetime.fromisoformat(e["received_at"]))
            for e in shown["events"]
        ]
        return shown, events

    shown, events = history(by_status["open"])
    assert [(action, at) for action, at, _ in events] == [("record", started)]
    assert datetime.fromisoformat(shown["found_at"]) == started
    assert all(received >= before for *_, received in events)

    shown, events = history(by_status["closed"])
    assert [(action, at) for action, at, _ in events] == [
        ("record", started),
        ("fix_on_spot", finished),
    ]
    assert datetime.fromisoformat(shown["closed_at"]) == finished  # 销号 at the site
    assert all(received >= before for *_, received in events)


def test_a_draft_fixed_on_the_spot_later_takes_the_inspection_end(client, east, checklist, site):
    key = str(uuid.uuid4())
    draft = body(checklist, site, final=False)
    client.put(f"/api/v1/inspections/{key}", json=draft, headers=east)
    final = copy.deepcopy(draft) | {"final": True, "finished_at": "2025-05-12T11:20:00+08:00"}
    final["findings"][0].update(fixed_on_spot=True, severity="general")
    result = client.put(f"/api/v1/inspections/{key}", json=final, headers=east)
    assert result.status_code == 200, result.get_json()
    finding_id = result.get_json()["findings"][0]["id"]
    shown = client.get(f"/api/v1/findings/{finding_id}", headers=east).get_json()
    fix = shown["events"][-1]
    assert fix["action"] == "fix_on_spot"
    assert datetime.fromisoformat(fix["at"]) == datetime.fromisoformat(final["finished_at"])
    assert datetime.fromisoformat(fix["received_at"]) > datetime.fromisoformat(fix["at"])


def test_get_inspection_returns_what_was_stored(client, east, checklist, site, make_user, login):
    key = str(uuid.uuid4())
    data = body(checklist, site)
    client.put(f"/api/v1/inspections/{key}", json=data, headers=east)
    stored = client.get(f"/api/v1/inspections/{key}", headers=east).get_json()
    assert stored["answers"] == data["answers"]
    assert stored["findings"][0]["id"] == data["findings"][0]["id"]
    assert stored["findings"][0]["description"] == data["findings"][0]["description"]
    assert stored["missing_photos"] == [SHA_A]
    make_user("west", "inspector", ["西城区"])
    assert_error(client.get(f"/api/v1/inspections/{key}", headers=login("west")), 404, "not_found")


def test_stored_inspection_is_in_the_audit_log(app, client, east, checklist, site):
    from inspect_app.audit.models import AuditLog

    key = str(uuid.uuid4())
    client.put(f"/api/v1/inspections/{key}", json=body(checklist, site), headers=east)
    client.put(f"/api/v1/inspections/{key}", json=body(checklist, site, findings=[]), headers=east)
    with app.app_context():
        entries = db.session.execute(select(AuditLog.action, AuditLog.object_id)).all()
    # The login and the stored inspection; the rejected second body left no entry.
    assert ("inspection.create", key) in entries
    assert [a for a, _ in entries].count("inspection.create") == 1


def test_a_body_read_by_the_schema_and_its_plain_replay_are_one_inspection(
    app, client, east, checklist, site
):
    # Numbers as strings and "true" are what the schema accepts and the plain reader
    # leaves to it; both must load to the same inspection, so the replay is a 200.
    url = f"/api/v1/inspections/{uuid.uuid4()}"
    data = body(checklist, site)
    stringly = {**data, "checklist_version": str(data["checklist_version"]), "final": "true"}
    first = client.put(url, json=stringly, headers=east)
    assert first.status_code == 201, first.get_json()
    again = client.put(url, json=data, headers=east)
    assert again.status_code == 200, again.get_json()
    assert again.get_json() == first.get_json()
    assert counts(app) == (1, 3, 1, 1)


@pytest.mark.parametrize("read_by", ["plain reader", "schema"])
@pytest.mark.parametrize("part", ["answer", "finding"])
def test_an_item_for_other_types_of_site_is_422_naming_it(
    app, client, east, checklist, make_site, read_by, part
):
    """A placer-gold spot answered with the items meant for 监管部门: refused, item named."""
    spot = make_site(name="乌图美仁乡砂金盗采点", site_type="砂金盗采点")
    station = make_site(name="格尔木昆仑路加油站")
    foreign = "RO-16"  # 监管部门 only
    assert foreign in checklist["elsewhere"]
    data = body(checklist, station)
    if part == "answer":
        data["answers"].append({"item_code": foreign, "result": "pass", "note": ""})
        path = f"answers[{len(data['answers']) - 1}].item_code"
    else:
        data["findings"][0]["item_code"] = foreign
        data["answers"][0]["result"] = "pass"  # its fail would want a finding of its own
        path = "findings[0].item_code"
    if read_by == "schema":
        data["checklist_version"] = str(data["checklist_version"])  # the plain reader declines
    url = f"/api/v1/inspections/{uuid.uuid4()}"

    error = assert_error(client.put(url, json=data, headers=east), 422, "validation_error")
    assert list(error["fields"]) == [path]
    assert error["fields"][path] == ["检查项 RO-16 只用于监管部门，不适用于加油站"]
    assert "RO-16" in error["message"] and "加油站" in error["message"]
    assert counts(app) == (0, 0, 0, 0)

    # none of the refined-oil items applies to a placer-gold spot
    error = assert_error(
        client.put(url, json=body(checklist, spot), headers=east), 422, "validation_error"
    )
    assert "answers[0].item_code" in error["fields"] and "findings[0].item_code" in error["fields"]
    assert "不适用于砂金盗采点" in error["fields"]["findings[0].item_code"][0]
    assert counts(app) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "overrides, path",
    [
        ({"site_id": "东城"}, "site_id"),
        ({"started_at": "2025-05-12T09:30:00"}, "started_at"),
        ({"finished_at": "2025-05-12T08:00:00+08:00"}, "finished_at"),
        ({"answers": [{"item_code": "RO-01", "result": "maybe"}]}, "answers[0].result"),
        ({"location": {"lat": 43.47, "lon": 11.88}}, "location.lon"),
        ({"final": None}, "final"),
        ({"inspector": "x"}, "inspector"),
    ],
)
def test_each_kind_of_defect_still_gets_the_schemas_422(
    client, east, checklist, site, overrides, path
):
    response = client.put(
        f"/api/v1/inspections/{uuid.uuid4()}", json=body(checklist, site, **overrides), headers=east
    )
    error = assert_error(response, 422, "validation_error")
    assert path in error["fields"], error


def test_the_spec_documents_the_body_with_the_schema(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    put = spec["paths"]["/api/v1/inspections/{uuid}"]["put"]
    assert put["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InspectionIn"}}},
    }
    assert "422" in put["responses"]


def test_a_cached_checklist_stores_the_same_inspection(app, client, east, checklist, site):
    # Production remembers the checklist a few seconds per process (tests run with 0).
    from inspect_app.campaigns import services as campaigns

    app.config["AUTH_CACHE_SECONDS"] = 5
    campaigns._checklist_cache.clear()
    try:
        for _ in range(2):
            response = client.put(
                f"/api/v1/inspections/{uuid.uuid4()}", json=body(checklist, site), headers=east
            )
            assert response.status_code == 201, response.get_json()
        assert counts(app) == (2, 6, 2, 2)
        bad = body(checklist, site, checklist_version=99)
        error = assert_error(
            client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=bad, headers=east),
            422,
            "validation_error",
        )
        assert "checklist_version" in error["fields"]
    finally:
        campaigns._checklist_cache.clear()
