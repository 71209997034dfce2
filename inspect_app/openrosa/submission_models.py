"""What ODK Collect, KoboCollect and Enketo sent: each submission's XML as received.

One row per instance (``meta/instanceID``): a first submission and each edit of it (an
edit is a new instance whose ``deprecatedID`` names the one it replaces). Every row of
an inspection points at that inspection, whose UUID is the first instance's. Only the
newest row of a chain is ``current``: an edit of an older one is refused, as ODK Central
refuses it.

The photos of a submission are multipart parts named by their file name, which the XML
quotes; a submission split over several posts brings them a few at a time. Each file
name the XML quotes has a row, with its SHA-256 once its bytes arrived. Until then the
inspection's finding names it by a stand-in name (``openrosa.submission.pending_name``), so that the
inspection lists it among its ``missing_photos``; the post that brings the bytes puts
the real name in its place.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inspect_app.db_types import UTCDateTime, utcnow
from inspect_app.extensions import db


class FormSubmission(db.Model):
    """FormSubmission — 表单提交: one instance of an XForm, its XML as received."""

    __tablename__ = "form_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The instanceID without "uuid:", in small letters.
    instance_id: Mapped[str] = mapped_column(String(64), unique=True)
    deprecated_id: Mapped[str | None] = mapped_column(String(64))
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    form_id: Mapped[str] = mapped_column(String(128))
    form_version: Mapped[str] = mapped_column(String(32))
    # collect | enketo, from the User-Agent of the first post.
    source: Mapped[str] = mapped_column(String(16))
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    xml_sha256: Mapped[str] = mapped_column(String(64))
    current: Mapped[bool] = mapped_column(default=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FormAttachment(db.Model):
    """A file the submission's XML quotes (a photo), with its SHA-256 once it arrived."""

    __tablename__ = "form_attachments"
    __table_args__ = (UniqueConstraint("submission_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("form_submissions.id", ondelete="CASCADE")
    )
    filename: Mapped[str] = mapped_column(String(255))
    # The name findings use until the bytes arrive (pending_name), then the real one.
    pending_sha256: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
