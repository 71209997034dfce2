"""Photos (照片), stored by content: the SHA-256 of the original is the name."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from inspect_app.db_types import UTCDateTime, utcnow
from inspect_app.extensions import db


class Photo(db.Model):
    """Photo — 现场照片; a row exists only once the original and its variants are on disk."""

    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhotoHolder(db.Model):
    """A user who proved to hold a photo by uploading its bytes (the first uploader too).

    Knowing a photo's name (its SHA-256) gives no right to it; holding its bytes does.
    """

    __tablename__ = "photo_holders"

    sha256: Mapped[str] = mapped_column(ForeignKey("photos.sha256"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
