"""Twenty phones at once replaying the same inspections and photos through gunicorn.

Exactly one copy of everything, no 5xx, and no "database is locked" reaching a phone,
on SQLite and on PostgreSQL. (Two reviewers approving at once: tests/test_lifecycle.py.)
"""

import hashlib
import json
import threading
import uuid

from sqlalchemy import create_engine, func, select

from inspect_app.audit.models import AuditLog
from inspect_app.findings.models import Finding, FindingPhoto, RectificationEvent
from inspect_app.inspections.models import Answer, Inspection
from inspect_app.photos.models import Photo
from inspect_app.sites.models import Site
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


REGISTRARS = 10


def _register_at_once(server_base: str, bodies: list[dict]) -> list[tuple[int, dict]]:
    """One phone per body, all POSTing /sites at the same moment; their (status, answer)."""
    answers: list[tuple[int, dict]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(bodies))

    def register(body: dict) -> None:
        try:
            phone = Phone(server_base)
            phone.login("team", "password123")
            start.wait()
            status, _, raw = phone.request(
                "POST", "/api/v1/sites", _json(body), {"Content-Type": "application/json"}
            )
            answers.append((status, json.loads(raw)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[0]
    assert len(answers) == len(bodies)
    return answers


def _live_sites(database_url: str) -> list[tuple[str, str | None, str | None]]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Site.name, Site.credit_code, Site.client_uuid).where(Site.deleted_at.is_(None))
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_ten_concurrent_registrations_of_one_site_make_one(
    database_url, media_dir, tmp_path, make_user
):
    """Same name and address, each phone its own client_uuid: one 201, nine 409s."""
    make_user("team", "inspector", ["东城区"])
    bodies = [
        {
            "name": "昆仑路无证加油点",
            "address": "格尔木市昆仑路 88 号",
            "site_type": "流动加油车",
            "district": "东城区",
            "client_uuid": str(uuid.uuid4()),
        }
        for _ in range(REGISTRARS)
    ]
    with Server(database_url, media_dir, tmp_path / "instance", workers=2) as server:
        answers = _register_at_once(server.base, bodies)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (REGISTRARS - 1), answers
    assert all(body["error"]["code"] == "conflict" for status, body in answers if status == 409)
    assert [name for name, _, _ in _live_sites(database_url)] == ["昆仑路无证加油点"]


def test_ten_concurrent_retries_of_one_registration_answer_the_same_site(
    database_url, media_dir, tmp_path, make_user
):
    """The same client_uuid ten times at once: one 201, nine replays (200) of that site."""
    make_user("team", "inspector", ["东城区"])
    body = {
        "name": "察尔汗盐湖路加油站",
        "site_type": "加油站",
        "district": "东城区",
        "credit_code": "91632801MA75Q7L8X4",
        "client_uuid": str(uuid.uuid4()),
    }
    with Server(database_url, media_dir, tmp_path / "instance", workers=2) as server:
        answers = _register_at_once(server.base, [body] * REGISTRARS)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (REGISTRARS - 1) + [201], answers
    assert len({answer["id"] for _, answer in answers}) == 1
    assert _live_sites(database_url) == [
        ("察尔汗盐湖路加油站", "91632801MA75Q7L8X4", body["client_uuid"])
    ]


def test_ten_concurrent_registrations_of_one_credit_code_make_one(
    database_url, media_dir, tmp_path, make_user
):
    """One credit code under ten different names: one site, nine 409s."""
    make_user("team", "inspector", ["东城区"])
    bodies = [
        {
            "name": f"格尔木第{i}加油站",
            "site_type": "加油站",
            "district": "东城区",
            "credit_code": "91632801MA75Q7L8X4",
        }
        for i in range(REGISTRARS)
    ]
    with Server(database_url, media_dir, tmp_path / "instance", workers=2) as server:
        answers = _register_at_once(server.base, bodies)
    assert sorted(status for status, _ in answers) == [201] + [409] * (REGISTRARS - 1), answers
    assert len(_live_sites(database_url)) == 1
