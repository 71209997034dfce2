"""Extension singletons, bound to an app by create_app through init_app."""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import DeclarativeBase

# Execution option of a connection whose statements each run on their own (see below).
READS_ONLY = "inspect_reads_only"


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
api = Api()


@contextmanager
def reads_outside_transaction() -> Iterator[Connection]:
    """A connection for reads that must not open (or join) the request's transaction.

    Each statement runs on its own (autocommit), so nothing is held between them: while
    a request streams a photo, sleeps in the login brake or hashes a password, it holds
    no lock and no snapshot, and its own transaction (taking SQLite's write lock up
    front, see create_app) begins only at its first write. Only SELECTs belong here;
    two reads are not one snapshot, so read in the order that keeps a check safe.
    """
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # The driver never begins on its own (create_app); no BEGIN is issued for it.
            connection = connection.execution_options(**{READS_ONLY: True})
        else:
            connection = connection.execution_options(
                isolation_level="AUTOCOMMIT", **{READS_ONLY: True}
            )
        yield connection


# SQLite's WAL: the pragmas of every connection, and when a writer forces a checkpoint.
SQLITE_WAL_PRAGMAS = (
    # A checkpoint (PASSIVE, by the committing connection) every 1,000 pages, about 4 MB.
    "PRAGMA wal_autocheckpoint=1000",
    # Once a checkpoint has let the WAL start over, its file is cut back to this size.
    "PRAGMA journal_size_limit=16777216",
)
WAL_RESTART_BYTES = 32 * 2**20
# How long that RESTART checkpoint waits for the readers of older snapshots. While it
# waits it keeps every writer out, so it must give up long before a writer's busy
# timeout (30 s): a reader that keeps its snapshot (a slow download, a stuck request)
# would otherwise stall every PUT for 30 s and fail the ones queued behind it (seen under
# load: "database is locked"). Given up, the WAL is looked at again a few connections on.
WAL_RESTART_WAIT_MS = 200
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WAL_LOOK_EVERY = 32  # connections handed back between two looks at the WAL's size


def keep_wal_bounded(engine: Engine) -> None:
    """Keep a SQLite file database's WAL from growing without end under sustained writes.

    The automatic checkpoints are PASSIVE: they copy pages back only up to the oldest
    snapshot a reader still holds, and the WAL starts over only when one of them got to
    its end. Under a steady stream of PUTs some reader always holds a snapshot, so the
    file grew by every transaction (100 MB in a minute). So every few connections handed
    back to the pool one looks at the file's size; past ``WAL_RESTART_BYTES`` it runs a
    RESTART checkpoint, which waits for the readers of older snapshots to finish and
    keeps new writers out meanwhile, a few milliseconds (at most ``WAL_RESTART_WAIT_MS``:
    then it gives up, to try again later), after which the WAL starts over from its
    beginning (and ``journal_size_limit`` cuts the file back).
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    wal = f"{database}-wal"
    checkpointing = threading.Lock()
    handed_back = [0]

    @event.listens_for(engine, "checkin")
    def _look_at_wal(dbapi_connection, _record):
        handed_back[0] += 1
        if handed_back[0] % _WAL_LOOK_EVERY or dbapi_connection is None:
            return
        try:
            if os.stat(wal).st_size < WAL_RESTART_BYTES:
                return
        except FileNotFoundError:
            return
        if not checkpointing.acquire(blocking=False):
            return  # another thread of this process is at it
        try:
            dbapi_connection.execute(f"PRAGMA busy_timeout={WAL_RESTART_WAIT_MS}")
            dbapi_connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        finally:
            dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            checkpointing.release()
