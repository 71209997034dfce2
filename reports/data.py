"""Plain input data for the PDF renderers: everything a report shows, nothing more.

The Flask side gathers these from the database and hands them to a renderer; nothing
here knows about Flask, SQLAlchemy or the ORM models. Objects are frozen and
keyword-only so that a caller cannot swap two string fields by position.

Conventions, checked on construction (a bad value raises ``ValueError`` at once rather
than printing a wrong document):

- datetimes are timezone-aware (any zone; reports show them in Asia/Shanghai);
- ``severity`` is a contract code, ``"general"`` (一般) or ``"key"`` (重点);
- ``status`` is a contract code: ``"open"`` (待整改), ``"rectifying"`` (整改中),
  ``"pending_review"`` (待复查), ``"closed"`` (已销号), ``"voided"`` (已作废);
- counts are non-negative integers; money is in yuan (元).

Rates are never passed in: they are computed here from the counts (rectified / findings),
so that a figure and its percentage cannot disagree on the page.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

Severity = Literal["general", "key"]
FindingStatus = Literal["open", "rectifying", "pending_review", "closed", "voided"]

SEVERITY_LABELS: dict[str, str] = {"general": "一般", "key": "重点"}
STATUS_LABELS: dict[str, str] = {
    "open": "待整改",
    "rectifying": "整改中",
    "pending_review": "待复查",
    "closed": "已销号",
    "voided": "已作废",
}
# A finding in one of these states can no longer be overdue.
SETTLED_STATUSES = frozenset({"closed", "voided"})


def _now() -> datetime:
    return datetime.now(UTC)


def _require_aware(name: str, value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {value!r}")


def _require_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")


def _require_choice(name: str, value: str, choices: dict[str, str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def _require_scope(scope: str) -> None:
    # The caller knows whose districts a document covers; a renderer must not guess.
    if not isinstance(scope, str) or not scope.strip():
        raise ValueError(f"scope must name the area the document covers, got {scope!r}")


def rate(done: int, total: int) -> float | None:
    """Share of ``total`` that is ``done`` (0.0–1.0), or None when there is nothing to rate."""
    return done / total if total else None


@dataclass(frozen=True, kw_only=True, slots=True)
class CampaignInfo:
    """The campaign (专项整治行动) a document belongs to, as its notice names it."""

    name: str  # 2025年格尔木市成品油市场专项整治行动
    document_no: str  # 格政办发〔2025〕30号
    issuer: str | None = None  # 编制单位, e.g. 格尔木市成品油市场专项整治工作领导小组办公室


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteInfo:
    """An inspected site (被检查单位/场所)."""

    name: str
    district: str  # one of the districts of 格尔木市, e.g. 东城区
    address: str
    credit_code: str | None = None  # 统一社会信用代码; None for an unregistered point (shown 无)
    site_type: str | None = None  # 加油站, 建筑工地, …
    contact_name: str | None = None
    contact_phone: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class PhotoRef:
    """One photo of a finding: an image file on disk and when it was taken.

    ``path`` is best the photo's ``print`` variant, an upright JPEG that fits the printed
    box (``reports.photos.print_pixels()``): it is embedded byte for byte. Any other image
    there is copied down to that size at render time. ``source`` (the ``report`` variant)
    is for photos stored before print variants existed: when ``path`` is missing, the copy
    is made from ``source`` and stored at ``path``, so that it is made once. A missing or
    unreadable file prints a placeholder, it does not fail the document."""

    path: Path
    taken_at: datetime | None = None  # None when the camera recorded no time
    source: Path | None = None

    def __post_init__(self) -> None:
        for name in ("path", "source"):
            value = getattr(self, name)
            if value is None and name == "source":
                continue
            if not isinstance(value, Path):
                if not isinstance(value, str | os.PathLike):
                    raise ValueError(f"{name} must be a path, got {value!r}")
                object.__setattr__(self, name, Path(value))
        _require_aware("taken_at", self.taken_at)


@dataclass(frozen=True, kw_only=True, slots=True)
class FindingRow:
    """One finding (问题/隐患) as a row of a 问题清单."""

    item_code: str  # checklist item code, e.g. RO-01
    item_text: str  # 检查项
    description: str  # 问题描述
    clause: str  # the notice clause it rests on, as cited: 二（三）第14项 三是
    basis: str  # text of that clause (依据)
    severity: Severity
    requirement: str  # 整改要求
    deadline: date | None  # 整改时限; None when fixed on the spot or not set
    responsible_unit: str  # 责任单位 (the lead department of the item)
    status: FindingStatus
    photos: Sequence[PhotoRef] = ()
    major_hazard: bool = False  # 重大隐患
    fixed_on_spot: bool = False  # 立行立改

    def __post_init__(self) -> None:
        _require_choice("severity", self.severity, SEVERITY_LABELS)
        _require_choice("status", self.status, STATUS_LABELS)
        if self.deadline is not None and (
            isinstance(self.deadline, datetime) or not isinstance(self.deadline, date)
        ):
            raise ValueError(f"deadline must be a date, got {self.deadline!r}")
        object.__setattr__(self, "photos", tuple(self.photos))
        for photo in self.photos:
            if not isinstance(photo, PhotoRef):
                raise ValueError(f"photos must be PhotoRef objects, got {photo!r}")

    def days_overdue(self, today: date) -> int:
        """Days past the deadline on ``today``; 0 when not overdue (or settled)."""
        if self.deadline is None or self.status in SETTLED_STATUSES:
            return 0
        return max(0, (today - self.deadline).days)


@dataclass(frozen=True, kw_only=True, slots=True)
class InspectionVisit:
    """One inspection of a site (检查): when, and by whom."""

    started_at: datetime
    finished_at: datetime | None = None
    inspectors: Sequence[str] = ()  # display names, e.g. 张伟

    def __post_init__(self) -> None:
        _require_aware("started_at", self.started_at)
        _require_aware("finished_at", self.finished_at)
        object.__setattr__(self, "inspectors", tuple(self.inspectors))


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteProblemList:
    """问题清单 of one site in one campaign, handed to the site at the end of an inspection."""

    campaign: CampaignInfo
    site: SiteInfo
    visits: Sequence[InspectionVisit]
    findings: Sequence[FindingRow]
    generated_at: datetime = field(default_factory=_now)
    inspecting_unit: str | None = None  # 检查单位, printed above the signature lines

    def __post_init__(self) -> None:
        _require_aware("generated_at", self.generated_at)
        object.__setattr__(self, "visits", tuple(self.visits))
        object.__setattr__(self, "findings", tuple(self.findings))


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteFindings:
    """One site's part of a campaign problem list."""

    site: SiteInfo
    findings: Sequence[FindingRow]
    visits: Sequence[InspectionVisit] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", tuple(self.findings))
        object.__setattr__(self, "visits", tuple(self.visits))


@dataclass(frozen=True, kw_only=True, slots=True)
class DistrictFindings:
    """One district's part of a campaign problem list, its sites in print order."""

    district: str
    sites: Sequence[SiteFindings]
    # Sites inspected in the district, counting those where nothing was found; the
    # summary uses len(sites) when the caller does not know better.
    sites_inspected: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sites", tuple(self.sites))
        for entry in self.sites:
            if entry.site.district != self.district:
                raise ValueError(
                    f"site {entry.site.name!r} is in {entry.site.district!r}, "
                    f"not in {self.district!r}"
                )
        if self.sites_inspected is not None:
            _require_count("sites_inspected", self.sites_inspected)


@dataclass(frozen=True, kw_only=True, slots=True)
class CampaignProblemList:
    """问题清单 of a whole campaign or of one district, grouped by district and site.

    The summary table at the top is computed from the findings listed here (voided ones
    are listed but not counted), so it always agrees with the pages that follow.
    """

    campaign: CampaignInfo
    districts: Sequence[DistrictFindings]
    scope: str  # the area covered, printed as given: 全市, 东城区, 郭勒木德镇、唐古拉山镇
    generated_at: datetime = field(default_factory=_now)
    statuses: Sequence[FindingStatus] = ()  # the status filter applied; empty = all

    def __post_init__(self) -> None:
        _require_scope(self.scope)
        _require_aware("generated_at", self.generated_at)
        object.__setattr__(self, "districts", tuple(self.districts))
        object.__setattr__(self, "statuses", tuple(self.statuses))
        for status in self.statuses:
            _require_choice("statuses", status, STATUS_LABELS)


@dataclass(frozen=True, kw_only=True, slots=True)
class RateRow:
    """Rectification figures of one district or one department (责任单位)."""

    name: str
    findings: int  # findings counted (voided ones excluded)
    rectified: int  # closed (已销号)
    overdue: int = 0

    def __post_init__(self) -> None:
        for name in ("findings", "rectified", "overdue"):
            _require_count(name, getattr(self, name))
        if self.rectified > self.findings:
            raise ValueError(f"{self.name}: rectified {self.rectified} > findings {self.findings}")

    @property
    def rate(self) -> float | None:
        return rate(self.rectified, self.findings)


@dataclass(frozen=True, kw_only=True, slots=True)
class RectificationTotals:
    """Headline figures of a rectification report (总体情况)."""

    sites_inspected: int
    findings: int  # voided findings excluded
    general: int  # 一般问题
    key: int  # 重点问题
    rectified: int  # 已销号
    overdue: int  # not closed and past the deadline

    def __post_init__(self) -> None:
        for name in ("sites_inspected", "findings", "general", "key", "rectified", "overdue"):
            _require_count(name, getattr(self, name))
        if self.general + self.key != self.findings:
            raise ValueError(f"general {self.general} + key {self.key} != findings {self.findings}")
        if self.rectified > self.findings:
            raise ValueError(f"rectified {self.rectified} > findings {self.findings}")

    @property
    def rate(self) -> float | None:
        return rate(self.rectified, self.findings)


@dataclass(frozen=True, kw_only=True, slots=True)
class OverdueFinding:
    """A finding past its deadline and not closed (逾期未整改)."""

    district: str
    site_name: str
    description: str
    severity: Severity
    deadline: date
    responsible_unit: str
    status: FindingStatus

    def __post_init__(self) -> None:
        _require_choice("severity", self.severity, SEVERITY_LABELS)
        _require_choice("status", self.status, STATUS_LABELS)

    def days_overdue(self, today: date) -> int:
        return max(0, (today - self.deadline).days)


@dataclass(frozen=True, kw_only=True, slots=True)
class EnforcementFigures:
    """Enforcement measures taken (执法措施), counted in cases; fines in yuan."""

    order_rectify: int = 0  # 责令限期整改
    suspend: int = 0  # 责令停产停业整顿
    ban: int = 0  # 取缔
    fine_cases: int = 0  # 行政处罚 (cases)
    fine_total_yuan: Decimal = Decimal(0)  # 罚款金额（元）
    revoke_licence: int = 0  # 吊销证照
    refer_police: int = 0  # 移交公安机关
    refer_judicial: int = 0  # 移交司法机关
    blacklist: int = 0  # 纳入黑名单

    def __post_init__(self) -> None:
        for name in self.count_fields():
            _require_count(name, getattr(self, name))
        amount = self.fine_total_yuan
        if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
            raise ValueError(f"fine_total_yuan must be a Decimal or int, got {amount!r}")
        if amount < 0:
            raise ValueError(f"fine_total_yuan must not be negative, got {amount!r}")
        object.__setattr__(self, "fine_total_yuan", Decimal(amount))

    @staticmethod
    def count_fields() -> tuple[str, ...]:
        return (
            "order_rectify",
            "suspend",
            "ban",
            "fine_cases",
            "revoke_licence",
            "refer_police",
            "refer_judicial",
            "blacklist",
        )

    @property
    def total_cases(self) -> int:
        return sum(getattr(self, name) for name in self.count_fields())


@dataclass(frozen=True, kw_only=True, slots=True)
class RectificationReport:
    """整改情况报告 of a campaign, or of one district."""

    campaign: CampaignInfo
    as_of: datetime  # 统计截至; overdue days are counted to this day (Asia/Shanghai)
    totals: RectificationTotals
    by_district: Sequence[RateRow]
    by_department: Sequence[RateRow]
    overdue: Sequence[OverdueFinding]
    enforcement: EnforcementFigures
    scope: str  # the area covered, printed as given: 全市, 东城区, 郭勒木德镇、唐古拉山镇
    generated_at: datetime = field(default_factory=_now)
    remarks: Sequence[str] = ()  # paragraphs of 说明 printed at the end, if any

    def __post_init__(self) -> None:
        _require_scope(self.scope)
        _require_aware("as_of", self.as_of)
        _require_aware("generated_at", self.generated_at)
        for name in ("by_district", "by_department", "overdue", "remarks"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
