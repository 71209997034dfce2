"""GET /findings (filters, scope, paging, overdue by the Golmud day), GET /findings/{id},
and enforcement measures recorded on a site."""

from datetime import UTC, date, datetime

import pytest

from inspect_app import domain
from tests.factories import CAMPAIGN, Factory
from tests.helpers import assert_error


class FrozenClock(datetime):
    """datetime whose now() is a fixed instant, for the Asia/Shanghai day boundary."""

    instant = datetime(2025, 6, 12, 16, 30, tzinfo=UTC)  # 2025-06-13 00:30 in Golmud

    @classmethod
    def now(cls, tz=None):
        return cls.instant.astimezone(tz) if tz else cls.instant.replace(tzinfo=None)


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def world(factory, make_user, login):
    """Two districts' findings, and who may look at them."""
    office_id = make_user("office", "office", [])
    make_user("east", "inspector", ["东城区"])
    east_site = factory.site("东城加油站", "东城区")
    east_depot = factory.site("东城油库", "东城区", "油库")
    west_site = factory.site("西城加油站", "西城区")
    east_insp = factory.inspection(east_site, office_id)
    depot_insp = factory.inspection(east_depot, office_id)
    west_insp = factory.inspection(west_site, office_id)
    ids = {
        "east_open": factory.finding(east_insp, status="open", item="T-01"),
        "east_key": factory.finding(
            east_insp, status="rectifying", item="T-02", severity="key", deadline=date(2025, 6, 13)
        ),
        "east_closed": factory.finding(east_insp, status="closed", item="T-03"),
        "east_void": factory.finding(east_insp, status="voided", item="T-01"),
        "depot_review": factory.finding(depot_insp, status="pending_review", item="T-04"),
        "west_open": factory.finding(west_insp, status="open", item="T-01"),
    }
    return {
        "ids": ids,
        "sites": {"east": east_site, "depot": east_depot, "west": west_site},
        "office": login("office"),
        "east": login("east"),
        "office_id": office_id,
    }


def listed(client, headers, query=""):
    response = client.get(f"/api/v1/findings{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids_of(page):
    return sorted(item["id"] for item in page["items"])


def test_inspector_sees_only_their_districts_and_no_voided(client, world):
    ids = world["ids"]
    east = ids_of(listed(client, world["east"]))
    assert east == sorted(
        [ids["east_open"], ids["east_key"], ids["east_closed"], ids["depot_review"]]
    )
    everything = ids_of(listed(client, world["office"]))
    assert everything == sorted(east + [ids["west_open"]])


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?status=open", ["east_open", "west_open"]),
        ("?status=open,pending_review", ["east_open", "depot_review", "west_open"]),
        ("?status=voided", ["east_void"]),
        ("?district=西城区", ["west_open"]),
        ("?severity=key", ["east_key"]),
        ("?department=应急管理局", ["east_key"]),
        (f"?campaign={CAMPAIGN}&status=closed", ["east_closed"]),
    ],
)
def test_filters(client, world, query, expected):
    ids = world["ids"]
    assert ids_of(listed(client, world["office"], query)) == sorted(ids[k] for k in expected)


def test_site_filter(client, world):
    page = listed(client, world["office"], f"?site_id={world['sites']['depot']}")
    assert [item["id"] for item in page["items"]] == [world["ids"]["depot_review"]]
    item = page["items"][0]
    assert (item["site_name"], item["site_type"], item["district"]) == (
        "东城油库",
        "油库",
        "东城区",
    )
    assert (item["campaign"], item["item_code"], item["status_label"]) == (
        CAMPAIGN,
        "T-04",
        "待复查",
    )
    assert item["responsible_department"] is None


def test_overdue_is_judged_by_the_day_in_golmud(client, world, monkeypatch):
    """At 00:30 on 13 June in Golmud (still 12 June in UTC) a 12 June deadline has passed."""
    monkeypatch.setattr(domain, "datetime", FrozenClock)
    ids = world["ids"]
    overdue = ids_of(listed(client, world["office"], "?overdue=true"))
    # Deadline 2025-06-12 and still open: overdue. 2025-06-13 (east_key): due today, not late.
    assert overdue == sorted([ids["east_open"], ids["depot_review"], ids["west_open"]])
    on_time = ids_of(listed(client, world["office"], "?overdue=false"))
    assert on_time == sorted([ids["east_key"], ids["east_closed"]])
    detail = client.get(f"/api/v1/findings/{ids['east_key']}", headers=world["office"]).get_json()
    assert detail["overdue"] is False
    FrozenClock.instant = datetime(2025, 6, 13, 16, 0, tzinfo=UTC)  # 14 June, 00:00 in Golmud
    try:
        detail = client.get(f"/api/v1/findings/{ids['east_key']}", headers=world["office"])
        assert detail.get_json()["overdue"] is True
    finally:
        FrozenClock.instant = datetime(2025, 6, 12, 16, 30, tzinfo=UTC)


def test_paging_is_stable_and_complete(client, factory, world):
    inspection = factory.inspection(world["sites"]["west"], world["office_id"])
    for _ in range(6):
        factory.finding(inspection)
    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = listed(client, world["office"], query)
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(seen, reverse=True)  # newest first
    assert len(seen) == len(set(seen)) == 11


@pytest.mark.parametrize(
    "query, status, code",
    [
        ("?status=fixed", 422, "validation_error"),
        ("?district=火星区", 422, "validation_error"),
        ("?limit=0", 422, "validation_error"),
        ("?limit=501", 422, "validation_error"),
        ("?cursor=abc", 422, "validation_error"),
        ("?overdue=maybe", 422, "validation_error"),
        ("?campaign=no-such-campaign", 404, "not_found"),
    ],
)
def test_bad_list_parameters(client, world, query, status, code):
    assert_error(client.get(f"/api/v1/findings{query}", headers=world["office"]), status, code)


def test_list_needs_a_login(client):
    assert_error(client.get("/api/v1/findings"), 401, "unauthorized")


def test_detail_has_the_history_and_the_photos(client, factory, world):
    inspection = factory.inspection(world["sites"]["east"], world["office_id"])
    finding = factory.finding(inspection, status="closed", fixed_on_spot=True, photos=("c" * 64,))
    detail = client.get(f"/api/v1/findings/{finding}", headers=world["east"]).get_json()
    assert detail["status"] == "closed" and detail["fixed_on_spot"] is True
    assert [e["action"] for e in detail["events"]] == ["record", "fix_on_spot"]
    assert [e["action_label"] for e in detail["events"]] == ["现场发现", "立行立改"]
    assert detail["events"][1]["photos"] == ["c" * 64]
    assert detail["events"][0]["actor"] == {
        "id": world["office_id"],
        "username": "office",
        "display_name": "office 姓名",
    }
    assert detail["missing_photos"] == ["c" * 64]
    assert detail["enforcements"] == []


# ---------------------------------------------------------------------------
# Enforcement on a site


def test_site_enforcement_is_recorded_and_listed(client, world):
    site = world["sites"]["east"]
    body = {"campaign": CAMPAIGN, "kind": "ban", "note": "无证经营，予以取缔"}
    response = client.post(f"/api/v1/sites/{site}/enforcements", json=body, headers=world["east"])
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert (made["kind"], made["kind_label"], made["site_id"]) == ("ban", "取缔", site)
    assert made["actor"]["username"] == "east" and made["finding_id"] is None
    fine = {
        "campaign": CAMPAIGN,
        "kind": "fine",
        "fine_yuan": 20000,
        "finding_id": world["ids"]["east_open"],
    }
    assert (
        client.post(
            f"/api/v1/sites/{site}/enforcements", json=fine, headers=world["east"]
        ).status_code
        == 201
    )
    listed_ = client.get(f"/api/v1/sites/{site}/enforcements", headers=world["east"]).get_json()
    assert [(e["kind"], e["fine_yuan"]) for e in listed_["items"]] == [
        ("ban", None),
        ("fine", 20000),
    ]
    detail = client.get(f"/api/v1/findings/{world['ids']['east_open']}", headers=world["east"])
    assert [e["kind"] for e in detail.get_json()["enforcements"]] == ["fine"]


@pytest.mark.parametrize(
    "body, status, code, field",
    [
        ({"kind": "fine"}, 422, "validation_error", "fine_yuan"),
        ({"kind": "seize"}, 422, "validation_error", "kind"),
        ({"kind": "ban", "campaign": "no-such"}, 404, "not_found", None),
        ({"kind": "ban", "finding_id": "west_open"}, 422, "validation_error", "finding_id"),
        ({"kind": "ban", "finding_id": "east_void"}, 409, "conflict", None),
    ],
)
def test_bad_site_enforcement(client, world, body, status, code, field):
    body = {"campaign": CAMPAIGN, **body}
    if isinstance(body.get("finding_id"), str):
        body["finding_id"] = world["ids"][body["finding_id"]]
    response = client.post(
        f"/api/v1/sites/{world['sites']['east']}/enforcements", json=body, headers=world["east"]
    )
    error = assert_error(response, status, code)
    if field:
        assert field in error["fields"]


def test_enforcement_on_a_site_of_another_district_is_404(client, world):
    body = {"campaign": CAMPAIGN, "kind": "ban"}
    url = f"/api/v1/sites/{world['sites']['west']}/enforcements"
    assert_error(client.post(url, json=body, headers=world["east"]), 404, "not_found")
    assert_error(client.get(url, headers=world["east"]), 404, "not_found")
