"""Who may do what: one table of every endpoint against every kind of caller.

Callers: an inspector of 东城区 (where the data is), an inspector of 西城区, a team lead
of 东城区, the campaign office, and calls with no token, an expired token and a revoked
token. Out-of-district objects answer 404 (their existence is not revealed); a role
that may not act answers 403.
"""

import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from inspect_app.auth.models import ApiToken
from inspect_app.db_types import utcnow
from inspect_app.extensions import db
from tests.conftest import PHOTOS

REVIEWERS = {"insp_a": 403, "insp_b": 403, "lead": 200, "office": 200}
CALLERS = ("insp_a", "insp_b", "lead", "office", "anonymous", "expired", "revoked")
CODE = "refined-oil-2025"

# endpoint: (method, path, body, {caller: status}); "*" covers the four logged-in users.
# Paths use {site}, {inspection}, {finding}, {photo} from the world built below.
TABLE = {
    "list campaigns": ("GET", "/api/v1/campaigns", None, {"*": 200}),
    "checklist": ("GET", f"/api/v1/campaigns/{CODE}/checklist", None, {"*": 200}),
    "list sites": ("GET", "/api/v1/sites", None, {"*": 200}),
    "site": ("GET", "/api/v1/sites/{site}", None, {"*": 200, "insp_b": 404}),
    "register site": ("POST", "/api/v1/sites", "new_site", {"*": 201, "insp_b": 403}),
    "inspection": ("GET", "/api/v1/inspections/{inspection}", None, {"*": 200, "insp_b": 404}),
    "put inspection": (
        "PUT",
        "/api/v1/inspections/{new}",
        "new_inspection",
        {"*": 201, "insp_b": 422},
    ),
    "photo": ("GET", "/api/v1/photos/{photo}?variant=thumb", None, {"*": 200, "insp_b": 404}),
    # Knowing a hash is no right to learn that the photo exists (issue 12, item 5).
    "photo upload state": ("HEAD", "/api/v1/photos/{photo}", None, {"*": 200, "insp_b": 404}),
    "list findings": ("GET", "/api/v1/findings", None, {"*": 200}),
    "finding": ("GET", "/api/v1/findings/{finding}", None, {"*": 200, "insp_b": 404}),
    "approve": (
        "POST",
        "/api/v1/findings/{finding}/events",
        {"action": "approve", "note": "复查合格"},
        {"insp_a": 403, "insp_b": 404, "lead": 200, "office": 200},
    ),
    "void": (
        "POST",
        "/api/v1/findings/{finding}/events",
        {"action": "void", "note": "录入错误"},
        {"insp_a": 403, "insp_b": 404, "lead": 403, "office": 200},
    ),
    "stats": ("GET", f"/api/v1/campaigns/{CODE}/stats?group_by=district", None, {"*": 200}),
    "stats.xlsx": (
        "GET",
        f"/api/v1/campaigns/{CODE}/stats.xlsx?group_by=district",
        None,
        {"*": 200},
    ),
    "findings.xlsx": ("GET", f"/api/v1/campaigns/{CODE}/findings.xlsx", None, {"*": 200}),
    "site problem list": (
        "GET",
        "/api/v1/sites/{site}/problem-list.pdf?campaign=" + CODE,
        None,
        {"*": 200, "insp_b": 404},
    ),
    "campaign problem list": (
        "GET",
        f"/api/v1/campaigns/{CODE}/problem-list.pdf",
        None,
        {"insp_a": 403, "insp_b": 403, "lead": 200, "office": 200},
    ),
    "rectification report": (
        "GET",
        f"/api/v1/campaigns/{CODE}/rectification-report.pdf",
        None,
        {"insp_a": 403, "insp_b": 403, "lead": 200, "office": 200},
    ),
    "sync": ("GET", "/api/v1/sync", None, {"*": 200}),
    # Issue 17: assignments, 回头看, escalation. Roles are checked before the body (403),
    # then the data: no user 999999, no closed finding to draw from (422).
    "assignments": ("GET", "/api/v1/assignments", None, {"*": 200}),
    "assignment": ("GET", "/api/v1/assignments/999999", None, {"*": 404}),
    "assign": (
        "POST",
        "/api/v1/assignments",
        {"campaign": CODE, "stage": "x", "district": "东城区", "inspector_ids": [999999]},
        {"insp_a": 403, "insp_b": 403, "lead": 422, "office": 422},
    ),
    "coverage": ("GET", f"/api/v1/campaigns/{CODE}/coverage", None, REVIEWERS),
    "relapse": ("GET", f"/api/v1/campaigns/{CODE}/relapse", None, REVIEWERS),
    "draw revisits": (
        "POST",
        f"/api/v1/campaigns/{CODE}/revisit-draws",
        {"due_on": "2026-12-31"},
        {"insp_a": 403, "insp_b": 403, "lead": 422, "office": 422},
    ),
    "revisit draw": (
        "GET",
        "/api/v1/revisit-draws/999999",
        None,
        {"insp_a": 403, "insp_b": 403, "lead": 404, "office": 404},
    ),
    "reminders": ("GET", "/api/v1/reminders", None, {"*": 200}),
    "webhooks": ("GET", "/api/v1/webhooks", None, {"*": 403, "office": 200}),
    "add webhook": (
        "POST",
        "/api/v1/webhooks",
        {"name": "专项办群", "url": "https://example.org/hook", "secret": "s" * 20},
        {"*": 403, "office": 201},
    ),
    # Accounts and the site registry (issue 17): the office runs accounts, team leads read
    # their inspectors and keep the registry of their districts.
    "list users": ("GET", "/api/v1/users", None, {"insp_a": 403, "insp_b": 403, "*": 200}),
    "user": ("GET", "/api/v1/users/{insp_a_id}", None, {"insp_a": 403, "insp_b": 403, "*": 200}),
    "create user": ("POST", "/api/v1/users", "new_user", {"office": 201, "*": 403}),
    "change user": (
        "PATCH",
        "/api/v1/users/{insp_b_id}",
        {"phone": "13909791234"},
        {"office": 200, "*": 403},
    ),
    "reset password": (
        "POST",
        "/api/v1/users/{insp_b_id}/password-reset",
        None,
        {"office": 200, "*": 403},
    ),
    "change own password": (
        "POST",
        "/api/v1/auth/password",
        {"current_password": "password123", "new_password": "password456"},
        {"*": 204},
    ),
    # App keys for ODK Collect / KoboCollect (issue 18): the office issues and revokes them;
    # team leads see whether their inspectors have one.
    "app key state": (
        "GET",
        "/api/v1/users/{insp_a_id}/app-key",
        None,
        {"insp_a": 403, "insp_b": 403, "*": 200},
    ),
    "issue app key": (
        "POST",
        "/api/v1/users/{insp_b_id}/app-key",
        None,
        {"office": 201, "*": 403},
    ),
    "revoke app key": (
        "DELETE",
        "/api/v1/users/{insp_b_id}/app-key",
        None,
        {"office": 204, "*": 403},
    ),
    "import template": (
        "GET",
        "/api/v1/sites/import-template.xlsx",
        None,
        {"insp_a": 403, "insp_b": 403, "*": 200},
    ),
    # Without a file: the rights are checked before the body (422 for those who may).
    "import sites": (
        "POST",
        "/api/v1/sites/import",
        None,
        {"insp_a": 403, "insp_b": 403, "*": 422},
    ),
    "merge site": (
        "POST",
        "/api/v1/sites/{site}/merge",
        {"into": "{site}"},
        {"insp_a": 403, "insp_b": 403, "*": 422},
    ),
    "retire site": (
        "POST",
        "/api/v1/sites/{site}/retire",
        {"note": "已关停"},
        {"insp_a": 403, "insp_b": 403, "*": 200},
    ),
    "logout": ("DELETE", "/api/v1/auth/token", None, {"*": 204}),
}


def expected(rules: dict, caller: str) -> int:
    if caller in ("anonymous", "expired", "revoked"):
        return 401
    return rules.get(caller, rules.get("*"))


CASES = [pytest.param(name, caller, id=f"{name}-{caller}") for name in TABLE for caller in CALLERS]


@pytest.fixture
def world(app, client, make_user, login, make_site, checklist):
    """Data in 东城区: a site, an inspection with a finding awaiting review, its photo."""
    insp_a_id = make_user("insp_a", "inspector", ["东城区"])
    insp_b_id = make_user("insp_b", "inspector", ["西城区"])
    make_user("lead", "team_lead", ["东城区"])
    make_user("office", "office", [])
    headers = {name: login(name) for name in ("insp_a", "insp_b", "lead", "office")}
    site = make_site()
    data = (PHOTOS / "Canon_40D.jpg").read_bytes()
    photo = hashlib.sha256(data).hexdigest()
    client.put(
        f"/api/v1/photos/{photo}",
        data=data,
        headers={**headers["insp_a"], "Content-Type": "image/jpeg"},
    )
    inspection = str(uuid.uuid4())
    finding = str(uuid.uuid4())
    code = checklist["plain"][0]
    body = {
        "campaign": CODE,
        "checklist_version": checklist["version"],
        "site_id": site,
        "started_at": "2025-05-12T09:30:00+08:00",
        "answers": [{"item_code": code, "result": "fail"}],
        "findings": [
            {"id": finding, "item_code": code, "description": "消防器材过期", "photos": [photo]}
        ],
        "final": True,
    }
    assert (
        client.put(
            f"/api/v1/inspections/{inspection}", json=body, headers=headers["insp_a"]
        ).status_code
        == 201
    )
    submitted = client.post(
        f"/api/v1/findings/{finding}/events",
        json={"action": "submit", "note": "已整改", "photos": [photo]},
        headers=headers["insp_a"],
    )
    assert submitted.status_code == 200, submitted.get_json()

    expired = login("insp_a")
    revoked = login("insp_a")
    assert client.delete("/api/v1/auth/token", headers=revoked).status_code == 204
    with app.app_context():
        raw = expired["Authorization"].split()[1]
        token = db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(raw.encode()).hexdigest())
        )
        token.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    headers.update(anonymous={}, expired=expired, revoked=revoked)
    return {
        "headers": headers,
        "ids": {
            "site": site,
            "inspection": inspection,
            "finding": finding,
            "photo": photo,
            "insp_a_id": insp_a_id,
            "insp_b_id": insp_b_id,
        },
        "inspection_body": body,
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("endpoint, caller", CASES)
def test_access(client, world, endpoint, caller):
    method, path, body, rules = TABLE[endpoint]
    path = path.format(**world["ids"], new=uuid.uuid4())
    if body == "new_site":
        body = {"name": f"{caller}登记的无证加油点", "site_type": "加油站", "district": "东城区"}
    elif body == "new_user":
        body = {"username": f"new_{caller}", "display_name": "新用户", "role": "office"}
    elif isinstance(body, dict) and body.get("into") == "{site}":
        body = {"into": world["ids"]["site"]}
    elif body == "new_inspection":
        body = {**world["inspection_body"], "findings": [], "answers": []}
    response = client.open(path, method=method, json=body, headers=world["headers"][caller])
    want = expected(rules, caller)
    assert response.status_code == want, (endpoint, caller, response.get_data(as_text=True)[:300])
    if want >= 400 and method != "HEAD":
        assert response.get_json()["error"]["code"] in (
            "unauthorized",
            "forbidden",
            "not_found",
            "validation_error",
        )
    response.close()
