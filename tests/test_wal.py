"""SQLite's WAL under sustained writes (inspect_app.extensions.keep_wal_bounded).

The WAL must start over once it is past its limit, even while readers come and go, and
the checkpoint that restarts it must never keep the writers out for long: a reader that
holds an old snapshot (a stuck request) made every PUT wait the 30 s busy timeout and
fail ("database is locked") behind a RESTART checkpoint that waited for it.
"""

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from inspect_app import create_app, extensions
from inspect_app.extensions import db
from tests.conftest import _config

ROW = "x" * 3000  # a page or so per insert


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    monkeypatch.setattr(extensions, "WAL_RESTART_BYTES", 256 * 1024)
    path = tmp_path / "wal.sqlite3"
    app = create_app(_config(f"sqlite:///{path}", tmp_path / "media"))
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)"))
    yield app, path
    with app.app_context():
        db.engine.dispose()


def write(app, rows: int) -> None:
    """``rows`` transactions, each on a connection handed back to the pool after."""
    with app.app_context():
        for _ in range(rows):
            with db.engine.begin() as connection:
                connection.execute(text("INSERT INTO filler (body) VALUES (:b)"), {"b": ROW})


def wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def wal_in_use(path: Path) -> int:
    """Bytes of the WAL holding frames now (the file itself is cut back only past
    journal_size_limit; after a restart the frames begin again at its start)."""
    with sqlite3.connect(path) as connection:
        _busy, frames, _done = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        page = connection.execute("PRAGMA page_size").fetchone()[0]
    return frames * page


def test_the_wal_starts_over_past_its_limit(sqlite_app):
    app, path = sqlite_app
    # A reader that keeps coming back, as the phones' syncs do.
    reader = sqlite3.connect(path, isolation_level=None)
    largest = 0
    for _ in range(40):
        write(app, 10)
        reader.execute("SELECT count(*) FROM filler").fetchone()
        largest = max(largest, wal_size(path))
    reader.close()
    # 400 transactions of ~3 KB: 1.2 MB of WAL if it never started over.
    assert largest < 4 * extensions.WAL_RESTART_BYTES
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM filler").fetchone()[0] == 400


def test_a_reader_holding_an_old_snapshot_does_not_keep_writers_out(sqlite_app):
    app, path = sqlite_app
    write(app, 1)
    stuck = sqlite3.connect(path, isolation_level=None)
    stuck.execute("BEGIN")
    stuck.execute("SELECT count(*) FROM filler").fetchone()  # holds this snapshot
    try:
        # Past the limit, with the checkpoint tried again and again behind the writes.
        errors = []

        def checkpointing_writes():
            try:
                write(app, 200)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        background = threading.Thread(target=checkpointing_writes)
        background.start()
        # Another writer, waiting at most 5 s for the lock (the app's writers wait 30 s):
        # behind a checkpoint that waited for the stuck reader it failed every time.
        writer = sqlite3.connect(path, timeout=5, isolation_level=None)
        for _ in range(50):
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO filler (body) VALUES (?)", (ROW,))
            writer.execute("COMMIT")
        writer.close()
        background.join()
        assert errors == []
        assert wal_size(path) > extensions.WAL_RESTART_BYTES  # it could not start over
    finally:
        stuck.execute("ROLLBACK")
        stuck.close()
    # The reader gone, the next look starts the WAL over.
    before = wal_in_use(path)
    write(app, 64)
    assert before > extensions.WAL_RESTART_BYTES > wal_in_use(path)
