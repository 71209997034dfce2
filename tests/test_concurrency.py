"""Twenty phones at once replaying the same inspections and photos through gunicorn.

Exactly one copy of everything, no 5xx, and no "database is locked" reaching a phone,
on SQLite and on PostgreSQL. (Two reviewers approving at once: tests/test_lifecycle.py.)
"""

import hashlib
import json
import threading

from sqlalchemy import create_engine, func, select

from inspect_app.audit.models import AuditLog
from inspect_app.findings.models import Finding, FindingPhoto, RectificationEvent
from inspect_app.inspections.models import Answer, Inspection
from inspect_app.photos.models import Photo
from tests.support.phone import Phone
from tests.support.server import Server
from tests.test_phone_sync import offline_day

PHONES = 20


def test_twenty_phones_replaying_the_same_work_store_it_once(
    database_url, media_dir, tmp_path, make_user, make_site, checklist
):
    make_user("team", "inspector", ["东城区"])
    sites = [make_site(name=f"并发测试加油站{i}") for i in range(3)]
    inspections, photos = offline_day(checklist, sites)
    statuses: list[int] = []
    bodies: list[bytes] = []
    errors: list[BaseException] = []
    start = threading.Barrier(PHONES)

    def phone_run(server_base: str) -> None:
        try:
            phone = Phone(server_base)
            phone.login("team", "password123")
            start.wait()
            for sha, data in photos.items():
                statuses.append(phone.upload_photo(sha, data))
            for key, body in inspections:
                status, _, raw = phone.request(
                    "PUT",
                    f"/api/v1/inspections/{key}",
                    _json(body),
                    {"Content-Type": "application/json"},
                )
                statuses.append(status)
                bodies.append(raw)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with Server(database_url, media_dir, tmp_path / "instance", workers=2) as server:
        threads = [threading.Thread(target=phone_run, args=(server.base,)) for _ in range(PHONES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    assert not errors, errors[0]
    assert all(status in (200, 201) for status in statuses), sorted(set(statuses))
    assert not any(b"locked" in body for body in bodies)
    # Each inspection was created exactly once; every other PUT was a replay.
    assert statuses.count(201) == len(inspections) + len(photos)

    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = lambda model: connection.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Inspection) == 3
        assert count(Answer) == 9
        assert count(Finding) == 6
        assert count(FindingPhoto) == 9
        assert count(RectificationEvent) == 6
        assert count(Photo) == len(photos)
        created = connection.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "inspection.create")
        )
        assert created == 3
    engine.dispose()
    originals = [p for p in (media_dir / "originals").rglob("*") if p.is_file()]
    assert sorted(p.name for p in originals) == sorted(photos)
    assert all(hashlib.sha256(p.read_bytes()).hexdigest() == p.name for p in originals)


def _json(body) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()
