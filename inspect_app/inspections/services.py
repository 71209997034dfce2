"""Storing inspections the phones made offline: idempotent, all or nothing.

A phone PUTs the whole inspection under its own UUID, as often as its link
needs. The same body again is a replay (200, same answer); a different body
for a final inspection, or from another user, is a conflict (409); a draft
may be replaced until it is final. Everything of one inspection (answers,
findings, their photos and first events) is written in the request's one
transaction.
"""

import hashlib
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from inspect_app.audit import services as audit
from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.db_types import utcnow
from inspect_app.domain import TIMEZONE
from inspect_app.errors import Conflict, Invalid, NotFound
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, FindingPhoto, RectificationEvent
from inspect_app.inspections.models import Answer, Inspection
from inspect_app.photos.models import Photo
from inspect_app.sites.models import Site
from inspect_app.sync.services import next_seq

SHANGHAI = ZoneInfo(TIMEZONE)


def body_digest(data: dict) -> str:
    """SHA-256 of the validated body in canonical form (key order and spacing do not matter)."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def put_inspection(user: User, uuid: str, data: dict) -> tuple[dict, bool]:
    """Create or replace the inspection; returns (result, created)."""
    digest = body_digest(data)
    existing = db.session.scalar(select(Inspection).where(Inspection.uuid == uuid))
    if existing is not None:
        outcome = _against_existing(user, existing, digest)
        if outcome is not None:
            return outcome, False

    context = _validate_references(user, data)
    try:
        with db.session.begin_nested():
            if existing is not None:
                _remove_draft(existing)
            inspection = _store(user, uuid, data, digest, context)
            audit.record(
                user.id,
                "inspection.replace" if existing is not None else "inspection.create",
                "inspection",
                uuid,
                {"findings": len(data["findings"]), "final": data["final"]},
            )
    except IntegrityError:
        # Another request stored the same UUID (or a finding's UUID) first: a phone
        # retrying in parallel. Its copy stands; answer as for a replay if it matches.
        db.session.expire_all()
        other = db.session.scalar(select(Inspection).where(Inspection.uuid == uuid))
        if other is not None and other.body_digest == digest and other.inspector_id == user.id:
            return inspection_result(other), False
        raise Conflict("检查记录或问题编号已被另一条记录使用") from None
    return inspection_result(inspection), existing is None


def _against_existing(user: User, existing: Inspection, digest: str) -> dict | None:
    if existing.inspector_id != user.id:
        raise Conflict("该检查编号已被其他检查员的记录使用")
    if existing.body_digest == digest:
        return inspection_result(existing)
    if existing.final:
        raise Conflict("该检查记录已定稿，不能用不同的内容覆盖")
    moved = db.session.scalar(
        select(RectificationEvent.id)
        .join(Finding, Finding.id == RectificationEvent.finding_id)
        .where(
            Finding.inspection_id == existing.id,
            RectificationEvent.action.not_in(("record", "fix_on_spot")),
        )
        .limit(1)
    )
    if moved is not None:
        raise Conflict("该检查记录中的问题已进入整改流程，不能再覆盖")
    return None


def _validate_references(user: User, data: dict) -> dict:
    """Check everything the body names; one 422 listing every problem, by JSON path."""
    problems: dict[str, list[str]] = {}

    def fail(path: str, message: str) -> None:
        problems.setdefault(path, []).append(message)

    campaign = db.session.scalar(select(Campaign).where(Campaign.code == data["campaign"]))
    version = None
    if campaign is None:
        fail("campaign", f"专项行动 {data['campaign']} 不存在")
    else:
        version = db.session.scalar(
            select(ChecklistVersion).where(
                ChecklistVersion.campaign_id == campaign.id,
                ChecklistVersion.version == data["checklist_version"],
            )
        )
        if version is None:
            fail("checklist_version", f"该专项行动没有第 {data['checklist_version']} 版检查清单")
    site = db.session.get(Site, data["site_id"])
    if site is None or site.deleted_at is not None or not user.can_see_district(site.district):
        fail("site_id", "站点不存在或不在您的辖区")
        site = None
    if version is None:
        raise Invalid(_summary(problems), fields=problems)

    # Only the items the body names, and only the columns needed: a checklist has up to
    # 70 items and this runs on every sync.
    named = {a["item_code"] for a in data["answers"]} | {f["item_code"] for f in data["findings"]}
    items = {
        row.code: row
        for row in db.session.execute(
            select(
                ChecklistItem.id,
                ChecklistItem.code,
                ChecklistItem.photo_required,
                ChecklistItem.default_severity,
                ChecklistItem.lead_department,
            ).where(
                ChecklistItem.checklist_version_id == version.id,
                ChecklistItem.code.in_(sorted(named)),
            )
        )
    }
    seen: set[str] = set()
    for i, answer in enumerate(data["answers"]):
        code = answer["item_code"]
        if code not in items:
            fail(f"answers[{i}].item_code", f"检查项 {code} 不在第 {version.version} 版检查清单中")
        elif code in seen:
            fail(f"answers[{i}].item_code", f"检查项 {code} 重复作答")
        seen.add(code)

    inspected_on = data["started_at"].astimezone(SHANGHAI).date()
    finding_items = set()
    finding_ids: set = set()
    for i, finding in enumerate(data["findings"]):
        code = finding["item_code"]
        finding_items.add(code)
        item = items.get(code)
        if finding["id"] in finding_ids:
            fail(f"findings[{i}].id", "问题编号重复")
        finding_ids.add(finding["id"])
        if item is None:
            fail(f"findings[{i}].item_code", f"检查项 {code} 不在第 {version.version} 版检查清单中")
            continue
        if item.photo_required and not finding["photos"]:
            fail(f"findings[{i}].photos", f"检查项 {code} 要求拍照取证，请附照片")
        if finding["fixed_on_spot"] and not finding["photos"]:
            fail(f"findings[{i}].photos", "立行立改的问题需要至少一张整改照片")
        if finding["deadline"] is not None and finding["deadline"] < inspected_on:
            fail(f"findings[{i}].deadline", "整改时限不能早于检查日期")
        if len(set(finding["photos"])) != len(finding["photos"]):
            fail(f"findings[{i}].photos", "照片重复")

    for i, answer in enumerate(data["answers"]):
        if answer["result"] == "fail" and answer["item_code"] not in finding_items:
            fail(
                f"answers[{i}].result",
                f"检查项 {answer['item_code']} 判定为不合格，但没有对应的问题记录",
            )
    if problems:
        raise Invalid(_summary(problems), fields=problems)
    return {
        "campaign": campaign,
        "version": version,
        "site": site,
        "items": items,
        "inspected_on": inspected_on,
    }


def _summary(problems: dict[str, list[str]]) -> str:
    first = "；".join(f"{path}：{msgs[0]}" for path, msgs in list(problems.items())[:3])
    more = f" 等 {len(problems)} 处" if len(problems) > 3 else ""
    return f"检查记录有误：{first}{more}"


def _remove_draft(inspection: Inspection) -> None:
    """A draft is not yet an official record: replacing it removes what it had."""
    finding_ids = select(Finding.id).where(Finding.inspection_id == inspection.id)
    db.session.execute(
        delete(RectificationEvent).where(RectificationEvent.finding_id.in_(finding_ids))
    )
    db.session.execute(delete(FindingPhoto).where(FindingPhoto.finding_id.in_(finding_ids)))
    db.session.execute(delete(Finding).where(Finding.inspection_id == inspection.id))
    db.session.execute(delete(Answer).where(Answer.inspection_id == inspection.id))
    db.session.delete(inspection)
    db.session.flush()


def _store(user: User, uuid: str, data: dict, digest: str, context: dict) -> Inspection:
    campaign, version, site, items = (
        context["campaign"],
        context["version"],
        context["site"],
        context["items"],
    )
    now = utcnow()
    location = data.get("location") or {}
    inspection = Inspection(
        uuid=uuid,
        campaign_id=campaign.id,
        checklist_version_id=version.id,
        site_id=site.id,
        inspector_id=user.id,
        started_at=data["started_at"],
        finished_at=data.get("finished_at"),
        lat=location.get("lat"),
        lon=location.get("lon"),
        final=data["final"],
        body_digest=digest,
        created_at=now,
        updated_at=now,
    )
    db.session.add(inspection)
    db.session.flush()
    if data["answers"]:
        # One multi-row INSERT; the answers' ids are never needed here.
        db.session.execute(
            insert(Answer),
            [
                {
                    "inspection_id": inspection.id,
                    "item_id": items[answer["item_code"]].id,
                    "result": answer["result"],
                    "note": answer["note"],
                }
                for answer in data["answers"]
            ],
        )
    first_seq = next_seq(len(data["findings"])) if data["findings"] else 0
    for position, body in enumerate(data["findings"]):
        item = items[body["item_code"]]
        severity = body["severity"] or item.default_severity
        deadline = body["deadline"] or default_deadline(campaign, severity, context["inspected_on"])
        finding = Finding(
            uuid=str(body["id"]),
            inspection_id=inspection.id,
            campaign_id=campaign.id,
            site_id=site.id,
            item_id=item.id,
            district=site.district,
            description=body["description"],
            severity=severity,
            major_hazard=body["major_hazard"],
            requirement=body["requirement"],
            deadline=deadline,
            fixed_on_spot=body["fixed_on_spot"],
            status="open",
            responsible_department=body["responsible_department"] or item.lead_department,
            found_at=data["started_at"],
            created_at=now,
            updated_at=now,
            sync_seq=first_seq + position,
        )
        finding.photos = [
            FindingPhoto(sha256=sha, position=i) for i, sha in enumerate(body["photos"])
        ]
        finding.events.append(
            RectificationEvent(
                action="record",
                from_status=None,
                to_status="open",
                actor_id=user.id,
                at=now,
                note="现场检查发现",
                # The original deadline, so the history shows it before any extension.
                deadline=deadline,
            )
        )
        if body["fixed_on_spot"]:
            # 立行立改: fixed while the inspector watched, proven by the photos.
            finding.events.append(
                RectificationEvent(
                    action="fix_on_spot",
                    from_status="open",
                    to_status="closed",
                    actor_id=user.id,
                    at=now,
                    note="立行立改",
                    photos=list(body["photos"]),
                )
            )
            finding.status = "closed"
            finding.closed_at = now
        db.session.add(finding)
    db.session.flush()
    return inspection


def default_deadline(campaign: Campaign, severity: str, inspected_on):
    days = campaign.key_deadline_days if severity == "key" else campaign.general_deadline_days
    return inspected_on + timedelta(days=days)


def missing_photos(inspection_id: int) -> list[str]:
    """Photos the inspection's findings name that have not been uploaded yet."""
    rows = db.session.scalars(
        select(FindingPhoto.sha256)
        .join(Finding, Finding.id == FindingPhoto.finding_id)
        .outerjoin(Photo, Photo.sha256 == FindingPhoto.sha256)
        .where(Finding.inspection_id == inspection_id, Photo.sha256.is_(None))
        .distinct()
        .order_by(FindingPhoto.sha256)
    )
    return list(rows)


def inspection_result(inspection: Inspection) -> dict:
    missing = missing_photos(inspection.id)
    if not inspection.final:
        status = "draft"
    elif missing:
        status = "awaiting_photos"
    else:
        status = "complete"
    findings = db.session.execute(
        select(Finding.id, Finding.uuid, Finding.status)
        .where(Finding.inspection_id == inspection.id)
        .order_by(Finding.id)
    ).all()
    return {
        "id": inspection.id,
        "uuid": inspection.uuid,
        "status": status,
        "missing_photos": missing,
        "findings": [{"id": f.id, "uuid": f.uuid, "status": f.status} for f in findings],
    }


def visible_inspection(user: User, uuid: str) -> Inspection:
    row = db.session.execute(
        select(Inspection, Site.district)
        .join(Site, Site.id == Inspection.site_id)
        .where(Inspection.uuid == uuid)
    ).first()
    if row is None or not user.can_see_district(row[1]):
        raise NotFound("检查记录不存在")
    return row[0]


def inspection_view(inspection: Inspection) -> dict:
    """The inspection as stored, in the shape the phone sent it, plus server ids and status."""
    result = inspection_result(inspection)
    version = db.session.get(ChecklistVersion, inspection.checklist_version_id)
    campaign = db.session.get(Campaign, inspection.campaign_id)
    codes = dict(
        db.session.execute(
            select(ChecklistItem.id, ChecklistItem.code).where(
                ChecklistItem.checklist_version_id == version.id
            )
        ).all()
    )
    inspector = db.session.get(User, inspection.inspector_id)
    findings = list(
        db.session.scalars(
            select(Finding).where(Finding.inspection_id == inspection.id).order_by(Finding.id)
        )
    )
    return {
        **result,
        "campaign": campaign.code,
        "checklist_version": version.version,
        "site_id": inspection.site_id,
        "inspector": inspector.username,
        "started_at": inspection.started_at,
        "finished_at": inspection.finished_at,
        "location": (
            {"lat": inspection.lat, "lon": inspection.lon} if inspection.lat is not None else None
        ),
        "final": inspection.final,
        "answers": [
            {"item_code": codes[a.item_id], "result": a.result, "note": a.note}
            for a in inspection.answers
        ],
        "findings": [
            {
                "id": f.uuid,
                "server_id": f.id,
                "status": f.status,
                "item_code": codes.get(f.item_id),
                "description": f.description,
                "severity": f.severity,
                "major_hazard": f.major_hazard,
                "requirement": f.requirement,
                "deadline": f.deadline,
                "fixed_on_spot": f.fixed_on_spot,
                "responsible_department": f.responsible_department,
                "photos": [p.sha256 for p in f.photos],
            }
            for f in findings
        ],
    }
