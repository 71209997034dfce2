"""Campaign look-ups and publishing checklist files as immutable versions."""

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from inspect_app.campaigns.checklist_file import checklist_digest, read_checklist
from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.errors import NotFound
from inspect_app.extensions import db
from inspect_app.sync.services import next_seq


def campaign_by_code(code: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise NotFound(f"专项行动 {code} 不存在")
    return campaign


def list_campaigns() -> list[dict]:
    """Campaigns with the number of their current checklist version, in one query."""
    latest = (
        select(ChecklistVersion.campaign_id, func.max(ChecklistVersion.version).label("version"))
        .group_by(ChecklistVersion.campaign_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Campaign, latest.c.version)
        .outerjoin(latest, latest.c.campaign_id == Campaign.id)
        .order_by(Campaign.issued_on.desc(), Campaign.code)
    ).all()
    out = []
    for campaign, version in rows:
        out.append(
            {
                "code": campaign.code,
                "name": campaign.name,
                "document_no": campaign.document_no,
                "issued_on": campaign.issued_on,
                "lead_office": campaign.lead_office,
                "stages": stages_of(campaign),
                "checklist_version": version,
                "deadline_days": {
                    "general": campaign.general_deadline_days,
                    "key": campaign.key_deadline_days,
                },
            }
        )
    return out


def stages_of(campaign: Campaign) -> list[dict]:
    """Stages with real dates (they are kept as ISO strings in the JSON column)."""

    def day(value):
        return date.fromisoformat(value) if value else None

    return [
        {"name": s["name"], "starts_on": day(s.get("starts_on")), "ends_on": day(s.get("ends_on"))}
        for s in campaign.stages or []
    ]


def current_version(campaign_code: str) -> ChecklistVersion:
    """The newest published version, without loading its items (a 304 needs only this)."""
    version = db.session.scalar(
        select(ChecklistVersion)
        .join(Campaign)
        .where(Campaign.code == campaign_code)
        .order_by(ChecklistVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(f"专项行动 {campaign_code} 不存在或尚未发布检查清单")
    return version


def version_items(version) -> list[ChecklistItem]:
    return list(
        db.session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.checklist_version_id == version.id)
            .order_by(ChecklistItem.position)
        )
    )


# Bumped when the checklist body gains or changes a field, so that phones holding a
# copy in the old shape get the new one (2: clause_label).
CHECKLIST_BODY_REVISION = 2


def checklist_etag(campaign_code: str, version) -> str:
    return f'"{campaign_code}.v{version.version}.{version.digest[:16]}.r{CHECKLIST_BODY_REVISION}"'


@dataclass(frozen=True, slots=True)
class VersionRef:
    id: int
    version: int
    digest: str


# campaign code -> (current version, time.monotonic() when read)
_version_cache: dict[str, tuple[VersionRef, float]] = {}


def current_version_ref(campaign_code: str, cache_seconds: float = 0) -> VersionRef:
    """The current version's id, number and digest; remembered ``cache_seconds`` per process.

    Phones ask "is my checklist still current?" far more often than a new version is
    published (a few times a year), so the answer may be a few seconds old.
    """
    hit = _version_cache.get(campaign_code) if cache_seconds else None
    if hit is not None and time.monotonic() - hit[1] < cache_seconds:
        return hit[0]
    version = current_version(campaign_code)
    ref = VersionRef(version.id, version.version, version.digest)
    if cache_seconds:
        _version_cache[campaign_code] = (ref, time.monotonic())
    return ref


@dataclass(frozen=True, slots=True)
class ItemRef:
    """What storing an answer or a finding needs of a checklist item."""

    id: int
    photo_required: bool
    default_severity: str
    lead_department: str | None
    site_types: frozenset[str]  # the 场所类型 it is checked at; empty: every type

    def applies_to(self, site_type: str) -> bool:
        return not self.site_types or site_type in self.site_types


@dataclass(frozen=True, slots=True)
class CampaignRef:
    id: int
    general_deadline_days: int
    key_deadline_days: int


@dataclass(frozen=True, slots=True)
class ChecklistRef:
    """A published version with its items by code; both never change once published."""

    id: int
    version: int
    items: dict[str, ItemRef]


# (campaign code, version number) -> (campaign, version, time.monotonic() when read)
_checklist_cache: dict[tuple[str, int], tuple[CampaignRef, ChecklistRef, float]] = {}


def checklist_ref(
    campaign_code: str, version: int, cache_seconds: float = 0
) -> tuple[CampaignRef | None, ChecklistRef | None]:
    """The campaign and one of its versions with all items; remembered ``cache_seconds``.

    Every inspection a phone stores names these. A version and its items are immutable;
    the campaign's deadline days may change when its file is loaded again, so the whole
    answer is kept only as long as a login is (a few seconds), and never a miss.
    """
    key = (campaign_code, version)
    hit = _checklist_cache.get(key) if cache_seconds else None
    if hit is not None and time.monotonic() - hit[2] < cache_seconds:
        return hit[0], hit[1]
    row = db.session.execute(
        select(
            Campaign.id,
            Campaign.general_deadline_days,
            Campaign.key_deadline_days,
            ChecklistVersion.id,
        )
        .outerjoin(
            ChecklistVersion,
            (ChecklistVersion.campaign_id == Campaign.id) & (ChecklistVersion.version == version),
        )
        .where(Campaign.code == campaign_code)
    ).first()
    if row is None:
        return None, None
    campaign = CampaignRef(row[0], row[1], row[2])
    if row[3] is None:
        return campaign, None
    items = {
        code: ItemRef(
            item_id, photo_required, default_severity, lead_department, frozenset(site_types or ())
        )
        for item_id, code, photo_required, default_severity, lead_department, site_types in (
            db.session.execute(
                select(
                    ChecklistItem.id,
                    ChecklistItem.code,
                    ChecklistItem.photo_required,
                    ChecklistItem.default_severity,
                    ChecklistItem.lead_department,
                    ChecklistItem.site_types,
                ).where(ChecklistItem.checklist_version_id == row[3])
            )
        )
    }
    checklist = ChecklistRef(row[3], version, items)
    if cache_seconds:
        if len(_checklist_cache) > 1000:
            _checklist_cache.clear()
        _checklist_cache[key] = (campaign, checklist, time.monotonic())
    return campaign, checklist


@dataclass
class LoadResult:
    code: str
    version: int
    published: bool  # False when the file was unchanged and no version was made


def publish_checklist(data: dict, digest: str) -> LoadResult:
    """Create or update the campaign; publish a new version only if the content changed."""
    meta = data["campaign"]
    campaign = db.session.scalar(select(Campaign).where(Campaign.code == meta["code"]))
    if campaign is None:
        campaign = Campaign(code=meta["code"])
        db.session.add(campaign)
    campaign.name = meta["name"]
    campaign.document_no = meta["document_no"]
    campaign.issued_on = meta.get("issued_on")
    campaign.lead_office = meta.get("lead_office")
    campaign.stages = [
        {
            "name": s["name"],
            "starts_on": s["starts_on"].isoformat() if s.get("starts_on") else None,
            "ends_on": s["ends_on"].isoformat() if s.get("ends_on") else None,
        }
        for s in meta.get("stages", [])
    ]
    campaign.departments = [
        {"name": d["name"], "duties": d.get("duties", "")} for d in meta.get("departments", [])
    ]
    deadlines = meta.get("deadline_days") or {}
    campaign.general_deadline_days = deadlines.get("general", 7)
    campaign.key_deadline_days = deadlines.get("key", 30)
    db.session.flush()

    latest = db.session.scalar(
        select(ChecklistVersion)
        .where(ChecklistVersion.campaign_id == campaign.id)
        .order_by(ChecklistVersion.version.desc())
        .limit(1)
    )
    if latest is not None and latest.digest == digest:
        return LoadResult(campaign.code, latest.version, False)

    version = ChecklistVersion(
        campaign=campaign,
        version=(latest.version + 1) if latest else 1,
        digest=digest,
        sync_seq=next_seq(),
    )
    db.session.add(version)
    for position, item in enumerate(data["items"]):
        db.session.add(
            ChecklistItem(
                checklist_version=version,
                position=position,
                code=item["code"],
                section=item["section"],
                text=item["text"],
                basis=item["basis"],
                clause=item["clause"],
                lead_department=item.get("lead_department"),
                site_types=list(item.get("site_types") or []),
                answer_type=item.get("answer_type", "pass_fail_na"),
                default_severity=item.get("default_severity", "general"),
                photo_required=bool(item.get("photo_required", False)),
            )
        )
    db.session.flush()
    return LoadResult(campaign.code, version.version, True)


def load_checklists(directory: str | Path) -> list[LoadResult]:
    """Publish every ``*.yaml`` in the directory; raises ChecklistFileError on a bad file."""
    paths = sorted(Path(directory).glob("*.yaml"))
    if not paths:
        return []
    results = []
    for path in paths:
        data = read_checklist(path)
        results.append(publish_checklist(data, checklist_digest(data)))
    return results
