"""No request holds the database's write lock while it waits on the network or sleeps.

On SQLite one writer at a time holds the whole database: a phone on a slow link that
held it while its photo streamed in, or a failed login that held it through the
brake's sleep, made every other user's write wait (and fail with 500 after the busy
timeout). Against a real gunicorn server, another user's write must go through while
the photo is still being sent, and while the brake sleeps. (Both databases: the same
rule keeps PostgreSQL from idling in a transaction.)
"""

import hashlib
import http.client
import json
import threading
import time

import pytest

from tests.conftest import PHOTOS
from tests.support.server import Server

# Generous: the busy timeout is 30 s, and one held lock made this wait the whole upload.
CLIENT_TIMEOUT = 20


def call(port, method, path, payload=None, token=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def token_of(port, username):
    status, body = call(
        port, "POST", "/api/v1/auth/token", {"username": username, "password": "password123"}
    )
    assert status == 200, body
    return body["token"]


def new_site(n):
    return {"name": f"格尔木物流园加油点{n}", "site_type": "加油站", "district": "东城区"}


@pytest.fixture
def server(database_url, media_dir, tmp_path, make_user):
    make_user("slow", "inspector", ["东城区"])
    make_user("quick", "inspector", ["东城区"])
    make_user("guessed", "inspector", ["东城区"])
    with Server(database_url, media_dir, tmp_path / "instance") as running:
        yield running


def wait_for(condition, what, timeout=CLIENT_TIMEOUT):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_a_slow_photo_upload_does_not_hold_up_another_users_write(server, media_dir):
    photo = (PHOTOS / "jolla.jpg").read_bytes()
    sha = hashlib.sha256(photo).hexdigest()
    slow, quick = token_of(server.port, "slow"), token_of(server.port, "quick")

    upload = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    upload.putrequest("PUT", f"/api/v1/photos/{sha}")
    upload.putheader("Authorization", f"Bearer {slow}")
    upload.putheader("Content-Type", "image/jpeg")
    upload.putheader("Content-Length", str(len(photo)))
    upload.endheaders()
    upload.send(photo[:1024])
    # The server is past the login check and streaming the body to disk.
    wait_for(lambda: any((media_dir / "tmp").glob("*")), "the upload began to be stored")

    # A phone on a slow link would now take 30 s for the rest; meanwhile others write.
    for n in range(3):
        status, body = call(server.port, "POST", "/api/v1/sites", new_site(n), quick)
        assert status == 201, body

    upload.send(photo[1024:])
    response = upload.getresponse()
    assert response.status == 201, response.read()
    upload.close()


def test_the_login_brake_does_not_hold_up_another_users_write(server):
    quick = token_of(server.port, "quick")
    for _ in range(4):
        status, _ = call(
            server.port, "POST", "/api/v1/auth/token", {"username": "guessed", "password": "x"}
        )
        assert status == 401
    # The fifth attempt is braked (half a second) before its password is even checked.
    order = []

    def braked_login():
        status, _ = call(
            server.port, "POST", "/api/v1/auth/token", {"username": "guessed", "password": "x"}
        )
        order.append(("login", status))

    thread = threading.Thread(target=braked_login)
    thread.start()
    time.sleep(0.15)  # into the brake's sleep (not an assertion: it only orders the calls)
    status, body = call(server.port, "POST", "/api/v1/sites", new_site(9), quick)
    order.append(("site", status))
    thread.join(CLIENT_TIMEOUT)
    assert order == [("site", 201), ("login", 401)], body
