"""``inspect-app serve`` (gunicorn) answers what it refuses itself with the contract's body.

gunicorn reads the request line and headers before the app runs; an over-long line
(414), over-large or too many headers (431) or a malformed request (400) never reach
Flask's error handlers. Sent here over a raw socket to the real server.
"""

import json
import socket

import pytest

from tests.support.server import Server


def _raw(server: Server, request: bytes) -> tuple[int, dict, bytes]:
    """Send ``request`` as is; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return int(status_line.split(" ")[1]), headers, body


REFUSED = [
    ("request line over the limit", b"GET /api/v1/sites?q=" + b"x" * 9000 + b" HTTP/1.1", 414),
    (
        "one header over the limit",
        b"GET /api/v1/sites HTTP/1.1\r\nX-Big: " + b"y" * 9000,
        431,
    ),
    (
        "too many headers",
        b"GET /api/v1/sites HTTP/1.1\r\n" + b"\r\n".join(b"X-H%d: 1" % i for i in range(120)),
        431,
    ),
    ("malformed request line", b"GET\x01 /api/v1/sites HTTP/1.1", 400),
    ("header without a colon", b"GET /api/v1/sites HTTP/1.1\r\nNoColonHere", 400),
    ("unknown HTTP version", b"GET /api/v1/sites HTTP/7.3", 400),
]


@pytest.fixture
def server(database_url, media_dir, tmp_path):
    with Server(database_url, media_dir, tmp_path / "instance", workers=1) as running:
        yield running


def test_gunicorn_refusals_are_the_contracts_error_body(server):
    for what, request, status in REFUSED:
        got, headers, body = _raw(server, request + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert got == status, what
        assert headers["content-type"] == "application/json", what
        assert int(headers["content-length"]) == len(body), what
        error = json.loads(body)["error"]
        assert set(error) == {"code", "message"}, what
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), what
    # The server still answers normally afterwards.
    health = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    got, headers, body = _raw(server, health)
    assert got == 200 and json.loads(body) == {"status": "ok"}
