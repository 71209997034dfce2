"""The change feed's counter: one row whose value orders every change phones sync."""

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from inspect_app.extensions import db


class ChangeCounter(db.Model):
    """A single row; incrementing it locks it until commit, so feed positions are
    handed out in commit order and a phone's cursor never skips a change that
    committed late."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
