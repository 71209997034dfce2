"""Report jobs (报表任务): large PDFs made in the background and fetched when ready."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_app.db_types import JSONType, UTCDateTime, utcnow
from inspect_app.extensions import db


class ReportJob(db.Model):
    """A document being made; kept in the database so any app server can answer a poll."""

    __tablename__ = "report_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Same document, same parameters, same district scope: identical requests share a job.
    key: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scope: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    pages: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Lease (see documents.jobs): who holds the job (changed at every hand-over), until
    # when, and how many times it was handed out.
    token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
