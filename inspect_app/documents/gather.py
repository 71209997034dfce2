"""Gathering the plain data ``reports/`` renders, in a few grouped queries per document.

Nothing here draws: each function reads the database within the caller's district
scope and returns the dataclasses of ``reports.data``. Voided findings are left out
of every document (they were entered in error). Each campaign document carries the
area it covers (``scope``: 全市, one district, or the caller's districts), decided here
from the caller's rights and the district filter; a filter outside the caller's
districts is Forbidden (403).
"""

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from checklists import clause_citation
from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign, ChecklistItem
from inspect_app.campaigns.services import campaign_by_code
from inspect_app.documents.names import campaign_title
from inspect_app.domain import DISTRICTS, OPEN_STATUSES, today_shanghai
from inspect_app.errors import NotFound
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, FindingPhoto
from inspect_app.inspections.models import Inspection
from inspect_app.photos.models import Photo
from inspect_app.photos.storage import MediaStore
from inspect_app.scope import covered_districts, district_filter, narrowed, scope_name
from inspect_app.sites.models import Site
from inspect_app.sites.services import visible_site
from inspect_app.stats.services import campaign_stats
from reports import data as rd


def campaign_info(campaign: Campaign) -> rd.CampaignInfo:
    name = campaign_title(campaign.name)
    return rd.CampaignInfo(name=name, document_no=campaign.document_no, issuer=campaign.lead_office)


def site_info(site: Site) -> rd.SiteInfo:
    return rd.SiteInfo(
        name=site.name,
        district=site.district,
        address=site.address or "",
        credit_code=site.credit_code,
        site_type=site.site_type,
        contact_name=site.contact_name or None,
        contact_phone=site.contact_phone or None,
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _finding_rows(findings_query, store: MediaStore) -> dict[int, list[tuple]]:
    """Finding rows keyed by site id, with their photos, in two queries."""
    rows = db.session.execute(findings_query).all()
    ids = [row.Finding.id for row in rows]
    photos: dict[int, list[rd.PhotoRef]] = defaultdict(list)
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 900]
        for finding_id, sha, taken_at in db.session.execute(
            select(FindingPhoto.finding_id, FindingPhoto.sha256, Photo.taken_at)
            .join(Photo, Photo.sha256 == FindingPhoto.sha256)
            .where(FindingPhoto.finding_id.in_(chunk))
            .order_by(FindingPhoto.finding_id, FindingPhoto.position)
        ):
            photos[finding_id].append(
                rd.PhotoRef(
                    path=store.path(sha, "print"),
                    source=store.path(sha, "report"),  # for photos stored before "print"
                    taken_at=_aware(taken_at),
                )
            )
    by_site: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        f = row.Finding
        by_site[f.site_id].append(
            rd.FindingRow(
                item_code=row.code or "",
                item_text=row.text or "",
                description=f.description,
                clause=clause_citation(row.clause or ""),
                basis=row.basis or "",
                severity=f.severity,
                requirement=f.requirement or "",
                deadline=None if f.fixed_on_spot else f.deadline,
                responsible_unit=f.responsible_department or "",
                status=f.status,
                photos=photos.get(f.id, ()),
                major_hazard=f.major_hazard,
                fixed_on_spot=f.fixed_on_spot,
            )
        )
    return by_site


def _findings_query(campaign_id: int):
    return (
        select(
            Finding,
            ChecklistItem.code,
            ChecklistItem.text,
            ChecklistItem.clause,
            ChecklistItem.basis,
        )
        .outerjoin(ChecklistItem, ChecklistItem.id == Finding.item_id)
        .where(Finding.campaign_id == campaign_id, Finding.status != "voided")
        .order_by(Finding.site_id, Finding.found_at, Finding.id)
    )


def _visits(campaign_id: int, site_ids: list[int]) -> dict[int, list[rd.InspectionVisit]]:
    visits: dict[int, list[rd.InspectionVisit]] = defaultdict(list)
    for start in range(0, len(site_ids), 900):
        chunk = site_ids[start : start + 900]
        for site_id, started, finished, name in db.session.execute(
            select(
                Inspection.site_id, Inspection.started_at, Inspection.finished_at, User.display_name
            )
            .join(User, User.id == Inspection.inspector_id)
            .where(Inspection.campaign_id == campaign_id, Inspection.site_id.in_(chunk))
            .order_by(Inspection.site_id, Inspection.started_at)
        ):
            visits[site_id].append(
                rd.InspectionVisit(
                    started_at=_aware(started), finished_at=_aware(finished), inspectors=[name]
                )
            )
    return visits


def site_problem_list(user: User, site_id: int, code: str, store: MediaStore) -> rd.SiteProblemList:
    site = visible_site(site_id, user)
    campaign = campaign_by_code(code)
    query = _findings_query(campaign.id).where(Finding.site_id == site.id)
    findings = _finding_rows(query, store).get(site.id, [])
    visits = _visits(campaign.id, [site.id]).get(site.id, [])
    if not findings and not visits:
        raise NotFound(f"该站点在「{campaign.name}」中没有检查记录")
    return rd.SiteProblemList(
        campaign=campaign_info(campaign),
        site=site_info(site),
        visits=visits,
        findings=findings,
        inspecting_unit=campaign.lead_office,
    )


def campaign_problem_list(
    user: User, code: str, store: MediaStore, district: str | None = None, statuses=()
) -> rd.CampaignProblemList:
    campaign = campaign_by_code(code)
    covered = covered_districts(user, district)
    query = _findings_query(campaign.id).where(district_filter(user, Finding.district))
    if district:
        query = query.where(Finding.district == district)
    if statuses:
        query = query.where(Finding.status.in_(list(statuses)))
    by_site = _finding_rows(query, store)
    sites = (
        {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(list(by_site))))}
        if by_site
        else {}
    )
    inspected = dict(
        db.session.execute(
            select(Site.district, func.count(func.distinct(Inspection.site_id)))
            .join(Site, Site.id == Inspection.site_id)
            .where(
                Inspection.campaign_id == campaign.id,
                district_filter(user, Site.district),
                Site.district.in_(covered),
            )
            .group_by(Site.district)
        ).all()
    )
    visits = _visits(campaign.id, list(by_site))
    order = {name: i for i, name in enumerate(DISTRICTS)}
    grouped: dict[str, list[rd.SiteFindings]] = defaultdict(list)
    for site_id in sorted(by_site, key=lambda i: (sites[i].name, i)):
        site = sites[site_id]
        grouped[site.district].append(
            rd.SiteFindings(site=site_info(site), findings=by_site[site_id], visits=visits[site_id])
        )
    districts = [
        rd.DistrictFindings(
            district=name,
            sites=grouped[name],
            sites_inspected=max(inspected.get(name, 0), len(grouped[name])),
        )
        # A district inspected without a listed finding still counts its sites.
        for name in sorted(set(grouped) | set(inspected), key=lambda d: order.get(d, 99))
    ]
    return rd.CampaignProblemList(
        campaign=campaign_info(campaign),
        districts=districts,
        scope=scope_name(covered),
        statuses=statuses,
    )


def rectification_report(
    user: User, code: str, district: str | None = None
) -> rd.RectificationReport:
    """The figures come from the statistics service, so the PDF and the stats agree."""
    campaign = campaign_by_code(code)
    scope = narrowed(user, district)
    covered = covered_districts(user, district)
    today = today_shanghai()
    by_district = campaign_stats(scope, campaign, "district", today=today)
    by_department = campaign_stats(scope, campaign, "department", today=today)
    figures = by_district["figures"]

    def rate_rows(stats: dict) -> list[rd.RateRow]:
        return [
            rd.RateRow(
                name=row["label"] or row["key"] or "未指定",
                findings=row["findings"],
                rectified=row["rectified"],
                overdue=row["overdue"],
            )
            for row in stats["rows"]
            if row["findings"] or stats["group_by"] == "district"
        ]

    overdue = [
        rd.OverdueFinding(
            district=f.district,
            site_name=site_name,
            description=f.description,
            severity=f.severity,
            deadline=f.deadline,
            responsible_unit=f.responsible_department or "",
            status=f.status,
        )
        for f, site_name in db.session.execute(
            select(Finding, Site.name)
            .join(Site, Site.id == Finding.site_id)
            .where(
                Finding.campaign_id == campaign.id,
                district_filter(scope, Finding.district),
                Finding.status.in_(OPEN_STATUSES),
                Finding.deadline < today,
            )
            .order_by(Finding.deadline, Finding.id)
        )
    ]
    counts = figures["enforcements"]
    return rd.RectificationReport(
        campaign=campaign_info(campaign),
        as_of=datetime.now(UTC),
        totals=rd.RectificationTotals(
            sites_inspected=figures["sites_inspected"],
            findings=figures["findings"],
            general=figures["findings"] - figures["key_findings"],
            key=figures["key_findings"],
            rectified=figures["rectified"],
            overdue=figures["overdue"],
        ),
        by_district=rate_rows(by_district),
        by_department=sorted(rate_rows(by_department), key=lambda r: -r.findings),
        overdue=overdue,
        enforcement=rd.EnforcementFigures(
            order_rectify=counts["order_rectify"],
            suspend=counts["suspend"],
            ban=counts["ban"],
            fine_cases=counts["fine"],
            fine_total_yuan=Decimal(int(figures["fines_yuan"] or 0)),
            revoke_licence=counts["revoke_licence"],
            refer_police=counts["refer_police"],
            refer_judicial=counts["refer_judicial"],
            blacklist=counts["blacklist"],
        ),
        scope=scope_name(covered),
    )


def count_findings(
    user: User, code: str, district: str | None = None, statuses=(), *, site_id: int | None = None
) -> int:
    """How big a document will be (the findings it lists, of a campaign, a district or
    one site): decides whether it is made in the background."""
    campaign = campaign_by_code(code)
    query = select(func.count()).where(
        Finding.campaign_id == campaign.id,
        Finding.status != "voided",
        district_filter(user, Finding.district),
    )
    if site_id is not None:
        query = query.where(Finding.site_id == site_id)
    if district:
        query = query.where(Finding.district == district)
    if statuses:
        query = query.where(Finding.status.in_(list(statuses)))
    return db.session.scalar(query)
