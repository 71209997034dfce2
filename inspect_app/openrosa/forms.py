"""The forms a key's user may fill and the sites file attached to each: the database
reads behind formList, the form download, the manifest and the media download.

One form per campaign: its current published checklist version (an older version's
form can still be downloaded by its formID, for a submission begun on it). ``sites.csv``
holds the live sites of the user's districts (the office: every district) of the kinds
the checklist checks, so its hash changes whenever one of them changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass

from sqlalchemy import func, select

from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.domain import DISTRICTS
from inspect_app.extensions import db
from inspect_app.openrosa import form_names as names
from inspect_app.openrosa import xform
from inspect_app.scope import district_filter
from inspect_app.sites.models import Site

SITES_COLUMNS = ("name", "label", "district", "site_type")


@dataclass(frozen=True, slots=True)
class MediaFile:
    name: str
    data: bytes
    content_type: str

    @property
    def md5(self) -> str:
        return hashlib.md5(self.data).hexdigest()  # noqa: S324 - OpenRosa's file hash


def current_versions() -> list[tuple[Campaign, ChecklistVersion]]:
    """Every campaign with its newest published checklist version, in code order."""
    latest = (
        select(ChecklistVersion.campaign_id, func.max(ChecklistVersion.version).label("version"))
        .group_by(ChecklistVersion.campaign_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Campaign, ChecklistVersion)
        .join(latest, latest.c.campaign_id == Campaign.id)
        .join(
            ChecklistVersion,
            (ChecklistVersion.campaign_id == Campaign.id)
            & (ChecklistVersion.version == latest.c.version),
        )
        .order_by(Campaign.code)
    ).all()
    return [(campaign, version) for campaign, version in rows]


def version_for_form(form_id: str) -> tuple[Campaign, ChecklistVersion] | None:
    """The campaign and checklist version a formID names, or None."""
    parsed = names.parse_form_id(form_id)
    if parsed is None:
        return None
    code, number = parsed
    row = db.session.execute(
        select(Campaign, ChecklistVersion)
        .join(ChecklistVersion, ChecklistVersion.campaign_id == Campaign.id)
        .where(Campaign.code == code, ChecklistVersion.version == number)
    ).first()
    return (row[0], row[1]) if row is not None else None


def _items(version: ChecklistVersion) -> list[ChecklistItem]:
    return list(
        db.session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.checklist_version_id == version.id)
            .order_by(ChecklistItem.position)
        )
    )


def form_source(campaign: Campaign, version: ChecklistVersion) -> xform.FormSource:
    return xform.FormSource(
        campaign_code=campaign.code,
        campaign_name=campaign.name,
        version=version.version,
        digest=version.digest,
        items=tuple(
            xform.FormItem(
                code=item.code,
                section=item.section,
                text=item.text,
                basis=item.basis,
                clause_label=item.clause_label if item.clause else "",
                site_types=tuple(item.site_types or ()),
                default_severity=item.default_severity,
            )
            for item in _items(version)
        ),
    )


def form_of(campaign: Campaign, version: ChecklistVersion) -> xform.Form:
    """The XForm of a checklist version; its items are read only the first time."""
    return xform.cached_form(
        campaign.code, version.version, version.digest, lambda: form_source(campaign, version)
    )


def site_types_of(version: ChecklistVersion) -> tuple[str, ...] | None:
    """The kinds of site a checklist checks; None when one of its items checks any kind."""
    kinds: set[str] = set()
    for site_types in db.session.scalars(
        select(ChecklistItem.site_types).where(ChecklistItem.checklist_version_id == version.id)
    ):
        if not site_types:
            return None
        kinds.update(site_types)
    return tuple(sorted(kinds))


def _label(name: str, address: str) -> str:
    return f"{name} · {address}" if address else name


def sites_csv(user: User, version: ChecklistVersion) -> MediaFile:
    """The sites the user may inspect with this checklist, as Collect's choice file."""
    query = select(Site.id, Site.name, Site.address, Site.district, Site.site_type).where(
        Site.deleted_at.is_(None), district_filter(user, Site.district)
    )
    kinds = site_types_of(version)
    if kinds is not None:
        query = query.where(Site.site_type.in_(kinds or ("",)))
    order = {district: n for n, district in enumerate(DISTRICTS)}
    rows = sorted(
        db.session.execute(query).all(),
        key=lambda r: (order.get(r.district, len(order)), r.name, r.id),
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SITES_COLUMNS)
    for row in rows:
        writer.writerow((row.id, _label(row.name, row.address), row.district, row.site_type))
    return MediaFile(names.SITES_FILE, out.getvalue().encode("utf-8"), "text/csv; charset=utf-8")


def media_files(user: User, version: ChecklistVersion) -> list[MediaFile]:
    """The files a form's manifest lists (sites.csv only)."""
    return [sites_csv(user, version)]
