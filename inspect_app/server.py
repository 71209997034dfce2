"""Running the app under gunicorn from ``inspect-app serve``.

gunicorn answers some requests itself, before the app sees them: a request line over
its limit (414), headers over theirs (431), a malformed request (400), an error that
escaped the app (500). Its answer is an HTML page; ours is the contract's error body,
so the workers below let gunicorn decide the status (and log and count the request as
it always does) and send ``{"error": {"code", "message"}}`` in place of its page.
"""

import json
import os

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from inspect_app.errors import HTTP_CODES

# Statuses only gunicorn answers, beyond those the app's handlers know.
_GUNICORN_CODES = {
    414: ("uri_too_long", "请求地址过长"),
    417: ("expectation_failed", "不支持该 Expect 请求头"),
    431: ("headers_too_large", "请求头过大"),
    500: ("internal_error", "服务器内部错误，请稍后重试"),
    501: ("not_implemented", "不支持该传输编码"),
}


def error_answer(status: int, reason: str) -> bytes:
    """A whole HTTP response carrying the contract's error body, closing the connection."""
    known = _GUNICORN_CODES.get(status) or HTTP_CODES.get(status)
    code, message = known or ("bad_request", "请求有误")
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class _PageCatcher:
    """The client's socket as gunicorn's error writer sees it: what it sends is kept."""

    def __init__(self, sock):
        self._sock = sock
        self.sent = b""

    def gettimeout(self):
        return 0.0  # written at once, never to the network

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _JsonErrors:
    def handle_error(self, req, client, addr, exc):
        catcher = _PageCatcher(client)
        super().handle_error(req, catcher, addr, exc)
        status_line = catcher.sent.split(b"\r\n", 1)[0].decode("latin-1")
        _version, status, reason = (status_line.split(" ", 2) + ["", ""])[:3]
        if not status.isascii() or not status.isdigit():
            return  # gunicorn wrote nothing (it could not): nor do we
        try:
            util.write_nonblock(client, error_answer(int(status), reason))
        except Exception:  # noqa: BLE001 - the client is gone; gunicorn does the same
            self.log.debug("Failed to send error message.")


class JsonErrorThreadWorker(_JsonErrors, ThreadWorker):
    """gunicorn's gthread worker answering its own errors with the contract's body."""


class JsonErrorSyncWorker(_JsonErrors, SyncWorker):
    """gunicorn's sync worker answering its own errors with the contract's body."""


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict):
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._app


def run_gunicorn(app, host: str, port: int, workers: int, threads: int) -> None:
    # gthread workers: a phone on a slow link holds a thread, not a whole process.
    worker = JsonErrorThreadWorker if threads > 1 else JsonErrorSyncWorker
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": f"{__name__}.{worker.__name__}",
        "timeout": 120,
        # One line per request to stdout; INSPECT_ACCESS_LOG=0 turns it off (load tests).
        "accesslog": "-" if os.environ.get("INSPECT_ACCESS_LOG", "1") != "0" else None,
        "errorlog": "-",
        "preload_app": False,
        # gunicorn 25+ opens a control socket at one fixed path per user; two servers on
        # one machine (tests, a second county's instance) would take it from each other.
        "control_socket_disable": True,
    }
    _Gunicorn(app, options).run()
