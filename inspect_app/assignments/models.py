"""Assignments (检查任务): who visits which site in which campaign stage, by when.

An ``inspection`` assignment sends an inspector, or a team of several, to a site in a
stage of a campaign; a ``revisit`` assignment sends them back to a closed finding drawn
for 回头看 (``RevisitDraw``). Members are never deleted: one taken off an assignment
keeps a row with ``removed_at``, so their phone learns of it through the sync feed.
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspect_app.db_types import JSONType, UTCDateTime, utcnow
from inspect_app.extensions import db


class RevisitDraw(db.Model):
    """RevisitDraw — 回头看抽查: a random sample of closed findings, kept with its seed.

    ``population`` is what the draw chose from ([{id, district, major_hazard}]), so the
    same seed on it gives the same ``drawn`` ids again, whatever happened since.
    """

    __tablename__ = "revisit_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    seed: Mapped[int] = mapped_column(BigInteger)
    share_percent: Mapped[int]
    districts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    population: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    drawn: Mapped[list[int]] = mapped_column(JSONType, default=list)
    due_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(db.Model):
    """Assignment — 检查任务 (or 回头看复查任务 when ``kind`` is revisit)."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_campaign_stage", "campaign_id", "stage"),
        # One inspection assignment per site and stage: assigning again re-assigns it.
        Index(
            "uq_assignments_site_stage",
            "campaign_id",
            "stage",
            "site_id",
            unique=True,
            sqlite_where=text("kind = 'inspection'"),
            postgresql_where=text("kind = 'inspection'"),
        ),
        Index("uq_assignments_draw_finding", "draw_id", "finding_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    stage: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="inspection")
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    # Copied from the site, as findings do, so scope and coverage need no join.
    district: Mapped[str] = mapped_column(String(32))
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("revisit_draws.id"))
    # 责任部门 of the campaign's 职责分工 the visit is for, when the office names one.
    department: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    # Revisits: fixed (整改到位) or relapsed (问题反弹, the finding is reopened).
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sync_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)

    members: Mapped[list["AssignmentMember"]] = relationship(
        back_populates="assignment", order_by="AssignmentMember.id"
    )


class AssignmentMember(db.Model):
    """One inspector of an assignment (a team has several)."""

    __tablename__ = "assignment_members"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id", name="uq_assignment_members"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignment: Mapped[Assignment] = relationship(back_populates="members")
