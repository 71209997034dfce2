"""One rule for every time, date and free text the API takes (inspect_app/inputs.py).

Times and dates outside the plausible window are a 422 on their JSON path (never a
500 from a UTC conversion or a date sum that overflows); invisible format characters
never reach the database; path ids are ASCII digits or nothing.
"""

import uuid
from datetime import date

import pytest
from sqlalchemy import select, update

from inspect_app.campaigns.models import Campaign
from inspect_app.domain import LATEST_DATE, add_days
from inspect_app.extensions import db
from inspect_app.findings.models import Finding
from tests.factories import Factory
from tests.helpers import assert_error
from tests.test_inspections import body

EDGE_TIMES = [
    "0001-01-01T00:00+08:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59+14:00",
    "1999-12-31T23:59:59+08:00",
    "2101-01-01T00:00:00+08:00",
]
EDGE_DATES = ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"]


@pytest.fixture
def east(make_user, login):
    make_user("east", "inspector", ["东城区"])
    return login("east")


@pytest.fixture
def site(make_site):
    return make_site()


def put(client, headers, data):
    return client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=data, headers=headers)


@pytest.mark.parametrize("value", EDGE_TIMES)
@pytest.mark.parametrize("field", ["started_at", "finished_at"])
def test_inspection_times_outside_the_window_are_422_on_their_path(
    client, east, checklist, site, field, value
):
    data = body(checklist, site, **{field: value})
    if field == "started_at":
        data["finished_at"] = None
    error = assert_error(put(client, east, data), 422, "validation_error")
    assert list(error["fields"]) == [field]
    assert "2000-01-01" in error["fields"][field][0]


@pytest.mark.parametrize("value", EDGE_DATES)
def test_finding_deadlines_outside_the_window_are_422_on_their_path(
    client, east, checklist, site, value
):
    data = body(checklist, site)
    data["findings"][0]["deadline"] = value
    error = assert_error(put(client, east, data), 422, "validation_error")
    assert list(error["fields"]) == ["findings[0].deadline"]


def test_the_window_edges_themselves_are_taken(client, east, checklist, site):
    data = body(checklist, site, started_at="2100-12-31T00:00:00+08:00", finished_at=None)
    data["findings"][0]["deadline"] = "2100-12-31"
    assert put(client, east, data).status_code == 201


def test_a_default_deadline_never_passes_the_calendar(app, client, east, checklist, site):
    """A campaign's days added to a late inspection stop at the window's last day."""
    with app.app_context():
        db.session.execute(
            update(Campaign)
            .where(Campaign.code == checklist["campaign"])
            .values(key_deadline_days=3_000_000, general_deadline_days=3_000_000)
        )
        db.session.commit()
    data = body(checklist, site, started_at="2100-06-01T09:00:00+08:00", finished_at=None)
    data["findings"][0]["deadline"] = None
    response = put(client, east, data)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session.scalar(select(Finding.deadline)) == LATEST_DATE


def test_add_days_holds_at_the_last_day():
    assert add_days(date(2025, 5, 12), 30) == date(2025, 6, 11)
    assert add_days(date(2100, 12, 1), 10**9) == LATEST_DATE


@pytest.mark.parametrize("value", EDGE_DATES)
def test_an_extension_outside_the_window_is_422(app, client, make_user, login, value):
    factory = Factory(app)
    lead_id = make_user("lead", "team_lead", ["东城区"])
    finding = factory.finding(factory.inspection(factory.site("东城站"), lead_id))
    response = client.post(
        f"/api/v1/findings/{finding}/events",
        json={"action": "extend", "note": "延期", "deadline": value},
        headers=login("lead"),
    )
    error = assert_error(response, 422, "validation_error")
    assert list(error["fields"]) == ["deadline"]


BIDI_AND_INVISIBLE = (
    "\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069"  # overrides, isolates
    "\u200b\u200e\u200f\u2060\ufeff\u00ad\u061c"  # zero-width, marks, BOM, soft hyphen
)


def test_site_names_lose_every_invisible_format_character(app, client, east):
    name = f"昆仑路{BIDI_AND_INVISIBLE}加油站"
    response = client.post(
        "/api/v1/sites",
        json={"name": name, "site_type": "加油站", "district": "东城区", "address": "昆\u202e仑路"},
        headers=east,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "昆仑路加油站"
    assert response.get_json()["address"] == "昆仑路"
    # The same name written with an override is the same site.
    again = client.post(
        "/api/v1/sites",
        json={"name": "昆仑路\u202e加油站", "site_type": "加油站", "district": "东城区"},
        headers=east,
    )
    assert_error(again, 409, "conflict")


def test_free_texts_of_an_inspection_lose_bidi_controls(app, client, east, checklist, site):
    data = body(checklist, site)
    data["findings"][0]["description"] = "未取得\u202e证照\u2066擅自\u2069销售"
    data["findings"][0]["requirement"] = "停止\u200f销售"
    data["answers"][2]["note"] = "不\u202d适用"
    assert put(client, east, data).status_code == 201
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        assert finding.description == "未取得证照擅自销售"
        assert finding.requirement == "停止销售"


def test_a_description_of_only_invisible_characters_is_empty(client, east, checklist, site):
    data = body(checklist, site)
    data["findings"][0]["description"] = "\u202e\u200b"
    error = assert_error(put(client, east, data), 422, "validation_error")
    assert "findings[0].description" in error["fields"]


def test_event_notes_lose_bidi_controls(app, client, make_user, login):
    factory = Factory(app)
    lead_id = make_user("lead", "team_lead", ["东城区"])
    finding = factory.finding(factory.inspection(factory.site("东城站"), lead_id))
    response = client.post(
        f"/api/v1/findings/{finding}/events",
        json={"action": "start", "note": "已\u202e开始"},
        headers=login("lead"),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["events"][-1]["note"] == "已开始"


@pytest.mark.parametrize("ref", ["¹", "²³", "①", "١٢", "0", "00", "2147483648", "9" * 40])
def test_finding_refs_that_are_no_ascii_row_id_are_404(app, client, make_user, login, ref):
    make_user("office", "office", [])
    assert_error(client.get(f"/api/v1/findings/{ref}", headers=login("office")), 404, "not_found")
