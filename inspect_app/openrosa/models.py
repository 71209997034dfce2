"""App keys (采集密钥): what ODK Collect, KoboCollect and Enketo put in their server URL."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from inspect_app.db_types import UTCDateTime, utcnow
from inspect_app.extensions import db


class AppKey(db.Model):
    """A user's key for the OpenRosa apps: ``/openrosa/key/<token>/…``.

    Only the token's SHA-256 is kept, so a database leak gives no keys; the office sees
    the token once, when it issues it. A user has at most one live key: a new one
    revokes the one before. A revoked key, or a disabled user, stops at once.
    """

    __tablename__ = "app_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
