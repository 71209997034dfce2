"""Sites: the change feed phones sync from, field registration, per-campaign summaries."""

from datetime import UTC

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from inspect_app.audit import services as audit
from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.db_types import MAX_INT, utcnow
from inspect_app.domain import OPEN_STATUSES, today_shanghai
from inspect_app.errors import Conflict, Forbidden, NotFound
from inspect_app.extensions import db
from inspect_app.findings.models import Finding
from inspect_app.inspections.models import Inspection
from inspect_app.scope import district_filter
from inspect_app.sites import credit_code as credit
from inspect_app.sites.models import Site
from inspect_app.sync.models import ChangeCounter
from inspect_app.sync.services import next_seq


def visible_site(site_id: int, user: User) -> Site:
    # A number beyond an INTEGER column names no site; the database would refuse to bind it.
    site = db.session.get(Site, site_id) if 0 < site_id <= MAX_INT else None
    if site is None or site.deleted_at is not None or not user.can_see_district(site.district):
        raise NotFound("站点不存在")
    return site


def campaign_site_types(code: str) -> list[str] | None:
    """Site types the campaign's current checklist applies to (None: unknown campaign)."""
    campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.code == code))
    if campaign_id is None:
        return None
    version_id = db.session.scalar(
        select(ChecklistVersion.id)
        .where(ChecklistVersion.campaign_id == campaign_id)
        .order_by(ChecklistVersion.version.desc())
        .limit(1)
    )
    types: set[str] = set()
    for site_types in db.session.scalars(
        select(ChecklistItem.site_types).where(ChecklistItem.checklist_version_id == version_id)
    ):
        types.update(site_types or [])
    return sorted(types)


def list_sites(user: User, *, campaign=None, district=None, site_type=None, since=None, limit=200):
    """A page of the site feed, ordered by change; tombstones only when syncing ``since``."""
    query = select(Site).where(district_filter(user, Site.district))
    if district:
        query = query.where(Site.district == district)
    if site_type:
        query = query.where(Site.site_type == site_type)
    if campaign:
        types = campaign_site_types(campaign)
        if types is None:
            raise NotFound(f"专项行动 {campaign} 不存在")
        query = query.where(Site.site_type.in_(types))
    if since is None:
        query = query.where(Site.deleted_at.is_(None))
    else:
        query = query.where(Site.sync_seq > int(since))
    # Read the head before the page: anything committed later has a larger position.
    head = db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0
    rows = list(db.session.scalars(query.order_by(Site.sync_seq).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if has_more:
        cursor = rows[-1].sync_seq
    else:
        cursor = max(head, rows[-1].sync_seq if rows else 0, int(since or 0))
    return {"items": [site_view(s) for s in rows], "next_cursor": str(cursor), "has_more": has_more}


def site_view(site: Site) -> dict:
    return {
        "id": site.id,
        "name": site.name,
        "site_type": site.site_type,
        "credit_code": site.credit_code,
        "address": site.address,
        "district": site.district,
        "lat": site.lat,
        "lon": site.lon,
        "licences": site.licences,
        "contact_name": site.contact_name,
        "contact_phone": site.contact_phone,
        "updated_at": site.updated_at,
        "deleted": site.deleted_at is not None,
    }


def register_site(user: User, data: dict) -> tuple[Site, bool]:
    """Register a site found in the field; returns (site, created).

    A retry carrying the same client_uuid gets the site made the first time. Each check
    below has a unique constraint behind it (client_uuid, credit_code, the live name in
    the district): two requests that pass the checks together cannot both insert, and the
    one that loses answers as if it had come second.
    """
    if data.get("client_uuid"):
        data["client_uuid"] = str(data["client_uuid"])
    replay = _replay(user, data)
    if replay is not None:
        return replay, False
    if not user.can_see_district(data["district"]):
        raise Forbidden(f"您没有 {data['district']} 的检查权限")
    code = credit.normalise(data["credit_code"]) if data.get("credit_code") else None
    name = data["name"].strip()
    try:
        _refuse_duplicates(user, code, name, data["district"])
    except Conflict:
        # The duplicate may be this very registration, committed by a concurrent retry
        # between the replay check above and this one (each statement sees what has
        # committed when it starts): that retry's site is the answer, not a conflict.
        replay = _replay(user, data)
        if replay is not None:
            return replay, False
        raise
    now = utcnow()
    site = Site(
        name=name,
        site_type=data["site_type"],
        credit_code=code,
        address=data.get("address", ""),
        district=data["district"],
        lat=data.get("lat"),
        lon=data.get("lon"),
        licences=data.get("licences") or [],
        contact_name=data.get("contact_name", ""),
        contact_phone=data.get("contact_phone", ""),
        client_uuid=data.get("client_uuid"),
        created_by_id=user.id,
        created_at=now,
        updated_at=now,
        sync_seq=next_seq(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(site)
            db.session.flush()
    except IntegrityError:
        # Another request registered it between our checks and our insert; it has
        # committed (PostgreSQL made us wait for it), so the checks now see it.
        replay = _replay(user, data)
        if replay is not None:
            return replay, False
        _refuse_duplicates(user, code, name, data["district"])
        raise Conflict("该站点刚被登记，请刷新后重试") from None
    audit.record(user.id, "site.register", "site", site.id, {"name": site.name})
    return site, True


def _replay(user: User, data: dict) -> Site | None:
    """The site an earlier POST with the same client_uuid made, if it was this user's to see."""
    if not data.get("client_uuid"):
        return None
    existing = db.session.scalar(select(Site).where(Site.client_uuid == data["client_uuid"]))
    if existing is None:
        return None
    if not user.can_see_district(existing.district):
        raise Conflict("该客户端编号已被使用")
    return existing


def _refuse_duplicates(user: User, code: str | None, name: str, district: str) -> None:
    """Conflict (409) if the credit code or the live name in the district is taken.

    The other site is named only when the caller may see it: a site of another district
    is not revealed (not its name, not its id), only that the code is registered.
    """
    if code:
        same = db.session.scalar(select(Site).where(Site.credit_code == code))
        if same is not None:
            if same.deleted_at is None and user.can_see_district(same.district):
                raise Conflict(f"该统一社会信用代码已登记为「{same.name}」（站点编号 {same.id}）")
            raise Conflict("该统一社会信用代码已登记")
    same_name = db.session.scalar(
        select(Site).where(Site.name == name, Site.district == district, Site.deleted_at.is_(None))
    )
    if same_name is not None:
        # The caller may register in this district, so it may see the site that is there.
        raise Conflict(f"{district} 已有同名站点「{same_name.name}」（站点编号 {same_name.id}）")


def rectification_summary(site_id: int) -> list[dict]:
    """Per campaign: findings, open, overdue, rectified, rate, last inspection — two queries."""
    today = today_shanghai()
    counted = Finding.status != "voided"
    rows = db.session.execute(
        select(
            Campaign.code,
            Campaign.name,
            func.count().filter(counted),
            func.count().filter(Finding.status.in_(OPEN_STATUSES)),
            func.count().filter(Finding.status.in_(OPEN_STATUSES), Finding.deadline < today),
            func.count().filter(Finding.status == "closed"),
        )
        .join(Campaign, Campaign.id == Finding.campaign_id)
        .where(Finding.site_id == site_id)
        .group_by(Campaign.code, Campaign.name)
    ).all()
    inspected = db.session.execute(
        select(Campaign.code, Campaign.name, func.max(Inspection.started_at))
        .join(Campaign, Campaign.id == Inspection.campaign_id)
        .where(Inspection.site_id == site_id)
        .group_by(Campaign.code, Campaign.name)
    ).all()
    last = {code: at for code, _name, at in inspected}
    summaries = {}
    for code, name, total, open_, overdue, closed in rows:
        summaries[code] = {
            "campaign": code,
            "campaign_name": name,
            "findings": total,
            "open": open_,
            "overdue": overdue,
            "rectified": closed,
            "rectification_rate": round(closed / total, 4) if total else None,
            "last_inspection": _aware(last.get(code)),
        }
    for code, name, at in inspected:
        if code not in summaries:
            summaries[code] = {
                "campaign": code,
                "campaign_name": name,
                "findings": 0,
                "open": 0,
                "overdue": 0,
                "rectified": 0,
                "rectification_rate": None,
                "last_inspection": _aware(at),
            }
    return sorted(summaries.values(), key=lambda s: s["campaign"])


def _aware(value):
    # Aggregates (max) bypass the column type, so SQLite hands back a naive UTC value.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
