"""Revocation is immediate on every worker, though each worker remembers checked logins.

Two app instances on one database stand for two gunicorn workers (each app keeps its
own cache of checked logins, as each worker process does): a logout, a disabled user
or a changed role through one is seen by the other on its very next request.
"""

import pytest
from sqlalchemy import select

from inspect_app import create_app
from inspect_app.auth import services
from inspect_app.auth.models import User
from inspect_app.extensions import db
from tests.conftest import _config
from tests.helpers import assert_error
from tests.test_web import web_login

REPORT = "/api/v1/campaigns/refined-oil-2025/rectification-report.pdf"


@pytest.fixture
def workers(app, database_url, media_dir):
    """Two apps on the same database, both remembering logins for a minute."""
    other = create_app(_config(database_url, media_dir))
    for each in (app, other):
        each.config["AUTH_CACHE_SECONDS"] = 60
    yield app, other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def cached_in(app, headers) -> bool:
    token_hash = services._token_hash(headers["Authorization"].split()[1])
    return token_hash in app.extensions["inspect_login_cache"].entries


def test_a_logout_on_one_worker_stops_the_token_on_the_other_at_once(workers, make_user, login):
    first, second = workers
    make_user("east")
    headers = login("east")
    other = second.test_client()
    assert other.get("/api/v1/sites", headers=headers).status_code == 200
    assert cached_in(second, headers)
    assert other.get("/api/v1/sites", headers=headers).status_code == 200

    assert first.test_client().delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert_error(other.get("/api/v1/sites", headers=headers), 401, "unauthorized")


def test_another_login_keeps_working_after_someone_logs_out(workers, make_user, login):
    first, second = workers
    make_user("east")
    make_user("west", districts=["西城区"])
    staying, leaving = login("east"), login("west")
    other = second.test_client()
    assert other.get("/api/v1/sites", headers=staying).status_code == 200
    assert first.test_client().delete("/api/v1/auth/token", headers=leaving).status_code == 204
    # The generation moved, so the entry is checked again: it is still a valid login.
    assert other.get("/api/v1/sites", headers=staying).status_code == 200
    assert_error(other.get("/api/v1/sites", headers=leaving), 401, "unauthorized")


def test_a_disabled_user_is_refused_on_every_worker_at_once(workers, make_user, login):
    first, second = workers
    user_id = make_user("east")
    headers = login("east")
    other = second.test_client()
    assert other.get("/api/v1/sites", headers=headers).status_code == 200
    with first.app_context():
        services.update_user(db.session.get(User, user_id), active=False)
        db.session.commit()
    assert_error(other.get("/api/v1/sites", headers=headers), 401, "unauthorized")
    # And cannot log in again.
    response = first.test_client().post(
        "/api/v1/auth/token", json={"username": "east", "password": "password123"}
    )
    assert_error(response, 401, "unauthorized")


def test_a_new_role_applies_on_the_next_call_of_every_worker(workers, make_user, login):
    first, second = workers
    user_id = make_user("east")
    headers = login("east")
    other = second.test_client()
    assert_error(other.get(REPORT, headers=headers), 403, "forbidden")
    with first.app_context():
        services.update_user(db.session.get(User, user_id), role="team_lead")
        db.session.commit()
    response = other.get(REPORT, headers=headers)
    response.close()
    assert response.status_code in (200, 202)


def test_a_dashboard_logout_ends_the_session_on_the_other_worker(workers, make_user):
    first, second = workers
    make_user("lead", "team_lead", ["东城区"])
    browser = first.test_client()
    assert web_login(browser, "lead").status_code == 302
    cookie = browser.get_cookie("inspect_session")
    copy = second.test_client()
    copy.set_cookie("inspect_session", cookie.value)
    assert copy.get("/dashboard/").status_code == 200
    page = browser.get("/dashboard/")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert browser.post("/dashboard/logout", data={"csrf_token": token}).status_code == 302
    response = copy.get("/dashboard/")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


def test_changing_a_user_is_checked_and_recorded(app, make_user):
    user_id = make_user("east")
    with app.app_context():
        user = db.session.get(User, user_id)
        with pytest.raises(services.Invalid):
            services.update_user(user, role="inspector", districts=[])
        with pytest.raises(services.Invalid):
            services.update_user(user, districts=["火星区"])
        db.session.rollback()
        services.update_user(db.session.get(User, user_id), districts=["西城区", "西城区"])
        db.session.commit()
        assert db.session.scalar(select(User.districts).where(User.id == user_id)) == ["西城区"]
