"""Logging in and out: tokens, password storage, expiry, revocation, the brake on guessing."""

from datetime import timedelta

from sqlalchemy import select

from inspect_app.auth.models import ApiToken, User
from inspect_app.db_types import utcnow
from inspect_app.extensions import db
from tests.helpers import assert_error


def test_login_returns_token_and_user(client, make_user):
    make_user("zhang", "inspector", ["东城区", "西城区"])
    response = client.post(
        "/api/v1/auth/token", json={"username": "zhang", "password": "password123"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["username"] == "zhang"
    assert body["user"]["role"] == "inspector"
    assert body["user"]["districts"] == ["东城区", "西城区"]
    assert len(body["token"]) >= 32
    assert body["expires_at"].endswith("+00:00")


def test_password_and_token_are_stored_hashed(app, client, make_user, login):
    make_user("li")
    headers = login("li")
    raw = headers["Authorization"].split()[1]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "li"))
        assert user.password_hash.startswith("$argon2id$")
        assert "password123" not in user.password_hash
        stored = db.session.scalars(select(ApiToken.token_hash)).all()
        assert raw not in stored and len(stored) == 1


def test_bad_password_is_401_with_contract_body(client, make_user):
    make_user("wang")
    response = client.post("/api/v1/auth/token", json={"username": "wang", "password": "nope-nope"})
    assert_error(response, 401, "unauthorized")
    unknown = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"})
    assert_error(unknown, 401, "unauthorized")


def test_missing_field_is_422_naming_it(client):
    response = client.post("/api/v1/auth/token", json={"username": "a"})
    error = assert_error(response, 422, "validation_error")
    assert error["fields"] == {"password": ["必填项"]}


def test_unknown_field_is_422(client):
    response = client.post(
        "/api/v1/auth/token", json={"username": "a", "password": "b", "remember": True}
    )
    assert assert_error(response, 422, "validation_error")["fields"] == {"remember": ["未知字段"]}


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/auth/token", data="{oops", content_type="application/json")
    error = assert_error(response, 400, "bad_request")
    assert "fields" not in error


def test_calls_without_token_are_401(client):
    assert_error(client.get("/api/v1/campaigns"), 401, "unauthorized")
    bad = client.get("/api/v1/campaigns", headers={"Authorization": "Bearer not-a-token"})
    assert_error(bad, 401, "unauthorized")
    basic = client.get("/api/v1/campaigns", headers={"Authorization": "Basic abc"})
    assert_error(basic, 401, "unauthorized")


def test_logout_revokes_the_token(client, make_user, login):
    make_user("ma")
    headers = login("ma")
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert_error(client.get("/api/v1/campaigns", headers=headers), 401, "unauthorized")


def test_expired_token_is_401(app, client, make_user, login):
    make_user("han")
    headers = login("han")
    with app.app_context():
        for token in db.session.scalars(select(ApiToken)):
            token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    error = assert_error(client.get("/api/v1/campaigns", headers=headers), 401, "unauthorized")
    assert "过期" in error["message"]


def test_repeated_failures_are_refused_with_429_then_good_password_waits(client, make_user):
    make_user("zhao")
    statuses = [
        client.post(
            "/api/v1/auth/token", json={"username": "zhao", "password": "wrong-pass"}
        ).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    # Even the right password waits out the lock: a guesser learns nothing from it.
    locked = client.post("/api/v1/auth/token", json={"username": "zhao", "password": "password123"})
    assert_error(locked, 429, "rate_limited")
    assert int(locked.headers["Retry-After"]) > 0


def test_failures_from_one_address_lock_other_accounts_too(client, make_user):
    for i in range(20):
        client.post("/api/v1/auth/token", json={"username": f"guess{i}", "password": "x"})
    make_user("innocent")
    response = client.post(
        "/api/v1/auth/token", json={"username": "innocent", "password": "password123"}
    )
    assert_error(response, 429, "rate_limited")


def test_login_cache_serves_repeat_calls_and_revocation_stops_it_at_once(
    app, client, make_user, login
):
    from inspect_app.auth import services

    app.config["AUTH_CACHE_SECONDS"] = 60
    make_user("cached")
    headers = login("cached")
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
    token_hash = services._token_hash(headers["Authorization"].split()[1])
    assert token_hash in app.extensions["inspect_login_cache"].entries
    # A cached login still acts as that user (scope, role) on a later call.
    assert client.get("/api/v1/sites", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert_error(client.get("/api/v1/campaigns", headers=headers), 401, "unauthorized")
