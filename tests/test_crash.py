"""Crash safety: the server is SIGKILLed in the middle of a photo upload and of an
inspection PUT, then restarted. The database passes its integrity check, no record
points at a missing or truncated file (``inspect-app check``), and the phone's retry
completes the work."""

import hashlib
import json
import socket
import subprocess
import time
import uuid

from sqlalchemy import create_engine, func, select

from inspect_app.findings.models import Finding
from inspect_app.inspections.models import Inspection
from inspect_app.photos.models import Photo
from tests.conftest import PHOTOS
from tests.support.phone import Phone
from tests.support.server import BIN, Server


def send_half(port: int, method: str, path: str, token: str, body: bytes, content_type: str):
    """Send the headers and half the body, then stop: the server is left reading."""
    sock = socket.create_connection(("127.0.0.1", port))
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body[: len(body) // 2])
    return sock


def wait_for_partial_upload(media_dir, sha: str, timeout: float = 30) -> None:
    """Until the server has written part of the photo to disk: killing it before would not
    test a kill in the middle of an upload at all."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.stat().st_size > 0 for p in (media_dir / "tmp").glob(f"{sha}.upload.*")):
            return
        time.sleep(0.02)
    raise AssertionError("the server never started writing the upload")


def check(server: Server):
    return subprocess.run(
        [str(BIN), "check", "--all"], env=server.env, capture_output=True, text=True, timeout=120
    )


def test_killed_mid_upload_and_mid_inspection_then_retry_completes(
    database_url, media_dir, tmp_path, make_user, make_site, checklist
):
    make_user("crash", "inspector", ["东城区"])
    site = make_site()
    photo = (PHOTOS / "jolla.jpg").read_bytes()
    sha = hashlib.sha256(photo).hexdigest()
    key = str(uuid.uuid4())
    inspection = {
        "campaign": checklist["campaign"],
        "checklist_version": checklist["version"],
        "site_id": site,
        "started_at": "2025-05-12T09:30:00+08:00",
        "answers": [
            {"item_code": checklist["plain"][0], "result": "fail", "note": "现场记录" * 400}
        ],
        "findings": [
            {
                "id": str(uuid.uuid4()),
                "item_code": checklist["plain"][0],
                "description": "断电前正在上传的问题",
                "photos": [sha],
            }
        ],
        "final": True,
    }
    body = json.dumps(inspection, ensure_ascii=False).encode()

    server = Server(database_url, media_dir, tmp_path / "instance", workers=1).start()
    phone = Phone(server.base)
    phone.login("crash", "password123")
    uploads = send_half(
        server.port, "PUT", f"/api/v1/photos/{sha}", phone.token, photo, "image/jpeg"
    )
    puts = send_half(
        server.port, "PUT", f"/api/v1/inspections/{key}", phone.token, body, "application/json"
    )
    wait_for_partial_upload(media_dir, sha)
    server.kill()
    uploads.close()
    puts.close()

    server = Server(database_url, media_dir, tmp_path / "instance", workers=1)
    server.start()
    try:
        first = check(server)
        assert first.returncode == 0, first.stderr
        assert "检查通过" in first.stdout
        phone = Phone(server.base)
        phone.login("crash", "password123")
        # The kill came mid-request: neither the inspection nor the photo exists yet.
        assert phone.json("GET", f"/api/v1/inspections/{key}")[0] == 404
        assert phone.put_inspection(key, inspection)["status"] == "awaiting_photos"
        assert phone.upload_photo(sha, photo) == 201
        assert phone.put_inspection(key, inspection)["status"] == "complete"
        after = check(server)
        assert after.returncode == 0, after.stderr
    finally:
        server.stop()

    engine = create_engine(database_url)
    with engine.connect() as connection:
        for model, expected in ((Inspection, 1), (Finding, 1), (Photo, 1)):
            assert connection.scalar(select(func.count()).select_from(model)) == expected
    engine.dispose()


def test_check_reports_a_missing_and_a_damaged_photo(
    app, client, make_user, login, media_dir, tmp_path, database_url
):
    make_user("east", "inspector", ["东城区"])
    headers = login("east")
    shas = []
    for name in ("Canon_40D.jpg", "DSCN0021.jpg"):
        data = (PHOTOS / name).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        client.put(
            f"/api/v1/photos/{sha}", data=data, headers={**headers, "Content-Type": "image/jpeg"}
        )
        shas.append(sha)
    server = Server(database_url, media_dir, tmp_path / "instance")
    assert check(server).returncode == 0
    from inspect_app.photos.storage import MediaStore

    store = MediaStore(media_dir)
    store.path(shas[0], "thumb").unlink()
    original = store.path(shas[1])
    original.write_bytes(original.read_bytes()[:-10] + b"0123456789")
    result = check(server)
    assert result.returncode == 1
    assert "缺失" in result.stderr and "不符" in result.stderr
