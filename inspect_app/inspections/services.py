"""Storing inspections the phones made offline: idempotent, all or nothing.

A phone PUTs the whole inspection under its own UUID, as often as its link
needs. The same body again is a replay (200, same answer); a different body
for a final inspection, or from another user, is a conflict (409); a draft
may be replaced until it is final. Everything of one inspection (answers,
findings, their photos and first events) is written in the request's one
transaction.

Replacing a draft deletes nothing that was synced: a team lead's phone may already
hold its findings from the feed. Findings the new body keeps (same id) are updated
in place and keep their server id; findings it drops are withdrawn (撤回): voided by
a "withdraw" event of the inspector, marked ``withdrawn_at``, and shown in the feed
as a tombstone (``deleted``), the way sites are.

This is the phones' busiest write, so it is written with a handful of Core
statements (one per table, several rows each) rather than through the ORM's
unit of work, and its answer is built from what was written.
"""

import hashlib
import json
from datetime import date, datetime
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import NullType

from inspect_app.audit import services as audit
from inspect_app.audit.models import AuditLog
from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.campaigns.services import CampaignRef, ChecklistRef, checklist_ref
from inspect_app.db_types import utcnow
from inspect_app.domain import SHANGHAI, add_days
from inspect_app.errors import Conflict, Invalid, NotFound
from inspect_app.extensions import db, reads_outside_transaction
from inspect_app.field_labels import describe
from inspect_app.findings.models import Finding, FindingPhoto, RectificationEvent
from inspect_app.inspections.models import Answer, Inspection
from inspect_app.photos import services as photo_services
from inspect_app.photos.models import Photo
from inspect_app.sites.models import Site
from inspect_app.sync.services import next_seq, take_sql

TAKEN = "检查记录或问题编号已被另一条记录使用"

_inspections = Inspection.__table__
_answers = Answer.__table__
_findings = Finding.__table__
_finding_photos = FindingPhoto.__table__
_events = RectificationEvent.__table__

# Built once: building a statement costs more than running it on SQLite.
_SITE_SQL = (
    f"SELECT district, site_type, deleted_at, merged_into_id FROM {Site.__table__.name} "
    "WHERE id = ?"
)
_EXISTING = select(
    _inspections.c.id,
    _inspections.c.uuid,
    _inspections.c.inspector_id,
    _inspections.c.body_digest,
    _inspections.c.final,
).where(_inspections.c.uuid == bindparam("uuid"))
# ON CONFLICT (uuid) DO NOTHING: a taken UUID returns no row, and on PostgreSQL a
# concurrent insert of the same UUID is waited for instead of failing.
_INSERT_INSPECTION = {
    name: dialect.insert(_inspections)
    .on_conflict_do_nothing(index_elements=["uuid"])
    .returning(_inspections.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_INSERT_ANSWERS = insert(_answers)
_INSERT_FINDINGS = insert(_findings).returning(_findings.c.id, sort_by_parameter_order=True)
_INSERT_EVENTS = insert(_events)
_INSERT_FINDING_PHOTOS = insert(_finding_photos)
_UPLOADED = select(Photo.sha256).where(Photo.sha256.in_(bindparam("photos", expanding=True)))

# Replacing a draft: the inspection row and its findings are updated in place.
_REPLACED_COLUMNS = (
    "campaign_id",
    "checklist_version_id",
    "site_id",
    "started_at",
    "finished_at",
    "lat",
    "lon",
    "final",
    "body_digest",
    "updated_at",
)
# "AND body_digest = <as read>": a concurrent replacement of the same draft updates no row.
_REPLACE_INSPECTION = (
    update(_inspections)
    .where(
        _inspections.c.id == bindparam("b_id"),
        _inspections.c.body_digest == bindparam("b_digest"),
    )
    .values({name: bindparam(f"v_{name}") for name in _REPLACED_COLUMNS})
    .returning(_inspections.c.id)
)
_DRAFT_FINDINGS = select(
    _findings.c.id, _findings.c.uuid, _findings.c.status, _findings.c.closed_at
).where(_findings.c.inspection_id == bindparam("inspection_id"))
_KEPT_COLUMNS = (
    "campaign_id",
    "site_id",
    "item_id",
    "district",
    "description",
    "severity",
    "major_hazard",
    "requirement",
    "deadline",
    "fixed_on_spot",
    "status",
    "responsible_department",
    "found_at",
    "closed_at",
    "withdrawn_at",
    "updated_at",
    "sync_seq",
)
# Bumping version makes an ORM reader of the old row (a lifecycle move) collide, as it should.
_UPDATE_FINDINGS = (
    update(_findings)
    .where(_findings.c.id == bindparam("b_id"))
    .values(
        {name: bindparam(f"v_{name}") for name in _KEPT_COLUMNS}
        | {"version": _findings.c.version + 1}
    )
)
# Withdrawing changes only this; the rest of the row stays as the team lead saw it.
_WITHDRAWN_COLUMNS = ("status", "closed_at", "withdrawn_at", "updated_at", "sync_seq")
_WITHDRAW_FINDINGS = (
    update(_findings)
    .where(_findings.c.id == bindparam("b_id"))
    .values(
        {name: bindparam(f"v_{name}") for name in _WITHDRAWN_COLUMNS}
        | {"version": _findings.c.version + 1}
    )
)
_DELETE_FINDING_PHOTOS = delete(_finding_photos).where(
    _finding_photos.c.finding_id.in_(bindparam("finding_ids", expanding=True))
)
WITHDRAWN_NOTE = "检查员修改草稿时撤回"
RESTORED_NOTE = "检查员修改草稿时恢复"
REVISED_NOTE = "检查员修改草稿：改为待整改"
# Events a draft's findings carry before anyone else has moved them.
_DRAFT_ACTIONS = ("record", "fix_on_spot", "withdraw")


def body_digest(data: dict) -> str:
    """SHA-256 of the validated body in canonical form (key order and spacing do not matter)."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def put_inspection(
    user: User,
    uuid: str,
    data: dict,
    cache_seconds: float = 0,
    source: str = "app",
    *,
    commit_new: bool = False,
) -> tuple[dict, bool]:
    """Create or replace the inspection; returns (result, created).

    ``commit_new``: on SQLite, a new inspection is committed as soon as its last row is
    written, so the write lock is released before anything else of the request runs (the
    caller writes nothing more: the JSON API's PUT; not a submission, which goes on to
    store its XML and photos in the same transaction).

    ``source`` says where a new inspection came from (``Inspection.source``); a
    replacement keeps the one it had.

    What needs no database (the digest, the checklist from the process cache, the
    body's own rules) is done before the first statement: on SQLite that statement
    takes the write lock that every other writer waits for. ``cache_seconds`` is how
    long this process may remember a checklist version and its campaign.
    """
    digest = body_digest(data)
    campaign, checklist = checklist_ref(data["campaign"], data["checklist_version"], cache_seconds)
    head: dict[str, list[str]] = {}
    if campaign is None:
        head["campaign"] = [f"「{data['campaign']}」不存在"]
    elif checklist is None:
        head["checklist_version"] = [f"该专项行动没有第 {data['checklist_version']} 版检查清单"]
    site = _read_site(data["site_id"])
    if site is None or not user.can_see_district(site.district):
        head["site_id"] = ["站点不存在或不在您的辖区"]
        site_type = None
    elif site.deleted_at is not None:
        head["site_id"] = [_site_gone(site)]
        site_type = None
    else:
        site_type = site.site_type
    item_problems = _item_problems(data, checklist, site_type) if checklist is not None else {}
    problems = {**head, **item_problems, **photo_services.finding_photo_problems(user, data)}
    if problems:
        # A replay, or a body for someone else's inspection, answers as it always did,
        # whatever has become of what the body names.
        existing = _existing(uuid)
        if existing is not None:
            outcome = _against_existing(user, existing, digest)
            if outcome is not None:
                return outcome, False
        raise Invalid(_summary(problems), fields=problems)

    store = (user, uuid, data, digest, campaign, checklist, site.district)
    replaced = False
    try:
        result = _store(*store, source=source, commit=commit_new)
        if result is None:
            # The UUID is taken: a replay, someone else's record, or a draft to replace.
            existing = _existing(uuid)
            if existing is None:
                raise Conflict(TAKEN)
            outcome = _against_existing(user, existing, digest)
            if outcome is not None:
                return outcome, False
            replaced = True
            result = _replace_draft(existing, *store)
            if result is None:
                # Another request replaced the same draft a moment before.
                other = _existing(uuid)
                if (
                    other is not None
                    and other.body_digest == digest
                    and other.inspector_id == user.id
                ):
                    return inspection_result(other), False
                raise Conflict(TAKEN)
    except IntegrityError:
        # A finding's UUID belongs to another inspection. Whatever of this one was written
        # goes with the request's transaction, which its boundary rolls back.
        raise Conflict(TAKEN) from None
    if replaced:
        # A new inspection's entry is written with it (``_store``).
        audit.record(
            user.id,
            "inspection.replace",
            "inspection",
            uuid,
            {"findings": len(data["findings"]), "final": data["final"]},
        )
    return result, not replaced


def _read_site(site_id: int):
    """The inspected site's district, type and deletion, read before the write begins.

    On SQLite the request's transaction takes the write lock at its first statement
    (BEGIN IMMEDIATE), so the site is read outside it and the checks below run with no
    lock held; the inserts' foreign key still refuses a site that is gone. On
    PostgreSQL there is no such lock and the read stays on the request's connection.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        with reads_outside_transaction() as connection:
            # On the driver: only whether deleted_at is set matters here, not its value.
            driver = connection.connection.driver_connection
            row = driver.execute(_SITE_SQL, (site_id,)).fetchone()
            return None if row is None else _SiteRow(*row)
    driver = db.session.connection().connection.driver_connection
    row = driver.execute(_SITE_SQL.replace("?", "%s"), (site_id,)).fetchone()
    return None if row is None else _SiteRow(*row)


class _SiteRow(NamedTuple):
    district: str
    site_type: str
    deleted_at: object
    merged_into_id: int | None


def _site_gone(site: _SiteRow) -> str:
    """What an inspector is told of a site retired or merged while they were offline:
    what to do, since the record is theirs and stays on the phone until sent."""
    winner = site.merged_into_id
    seen = set()
    while winner is not None and winner not in seen:  # a merge into a site merged later
        seen.add(winner)
        row = db.session.get(Site, winner)
        if row is None or row.merged_into_id is None:
            break
        winner = row.merged_into_id
    row = db.session.get(Site, winner) if winner is not None else None
    if row is not None and row.deleted_at is None:
        return f"该站点已并入「{row.name}」（编号 {row.id}），请改选该站点后重新提交"
    return "该站点已注销（关停或取缔），不能再提交检查记录；如有问题请联系专项办"


def _existing(uuid: str):
    return db.session.connection().execute(_EXISTING, {"uuid": uuid}).first()


def _against_existing(user: User, existing, digest: str) -> dict | None:
    if existing.inspector_id != user.id:
        # Whose it is stays unsaid: it may be a record of another district.
        raise Conflict(TAKEN)
    if existing.body_digest == digest:
        return inspection_result(existing)
    if existing.final:
        raise Conflict("该检查记录已定稿，不能用不同的内容覆盖")
    moved = db.session.scalar(
        select(RectificationEvent.id)
        .join(Finding, Finding.id == RectificationEvent.finding_id)
        .where(
            Finding.inspection_id == existing.id,
            RectificationEvent.action.not_in(_DRAFT_ACTIONS),
        )
        .limit(1)
    )
    if moved is not None:
        raise Conflict("该检查记录中的问题已进入整改流程，不能再覆盖")
    return None


def _item_problems(
    data: dict, checklist: ChecklistRef, site_type: str | None
) -> dict[str, list[str]]:
    """What the body gets wrong about the checklist's items, by JSON path.

    ``site_type`` is the inspected site's 场所类型 (None when the site is not there to
    see): an item checked at other types of site takes neither answer nor finding.
    """
    problems: dict[str, list[str]] = {}

    def fail(path: str, message: str) -> None:
        problems.setdefault(path, []).append(message)

    def elsewhere(code: str) -> str:
        meant_for = "、".join(sorted(items[code].site_types))
        return f"检查项 {code} 只用于{meant_for}，不适用于{site_type}"

    items = checklist.items
    seen: set[str] = set()
    for i, answer in enumerate(data["answers"]):
        code = answer["item_code"]
        if code not in items:
            fail(
                f"answers[{i}].item_code", f"检查项 {code} 不在第 {checklist.version} 版检查清单中"
            )
        elif site_type is not None and not items[code].applies_to(site_type):
            fail(f"answers[{i}].item_code", elsewhere(code))
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
            fail(
                f"findings[{i}].item_code", f"检查项 {code} 不在第 {checklist.version} 版检查清单中"
            )
            continue
        if site_type is not None and not item.applies_to(site_type):
            fail(f"findings[{i}].item_code", elsewhere(code))
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
    return problems


def _summary(problems: dict[str, list[str]]) -> str:
    return describe("检查记录有误", problems)


def _replace_draft(
    existing,
    user: User,
    uuid: str,
    data: dict,
    digest: str,
    campaign: CampaignRef,
    checklist: ChecklistRef,
    district: str,
) -> dict | None:
    """Replace the draft in place; None if another request replaced it a moment before.

    Answers are not synced and are written afresh. Findings are matched by the phone's
    id: kept ones are updated (same server id, their history kept and added to when
    their status changes), new ones inserted, dropped ones withdrawn.
    """
    connection = db.session.connection()
    items = checklist.items
    now = utcnow()
    location = data.get("location") or {}
    values = {
        "campaign_id": campaign.id,
        "checklist_version_id": checklist.id,
        "site_id": data["site_id"],
        "started_at": data["started_at"],
        "finished_at": data.get("finished_at"),
        "lat": location.get("lat"),
        "lon": location.get("lon"),
        "final": data["final"],
        "body_digest": digest,
        "updated_at": now,
    }
    replaced = connection.execute(
        _REPLACE_INSPECTION,
        {"b_id": existing.id, "b_digest": existing.body_digest}
        | {f"v_{name}": value for name, value in values.items()},
    ).scalar()
    if replaced is None:
        return None
    inspection_id = existing.id
    connection.execute(delete(_answers).where(_answers.c.inspection_id == inspection_id))
    _insert_answers(connection, data, inspection_id, items)

    current = {
        row.uuid: row
        for row in connection.execute(_DRAFT_FINDINGS, {"inspection_id": inspection_id})
    }
    bodies = data["findings"]
    wanted = {str(body["id"]) for body in bodies}
    kept = [(body, current[str(body["id"])]) for body in bodies if str(body["id"]) in current]
    added = [body for body in bodies if str(body["id"]) not in current]
    dropped = [row for key, row in current.items() if key not in wanted and row.status != "voided"]
    count = len(kept) + len(added) + len(dropped)
    seq = next_seq(count) if count else 0
    stored = _store_findings(
        connection, user, data, added, inspection_id, campaign, items, district, now, seq
    )
    seq += len(added)

    inspected_on = data["started_at"].astimezone(SHANGHAI).date()
    updates, events, photos = [], [], []
    for body, row in kept:
        finding = _finding_row(body, data, campaign, items, district, inspected_on)
        status = finding["status"]
        closed_at = (row.closed_at or done_time(data)) if status == "closed" else None
        updates.append(
            {f"v_{name}": finding[name] for name in _KEPT_COLUMNS if name in finding}
            | {
                "b_id": row.id,
                "v_closed_at": closed_at,
                "v_withdrawn_at": None,
                "v_updated_at": now,
                "v_sync_seq": seq,
            }
        )
        seq += 1
        events.extend(_status_events(row, finding, body, data, user, now))
        photos.extend(
            {"finding_id": row.id, "sha256": sha, "position": i}
            for i, sha in enumerate(body["photos"])
        )
        stored.append({"id": row.id, "uuid": row.uuid, "status": status})
    withdrawn = []
    for row in dropped:
        withdrawn.append(
            {
                "b_id": row.id,
                "v_status": "voided",
                "v_closed_at": None,
                "v_withdrawn_at": now,
                "v_updated_at": now,
                "v_sync_seq": seq,
            }
        )
        seq += 1
        when = (done_time(data), now)
        events.append(_event(row.id, "withdraw", row.status, "voided", user, when, WITHDRAWN_NOTE))
    if updates:
        connection.execute(_UPDATE_FINDINGS, updates)
        connection.execute(_DELETE_FINDING_PHOTOS, {"finding_ids": [row.id for _, row in kept]})
    if withdrawn:
        connection.execute(_WITHDRAW_FINDINGS, withdrawn)
    if events:
        connection.execute(_INSERT_EVENTS, events)
    if photos:
        connection.execute(_INSERT_FINDING_PHOTOS, photos)
    names = sorted({sha for finding in bodies for sha in finding["photos"]})
    missing = _not_uploaded(names) if names else []
    return {
        "id": inspection_id,
        "uuid": uuid,
        "status": _status(data["final"], missing),
        "missing_photos": missing,
        "findings": sorted(stored, key=lambda finding: finding["id"]),
    }


def found_time(data: dict) -> datetime:
    """When the inspection's findings were found, per the phone: the inspection's start."""
    return data["started_at"]


def done_time(data: dict) -> datetime:
    """When the inspection was done, per the phone: what it settled (立行立改) it settled
    by then. Its end, or its start when the phone gave no end."""
    return data.get("finished_at") or data["started_at"]


def _event(finding_id, action, from_status, to_status, user, when, note, deadline=None, photos=()):
    """An event row; ``when`` is (happened at per the phone, received at by the server)."""
    at, received_at = when
    return {
        "finding_id": finding_id,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "actor_id": user.id,
        "at": at,
        "received_at": received_at,
        "note": note,
        "deadline": deadline,
        "photos": list(photos),
    }


def _status_events(row, finding: dict, body: dict, data: dict, user: User, now) -> list[dict]:
    """The events that take a kept finding from its stored status to the new body's."""
    events = []
    status = row.status
    if status == finding["status"]:
        return events
    # The phone changed the draft: what it changed happened by the inspection's end.
    when = (done_time(data), now)
    if status == "voided":
        # Withdrawn by an earlier replacement, back in this one.
        events.append(
            _event(row.id, "record", status, "open", user, when, RESTORED_NOTE, finding["deadline"])
        )
        status = "open"
    if finding["status"] == "closed":
        fixed = _event(row.id, "fix_on_spot", status, "closed", user, when, "立行立改")
        events.append(fixed | {"photos": list(body["photos"])})
    elif status == "closed":
        events.append(
            _event(row.id, "record", status, "open", user, when, REVISED_NOTE, finding["deadline"])
        )
    return events


def _store(
    user: User,
    uuid: str,
    data: dict,
    digest: str,
    campaign: CampaignRef,
    checklist: ChecklistRef,
    district: str,
    source: str = "app",
    commit: bool = False,
) -> dict | None:
    """Write the inspection, everything in it and its audit entry; None if its UUID is taken.

    Every row is made before the first statement (which on SQLite takes the write lock),
    then written on the driver's connection, inside the request's transaction: on SQLite
    with prepared statements, on PostgreSQL as one statement (see ``_write_postgresql``).
    """
    items = checklist.items
    now = utcnow()
    location = data.get("location") or {}
    inspection = {
        "uuid": uuid,
        "campaign_id": campaign.id,
        "checklist_version_id": checklist.id,
        "site_id": data["site_id"],
        "inspector_id": user.id,
        "started_at": data["started_at"],
        "finished_at": data.get("finished_at"),
        "lat": location.get("lat"),
        "lon": location.get("lon"),
        "final": data["final"],
        "body_digest": digest,
        "source": source,
        "created_at": now,
        "updated_at": now,
    }
    answers = [
        {
            "item_id": items[answer["item_code"]].id,
            "result": answer["result"],
            "note": answer["note"],
        }
        for answer in data["answers"]
    ]
    bodies = data["findings"]
    inspected_on = data["started_at"].astimezone(SHANGHAI).date()
    # The phone's times, however long after the inspection it synced; ``now`` is the receipt.
    found, done = (found_time(data), now), (done_time(data), now)
    findings, events, photos = [], [], []
    for position, body in enumerate(bodies):
        fixed = body["fixed_on_spot"]
        row = {
            "uuid": str(body["id"]),
            **_finding_row(body, data, campaign, items, district, inspected_on),
            "closed_at": done_time(data) if fixed else None,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        findings.append(row)
        # The original deadline, so the history shows it before any extension.
        events.append(
            (
                position,
                _event(None, "record", None, "open", user, found, "现场检查发现", row["deadline"]),
            )
        )
        if fixed:
            fix = _event(
                None, "fix_on_spot", "open", "closed", user, done, "立行立改", photos=body["photos"]
            )
            events.append((position, fix))
        photos.extend(
            (position, {"sha256": sha, "position": i}) for i, sha in enumerate(body["photos"])
        )
    # As ``audit.record`` writes it, in the same transaction.
    entry = {
        "at": now,
        "user_id": user.id,
        "action": "inspection.create",
        "object_type": "inspection",
        "object_id": uuid,
        "detail": {"findings": len(bodies), "final": data["final"]},
        "address": None,
    }
    rows = _Rows(inspection, answers, findings, events, photos, entry)
    if db.session.get_bind().dialect.name == "postgresql":
        written = _write_postgresql(db.session.connection(), rows)
    else:
        written = _write_sqlite(rows, commit)
    if written is None:
        return None
    inspection_id, ids = written
    names = sorted({sha for finding in bodies for sha in finding["photos"]})
    missing = _not_uploaded(names) if names else []
    return {
        "id": inspection_id,
        "uuid": uuid,
        "status": _status(data["final"], missing),
        "missing_photos": missing,
        "findings": sorted(
            (
                {"id": finding_id, "uuid": row["uuid"], "status": row["status"]}
                for finding_id, row in zip(ids, findings, strict=True)
            ),
            key=lambda finding: finding["id"],
        ),
    }


class _Rows(NamedTuple):
    """The rows of one new inspection, before the database gives them their ids.

    ``events`` and ``photos`` are (index of their finding in ``findings``, row).
    """

    inspection: dict
    answers: list[dict]
    findings: list[dict]
    events: list[tuple[int, dict]]
    photos: list[tuple[int, dict]]
    audit: dict


# The columns each table gets from ``_Rows``, after the ids the database gives.
_COLUMNS = {
    "inspection": [c.name for c in _inspections.columns if c.name != "id"],
    "answers": ["inspection_id", "item_id", "result", "note"],
    "findings": ["inspection_id", "sync_seq", *_KEPT_COLUMNS[:-1], "uuid", "created_at", "version"],
    "events": [c.name for c in _events.columns if c.name != "id"],
    "photos": ["finding_id", "sha256", "position"],
}
_COLUMNS["findings"].remove("withdrawn_at")
_TABLES = {
    "inspection": _inspections,
    "answers": _answers,
    "findings": _findings,
    "events": _events,
    "photos": _finding_photos,
    "audit": AuditLog.__table__,
}
_COLUMNS["audit"] = [c.name for c in AuditLog.__table__.columns if c.name != "id"]


class _SQLite:
    """Prepared INSERTs for the sqlite3 connection, with SQLAlchemy's own bind processing
    of each column (so every value is stored exactly as a Core insert would store it)."""

    # How many leading columns of each table are ids the database gives (not processed).
    IDS = {"inspection": 0, "answers": 1, "findings": 2, "events": 1, "photos": 1, "audit": 0}

    def __init__(self, dialect):
        self.sql, self.getters, self.processors = {}, {}, {}
        for key, columns in _COLUMNS.items():
            table = _TABLES[key]
            conflict = " ON CONFLICT (uuid) DO NOTHING" if key == "inspection" else ""
            self.sql[key] = (
                f"INSERT INTO {table.name} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))}){conflict}"
            )
            rest = columns[self.IDS[key] :]
            self.getters[key] = itemgetter(*rest) if len(rest) > 1 else lambda r, n=rest[0]: (r[n],)
            self.processors[key] = [
                (i, process)
                for i, name in enumerate(rest)
                if (process := table.c[name].type._cached_bind_processor(dialect)) is not None
            ]

    def values(self, key: str, row: dict) -> list:
        """The row's values after its ids, as the driver takes them."""
        values = list(self.getters[key](row))
        for i, process in self.processors[key]:
            values[i] = process(values[i])
        return values


_sqlite_statements: list[_SQLite] = []


def _write_sqlite(rows: _Rows, commit: bool = False) -> tuple[int, list[int]] | None:
    """Write on SQLite with the driver's prepared statements. Every value is made first;
    the write lock (the request's BEGIN IMMEDIATE, at ``db.session.connection()``)
    covers the inserts alone."""
    if not _sqlite_statements:
        _sqlite_statements.append(_SQLite(db.session.get_bind().dialect))
    sql = _sqlite_statements[0]
    inspection = sql.values("inspection", rows.inspection)
    answers = [sql.values("answers", row) for row in rows.answers]
    findings = [sql.values("findings", row) for row in rows.findings]
    events = [(i, sql.values("events", row)) for i, row in rows.events]
    photos = [(i, sql.values("photos", row)) for i, row in rows.photos]
    audit_entry = sql.values("audit", rows.audit)
    connection = db.session.connection()
    driver = connection.connection.driver_connection
    cursor = driver.cursor()
    try:
        cursor.execute(sql.sql["inspection"], inspection)
        if cursor.rowcount != 1:
            return None
        inspection_id = cursor.lastrowid
        cursor.executemany(sql.sql["answers"], [(inspection_id, *row) for row in answers])
        ids = []
        if findings:
            count = len(findings)
            first = cursor.execute(take_sql("?"), (count,)).fetchone()[0] - count + 1
            for position, row in enumerate(findings):
                cursor.execute(sql.sql["findings"], (inspection_id, first + position, *row))
                ids.append(cursor.lastrowid)
            cursor.executemany(sql.sql["events"], [(ids[i], *row) for i, row in events])
            if photos:
                cursor.executemany(sql.sql["photos"], [(ids[i], *row) for i, row in photos])
        cursor.execute(sql.sql["audit"], audit_entry)
        if commit:
            # The lock goes here; the session's COMMIT later finds nothing left to commit.
            connection.exec_driver_sql("COMMIT")
    except connection.dialect.dbapi.IntegrityError:
        # A finding's UUID belongs to another inspection, or the site is gone; what was
        # written goes with the request's transaction, which its boundary rolls back.
        raise Conflict(TAKEN) from None
    finally:
        cursor.close()
    return inspection_id, ids


def _recordset(key: str, extra: str = "") -> str:
    """``jsonb_to_recordset(<param>) AS r(<columns with their PostgreSQL types>)``."""
    table = _TABLES[key]
    dialect = postgresql.dialect()
    columns = []
    for name in _COLUMNS[key]:
        column = table.c[name]
        kind = column.type
        if isinstance(kind, NullType):  # a foreign key's column: its target's type
            kind = next(iter(column.foreign_keys)).column.type
        columns.append(f"{name} {kind.compile(dialect=dialect)}")
    return f"jsonb_to_recordset(%({key})s::jsonb) AS {key}_r({extra}{', '.join(columns)})"


def _postgresql_statement() -> str:
    """The whole new inspection as one statement: each table's rows come as a JSON array
    and data-modifying CTEs hand each insert the ids of the one before.

    The feed's counter row is taken in this statement, so its row lock is held only
    from here to COMMIT (the next round trip): concurrent PUTs queue for that alone,
    and positions are still handed out in commit order (``sync.services``).
    """

    def names(key, *skip):
        return ", ".join(n for n in _COLUMNS[key] if n not in skip)

    def picked(key, *skip):
        return ", ".join(f"{key}_r.{n}" for n in _COLUMNS[key] if n not in skip)

    return f"""
WITH i AS (
  INSERT INTO {_inspections.name} ({names("inspection")})
  SELECT {picked("inspection")} FROM {_recordset("inspection")}
  ON CONFLICT (uuid) DO NOTHING RETURNING id
), c AS (
  {take_sql("%(count)s", " AND %(count)s > 0 AND EXISTS (SELECT FROM i)")}
), a AS (
  INSERT INTO {_answers.name} ({names("answers")})
  SELECT i.id, {picked("answers", "inspection_id")} FROM i, {_recordset("answers")}
), f AS (
  INSERT INTO {_findings.name} ({names("findings")})
  SELECT i.id, c.value - %(count)s + 1 + findings_r.position,
    {picked("findings", "inspection_id", "sync_seq")}
  FROM i, c, {_recordset("findings", "position bigint, ")}
  ORDER BY findings_r.position
  RETURNING id, uuid
), e AS (
  INSERT INTO {_events.name} ({names("events")})
  SELECT f.id, {picked("events", "finding_id")}
  FROM f JOIN {_recordset("events", "finding_uuid text, rank int, ")}
    ON events_r.finding_uuid = f.uuid
  ORDER BY events_r.rank
), p AS (
  INSERT INTO {_finding_photos.name} ({names("photos")})
  SELECT f.id, {picked("photos", "finding_id")}
  FROM f JOIN {_recordset("photos", "finding_uuid text, ")} ON photos_r.finding_uuid = f.uuid
), l AS (
  INSERT INTO {AuditLog.__table__.name} ({names("audit")})
  SELECT {picked("audit")} FROM i, {_recordset("audit")}
)
SELECT i.id, f.id, f.uuid FROM i LEFT JOIN f ON true"""


_postgresql_statements: list[str] = []


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _write_postgresql(connection, rows: _Rows) -> tuple[int, list[int]] | None:
    """Write on PostgreSQL in one round trip (``_postgresql_statement``)."""
    if not _postgresql_statements:
        _postgresql_statements.append(_postgresql_statement())
    uuids = [row["uuid"] for row in rows.findings]
    tables = {
        "inspection": [rows.inspection],
        "answers": rows.answers,
        "findings": [row | {"position": i} for i, row in enumerate(rows.findings)],
        "events": [
            row | {"finding_uuid": uuids[i], "rank": rank}
            for rank, (i, row) in enumerate(rows.events)
        ],
        "photos": [row | {"finding_uuid": uuids[i]} for i, row in rows.photos],
        "audit": [rows.audit],
    }
    parameters = {
        key: json.dumps(value, ensure_ascii=False, default=_json_value)
        for key, value in tables.items()
    }
    parameters["count"] = len(rows.findings)
    result = connection.exec_driver_sql(_postgresql_statements[0], parameters).all()
    if not result:
        return None
    by_uuid = {finding_uuid: finding_id for _, finding_id, finding_uuid in result}
    return result[0][0], [by_uuid[finding_uuid] for finding_uuid in uuids]


def _insert_answers(connection, data: dict, inspection_id: int, items) -> None:
    if data["answers"]:
        connection.execute(
            _INSERT_ANSWERS,
            [
                {
                    "inspection_id": inspection_id,
                    "item_id": items[answer["item_code"]].id,
                    "result": answer["result"],
                    "note": answer["note"],
                }
                for answer in data["answers"]
            ],
        )


def _finding_row(body: dict, data: dict, campaign, items, district: str, inspected_on) -> dict:
    """The columns of a finding that its body (and its inspection's) decide."""
    item = items[body["item_code"]]
    severity = body["severity"] or item.default_severity
    fixed = body["fixed_on_spot"]
    return {
        "campaign_id": campaign.id,
        "site_id": data["site_id"],
        "item_id": item.id,
        "district": district,
        "description": body["description"],
        "severity": severity,
        "major_hazard": body["major_hazard"],
        "requirement": body["requirement"],
        "deadline": body["deadline"] or default_deadline(campaign, severity, inspected_on),
        "fixed_on_spot": fixed,
        # 立行立改: fixed while the inspector watched, proven by the photos.
        "status": "closed" if fixed else "open",
        "responsible_department": body["responsible_department"] or item.lead_department,
        "found_at": found_time(data),
    }


def _store_findings(
    connection, user, data, bodies, inspection_id, campaign, items, district, now, first_seq
):
    """Insert the findings, their photos and first events; their {id, uuid, status} by id."""
    if not bodies:
        return []
    inspected_on = data["started_at"].astimezone(SHANGHAI).date()
    rows = []
    for position, body in enumerate(bodies):
        fixed = body["fixed_on_spot"]
        rows.append(
            {
                "uuid": str(body["id"]),
                "inspection_id": inspection_id,
                **_finding_row(body, data, campaign, items, district, inspected_on),
                "closed_at": done_time(data) if fixed else None,
                "created_at": now,
                "updated_at": now,
                "sync_seq": first_seq + position,
                "version": 1,
            }
        )
    ids = connection.execute(_INSERT_FINDINGS, rows).scalars().all()
    events = []
    photos = []
    # The phone's times, however long after the inspection it synced; ``now`` is the receipt.
    found, done = (found_time(data), now), (done_time(data), now)
    for finding_id, body, row in zip(ids, bodies, rows, strict=True):
        # The original deadline, so the history shows it before any extension.
        events.append(
            _event(finding_id, "record", None, "open", user, found, "现场检查发现", row["deadline"])
        )
        if body["fixed_on_spot"]:
            events.append(
                _event(
                    finding_id,
                    "fix_on_spot",
                    "open",
                    "closed",
                    user,
                    done,
                    "立行立改",
                    photos=body["photos"],
                )
            )
        photos.extend(
            {"finding_id": finding_id, "sha256": sha, "position": i}
            for i, sha in enumerate(body["photos"])
        )
    connection.execute(_INSERT_EVENTS, events)
    if photos:
        connection.execute(_INSERT_FINDING_PHOTOS, photos)
    return sorted(
        (
            {"id": finding_id, "uuid": row["uuid"], "status": row["status"]}
            for finding_id, row in zip(ids, rows, strict=True)
        ),
        key=lambda finding: finding["id"],
    )


def _not_uploaded(photos: list[str]) -> list[str]:
    """Of the sorted photo names, those not uploaded yet."""
    present = set(db.session.connection().execute(_UPLOADED, {"photos": photos}).scalars())
    return [sha for sha in photos if sha not in present]


def _status(final: bool, missing: list[str]) -> str:
    if not final:
        return "draft"
    return "awaiting_photos" if missing else "complete"


def default_deadline(campaign, severity: str, inspected_on):
    days = campaign.key_deadline_days if severity == "key" else campaign.general_deadline_days
    return add_days(inspected_on, days)


def missing_photos(inspection_id: int) -> list[str]:
    """Photos the inspection's findings name that have not been uploaded yet."""
    rows = db.session.scalars(
        select(FindingPhoto.sha256)
        .join(Finding, Finding.id == FindingPhoto.finding_id)
        .outerjoin(Photo, Photo.sha256 == FindingPhoto.sha256)
        .where(
            Finding.inspection_id == inspection_id,
            Finding.withdrawn_at.is_(None),
            Photo.sha256.is_(None),
        )
        .distinct()
        .order_by(FindingPhoto.sha256)
    )
    return list(rows)


def inspection_result(inspection) -> dict:
    """The answer to a PUT for a stored inspection (an ORM object or a row)."""
    missing = missing_photos(inspection.id)
    findings = db.session.execute(
        select(Finding.id, Finding.uuid, Finding.status)
        .where(Finding.inspection_id == inspection.id, Finding.withdrawn_at.is_(None))
        .order_by(Finding.id)
    ).all()
    return {
        "id": inspection.id,
        "uuid": inspection.uuid,
        "status": _status(inspection.final, missing),
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
            select(Finding)
            .where(Finding.inspection_id == inspection.id, Finding.withdrawn_at.is_(None))
            .order_by(Finding.id)
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
        "source": inspection.source,
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
