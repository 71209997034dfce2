"""Phones storing inspections at once while another phone follows the change feed.

The PUT takes its feed positions in its last write (issue 19): a phone that keeps
syncing while others store their findings gets every finding, once, and its cursor
never passes one that was still being written. Through gunicorn, on SQLite and
PostgreSQL.
"""

import threading
import uuid

from sqlalchemy import create_engine, select

from inspect_app.findings.models import Finding
from tests.support.phone import Phone
from tests.support.server import Server

WRITERS = 6
INSPECTIONS_EACH = 5


def _body(checklist, site_id: int, final: bool) -> dict:
    plain = checklist["plain"]
    return {
        "campaign": checklist["campaign"],
        "checklist_version": checklist["version"],
        "site_id": site_id,
        "started_at": "2025-05-12T09:30:00+08:00",
        "finished_at": "2025-05-12T10:15:00+08:00",
        "answers": [
            {"item_code": plain[0], "result": "fail", "note": ""},
            {"item_code": plain[1], "result": "fail", "note": ""},
            {"item_code": plain[2], "result": "pass", "note": "现场核查"},
        ],
        "findings": [
            {
                "id": str(uuid.uuid4()),
                "item_code": plain[k],
                "description": f"问题{k + 1}：现场未见安全警示标志",
                "severity": "general",
                "requirement": "限期设置警示标志",
            }
            for k in range(2)
        ],
        "final": final,
    }


def test_a_phone_following_the_feed_gets_every_finding_stored_meanwhile_once(
    database_url, media_dir, tmp_path, make_user, make_site, checklist
):
    make_user("team", "inspector", ["东城区"])
    make_user("lead", "team_lead", ["东城区"])
    site = make_site()
    stored: list[dict] = []
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS + 1)

    def writer(server_base: str) -> None:
        try:
            phone = Phone(server_base)
            phone.login("team", "password123")
            start.wait()
            for n in range(INSPECTIONS_EACH):
                answer = phone.put_inspection(str(uuid.uuid4()), _body(checklist, site, n % 2 == 0))
                stored.append(answer)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    seen: list[str] = []

    with Server(database_url, media_dir, tmp_path / "instance", workers=2) as server:
        follower = Phone(server.base)
        follower.login("lead", "password123")
        cursor = "0"

        def follow() -> str:
            nonlocal cursor
            while True:
                status, answer = follower.json("GET", f"/api/v1/sync?since={cursor}&limit=7")
                assert status == 200, answer
                seen.extend(f["uuid"] for f in answer["changes"]["findings"])
                cursor = answer["next_cursor"]
                if not answer["has_more"]:
                    return cursor

        follow()
        threads = [threading.Thread(target=writer, args=(server.base,)) for _ in range(WRITERS)]
        for thread in threads:
            thread.start()
        start.wait()
        while any(thread.is_alive() for thread in threads):
            follow()
        for thread in threads:
            thread.join(timeout=120)
        follow()

    assert not errors, errors[0]
    assert len(stored) == WRITERS * INSPECTIONS_EACH
    made = {f["uuid"] for answer in stored for f in answer["findings"]}
    assert len(made) == 2 * WRITERS * INSPECTIONS_EACH
    # Every finding reached the follower, and none twice: no cursor passed a late commit.
    assert sorted(seen) == sorted(made)

    engine = create_engine(database_url)
    with engine.connect() as connection:
        positions = connection.scalars(select(Finding.sync_seq)).all()
    engine.dispose()
    assert len(set(positions)) == len(positions)
