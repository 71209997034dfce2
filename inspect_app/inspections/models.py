"""Inspections (检查记录) recorded offline by phones, with their answers (检查结果)."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspect_app.db_types import UTCDateTime, utcnow
from inspect_app.extensions import db

# Where an inspection came from, and how the dashboard names it: our phone app (the JSON
# API), ODK Collect or KoboCollect, Enketo in a browser (both through OpenRosa).
SOURCES = {"app": "检查 App", "collect": "ODK Collect", "enketo": "Enketo 网页表单"}


class Inspection(db.Model):
    """Inspection — 检查记录: one visit to one site under one campaign's checklist version."""

    __tablename__ = "inspections"
    __table_args__ = (Index("ix_inspections_campaign_site", "campaign_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Made by the phone; a retried PUT finds the same row instead of creating another.
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    final: Mapped[bool] = mapped_column(default=False)
    # Where it came from: one of SOURCES.
    source: Mapped[str] = mapped_column(String(16), default="app", server_default="app")
    # SHA-256 of the canonical body: tells a replay (same hash) from a change.
    body_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    answers: Mapped[list["Answer"]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="Answer.id"
    )


class Answer(db.Model):
    """Answer — 检查结果 of one checklist item: pass, fail or not applicable."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("inspection_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id"))
    result: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")

    inspection: Mapped[Inspection] = relationship(back_populates="answers")
