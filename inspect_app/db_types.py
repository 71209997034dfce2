"""Column types that behave the same on SQLite and PostgreSQL."""

import re
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

# The largest value an INTEGER column (ids, sync positions) holds on PostgreSQL; a larger
# number in a request cannot name a row, and binding it would fail in the database.
MAX_INT = 2**31 - 1
_ROW_ID = re.compile(r"[0-9]{1,10}")


def parse_row_id(text: str) -> int | None:
    """The row id a text from a request names, or None if it can name no row.

    ASCII digits only: ``str.isdigit`` also takes "¹" or "①", which ``int`` refuses.
    """
    if not _ROW_ID.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_INT else None


class UTCDateTime(TypeDecorator):
    """Aware datetimes stored as UTC; SQLite keeps no offset, so it is restored on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)
