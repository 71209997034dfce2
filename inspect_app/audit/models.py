"""Audit log (操作日志): who did what to which record, kept for the evidence trail."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from inspect_app.db_types import JSONType, UTCDateTime, utcnow
from inspect_app.extensions import db


class AuditLog(db.Model):
    """AuditLog — 操作日志; append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))
