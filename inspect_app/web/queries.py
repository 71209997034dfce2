"""What the dashboard pages show, each page in a few grouped queries.

Every function takes the acting user and limits what it reads to their districts, as
the API does. The number of queries does not grow with the number of sites or
findings: lists are single joined statements, and what belongs to many findings
(photos, history) is read for all of them at once.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Date, cast, func, literal, literal_column, select, union_all

from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign, ChecklistItem
from inspect_app.domain import DISTRICTS, OPEN_STATUSES, SEVERITY_LABELS, TIMEZONE
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, FindingPhoto, RectificationEvent
from inspect_app.findings.services import overdue_condition
from inspect_app.inspections.models import SOURCES as INSPECTION_SOURCES
from inspect_app.inspections.models import Inspection
from inspect_app.photos.models import Photo
from inspect_app.scope import district_filter
from inspect_app.sites.models import Site
from inspect_app.stats.services import NO_DEPARTMENT, rate

TREND_WEEKS = 16
OVERDUE_PAGE = 100
FIGURES = ("findings", "rectified", "open", "overdue", "sites")


def visible_districts(user: User) -> list[str]:
    return [d for d in DISTRICTS if user.can_see_district(d)]


# ---------------------------------------------------------------------------
# Overview: every campaign's figures in one grouped statement


def campaigns_overview(user: User, today: date) -> list[dict]:
    """Each campaign with found / rectified / rate / open / overdue / sites inspected."""
    counted = select(
        Finding.campaign_id.label("campaign_id"),
        func.count().label("findings"),
        func.count().filter(Finding.status == "closed").label("rectified"),
        func.count().filter(Finding.status.in_(OPEN_STATUSES)).label("open"),
        func.count().filter(overdue_condition(today)).label("overdue"),
        literal(0).label("sites"),
    ).where(Finding.status != "voided", district_filter(user, Finding.district))
    counted = counted.group_by(Finding.campaign_id)
    zero = literal(0)
    inspected = (
        select(
            Inspection.campaign_id,
            zero,
            zero,
            zero,
            zero,
            func.count(Inspection.site_id.distinct()),
        )
        .join(Site, Site.id == Inspection.site_id)
        .where(district_filter(user, Site.district))
        .group_by(Inspection.campaign_id)
    )
    figures: dict[int, dict] = defaultdict(
        lambda: {"findings": 0, "rectified": 0, "open": 0, "overdue": 0, "sites": 0}
    )
    for row in db.session.execute(union_all(counted, inspected)):
        entry = figures[row[0]]
        for name, value in zip(FIGURES, row[1:], strict=True):
            entry[name] += value
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.id)).all()
    result = []
    for campaign in campaigns:
        entry = dict(figures[campaign.id])
        entry["rate"] = rate(entry["rectified"], entry["findings"])
        result.append({"campaign": campaign, **entry})
    return result


# ---------------------------------------------------------------------------
# Weekly trend: findings found and closed per week (Monday to Sunday, Beijing time)


def _week_start(column):
    """The Monday (a date, Asia/Shanghai) of the week a UTC timestamp falls in."""
    if db.engine.dialect.name == "postgresql":
        local = func.timezone(literal_column(f"'{TIMEZONE}'"), column)
        return cast(func.date_trunc(literal_column("'week'"), local), Date)
    # SQLite keeps UTC as text; China has no summer time, so +8 hours is exact.
    return func.date(column, "+8 hours", "-6 days", "weekday 1")


@dataclass(frozen=True)
class WeekPoint:
    monday: date
    found: int
    closed: int


def weekly_trend(user: User, campaign_id: int) -> list[WeekPoint]:
    """Found and closed per week, the last TREND_WEEKS weeks up to the latest activity."""
    in_scope = (
        Finding.campaign_id == campaign_id,
        Finding.status != "voided",
        district_filter(user, Finding.district),
    )
    found_week = _week_start(Finding.found_at)
    closed_week = _week_start(Finding.closed_at)
    found = (
        select(literal("f").label("kind"), found_week.label("week"), func.count())
        .where(*in_scope)
        .group_by(found_week)
    )
    closed = (
        select(literal("c"), closed_week, func.count())
        .where(*in_scope, Finding.status == "closed", Finding.closed_at.is_not(None))
        .group_by(closed_week)
    )
    counts: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for kind, week, n in db.session.execute(union_all(found, closed)):
        if week is None:
            continue
        monday = week if isinstance(week, date) else date.fromisoformat(str(week)[:10])
        counts[monday][0 if kind == "f" else 1] += n
    if not counts:
        return []
    last = max(counts)
    first = max(min(counts), last - timedelta(weeks=TREND_WEEKS - 1))
    points = []
    monday = first
    while monday <= last:
        found_n, closed_n = counts.get(monday, (0, 0))
        points.append(WeekPoint(monday, found_n, closed_n))
        monday += timedelta(weeks=1)
    return points


# ---------------------------------------------------------------------------
# Overdue list

OVERDUE_SORTS = {
    "deadline": (Finding.deadline, Finding.id),
    "overdue_days": (Finding.deadline, Finding.id),  # the older the deadline, the more days
    "district": (Finding.district, Finding.deadline, Finding.id),
    "site": (Site.name, Finding.deadline, Finding.id),
    "department": (Finding.responsible_department, Finding.deadline, Finding.id),
    "severity": (Finding.severity, Finding.deadline, Finding.id),
}


def overdue_findings(
    user: User,
    campaign_id: int,
    today: date,
    *,
    district: str | None,
    department: str | None,
    severity: str | None,
    sort: str,
    descending: bool,
    page: int,
) -> tuple[list[dict], int]:
    """One page of overdue findings, and how many there are in all (two statements)."""
    conditions = [
        Finding.campaign_id == campaign_id,
        overdue_condition(today),
        district_filter(user, Finding.district),
    ]
    if district:
        conditions.append(Finding.district == district)
    if department == NO_DEPARTMENT:
        conditions.append(func.coalesce(Finding.responsible_department, "") == "")
    elif department:
        conditions.append(Finding.responsible_department == department)
    if severity:
        conditions.append(Finding.severity == severity)
    total = db.session.scalar(select(func.count()).select_from(Finding).where(*conditions))
    columns = OVERDUE_SORTS[sort]
    # "Most days overdue" first is the oldest deadline first: the two sorts run opposite.
    reverse = descending != (sort == "overdue_days")
    order = [c.desc() if reverse else c.asc() for c in columns]
    rows = db.session.execute(
        select(
            Finding.id,
            Finding.description,
            Finding.severity,
            Finding.deadline,
            Finding.district,
            Finding.responsible_department,
            Finding.status,
            Finding.major_hazard,
            Site.id.label("site_id"),
            Site.name.label("site_name"),
            ChecklistItem.code.label("item_code"),
        )
        .join(Site, Site.id == Finding.site_id)
        .outerjoin(ChecklistItem, ChecklistItem.id == Finding.item_id)
        .where(*conditions)
        .order_by(*order)
        .limit(OVERDUE_PAGE)
        .offset((page - 1) * OVERDUE_PAGE)
    ).all()
    items = [
        {
            **row._asdict(),
            "severity_label": SEVERITY_LABELS.get(row.severity, row.severity),
            "days_overdue": (today - row.deadline).days,
            "department": row.responsible_department or NO_DEPARTMENT,
        }
        for row in rows
    ]
    return items, total


def departments(user: User, campaign_id: int) -> list[str]:
    """The responsible departments named in the campaign's findings, for the filter."""
    names = db.session.scalars(
        select(Finding.responsible_department)
        .where(Finding.campaign_id == campaign_id, district_filter(user, Finding.district))
        .distinct()
    ).all()
    listed = sorted({n for n in names if n})
    if any(not n for n in names):
        listed.append(NO_DEPARTMENT)
    return listed


# ---------------------------------------------------------------------------
# Sites: a team lead at the gate looks a site up by name

SITE_LIST_LIMIT = 100


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def site_list(user: User, today: date, *, name: str | None, district: str | None) -> list:
    """Sites in the user's districts with their open and overdue findings, in one statement.

    The sites with the most overdue, then open, findings come first; at most
    SITE_LIST_LIMIT + 1 rows (the caller says when there are more).
    """
    counted = Finding.status != "voided"
    open_ = func.count(Finding.id).filter(Finding.status.in_(OPEN_STATUSES))
    overdue = func.count(Finding.id).filter(overdue_condition(today))
    query = (
        select(
            Site.id,
            Site.name,
            Site.site_type,
            Site.district,
            Site.address,
            func.count(Finding.id).filter(counted).label("findings"),
            open_.label("open"),
            overdue.label("overdue"),
        )
        .outerjoin(Finding, Finding.site_id == Site.id)
        .where(Site.deleted_at.is_(None), district_filter(user, Site.district))
        .group_by(Site.id, Site.name, Site.site_type, Site.district, Site.address)
        .order_by(overdue.desc(), open_.desc(), Site.name, Site.id)
        .limit(SITE_LIST_LIMIT + 1)
    )
    if name:
        query = query.where(Site.name.ilike(_like_pattern(name), escape="\\"))
    if district:
        query = query.where(Site.district == district)
    return db.session.execute(query).all()


# ---------------------------------------------------------------------------
# Site page


def site_findings(user: User, site: Site, campaign_code: str | None) -> list[dict]:
    """The site's findings grouped by campaign, each with photos and history (4 statements)."""
    query = (
        select(
            Finding,
            Campaign.code,
            Campaign.name,
            ChecklistItem.code,
            ChecklistItem.text,
            Inspection.source,
        )
        .join(Campaign, Campaign.id == Finding.campaign_id)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .outerjoin(ChecklistItem, ChecklistItem.id == Finding.item_id)
        .where(Finding.site_id == site.id, district_filter(user, Finding.district))
        .order_by(Campaign.id, Finding.found_at.desc(), Finding.id)
    )
    if campaign_code:
        query = query.where(Campaign.code == campaign_code)
    rows = db.session.execute(query).all()
    ids = [row[0].id for row in rows]
    photos: dict[int, list[str]] = defaultdict(list)
    history: dict[int, list[dict]] = defaultdict(list)
    if ids:
        for finding_id, sha in db.session.execute(
            select(FindingPhoto.finding_id, FindingPhoto.sha256)
            .where(FindingPhoto.finding_id.in_(ids))
            .order_by(FindingPhoto.finding_id, FindingPhoto.position)
        ):
            photos[finding_id].append(sha)
        for event, display_name in db.session.execute(
            select(RectificationEvent, func.coalesce(User.display_name, "系统"))
            # Outer: the escalation job's events have no actor.
            .outerjoin(User, User.id == RectificationEvent.actor_id)
            .where(RectificationEvent.finding_id.in_(ids))
            .order_by(RectificationEvent.finding_id, RectificationEvent.id)
        ):
            history[event.finding_id].append({"event": event, "actor": display_name})
    named = {sha for shas in photos.values() for sha in shas} | {
        sha for entries in history.values() for e in entries for sha in (e["event"].photos or [])
    }
    uploaded = (
        set(db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(sorted(named)))))
        if named
        else set()
    )
    groups: dict[str, dict] = {}
    for finding, code, name, item_code, item_content, source in rows:
        group = groups.setdefault(code, {"code": code, "name": name, "findings": []})
        group["findings"].append(
            {
                "finding": finding,
                "item_code": item_code,
                "item_content": item_content,
                # Where the inspection that found it came from: our app, Collect, Enketo.
                "source": INSPECTION_SOURCES.get(source, source),
                "photos": [(sha, sha in uploaded) for sha in photos[finding.id]],
                "history": [
                    {
                        **entry,
                        "photos": [(sha, sha in uploaded) for sha in entry["event"].photos or []],
                    }
                    for entry in history[finding.id]
                ],
            }
        )
    return list(groups.values())
