"""The site registry (站点台账): imports from the office's spreadsheets, merging and retiring.

An import is planned first, row by row, against the registry as it is (create, update,
unchanged or refused, with the reasons); a dry run stops there. The import applies the
same plan in the request's one transaction: every row that is not refused, or nothing
if the registry changed under it. A file imported twice changes nothing the second time:
every row is "unchanged", and no site takes a new feed position.

Phones learn all of it through the change feed: created and updated sites take new
positions, a retired site becomes a tombstone (``deleted``), and a merge retires the
loser and moves its inspections and findings to the winner, each with a new position.
"""

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from inspect_app.audit import services as audit
from inspect_app.auth.models import User
from inspect_app.db_types import utcnow
from inspect_app.errors import Conflict, Forbidden, Invalid
from inspect_app.extensions import db
from inspect_app.findings.models import Enforcement, Finding
from inspect_app.inspections.models import Inspection
from inspect_app.sites import sheet as sheets
from inspect_app.sites.models import Site
from inspect_app.sync.services import next_seq

# What a row may set on a site; an empty cell never erases what the registry holds
# (a spreadsheet without coordinates keeps the point a phone recorded at the gate).
UPDATABLE = (
    "name",
    "site_type",
    "address",
    "district",
    "lat",
    "lon",
    "contact_name",
    "contact_phone",
)
ACTION_LABELS = {"create": "新增", "update": "更新", "unchanged": "无变化", "refused": "不导入"}
MANAGERS = ("team_lead", "office")


@dataclass
class PlannedRow:
    number: int
    action: str
    values: dict
    site_id: int | None = None
    reasons: list[str] = field(default_factory=list)
    changes: dict = field(default_factory=dict)

    def view(self) -> dict:
        return {
            "row": self.number,
            "action": self.action,
            "action_label": ACTION_LABELS[self.action],
            "site_id": self.site_id,
            "name": self.values.get("name") or "",
            "district": self.values.get("district") or "",
            "credit_code": self.values.get("credit_code"),
            "reasons": self.reasons,
            "changes": {
                sheets.FIELD_LABELS.get(k, k): {"from": old, "to": new}
                for k, (old, new) in self.changes.items()
            },
        }


@dataclass
class _Registry:
    """The sites an import is checked against, read once (a few thousand rows)."""

    by_code: dict[str, Site]
    by_name: dict[tuple[str, str], Site]  # live sites by (name, district)
    by_name_address: dict[tuple[str, str], Site]  # live sites by (name, address)

    @classmethod
    def load(cls) -> "_Registry":
        sites = db.session.scalars(select(Site)).all()
        live = [s for s in sites if s.deleted_at is None]
        return cls(
            {s.credit_code: s for s in sites if s.credit_code},
            {(s.name, s.district): s for s in live},
            {(s.name, s.address): s for s in live if s.address},
        )


def _may_manage(user: User) -> None:
    if user.role not in MANAGERS:
        raise Forbidden("只有组长和专项办可以管理站点台账")


def plan(user: User, rows: list[sheets.SheetRow]) -> list[PlannedRow]:
    """What each row would do to the registry, and why a refused one is refused."""
    _may_manage(user)
    registry = _Registry.load()
    planned: list[PlannedRow] = []
    seen_codes: dict[str, int] = {}
    seen_names: dict[tuple[str, str], int] = {}
    claimed: dict[int, int] = {}  # site id -> the row that updates it
    for row in rows:
        item = PlannedRow(row.number, "refused", row.values, reasons=list(row.problems))
        planned.append(item)
        v = row.values
        if item.reasons:
            continue
        if not user.can_see_district(v["district"]):
            item.reasons.append(f"「{v['district']}」不在您的辖区内")
            continue
        code, key = v["credit_code"], (v["name"], v["district"])
        if code and code in seen_codes:
            item.reasons.append(f"与第 {seen_codes[code]} 行的统一社会信用代码相同")
            continue
        if key in seen_names:
            item.reasons.append(f"与第 {seen_names[key]} 行的名称和所属区域相同")
            continue
        site, why = _match(user, registry, v)
        if why:
            item.reasons.append(why)
            continue
        if site is not None and site.id in claimed:
            item.reasons.append(f"与第 {claimed[site.id]} 行是同一站点（编号 {site.id}）")
            continue
        if code:
            seen_codes[code] = row.number
        seen_names[key] = row.number
        if site is None:
            item.action = "create"
            continue
        claimed[site.id] = row.number
        item.site_id = site.id
        item.changes = _changes(site, v)
        if "name" in item.changes or "district" in item.changes:
            other = registry.by_name.get(key)
            if other is not None and other.id != site.id:
                item.reasons.append(
                    f"{v['district']} 已有同名站点「{other.name}」（编号 {other.id}）"
                )
                item.changes = {}
                continue
        item.action = "update" if item.changes else "unchanged"
    return planned


def _match(user: User, registry: _Registry, v: dict) -> tuple[Site | None, str | None]:
    """The registered site a row stands for (or None: a new one), or why it is refused."""
    code = v["credit_code"]
    if code and code in registry.by_code:
        site = registry.by_code[code]
        if site.deleted_at is not None:
            if site.merged_into_id:
                return None, f"该统一社会信用代码的站点已合并到站点 {site.merged_into_id}"
            return None, f"该统一社会信用代码的站点（编号 {site.id}）已注销"
        if not user.can_see_district(site.district):
            # Another district's site is not named, only that the code is taken.
            return None, "该统一社会信用代码已登记在您辖区以外的站点"
        return site, None
    same_name = registry.by_name.get((v["name"], v["district"]))
    if same_name is not None:
        if same_name.credit_code and code:
            return None, (
                f"{v['district']} 已有同名站点「{same_name.name}」（编号 {same_name.id}），"
                f"但统一社会信用代码不同（{same_name.credit_code}）"
            )
        if v["address"] and same_name.address and v["address"] != same_name.address:
            return None, (
                f"{v['district']} 已有同名站点「{same_name.name}」（编号 {same_name.id}），"
                f"地址不同（{same_name.address}）：请核对是否同一站点"
            )
        return same_name, None
    if v["address"]:
        twin = registry.by_name_address.get((v["name"], v["address"]))
        if twin is not None:
            where = (
                f"（编号 {twin.id}，{twin.district}）"
                if user.can_see_district(twin.district)
                else ""
            )
            return None, f"与已有站点名称和地址相同{where}，但所属区域不同：请核对"
    return None, None


def _changes(site: Site, v: dict) -> dict:
    changes = {}
    for name in UPDATABLE:
        new = v.get(name)
        if new in (None, ""):
            continue
        old = getattr(site, name)
        if old != new:
            changes[name] = [old, new]
    if v.get("credit_code") and not site.credit_code:
        changes["credit_code"] = [None, v["credit_code"]]
    return changes


def import_file(user: User, data: bytes, filename: str, *, dry_run: bool) -> dict:
    """Plan (and unless ``dry_run``, apply) an import; the row-by-row report."""
    _may_manage(user)
    try:
        parsed = sheets.read(data)
    except sheets.SheetError as exc:
        raise Invalid(str(exc), fields={"file": [str(exc)]}) from None
    planned = plan(user, parsed.rows)
    if not dry_run:
        _apply(user, planned, filename, hashlib.sha256(data).hexdigest())
    counts = {action: 0 for action in ACTION_LABELS}
    for item in planned:
        counts[item.action] += 1
    return {
        "dry_run": dry_run,
        "file": filename,
        "sha256": hashlib.sha256(data).hexdigest(),
        "columns": {sheets.FIELD_LABELS[k]: letter for k, letter in parsed.columns.items()},
        "ignored_columns": parsed.ignored,
        "summary": {"rows": len(planned), **counts},
        "rows": [item.view() for item in planned],
    }


def _apply(user: User, planned: list[PlannedRow], filename: str, sha256: str) -> None:
    creates = [p for p in planned if p.action == "create"]
    updates = [p for p in planned if p.action == "update"]
    if not creates and not updates:
        return  # the same file again: nothing changes, not even a feed position
    now = utcnow()
    first = next_seq(len(creates) + len(updates))
    new_sites = []
    for position, item in enumerate(creates):
        v = item.values
        new_sites.append(
            Site(
                name=v["name"],
                site_type=v["site_type"],
                credit_code=v["credit_code"],
                address=v.get("address") or "",
                district=v["district"],
                lat=v.get("lat"),
                lon=v.get("lon"),
                licences=[],
                contact_name=v.get("contact_name") or "",
                contact_phone=v.get("contact_phone") or "",
                created_by_id=user.id,
                created_at=now,
                updated_at=now,
                sync_seq=first + position,
            )
        )
    targets = {
        s.id: s
        for s in db.session.scalars(select(Site).where(Site.id.in_([u.site_id for u in updates])))
    }
    try:
        with db.session.begin_nested():
            db.session.add_all(new_sites)
            for position, item in enumerate(updates, start=len(creates)):
                site = targets[item.site_id]
                for name, (_old, new) in item.changes.items():
                    setattr(site, name, new)
                site.updated_at = now
                site.sync_seq = first + position
            db.session.flush()
    except IntegrityError:
        # A site was registered or changed since the plan was made (a phone at a gate,
        # another import): nothing of this import is kept; a new dry run shows why.
        raise Conflict("导入期间站点台账有变化，请重新预览后再导入") from None
    for item, site in zip(creates, new_sites, strict=True):
        item.site_id = site.id
    audit.record(
        user.id,
        "site.import",
        "site_import",
        sha256[:16],
        {
            "file": filename,
            "sha256": sha256,
            "created": [s.id for s in new_sites],
            "updated": {str(u.site_id): list(u.changes) for u in updates},
        },
    )


def merge(user: User, loser: Site, winner: Site, note: str = "") -> Site:
    """Two records of one place: the loser is retired, its history moves to the winner.

    Its inspections, findings and enforcement measures name the winner from now on; each
    moved finding, the winner and the loser's tombstone take new feed positions, so a
    phone learns all of it at its next sync. Empty fields of the winner are filled from
    the loser's (its credit code too).
    """
    _may_manage(user)
    if loser.id == winner.id:
        raise Invalid("不能把站点合并到它自己", fields={"into": ["应为另一个站点"]})
    now = utcnow()
    findings = db.session.scalars(
        select(Finding).where(Finding.site_id == loser.id).order_by(Finding.id)
    ).all()
    first = next_seq(len(findings) + 2)
    for position, finding in enumerate(findings):
        finding.site_id = winner.id
        finding.district = winner.district
        finding.sync_seq = first + position
        finding.updated_at = now
    moved_inspections = db.session.execute(
        update(Inspection).where(Inspection.site_id == loser.id).values(site_id=winner.id)
    ).rowcount
    db.session.execute(
        update(Enforcement).where(Enforcement.site_id == loser.id).values(site_id=winner.id)
    )
    filled = []
    code = loser.credit_code
    if code and not winner.credit_code:
        loser.credit_code = None  # unique: the code moves
        db.session.flush()
        winner.credit_code = code
        filled.append("credit_code")
    for name in ("address", "lat", "lon", "contact_name", "contact_phone"):
        if getattr(winner, name) in (None, "") and getattr(loser, name) not in (None, ""):
            setattr(winner, name, getattr(loser, name))
            filled.append(name)
    loser.deleted_at = now
    loser.merged_into_id = winner.id
    loser.updated_at = winner.updated_at = now
    loser.sync_seq = first + len(findings)
    winner.sync_seq = first + len(findings) + 1
    db.session.flush()
    audit.record(
        user.id,
        "site.merge",
        "site",
        loser.id,
        {
            "into": winner.id,
            "findings": [f.id for f in findings],
            "inspections": moved_inspections,
            "filled": filled,
            "credit_code": code,
            "note": note,
        },
    )
    return winner


def retire(user: User, site: Site, note: str = "") -> Site:
    """The site is gone (closed down, 取缔): a tombstone in the feed; its history stays."""
    _may_manage(user)
    now = utcnow()
    site.deleted_at = now
    site.updated_at = now
    site.sync_seq = next_seq()
    db.session.flush()
    audit.record(user.id, "site.retire", "site", site.id, {"name": site.name, "note": note})
    return site
