"""Accounts run by the office (issue 17): create, change, disable, reset; team leads read."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from inspect_app.audit.models import AuditLog
from inspect_app.auth.models import User
from inspect_app.extensions import db

BIN = Path(sys.executable).parent / "inspect-app"


def audit_actions(app, user_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditLog.action)
                .where(AuditLog.object_type == "user", AuditLog.object_id == str(user_id))
                .order_by(AuditLog.id)
            )
        )


NEW_USER = {
    "username": "wangwu",
    "display_name": "王五",
    "role": "inspector",
    "districts": ["乌图美仁乡"],
    "phone": "139 0979 1234",
}


def test_office_creates_a_user_who_must_choose_a_password(app, client, staff):
    office = staff["headers"]["office"]
    created = client.post("/api/v1/users", json=NEW_USER, headers=office)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    password = body["temporary_password"]
    assert len(password) >= 12
    assert body["user"]["must_change_password"] is True
    assert body["user"]["phone"] == "139 0979 1234"
    assert body["user"]["last_login_at"] is None
    user_id = body["user"]["id"]
    # The password is shown once: no later answer holds it.
    listed = client.get("/api/v1/users", headers=office).get_data(as_text=True)
    assert password not in listed and "wangwu" in listed

    token = client.post("/api/v1/auth/token", json={"username": "wangwu", "password": password})
    assert token.status_code == 200
    assert token.get_json()["user"]["must_change_password"] is True
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    # Until they choose a password, the temporary one opens nothing else.
    blocked = client.get("/api/v1/sync", headers=headers)
    assert blocked.status_code == 403
    assert "修改初始密码" in blocked.get_json()["error"]["message"]
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-it-at-all", "new_password": "my-own-pass-1"},
        headers=headers,
    )
    assert wrong.status_code == 403
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": password, "new_password": "my-own-pass-1"},
        headers=headers,
    )
    assert changed.status_code == 204
    assert client.get("/api/v1/sync", headers=headers).status_code == 200
    # The office sees the login and the sync.
    seen = client.get(f"/api/v1/users/{user_id}", headers=office).get_json()
    assert seen["last_login_at"] is not None and seen["last_sync_at"] is not None
    assert seen["must_change_password"] is False
    assert audit_actions(app, user_id) == [
        "auth.user_created",
        "auth.login",
        "auth.password_changed",
    ]


def test_disabling_revokes_a_live_token_at_once_and_enabling_needs_a_new_login(app, client, staff):
    # Each worker remembers checked logins (as in production): the disable must beat it.
    app.config["AUTH_CACHE_SECONDS"] = 60
    office = staff["headers"]["office"]
    victim = staff["headers"]["insp_east"]
    user_id = staff["ids"]["insp_east"]
    assert client.get("/api/v1/sync", headers=victim).status_code == 200  # now remembered
    off = client.patch(f"/api/v1/users/{user_id}", json={"active": False}, headers=office)
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert client.get("/api/v1/sync", headers=victim).status_code == 401
    refused = client.post(
        "/api/v1/auth/token", json={"username": "insp_east", "password": "password123"}
    )
    assert refused.status_code == 401
    on = client.patch(f"/api/v1/users/{user_id}", json={"active": True}, headers=office)
    assert on.get_json()["active"] is True
    # The old token stays revoked; a new login works.
    assert client.get("/api/v1/sync", headers=victim).status_code == 401
    again = client.post(
        "/api/v1/auth/token", json={"username": "insp_east", "password": "password123"}
    )
    assert again.status_code == 200
    entries = audit_actions(app, user_id)
    assert entries.count("auth.user_changed") == 2
    with app.app_context():
        disable = db.session.scalars(
            select(AuditLog).where(
                AuditLog.action == "auth.user_changed", AuditLog.object_id == str(user_id)
            )
        ).first()
        assert disable.user_id == staff["ids"]["office"]
        assert disable.detail["changed"] == {"active": [True, False]}
        assert disable.detail["tokens_revoked"] == 1


def test_reset_password_ends_every_login_and_is_shown_once(app, client, staff):
    office = staff["headers"]["office"]
    user_id = staff["ids"]["lead"]
    reset = client.post(f"/api/v1/users/{user_id}/password-reset", headers=office)
    assert reset.status_code == 200
    password = reset.get_json()["temporary_password"]
    assert client.get("/api/v1/sync", headers=staff["headers"]["lead"]).status_code == 401
    old = client.post("/api/v1/auth/token", json={"username": "lead", "password": "password123"})
    assert old.status_code == 401
    new = client.post("/api/v1/auth/token", json={"username": "lead", "password": password})
    assert new.status_code == 200 and new.get_json()["user"]["must_change_password"] is True
    assert "auth.password_reset" in audit_actions(app, user_id)


def test_change_role_districts_name_phone(app, client, staff):
    office = staff["headers"]["office"]
    user_id = staff["ids"]["insp_west"]
    changed = client.patch(
        f"/api/v1/users/{user_id}",
        json={
            "role": "team_lead",
            "districts": ["西城区", "陆港园区"],
            "display_name": "赵六",
            "phone": "0979-8412345",
        },
        headers=office,
    )
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["role"], body["districts"], body["display_name"], body["phone"]) == (
        "team_lead",
        ["西城区", "陆港园区"],
        "赵六",
        "0979-8412345",
    )
    # The live token acts with the new role on its next call.
    assert client.get("/api/v1/users", headers=staff["headers"]["insp_west"]).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"role": "inspector", "districts": []}, "districts"),
        ({"districts": ["火星区"]}, "districts[0]"),
        ({"display_name": "   "}, "display_name"),
        ({"phone": "call me"}, "phone"),
        ({"role": "admin"}, "role"),
    ],
)
def test_bad_changes_are_422_and_change_nothing(app, client, staff, body, field):
    user_id = staff["ids"]["insp_west"]
    answer = client.patch(f"/api/v1/users/{user_id}", json=body, headers=staff["headers"]["office"])
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["error"]["fields"]
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.role, user.districts, user.display_name) == (
            "inspector",
            ["西城区"],
            "insp_west 姓名",
        )


def test_duplicate_username_is_409_and_bad_username_422(client, staff):
    office = staff["headers"]["office"]
    twice = client.post("/api/v1/users", json={**NEW_USER, "username": "lead"}, headers=office)
    assert twice.status_code == 409
    bad = client.post("/api/v1/users", json={**NEW_USER, "username": "王 五"}, headers=office)
    assert bad.status_code == 422 and "username" in bad.get_json()["error"]["fields"]


def test_office_may_not_lock_itself_out(client, staff):
    office = staff["headers"]["office"]
    me = staff["ids"]["office"]
    assert (
        client.patch(f"/api/v1/users/{me}", json={"active": False}, headers=office).status_code
        == 409
    )
    assert client.get("/api/v1/users", headers=office).status_code == 200


def test_team_lead_sees_only_the_inspectors_of_their_districts(client, staff):
    lead = staff["headers"]["lead"]
    listed = client.get("/api/v1/users", headers=lead).get_json()["items"]
    assert [u["username"] for u in listed] == ["insp_east"]
    assert client.get(f"/api/v1/users/{staff['ids']['insp_east']}", headers=lead).status_code == 200
    for other in ("insp_west", "office"):
        assert client.get(f"/api/v1/users/{staff['ids'][other]}", headers=lead).status_code == 404


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/api/v1/users", NEW_USER),
        ("PATCH", "/api/v1/users/{insp_east}", {"active": False}),
        ("POST", "/api/v1/users/{insp_east}/password-reset", None),
    ],
)
@pytest.mark.parametrize("caller", ["lead", "insp_east"])
def test_only_the_office_changes_accounts(app, client, staff, method, path, body, caller):
    answer = client.open(
        path.format(**staff["ids"]), method=method, json=body, headers=staff["headers"][caller]
    )
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "forbidden"
    with app.app_context():
        assert db.session.get(User, staff["ids"]["insp_east"]).active is True
        assert db.session.scalar(select(User).where(User.username == "wangwu")) is None


def test_inspectors_do_not_see_accounts(client, staff):
    assert client.get("/api/v1/users", headers=staff["headers"]["insp_east"]).status_code == 403


def test_cli_create_still_works_and_is_audited(app, database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")}
    env.update(INSPECT_DATABASE_URL=database_url, INSPECT_INSTANCE_DIR=str(tmp_path / "i"))
    args = ["users", "create", "cli_user", "--role", "inspector", "--district", "东城区"]
    result = subprocess.run(
        [str(BIN), *args, "--password-stdin"],
        env=env,
        input="a-long-password\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "cli_user"))
        assert user.must_change_password is False
        user_id = user.id
    assert audit_actions(app, user_id) == ["auth.user_created"]


def test_nobody_resets_their_own_password(client, staff):
    me = staff["ids"]["office"]
    office = staff["headers"]["office"]
    assert client.post(f"/api/v1/users/{me}/password-reset", headers=office).status_code == 409
    assert client.get("/api/v1/users", headers=office).status_code == 200


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def dashboard_login(client, username, password="password123"):
    token = CSRF.search(client.get("/dashboard/login").text).group(1)
    return client.post(
        "/dashboard/login", data={"csrf_token": token, "username": username, "password": password}
    )


def test_disabling_ends_a_dashboard_session_at_once(app, client, staff):
    app.config["AUTH_CACHE_SECONDS"] = 60
    lead = app.test_client()
    assert dashboard_login(lead, "lead").status_code == 302
    assert lead.get("/dashboard/users").status_code == 200
    office = staff["headers"]["office"]
    client.patch(f"/api/v1/users/{staff['ids']['lead']}", json={"active": False}, headers=office)
    answer = lead.get("/dashboard/users")
    assert answer.status_code == 302 and "/dashboard/login" in answer.headers["Location"]


def test_dashboard_office_creates_a_user_and_the_lead_only_reads(app, client, staff):
    office = app.test_client()
    dashboard_login(office, "office")
    form = office.get("/dashboard/users/new").text
    token = CSRF.search(form).group(1)
    created = office.post(
        "/dashboard/users/new",
        data={
            "csrf_token": token,
            "username": "sunqi",
            "display_name": "孙七",
            "role": "inspector",
            "districts": ["东城区", "西城区"],
            "phone": "13900000000",
        },
    )
    assert created.status_code == 200
    shown = re.search(r'id="temporary-password">([^<]+)<', created.text).group(1)
    assert (
        client.post("/api/v1/auth/token", json={"username": "sunqi", "password": shown}).status_code
        == 200
    )
    # Without the CSRF token nothing is made.
    forged = office.post("/dashboard/users/new", data={"username": "evil", "role": "office"})
    assert forged.status_code == 400
    lead = app.test_client()
    dashboard_login(lead, "lead")
    listing = lead.get("/dashboard/users").text
    assert "sunqi" in listing and "insp_east" in listing and "insp_west" not in listing
    assert "新建账号" not in listing
    assert lead.get("/dashboard/users/new").status_code == 403
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "sunqi"))
        assert (user.districts, user.must_change_password) == (["东城区", "西城区"], True)
        assert db.session.scalar(select(User).where(User.username == "evil")) is None


def test_dashboard_sends_a_temporary_password_to_the_password_page(app, client, staff):
    office = staff["headers"]["office"]
    reset = client.post(f"/api/v1/users/{staff['ids']['lead']}/password-reset", headers=office)
    password = reset.get_json()["temporary_password"]
    lead = app.test_client()
    assert dashboard_login(lead, "lead", password).status_code == 302
    answer = lead.get("/dashboard/")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/dashboard/password")
    token = CSRF.search(lead.get("/dashboard/password").text).group(1)
    changed = lead.post(
        "/dashboard/password",
        data={
            "csrf_token": token,
            "current_password": password,
            "new_password": "lead-own-password",
            "new_password_again": "lead-own-password",
        },
    )
    assert changed.status_code == 302
    assert lead.get("/dashboard/").status_code == 200
