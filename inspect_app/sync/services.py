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
