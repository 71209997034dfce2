"""Findings (问题/隐患), their rectification history (整改记录) and enforcement (执法措施)."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspect_app.db_types import JSONType, UTCDateTime, utcnow
from inspect_app.extensions import db

ESCALATION_STEPS = "action IN ('remind', 'escalate', 'supervise')"


class Finding(db.Model):
    """Finding — 问题/隐患 found at a site, tracked until closed (销号) or voided.

    ``status`` changes only together with a new RectificationEvent; ``version``
    makes two concurrent moves collide (one wins, the other is a 409) instead of
    both applying.
    """

    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_campaign_status", "campaign_id", "status"),
        Index("ix_findings_site", "site_id"),
        # Covers the grouped statistics of one campaign (bench/stats.py, README).
        Index(
            "ix_findings_stats",
            "campaign_id",
            "district",
            "status",
            "deadline",
            "severity",
            "major_hazard",
            "responsible_department",
            "site_id",
        ),
        Index(
            "ix_findings_voided",
            "campaign_id",
            "id",
            sqlite_where=text("status = 'voided'"),
            postgresql_where=text("status = 'voided'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_items.id"))
    # Copied from the site so that statistics by district need no join.
    district: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    major_hazard: Mapped[bool] = mapped_column(default=False)
    requirement: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date | None] = mapped_column(Date)
    fixed_on_spot: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    responsible_department: Mapped[str | None] = mapped_column(String(200))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a replaced draft no longer holds the finding: it is voided by a "withdraw"
    # event and stays as a tombstone (deleted in the sync feed), never deleted silently.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 挂牌督办: set by the escalation job when the deadline is long past (inspect_app.escalation).
    supervised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sync_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    photos: Mapped[list["FindingPhoto"]] = relationship(
        back_populates="finding", cascade="all, delete-orphan", order_by="FindingPhoto.position"
    )
    events: Mapped[list["RectificationEvent"]] = relationship(
        back_populates="finding", order_by="RectificationEvent.id"
    )


class FindingPhoto(db.Model):
    """A photo named by a finding; the photo itself may arrive before or after it."""

    __tablename__ = "finding_photos"
    __table_args__ = (UniqueConstraint("finding_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    position: Mapped[int] = mapped_column(default=0)

    finding: Mapped[Finding] = relationship(back_populates="photos")


def _received_when_made(context) -> datetime:
    """An event written without its receipt was received when it happened (the demo's
    history, records brought in); what the server receives says so (services)."""
    return context.get_current_parameters().get("at") or utcnow()


class RectificationEvent(db.Model):
    """RectificationEvent — 整改记录: one move of a finding; append-only, never updated.

    ``at`` is when the move happened: for what a phone made offline (a finding recorded
    or fixed on the spot during an inspection, a move sent with its own time) the
    phone's time, which may be days before it reached the server; ``received_at`` is
    when the server received it (上传时间), set by the services that write events.
    """

    __tablename__ = "rectification_events"
    __table_args__ = (
        # Each escalation step once per finding and deadline, however many runs overlap.
        Index(
            "uq_events_escalation",
            "finding_id",
            "action",
            "deadline",
            unique=True,
            sqlite_where=text(ESCALATION_STEPS),
            postgresql_where=text(ESCALATION_STEPS),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    # None for the system's own events (the escalation job).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_received_when_made)
    note: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date | None] = mapped_column(Date)
    photos: Mapped[list[str]] = mapped_column(JSONType, default=list)

    finding: Mapped[Finding] = relationship(back_populates="events")


class Enforcement(db.Model):
    """Enforcement — 执法措施 taken on a finding or a whole site (责令整改 … 纳入黑名单)."""

    __tablename__ = "enforcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    kind: Mapped[str] = mapped_column(String(32))
    fine_yuan: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
