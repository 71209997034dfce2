"""The one input rule (inspect_app.input_rules) for every JSON body, query and form.

Crafted JSON (lone surrogates, absurd nesting, huge integers, NaN) is the contract's
400 or 422 with a Chinese message, never a 500, in the login, the site and the
inspection body (whose fast path decodes JSON itself) alike; the dashboard's query
strings and forms keep to the same rule (NUL in them was a 500 on PostgreSQL); and a
protected endpoint answers 401 to a caller without a token before it looks at what
the body or query hold.
"""

import json
import uuid
from datetime import date

import pytest
from werkzeug.routing import IntegerConverter, UUIDConverter

from inspect_app import input_rules
from inspect_app.auth.guard import protected_roles
from inspect_app.errors import BadRequest, Invalid
from inspect_app.extensions import db
from inspect_app.findings.models import Finding
from tests.factories import CAMPAIGN, Factory
from tests.helpers import assert_error
from tests.test_web import web_login

LONE_SURROGATE = '"\\ud800"'
DEEP = "[" * 10_000 + "]" * 10_000
HUGE_INT = "9" * 5_000


def site_body(**fields) -> str:
    body = {"name": "格尔木河西加油站", "site_type": "加油站", "district": "东城区"}
    raw = json.dumps(body, ensure_ascii=False)
    for key, value in fields.items():
        raw = raw[:-1] + f', "{key}": {value}' + "}"
    return raw


def inspection_body(site_id: int, fields: dict | None = None) -> str:
    body = {
        "campaign": "refined-oil-2025",
        "checklist_version": 1,
        "site_id": site_id,
        "started_at": "2025-05-12T09:30:00+08:00",
        "answers": [],
    }
    raw = json.dumps(body, ensure_ascii=False)
    for key, value in (fields or {}).items():
        raw = raw[:-1] + f', "{key}": {value}' + "}"
    return raw


def post_json(client, method, url, raw: str, headers=None):
    return client.open(
        url,
        method=method,
        data=raw.encode("utf-8", "surrogatepass"),
        content_type="application/json",
        headers=headers or {},
    )


@pytest.fixture
def inspector(make_user, login):
    make_user("east")
    return login("east")


# (what, the body's JSON, status, code, JSON path named in fields or None)
CRAFTED = [
    ("a lone surrogate", {"name": LONE_SURROGATE}, 422, "validation_error", "name"),
    ("a lone surrogate in a key", {"n\\udc00": "1"}, 422, "validation_error", "n\ufffd"),
    ("10,000 levels of nesting", {"address": DEEP}, 400, "bad_request", None),
    ("40 levels of nesting", {"address": "[" * 40 + "]" * 40}, 400, "bad_request", None),
    ("a 5,000-digit integer", {"lat": HUGE_INT}, 422, "validation_error", "lat"),
    ("an integer beyond 64 bits", {"lat": str(2**64)}, 422, "validation_error", "lat"),
    ("NaN", {"lat": "NaN"}, 422, "validation_error", "lat"),
    ("Infinity", {"lon": "-Infinity"}, 422, "validation_error", "lon"),
    ("a float beyond range", {"lon": "1e999"}, 422, "validation_error", "lon"),
]


@pytest.mark.parametrize("what, fields, status, code, path", CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted_json_in_a_site_is_refused_by_path(
    client, inspector, what, fields, status, code, path
):
    response = post_json(client, "POST", "/api/v1/sites", site_body(**fields), inspector)
    error = assert_error(response, status, code)
    if path is not None:
        assert path in error["fields"], error
    else:
        assert "fields" not in error


INSPECTION_FIELD = {
    "name": "campaign",
    "lat": "checklist_version",
    "lon": "site_id",
    "address": "answers",
}


@pytest.mark.parametrize("what, fields, status, code, path", CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted_json_in_an_inspection_is_refused_alike(
    client, inspector, make_site, what, fields, status, code, path
):
    # The inspection body's fast path decodes JSON itself: the same rule, the same answer.
    site_id = make_site()
    # The same values in the inspection's own fields (a later key replaces an earlier one).
    renamed = {INSPECTION_FIELD.get(k, k): v for k, v in fields.items()}
    raw = inspection_body(site_id, renamed)
    response = post_json(client, "PUT", f"/api/v1/inspections/{uuid.uuid4()}", raw, inspector)
    error = assert_error(response, status, code)
    if path is not None:
        assert INSPECTION_FIELD.get(path, path) in error["fields"], error
    else:
        assert "fields" not in error


@pytest.mark.parametrize(
    "raw, status",
    [
        ('{"username": "\\ud800", "password": "password123"}', 422),
        ('{"username": "east", "password": "\\udfff"}', 422),
        ('{"username": ' + DEEP + "}", 400),
        ('{"username": "east", "password": ' + HUGE_INT + "}", 422),
        ('{"username": "east", "password": NaN}', 422),
        ('{"username": "east"', 400),
    ],
)
def test_crafted_json_in_a_login_is_refused(client, make_user, raw, status):
    make_user("east")
    response = post_json(client, "POST", "/api/v1/auth/token", raw)
    assert_error(response, status, "validation_error" if status == 422 else "bad_request")


def test_an_inspection_with_nothing_crafted_is_still_stored(client, inspector, make_site):
    site_id = make_site()
    raw = inspection_body(site_id, {"note_free": '"加油站\\u4e00"'})
    response = post_json(client, "PUT", f"/api/v1/inspections/{uuid.uuid4()}", raw, inspector)
    # An unknown key stays a schema error (the rule passes what it does not refuse).
    assert_error(response, 422, "validation_error")
    response = post_json(
        client, "PUT", f"/api/v1/inspections/{uuid.uuid4()}", inspection_body(site_id), inspector
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "query, name",
    [("campaign=refined%00", "campaign"), ("limit=1&x%00=1", "x\ufffd")],
)
def test_nul_in_a_query_is_refused_by_name(client, inspector, query, name):
    error = assert_error(
        client.get(f"/api/v1/findings?{query}", headers=inspector), 422, "validation_error"
    )
    assert name in error["fields"]


# ---------------------------------------------------------------------------
# Authentication comes before validation, on every protected endpoint


def _protected_operations(app):
    """(method, url) of every protected operation, its path filled with plausible values."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"OPTIONS"}):
            handler = view
            if getattr(view, "view_class", None) is not None:
                handler = getattr(view.view_class, method.lower(), None)
                if handler is None and method == "HEAD":
                    handler = getattr(view.view_class, "get", None)
            if protected_roles(handler) is None:
                continue
            values = {}
            for name, converter in rule._converters.items():
                if isinstance(converter, IntegerConverter):
                    values[name] = 1
                elif isinstance(converter, UUIDConverter):
                    values[name] = uuid.uuid4()
                else:
                    values[name] = "a" * 64
            found.append((method, adapter.build(rule.endpoint, values, method=method)))
    return found


def test_every_protected_endpoint_answers_401_before_looking_at_body_or_query(app, client):
    operations = _protected_operations(app)
    assert len(operations) > 20  # the walk found the API, not an empty map
    garbage = ('{"limit": "\\ud800", "x": ' + "[" * 50 + "]" * 50 + "}").encode(
        "utf-8", "surrogatepass"
    )
    for method, url in operations:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = client.open(
                f"{url}?limit=-5&unknown=%00&status=lost",
                method=method,
                data=garbage,
                content_type="application/json",
                headers=headers,
            )
            assert response.status_code == 401, (method, url, response.get_data(as_text=True))
            if method != "HEAD":
                assert_error(response, 401, "unauthorized")


def test_a_role_is_checked_before_the_query_too(client, inspector):
    # Reports are for team leads and the office: an inspector learns nothing of the query.
    response = client.get(
        "/api/v1/campaigns/no-such/problem-list.pdf?status=lost&unknown=%00", headers=inspector
    )
    assert_error(response, 403, "forbidden")


# ---------------------------------------------------------------------------
# The dashboard: the same rule for its query strings and forms


@pytest.fixture
def lead(app, client, make_user):
    """A team lead logged in to the dashboard, with one finding awaiting review."""
    factory = Factory(app)
    make_user("lead", "team_lead", ["东城区"])
    office = make_user("office", "office", [])
    site = factory.site("A 加油站", "东城区")
    finding_id = factory.finding(
        factory.inspection(site, office),
        item="T-01",
        status="pending_review",
        deadline=date(2025, 6, 12),
    )
    assert web_login(client, "lead").status_code == 302
    return finding_id


@pytest.mark.parametrize(
    "url",
    [
        f"/dashboard/campaigns/{CAMPAIGN}/overdue?district=%00",
        f"/dashboard/campaigns/{CAMPAIGN}/overdue?department=%E5%95%86%00",
        "/dashboard/sites?q=%00",
        f"/dashboard/campaigns/{CAMPAIGN}/findings.xlsx?department=%00",
        f"/dashboard/campaigns/{CAMPAIGN}/stats.xlsx?group_by=%00",
        f"/dashboard/campaigns/{CAMPAIGN}?district=%00",
    ],
)
def test_nul_in_a_dashboard_filter_is_a_page_not_a_500(client, lead, url):
    response = client.get(url)
    assert response.status_code == 422
    assert response.mimetype == "text/html" and "NUL" in response.text


def test_nul_in_a_review_note_is_refused_and_changes_nothing(app, client, lead):
    page = client.get(f"/dashboard/findings/{lead}", follow_redirects=True)
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        f"/dashboard/findings/{lead}/review",
        data={"csrf_token": token, "action": "reject", "note": "整改不到位\x00"},
    )
    assert response.status_code == 422 and response.mimetype == "text/html"
    with app.app_context():
        assert db.session.get(Finding, lead).status == "pending_review"


@pytest.mark.parametrize("username", ["lead\x00", "\x00"])
def test_nul_in_the_login_user_name_is_a_page(client, make_user, username):
    make_user("lead", "team_lead", ["东城区"])
    response = web_login(client, username)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert "inspect_session" not in response.headers.get("Set-Cookie", "") or "token" not in (
        response.headers.get("Set-Cookie", "")
    )


@pytest.mark.parametrize(
    "target",
    [
        "/dashboard/sites\r\nSet-Cookie: x=1",
        "/dashboard/\nLocation: https://evil.example",
        "/dashboard/\x7f",
        "/dashboard/\u202e",
    ],
)
def test_control_characters_in_next_fall_back_to_the_overview(client, make_user, target):
    make_user("lead", "team_lead", ["东城区"])
    page = client.get("/dashboard/login", query_string={"next": target})
    assert page.status_code == 200
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/dashboard/login",
        data={"csrf_token": token, "username": "lead", "password": "password123", "next": target},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


# -- input_rules.loads itself: every way a refused value can be written ------------------


@pytest.mark.parametrize(
    "raw, refused",
    [
        ('{"a": "x\\u0000y"}', "不能包含 NUL"),
        ('{"a": "\\uDC00"}', "单独的代理项"),
        ('{"a": ["ok", "\\ud83d"]}', "单独的代理项"),
        ('{"a": 123456789012345678901}', "数值超出范围"),
        ('{"a": 9223372036854775808}', "数值超出范围"),
        ('{"a": [1, NaN]}', "NaN"),
        ('{"a": -Infinity}', "NaN"),
        ('{"a": 1e400}', "NaN"),
        ('{"a": "x", "\\u0000": 1}', "字段名"),
    ],
)
def test_loads_refuses_each_spelling_of_a_refused_value(raw, refused):
    for body in (raw, raw.encode()):
        with pytest.raises(Invalid) as caught:
            input_rules.loads(body)
        assert refused in str(caught.value)


def test_loads_keeps_what_only_looks_refused():
    body = {
        "emoji": "现场照片😀",
        "escaped": "\\u0000 is text here",
        "id": "7e879c3a-1e12-4e00-9e99-0123456789ab",
        "big": 9223372036854775807,
        "small": 1e-300,
        "digits": "1234567890123456789012345",
    }
    for raw in (json.dumps(body), json.dumps(body, ensure_ascii=False)):
        assert input_rules.loads(raw.encode()) == body
        assert input_rules.loads(raw) == body


def test_loads_counts_nesting_whatever_the_brackets_in_strings():
    deep = "[" * input_rules.MAX_DEPTH + "]" * input_rules.MAX_DEPTH
    assert input_rules.loads(deep) is not None
    with pytest.raises(BadRequest):
        input_rules.loads("[" + deep + "]")
    # Brackets inside strings push the count over the depth without nesting anything.
    wide = json.dumps({"text": "[{" * 40, "list": [[1], [2], {"a": [3]}]})
    assert input_rules.loads(wide)["list"][2] == {"a": [3]}


def test_a_str_body_with_a_raw_lone_surrogate_is_refused():
    with pytest.raises(Invalid):
        input_rules.loads('{"a": "\ud800"}')
