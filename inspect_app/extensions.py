"""Extension singletons, bound to an app by create_app through init_app."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Connection
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
