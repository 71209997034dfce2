"""Findings (问题/隐患): listing, one finding's history, lifecycle moves and enforcement.

A move (``apply_event``) appends a RectificationEvent and changes the finding's
status in one flush, so the two never disagree. Two people moving the same finding
at once cannot both succeed: the finding is read ``FOR UPDATE`` on PostgreSQL (the
second waits, then sees the new status and gets a 409), SQLite serialises writing
requests anyway (``BEGIN IMMEDIATE``), and ``Finding.version`` is the last line:
an UPDATE that finds the row changed since it was read raises StaleDataError,
answered as 409.
"""

import uuid as uuid_module
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign, ChecklistItem
from inspect_app.campaigns.services import campaign_by_code
from inspect_app.db_types import parse_row_id, utcnow
from inspect_app.domain import (
    ENFORCEMENT_KINDS,
    FINDING_STATUS_LABELS,
    OPEN_STATUSES,
    today_shanghai,
)
from inspect_app.errors import Conflict, Invalid, NotFound
from inspect_app.extensions import db
from inspect_app.findings import lifecycle
from inspect_app.findings.models import Enforcement, Finding, FindingPhoto, RectificationEvent
from inspect_app.photos import services as photo_services
from inspect_app.photos.models import Photo
from inspect_app.scope import district_filter
from inspect_app.sites.models import Site
from inspect_app.sites.services import visible_site
from inspect_app.sync.services import next_seq

# ---------------------------------------------------------------------------
# Finding look-ups and filters


def _ref_condition(ref: str):
    """``{id}`` in a path is the server's integer id or the phone's UUID."""
    row_id = parse_row_id(ref)
    if row_id is not None:
        return Finding.id == row_id
    try:
        return Finding.uuid == str(uuid_module.UUID(ref))
    except ValueError:
        return None


def visible_finding(user: User, ref: str, *, for_update: bool = False) -> Finding:
    """The finding, if it exists and lies in the user's districts; else NotFound (404)."""
    condition = _ref_condition(ref)
    if condition is None:
        raise NotFound("问题不存在")
    query = select(Finding).where(condition, district_filter(user, Finding.district))
    if for_update:
        # PostgreSQL: a second reviewer waits here until the first commits, then reads the
        # new status. SQLite has no row locks and renders no FOR UPDATE; its writing
        # requests are serialised by BEGIN IMMEDIATE instead.
        query = query.with_for_update(of=Finding).execution_options(populate_existing=True)
    finding = db.session.scalar(query)
    if finding is None:
        raise NotFound("问题不存在")
    return finding


def overdue_condition(today: date):
    """Overdue (逾期) is derived, never stored: still open and the deadline has passed."""
    return and_(Finding.status.in_(OPEN_STATUSES), Finding.deadline < today)


def finding_conditions(
    user: User,
    *,
    campaign: str | None = None,
    site_id: int | None = None,
    district: str | None = None,
    status: list[str] | None = None,
    overdue: bool | None = None,
    severity: str | None = None,
    department: str | None = None,
    today: date,
) -> list:
    """WHERE clauses on Finding for the filters of GET /findings (and findings.xlsx)."""
    conditions = [district_filter(user, Finding.district)]
    if campaign is not None:
        conditions.append(Finding.campaign_id == campaign_by_code(campaign).id)
    if site_id is not None:
        conditions.append(Finding.site_id == site_id)
    if district is not None:
        conditions.append(Finding.district == district)
    if status:
        conditions.append(Finding.status.in_(status))
    else:
        conditions.append(Finding.status != "voided")
    if overdue is True:
        conditions.append(overdue_condition(today))
    elif overdue is False:
        # NOT (… AND deadline < today) is NULL, not true, when there is no deadline.
        conditions.append(or_(not_(overdue_condition(today)), Finding.deadline.is_(None)))
    if severity is not None:
        conditions.append(Finding.severity == severity)
    if department is not None:
        conditions.append(Finding.responsible_department == department)
    return conditions


def list_findings(user: User, *, limit: int = 50, cursor: str | None = None, **filters) -> dict:
    """A page of findings, newest first (by id, so pages stay stable while others add)."""
    today = today_shanghai()
    query = (
        select(Finding, Site.name, Site.site_type, Campaign.code, ChecklistItem.code)
        .join(Site, Site.id == Finding.site_id)
        .join(Campaign, Campaign.id == Finding.campaign_id)
        .outerjoin(ChecklistItem, ChecklistItem.id == Finding.item_id)
        .where(*finding_conditions(user, today=today, **filters))
    )
    if cursor is not None:
        query = query.where(Finding.id < int(cursor))
    rows = db.session.execute(
        query.options(selectinload(Finding.photos)).order_by(Finding.id.desc()).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [finding_view(*row, today=today) for row in rows],
        "next_cursor": str(rows[-1][0].id) if more else None,
    }


def finding_view(
    finding: Finding,
    site_name: str,
    site_type: str,
    campaign_code: str,
    item_code: str | None,
    *,
    today: date,
    photos: list[str] | None = None,
) -> dict:
    return {
        "id": finding.id,
        "uuid": finding.uuid,
        "campaign": campaign_code,
        "site_id": finding.site_id,
        "site_name": site_name,
        "site_type": site_type,
        "district": finding.district,
        "item_code": item_code,
        "description": finding.description,
        "severity": finding.severity,
        "major_hazard": finding.major_hazard,
        "requirement": finding.requirement,
        "responsible_department": finding.responsible_department,
        "deadline": finding.deadline,
        "fixed_on_spot": finding.fixed_on_spot,
        "status": finding.status,
        "status_label": FINDING_STATUS_LABELS[finding.status],
        "overdue": is_overdue(finding.status, finding.deadline, today),
        "supervised": finding.supervised_at is not None,
        "found_at": finding.found_at,
        "closed_at": finding.closed_at,
        "updated_at": finding.updated_at,
        "photos": photos if photos is not None else [p.sha256 for p in finding.photos],
    }


def is_overdue(status: str, deadline: date | None, today: date) -> bool:
    return status in OPEN_STATUSES and deadline is not None and deadline < today


def finding_detail(finding: Finding, *, today: date | None = None) -> dict:
    """One finding with its whole history: events, enforcements, photos still missing."""
    today = today or today_shanghai()
    site_name, site_type, campaign_code, item_code = db.session.execute(
        select(Site.name, Site.site_type, Campaign.code, ChecklistItem.code)
        .select_from(Finding)
        .join(Site, Site.id == Finding.site_id)
        .join(Campaign, Campaign.id == Finding.campaign_id)
        .outerjoin(ChecklistItem, ChecklistItem.id == Finding.item_id)
        .where(Finding.id == finding.id)
    ).one()
    photos = list(
        db.session.scalars(
            select(FindingPhoto.sha256)
            .where(FindingPhoto.finding_id == finding.id)
            .order_by(FindingPhoto.position)
        )
    )
    events = [
        event_view(event, actor)
        for event, actor in db.session.execute(
            select(RectificationEvent, User)
            # Outer: the escalation job's events have no actor.
            .outerjoin(User, User.id == RectificationEvent.actor_id)
            .where(RectificationEvent.finding_id == finding.id)
            .order_by(RectificationEvent.id)
        )
    ]
    enforcements = [
        enforcement_view(e, actor, campaign_code)
        for e, actor in db.session.execute(
            select(Enforcement, User)
            .join(User, User.id == Enforcement.actor_id)
            .where(Enforcement.finding_id == finding.id)
            .order_by(Enforcement.id)
        )
    ]
    named = list(dict.fromkeys(photos + [sha for e in events for sha in e["photos"]]))
    uploaded = set(db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(named))))
    return {
        **finding_view(
            finding, site_name, site_type, campaign_code, item_code, today=today, photos=photos
        ),
        "events": events,
        "enforcements": enforcements,
        "missing_photos": [sha for sha in named if sha not in uploaded],
    }


SYSTEM_ACTOR = {"id": None, "username": "system", "display_name": "系统"}


def _actor(user: User | None) -> dict:
    """Who made a move; the system (督办 by the escalation job) when no user did."""
    if user is None:
        return SYSTEM_ACTOR
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


def event_view(event: RectificationEvent, actor: User | None) -> dict:
    return {
        "id": event.id,
        "action": event.action,
        "action_label": lifecycle.ACTION_LABELS.get(event.action, event.action),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": _actor(actor),
        "at": event.at,
        "received_at": event.received_at,
        "note": event.note,
        "photos": list(event.photos or []),
        "deadline": event.deadline,
    }


def enforcement_view(enforcement: Enforcement, actor: User, campaign_code: str) -> dict:
    return {
        "id": enforcement.id,
        "campaign": campaign_code,
        "site_id": enforcement.site_id,
        "finding_id": enforcement.finding_id,
        "kind": enforcement.kind,
        "kind_label": ENFORCEMENT_KINDS[enforcement.kind],
        "fine_yuan": enforcement.fine_yuan,
        "note": enforcement.note,
        "actor": _actor(actor),
        "at": enforcement.at,
    }


# ---------------------------------------------------------------------------
# Lifecycle moves


def apply_event(
    user: User,
    finding: Finding,
    data: dict,
    *,
    now: datetime | None = None,
    today: date | None = None,
) -> RectificationEvent:
    """Move ``finding`` by ``data["action"]``: one new event, the new status, one flush.

    ``data["at"]``, when given, is when the move was made on a phone offline; the event
    keeps it apart from ``now``, its receipt (上传时间).

    Raises Forbidden (role), Conflict (status, or someone moved it meanwhile) and
    Invalid (a new deadline that is not later, or already past; a time of the move
    in the future or before the finding was found).
    """
    now = now or utcnow()
    today = today or today_shanghai()
    at = _check_move_time(finding, data.get("at"), now)
    move = lifecycle.MOVES[data["action"]]
    from_status = finding.status
    to_status = lifecycle.check(move, user.role, from_status)
    photo_services.refuse_unusable(user, {"photos": data.get("photos") or []})
    new_deadline = None
    if move.deadline_required:
        new_deadline = data["deadline"]
        _check_new_deadline(finding.deadline, new_deadline, today)

    # Taken before the finding is touched: next_seq's UPDATE would autoflush a half-made move.
    seq = next_seq()
    try:
        event = RectificationEvent(
            finding_id=finding.id,
            action=move.action,
            from_status=from_status,
            to_status=to_status,
            actor_id=user.id,
            at=at,
            received_at=now,
            note=data.get("note", "").strip(),
            deadline=new_deadline,
            photos=list(data.get("photos") or []),
        )
        db.session.add(event)
        finding.status = to_status
        if new_deadline is not None:
            finding.deadline = new_deadline
        if to_status == "closed":
            finding.closed_at = at
        elif from_status == "closed":
            finding.closed_at = None
        finding.updated_at = now
        finding.sync_seq = seq
        if data.get("enforcement"):
            db.session.add(_enforcement(user, finding, data["enforcement"], at))
        # The UPDATE carries "AND version = <as read>": zero rows means someone else moved it.
        db.session.flush()
    except StaleDataError:
        raise Conflict("该问题刚被其他人处理，请刷新后重试") from None
    return event


# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=5)


def _check_move_time(finding: Finding, at: datetime | None, now: datetime) -> datetime:
    """When the move happened: the phone's time if it sent one, else its receipt."""
    if at is None:
        return now
    if at > now + CLOCK_SKEW:
        raise Invalid("操作时间晚于当前时间，请检查手机时间", fields={"at": ["不能晚于当前时间"]})
    if at < finding.found_at:
        raise Invalid("操作时间早于发现问题的时间", fields={"at": ["不能早于发现问题的时间"]})
    return at


def _check_new_deadline(current: date | None, new: date, today: date) -> None:
    problems = []
    if current is not None and new <= current:
        problems.append(f"必须晚于原整改时限（{current.isoformat()}）")
    if new < today:
        problems.append(f"不能早于今天（{today.isoformat()}）")
    if problems:
        raise Invalid(f"新的整改时限{problems[0]}", fields={"deadline": problems})


def _enforcement(user: User, finding: Finding, data: dict, now: datetime) -> Enforcement:
    return Enforcement(
        campaign_id=finding.campaign_id,
        site_id=finding.site_id,
        finding_id=finding.id,
        kind=data["kind"],
        fine_yuan=data.get("fine_yuan"),
        note=data.get("note", "").strip(),
        actor_id=user.id,
        at=now,
    )


# ---------------------------------------------------------------------------
# Enforcement on a whole site (取缔, 责令停产停业整顿 …), not tied to one finding


def record_site_enforcement(user: User, site_id: int, data: dict) -> dict:
    """Record an enforcement measure taken on a site; any role, in the user's districts."""
    site = visible_site(site_id, user)
    campaign = campaign_by_code(data["campaign"])
    finding_id = data.get("finding_id")
    if finding_id is not None:
        owner = db.session.execute(
            select(Finding.site_id, Finding.campaign_id, Finding.status).where(
                Finding.id == finding_id
            )
        ).first()
        if owner is None or owner.site_id != site.id or owner.campaign_id != campaign.id:
            raise Invalid(
                "问题不属于该站点或该专项行动",
                fields={"finding_id": ["该问题不属于此站点的此次专项行动"]},
            )
        if owner.status == "voided":
            raise Conflict("该问题已作废，不能登记执法措施")
    enforcement = Enforcement(
        campaign_id=campaign.id,
        site_id=site.id,
        finding_id=finding_id,
        kind=data["kind"],
        fine_yuan=data.get("fine_yuan"),
        note=data.get("note", "").strip(),
        actor_id=user.id,
        at=utcnow(),
    )
    db.session.add(enforcement)
    db.session.flush()
    return enforcement_view(enforcement, user, campaign.code)


def site_enforcements(user: User, site_id: int, campaign: str | None = None) -> dict:
    site = visible_site(site_id, user)
    query = (
        select(Enforcement, User, Campaign.code)
        .join(User, User.id == Enforcement.actor_id)
        .join(Campaign, Campaign.id == Enforcement.campaign_id)
        .where(Enforcement.site_id == site.id)
        .order_by(Enforcement.id)
    )
    if campaign is not None:
        query = query.where(Enforcement.campaign_id == campaign_by_code(campaign).id)
    rows = db.session.execute(query)
    return {"items": [enforcement_view(e, actor, code) for e, actor, code in rows]}


# ---------------------------------------------------------------------------
# Rows of the 问题清单 spreadsheet, streamed


def problem_list_rows(user: User, campaign: Campaign, filters: dict) -> Iterator[dict]:
    """Every matching finding of the campaign as a flat dict, for the 问题清单 spreadsheet.

    Plain columns rather than ORM objects, read in batches (a server-side cursor on
    PostgreSQL), so that 100,000 findings never sit in memory together.
    """
    today = today_shanghai()
    query = (
        select(
            Finding.id,
            Finding.district,
            Site.name.label("site_name"),
            Site.site_type,
            ChecklistItem.code.label("item_code"),
            Finding.description,
            Finding.severity,
            Finding.major_hazard,
            Finding.requirement,
            Finding.responsible_department,
            Finding.found_at,
            Finding.deadline,
            Finding.fixed_on_spot,
            Finding.status,
            Finding.closed_at,
        )
        .join(Site, Site.id == Finding.site_id)
        .outerjoin(ChecklistItem, ChecklistItem.id == Finding.item_id)
        .where(Finding.campaign_id == campaign.id)
        .where(*finding_conditions(user, today=today, **filters))
        .order_by(Finding.district, Site.name, Finding.id)
    )
    for row in db.session.execute(query.execution_options(yield_per=2000)):
        values = row._asdict()
        values["overdue"] = is_overdue(row.status, row.deadline, today)
        yield values
