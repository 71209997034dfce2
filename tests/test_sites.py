"""Sites: the phone's site feed (with tombstones), field registration, district scope."""

import uuid

import pytest

from inspect_app.db_types import utcnow
from inspect_app.sites.credit_code import check_character
from tests.helpers import assert_error


def valid_code(body17="91632801MA7JHXWL0"):
    return body17 + check_character(body17)


@pytest.fixture
def east(make_user, login):
    make_user("east", "inspector", ["东城区"])
    return login("east")


def new_site(**overrides):
    body = {
        "name": "格尔木市郭勒木德镇无证加油点",
        "site_type": "加油站",
        "district": "东城区",
        "address": "G109 国道 2742 公里处",
        "lat": 36.41,
        "lon": 94.93,
    }
    body.update(overrides)
    return body


def test_register_site_found_in_the_field(client, east):
    response = client.post("/api/v1/sites", json=new_site(credit_code=valid_code()), headers=east)
    assert response.status_code == 201
    site = response.get_json()
    assert site["id"] > 0 and site["deleted"] is False
    assert site["credit_code"] == valid_code()
    listed = client.get("/api/v1/sites", headers=east).get_json()["items"]
    assert [s["id"] for s in listed] == [site["id"]]


def test_retried_registration_with_client_uuid_returns_the_same_site(client, east):
    body = new_site(client_uuid=str(uuid.uuid4()))
    first = client.post("/api/v1/sites", json=body, headers=east)
    again = client.post("/api/v1/sites", json=body, headers=east)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert len(client.get("/api/v1/sites", headers=east).get_json()["items"]) == 1


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"credit_code": "91632801MA7JHXWL01"}, "credit_code"),
        ({"lat": 60.0}, "lat"),  # north of China: a GPS fault
        ({"lon": 200}, "lon"),
        ({"site_type": "飞机场"}, "site_type"),
        ({"district": "火星区"}, "district"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_site_is_422_naming_the_field(client, east, overrides, field):
    response = client.post("/api/v1/sites", json=new_site(**overrides), headers=east)
    assert field in assert_error(response, 422, "validation_error")["fields"]
    assert client.get("/api/v1/sites", headers=east).get_json()["items"] == []


def test_duplicate_credit_code_or_name_in_district_is_409(client, east):
    code = valid_code()
    assert (
        client.post("/api/v1/sites", json=new_site(credit_code=code), headers=east).status_code
        == 201
    )
    again = client.post(
        "/api/v1/sites", json=new_site(name="另一个名字", credit_code=code), headers=east
    )
    assert "已登记" in assert_error(again, 409, "conflict")["message"]
    same_name = client.post("/api/v1/sites", json=new_site(), headers=east)
    assert_error(same_name, 409, "conflict")


def test_a_credit_code_of_another_districts_site_is_409_without_naming_it(client, east, make_site):
    code = valid_code()
    west = make_site(name="西城秘密油库", district="西城区", credit_code=code)
    response = client.post("/api/v1/sites", json=new_site(credit_code=code), headers=east)
    error = assert_error(response, 409, "conflict")
    assert error["message"] == "该统一社会信用代码已登记"
    raw = response.get_data(as_text=True)
    assert "西城" not in raw and str(west) not in raw


def test_a_credit_code_in_the_callers_district_names_the_site(client, east, make_site):
    code = valid_code()
    mine = make_site(name="东城油库", district="东城区", credit_code=code)
    error = assert_error(
        client.post("/api/v1/sites", json=new_site(credit_code=code), headers=east),
        409,
        "conflict",
    )
    assert "东城油库" in error["message"] and str(mine) in error["message"]


def test_registering_in_another_district_is_forbidden(client, east):
    assert_error(
        client.post("/api/v1/sites", json=new_site(district="西城区"), headers=east),
        403,
        "forbidden",
    )


def test_out_of_district_site_is_404(client, east, make_site):
    west_site = make_site(name="西城区加油站", district="西城区")
    assert_error(client.get(f"/api/v1/sites/{west_site}", headers=east), 404, "not_found")
    assert client.get("/api/v1/sites", headers=east).get_json()["items"] == []


def test_office_sees_every_district(client, make_user, login, make_site):
    make_site(name="A", district="西城区")
    make_site(name="B", district="唐古拉山镇")
    make_user("boss", "office", [])
    items = client.get("/api/v1/sites", headers=login("boss")).get_json()["items"]
    assert sorted(s["name"] for s in items) == ["A", "B"]


def test_since_cursor_returns_changes_and_tombstones(app, client, east, make_site):
    first = make_site(name="一号站")
    page = client.get("/api/v1/sites", headers=east).get_json()
    cursor = page["next_cursor"]
    assert client.get(f"/api/v1/sites?since={cursor}", headers=east).get_json()["items"] == []

    second = make_site(name="二号站")
    from inspect_app.extensions import db
    from inspect_app.sites.models import Site
    from inspect_app.sync.services import next_seq

    with app.app_context():
        site = db.session.get(Site, first)
        site.deleted_at = utcnow()
        site.sync_seq = next_seq()
        db.session.commit()
    changes = client.get(f"/api/v1/sites?since={cursor}", headers=east).get_json()
    by_id = {s["id"]: s for s in changes["items"]}
    assert set(by_id) == {first, second}
    assert by_id[first]["deleted"] is True and by_id[second]["deleted"] is False
    # A full listing (no cursor) leaves deleted sites out.
    assert [s["id"] for s in client.get("/api/v1/sites", headers=east).get_json()["items"]] == [
        second
    ]


def test_paging_through_the_feed_gets_every_site_once(client, east, make_site):
    ids = [make_site(name=f"站点{i}") for i in range(7)]
    seen, cursor = [], None
    for _ in range(10):
        url = "/api/v1/sites?limit=3" + (f"&since={cursor}" if cursor else "")
        page = client.get(url, headers=east).get_json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == ids


def test_filters_and_bad_cursor(client, east, make_site):
    make_site(name="油库", site_type="油库")
    make_site(name="回收站", site_type="再生资源回收站点")
    only = client.get("/api/v1/sites?site_type=油库", headers=east).get_json()["items"]
    assert [s["name"] for s in only] == ["油库"]
    assert_error(client.get("/api/v1/sites?since=abc", headers=east), 422, "validation_error")
    assert_error(client.get("/api/v1/sites?campaign=nope", headers=east), 404, "not_found")


def test_site_detail_has_rectification_summary(client, east, make_site):
    site = make_site()
    body = client.get(f"/api/v1/sites/{site}", headers=east).get_json()
    assert body["name"] == "格尔木昆仑路加油站"
    assert body["rectification"] == []
