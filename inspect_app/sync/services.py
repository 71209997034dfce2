"""Handing out positions in the change feed."""

from sqlalchemy import BigInteger, bindparam, update

from inspect_app.extensions import db
from inspect_app.sync.models import ChangeCounter

_counter = ChangeCounter.__table__
# Built once; the count is a bound parameter.
_TAKE = (
    update(_counter)
    .where(_counter.c.id == 1)
    .values(value=_counter.c.value + bindparam("count", type_=BigInteger))
    .returning(_counter.c.value)
)


def next_seq(count: int = 1) -> int:
    """The next feed position (the first of ``count``), taken in the caller's transaction.

    Runs on the session's connection as plain SQL: through the ORM, every call would
    first flush pending objects and synchronise the session, several ms each time.
    """
    last = db.session.connection().execute(_TAKE, {"count": count}).scalar_one()
    return last - count + 1


def take_sql(placeholder: str, condition: str = "") -> str:
    """``next_seq`` as plain SQL for a driver's own connection (``placeholder`` is the
    count's parameter in the driver's style), returning the last position taken;
    ``condition`` is ANDed to the row's WHERE.

    Whatever runs it holds the counter row (PostgreSQL: its row lock; SQLite: the write
    lock anyway) until COMMIT, which is what keeps positions in commit order: run it as
    late as the transaction allows, so that concurrent writers queue for as little.
    """
    return (
        f"UPDATE {_counter.name} SET value = value + {placeholder} "
        f"WHERE id = 1{condition} RETURNING value"
    )
