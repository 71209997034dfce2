"""Escalation (督办): reminders to people, and the office's outgoing webhooks.

The steps themselves are RectificationEvents of the finding (``remind``, ``escalate``,
``supervise``); a Reminder is one person told of one step, a WebhookDelivery one
step sent to one configured webhook, with every attempt in its ``log``.
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inspect_app.db_types import JSONType, UTCDateTime, utcnow
from inspect_app.extensions import db


class Reminder(db.Model):
    """Reminder — 提醒: a step of a finding's escalation, addressed to one user."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_reminders_event_user"),
        Index("ix_reminders_user_seq", "user_id", "sync_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("rectification_events.id"))
    step: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sync_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Webhook(db.Model):
    """Webhook — an address the office's own systems listen on (a WeCom or DingTalk robot)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    # Key of the HMAC-SHA256 signature each delivery carries; never shown again.
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One escalation event for one webhook: sent until accepted, or failed after N tries."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("rectification_events.id"))
    # The exact bytes sent (and signed) on every attempt.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # [{at, status_code, error}] per attempt.
    log: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
