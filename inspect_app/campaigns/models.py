"""Campaigns (专项整治行动) and their published checklists (检查清单)."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checklists import clause_citation
from inspect_app.db_types import JSONType, UTCDateTime, utcnow
from inspect_app.extensions import db


class Campaign(db.Model):
    """Campaign — 专项整治行动, started by an official notice (工作方案)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    document_no: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[date | None] = mapped_column(Date)
    lead_office: Mapped[str | None] = mapped_column(String(200))
    # [{name, starts_on, ends_on}] with ISO dates: a campaign has 3-5 stages, read whole.
    stages: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    # [{name, duties}] from the 职责分工 section.
    departments: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    general_deadline_days: Mapped[int] = mapped_column(default=7)
    key_deadline_days: Mapped[int] = mapped_column(default=30)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list["ChecklistVersion"]] = relationship(
        back_populates="campaign", order_by="ChecklistVersion.version"
    )


class ChecklistVersion(db.Model):
    """A published checklist; immutable, so inspections keep the version they were made with."""

    __tablename__ = "checklist_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    version: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sync_seq: Mapped[int] = mapped_column(default=0, index=True)

    campaign: Mapped[Campaign] = relationship(back_populates="versions")
    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="checklist_version", order_by="ChecklistItem.position"
    )


class ChecklistItem(db.Model):
    """ChecklistItem — 检查项: one thing to check on site, traceable to its notice clause."""

    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("checklist_version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(32))
    section: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(Text)
    clause: Mapped[str] = mapped_column(String(64))
    lead_department: Mapped[str | None] = mapped_column(String(200))
    site_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    answer_type: Mapped[str] = mapped_column(String(32), default="pass_fail_na")
    default_severity: Mapped[str] = mapped_column(String(16), default="general")
    photo_required: Mapped[bool] = mapped_column(default=False)

    checklist_version: Mapped[ChecklistVersion] = relationship(back_populates="items")

    @property
    def clause_label(self) -> str:
        """The clause as a reader cites it (二（三）第14项 三是); ``clause`` is its key."""
        return clause_citation(self.clause)


class ChecklistDraft(db.Model):
    """ChecklistDraft — 检查清单草稿: made from a notice, edited by the office, then published.

    ``campaign`` holds the campaign part of the checklist file (dates as ISO strings);
    once published the draft is kept as a record and no longer changes.
    """

    __tablename__ = "checklist_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_code: Mapped[str] = mapped_column(String(64), index=True)
    prefix: Mapped[str] = mapped_column(String(8))
    campaign: Mapped[dict] = mapped_column(JSONType, default=dict)
    excluded: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    summary: Mapped[dict] = mapped_column(JSONType, default=dict)
    source_name: Mapped[str] = mapped_column(String(200))
    notice_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    published_version: Mapped[int | None]
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list["ChecklistDraftItem"]] = relationship(
        back_populates="draft",
        order_by="ChecklistDraftItem.position",
        cascade="all, delete-orphan",
    )


class ChecklistDraftItem(db.Model):
    """One item of a draft, with the notice clause it came from beside it."""

    __tablename__ = "checklist_draft_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("checklist_drafts.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(32))
    section: Mapped[str] = mapped_column(Text)
    clause: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(Text)
    lead_department: Mapped[str | None] = mapped_column(String(200))
    site_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    answer_type: Mapped[str] = mapped_column(String(32), default="pass_fail_na")
    default_severity: Mapped[str] = mapped_column(String(16), default="general")
    photo_required: Mapped[bool] = mapped_column(default=False)

    draft: Mapped[ChecklistDraft] = relationship(back_populates="items")

    @property
    def clause_label(self) -> str:
        return clause_citation(self.clause) if self.clause else "—"
