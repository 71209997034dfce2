"""Handing out positions in the change feed."""

from sqlalchemy import update

from inspect_app.extensions import db
from inspect_app.sync.models import ChangeCounter


def next_seq() -> int:
    """The next feed position, taken inside the caller's transaction."""
    value = db.session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == 1)
        .values(value=ChangeCounter.value + 1)
        .returning(ChangeCounter.value)
    ).scalar_one()
    return value
