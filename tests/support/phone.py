"""A scripted phone: logs in, uploads photos (resuming), PUTs inspections, retries on failure.

It behaves as the real app is meant to: every request may fail in the network, and
is simply sent again; a photo upload that broke off asks the server how much it
holds (HEAD) and sends only the rest (Content-Range).
"""

import http.client
import json
import time
from urllib.parse import urlsplit

NETWORK_ERRORS = (ConnectionError, http.client.HTTPException, OSError, TimeoutError)


class Phone:
    def __init__(self, base_url: str, attempts: int = 8):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.attempts = attempts
        self.token: str | None = None
        self.network_failures = 0
        self.resumed_uploads = 0  # PUTs that sent only the rest of a photo

    def _once(self, method, path, body: bytes | None, headers: dict):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            all_headers = {"Connection": "close", **headers}
            if self.token:
                all_headers["Authorization"] = f"Bearer {self.token}"
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
            headers = dict(response.getheaders())
            # A cut-off answer is no answer: the app checks the length before trusting it.
            expected = headers.get("Content-Length")
            if method != "HEAD" and response.status != 304:
                if expected is None or int(expected) != len(data):
                    raise http.client.IncompleteRead(data)
            return response.status, headers, data
        finally:
            connection.close()

    def request(self, method, path, body: bytes | None = None, headers=None, retry_on=()):
        """Send until an answer arrives (and is not in ``retry_on``); network errors are retried."""
        for attempt in range(self.attempts):
            try:
                status, response_headers, data = self._once(method, path, body, headers or {})
            except NETWORK_ERRORS:
                self.network_failures += 1
                time.sleep(0.05 * (attempt + 1))
                continue
            if status in retry_on:
                time.sleep(0.05)
                continue
            return status, response_headers, data
        raise RuntimeError(f"{method} {path}: no answer after {self.attempts} attempts")

    def json(self, method, path, payload=None):
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        status, _, data = self.request(method, path, body, headers)
        return status, (json.loads(data) if data else None)

    def login(self, username: str, password: str) -> None:
        status, body = self.json(
            "POST", "/api/v1/auth/token", {"username": username, "password": password}
        )
        assert status == 200, body
        self.token = body["token"]

    def upload_photo(self, sha256: str, data: bytes) -> int:
        """Upload until the server has the whole photo; returns the final status."""
        path = f"/api/v1/photos/{sha256}"
        # Every resumed PUT is a new request that the link may cut again, each time with
        # less left to send: allow many more rounds than for a single request.
        waited = 0
        for _ in range(4 * self.attempts + 20):
            status, headers, _ = self.request("HEAD", path)
            held = int(headers.get("Upload-Offset", 0)) if status == 200 else 0
            if status == 200 and headers.get("Upload-Complete") == "?1":
                return 200
            if held >= len(data):
                # Every byte is there and another upload of the same photo is checking
                # it: nothing is left to send, ask again once that upload has finished.
                # Still so on the next look (that upload died): send the photo whole.
                waited += 1
                if waited < 20:
                    time.sleep(0.05)
                    continue
                held = 0
            extra = {"Content-Type": "image/jpeg"}
            if held:
                extra["Content-Range"] = f"bytes {held}-{len(data) - 1}/{len(data)}"
                self.resumed_uploads += 1
            try:
                status, headers, body = self._once("PUT", path, data[held:], extra)
            except NETWORK_ERRORS:
                self.network_failures += 1
                continue
            if status in (200, 201):
                return status
            if status in (204, 409):
                # 204: part of it kept, 409: another upload of it under way; HEAD again
                continue
            raise AssertionError(f"photo upload failed: {status} {body[:200]!r}")
        raise RuntimeError(f"photo {sha256[:12]}: not uploaded after {self.attempts} attempts")

    def put_inspection(self, uuid: str, payload: dict) -> dict:
        status, body = self.json("PUT", f"/api/v1/inspections/{uuid}", payload)
        assert status in (200, 201), (status, body)
        return body
