"""Campaign statistics (统计): rectification by district, department, site type or severity.

Each answer is one grouped SQL statement whatever the number of findings: findings
counted per group, UNION ALL the sites inspected per group, UNION ALL the enforcement
measures per kind. No finding is ever loaded into Python; Python only adds up the
handful of group rows into the total.

Definitions, as the campaign office reads them:

- findings: every finding of the campaign except voided ones (已作废: entered in error);
  drafts count, they are problems already found;
- rectified: closed (已销号), fixed on the spot (立行立改) included;
- open: open, rectifying or pending_review; overdue: open and the deadline is before
  today's date in Asia/Shanghai;
- rectification_rate: rectified / findings, null when there are no findings;
- sites_inspected: distinct sites with an inspection record in the campaign. By
  district and by site type each row has its own; by department and by severity
  an inspection belongs to no single group, so rows carry null and only the total
  has the number;
- sites_closed_down: distinct sites with a 取缔 (ban) measure; cases_filed: measures
  of 行政处罚 (fine), 移交公安机关 and 移交司法机关, each one a case; fines_yuan: the
  sum of the fines. Measures tied to a voided finding do not count.

Scope: office sees every district; team leads and inspectors see their own districts.
"""

from datetime import date

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)

from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign
from inspect_app.domain import (
    DISTRICTS,
    ENFORCEMENT_KINDS,
    OPEN_STATUSES,
    SEVERITIES,
    SEVERITY_LABELS,
    SITE_TYPES,
    today_shanghai,
)
from inspect_app.extensions import db
from inspect_app.findings.models import Enforcement, Finding
from inspect_app.inspections.models import Inspection
from inspect_app.scope import covered_districts, district_filter, scope_name
from inspect_app.sites.models import Site

GROUPINGS: dict[str, str] = {
    "district": "区域",
    "department": "责任单位",
    "site_type": "检查对象类型",
    "severity": "问题等级",
}
CASE_KINDS = ("fine", "refer_police", "refer_judicial")
NO_DEPARTMENT = "未明确责任单位"
COUNTS = ("findings", "rectified", "open", "overdue", "key_findings", "major_hazards")
ROW_FIELDS = ("sites_inspected", "findings", "rectified", "open", "overdue")


def _finding_key(group_by: str) -> ColumnElement:
    return {
        "district": Finding.district,
        "department": Finding.responsible_department,
        "site_type": Site.site_type,
        "severity": Finding.severity,
    }[group_by]


def stats_statement(user: User, campaign_id: int, group_by: str, today: date):
    """The one grouped statement behind an answer; ``part`` tells its three kinds of row apart.

    - 'f': findings per group: findings, rectified, open, overdue, key, major hazards;
    - 's': inspected sites per site type (group_by=site_type) or else per district (for
      department and severity these only make the total);
    - 'e': enforcement measures per kind: how many (c1), on how many sites (c2), fines
      (c3); measures of a voided finding left out.

    Columns: part, key, sites, c1 … c6 (the meaning of c1 … c6 depends on the part).

    The statuses and the severity it counts by are written into the SQL (``_fixed``), not
    bound: psycopg prepares a statement run often, and PostgreSQL's generic plan of it
    then rebuilt ``ARRAY[$4, $5, $6]`` for every finding it counted, 1.2-1.3x the time
    of the same plan over constants (bench/stats.py, README "Statistics").
    """
    key = _finding_key(group_by)
    still_open = Finding.status.in_(_fixed(OPEN_STATUSES))
    found = select(
        literal("f").label("part"),
        key.label("key"),
        literal(0).label("sites"),
        func.count().label("c1"),
        func.count().filter(Finding.status == _fixed("closed")).label("c2"),
        func.count().filter(still_open).label("c3"),
        func.count().filter(still_open, Finding.deadline < today).label("c4"),
        func.count().filter(Finding.severity == _fixed("key")).label("c5"),
        func.count().filter(Finding.major_hazard.is_(True)).label("c6"),
    ).where(
        Finding.campaign_id == campaign_id,
        Finding.status != _fixed("voided"),
        district_filter(user, Finding.district),
    )
    if group_by == "site_type":
        found = found.join(Site, Site.id == Finding.site_id)
    found = found.group_by(key)

    zero = literal(0)
    site_key = Site.site_type if group_by == "site_type" else Site.district
    inspected = (
        select(
            literal("s"),
            site_key,
            func.count(Inspection.site_id.distinct()),
            *[zero] * 6,
        )
        .join(Site, Site.id == Inspection.site_id)
        .where(Inspection.campaign_id == campaign_id, district_filter(user, Site.district))
        .group_by(site_key)
    )

    # The voided findings are read as a list (NOT IN) rather than joined: with the partial
    # index on voided findings the list is a small index-only read, where a join would
    # look up every measure's finding in the table.
    voided = select(Finding.id).where(
        Finding.campaign_id == campaign_id,
        # Written into the SQL, not bound, so that SQLite can use the partial index.
        Finding.status == _fixed("voided"),
    )
    measures = (
        select(
            literal("e"),
            Enforcement.kind,
            zero,
            func.count(),
            func.count(Enforcement.site_id.distinct()),
            cast(func.coalesce(func.sum(Enforcement.fine_yuan), 0), BigInteger),
            *[zero] * 3,
        )
        .where(
            Enforcement.campaign_id == campaign_id,
            or_(Enforcement.finding_id.is_(None), Enforcement.finding_id.not_in(voided)),
        )
        .group_by(Enforcement.kind)
    )
    if user.role != "office":
        measures = measures.join(Site, Site.id == Enforcement.site_id).where(
            district_filter(user, Site.district)
        )
    return union_all(found, inspected, measures)


def _fixed(value: str | tuple[str, ...]):
    """A constant of the code (a status, a list of statuses) rendered into the statement
    at execution, so that a prepared statement's generic plan sees it as a constant."""
    if isinstance(value, tuple):
        return bindparam(None, list(value), expanding=True, literal_execute=True)
    return literal(value, literal_execute=True)


def campaign_stats(
    user: User, campaign: Campaign, group_by: str, *, today: date | None = None
) -> dict:
    """Rows per group, a total row and the campaign's figures (统计表)."""
    today = today or today_shanghai()
    groups: dict[str | None, dict] = {}
    measures = {kind: (0, 0, 0) for kind in ENFORCEMENT_KINDS}
    site_total = 0
    for row in db.session.execute(stats_statement(user, campaign.id, group_by, today)):
        if row.part == "e":
            measures[row.key] = (row.c1, row.c2, int(row.c3))
        elif row.part == "s":
            site_total += row.sites
            if group_by in ("district", "site_type"):
                groups.setdefault(row.key, _empty(row.key, group_by))["sites_inspected"] = row.sites
        else:
            group = groups.setdefault(row.key, _empty(row.key, group_by))
            for name, value in zip(COUNTS, row[3:], strict=True):
                group[name] = value
    for key in _always_listed(user, group_by):
        groups.setdefault(key, _empty(key, group_by))

    rows = sorted(groups.values(), key=_order(group_by))
    total = _empty(None, group_by) | {"label": "合计", "sites_inspected": site_total}
    for row in rows:
        for name in COUNTS:
            total[name] += row[name]
    for row in (*rows, total):
        row["rectification_rate"] = rate(row["rectified"], row["findings"])

    return {
        "campaign": campaign.code,
        "campaign_name": campaign.name,
        "document_no": campaign.document_no,
        "group_by": group_by,
        "group_label": GROUPINGS[group_by],
        "as_of": today,
        "districts": None if user.role == "office" else sorted(user.districts, key=_district_order),
        # What the figures cover, as a document names it (全市 only when it is the city).
        "scope": scope_name(covered_districts(user)),
        "rows": [_public(row) for row in rows],
        "total": _public(total),
        "figures": _figures(total, measures),
    }


def rate(rectified: int, findings: int) -> float | None:
    return round(rectified / findings, 4) if findings else None


def _empty(key: str | None, group_by: str) -> dict:
    per_group_sites = group_by in ("district", "site_type")
    return {
        "key": key,
        "label": _label(key, group_by),
        "sites_inspected": 0 if per_group_sites else None,
        **dict.fromkeys(COUNTS, 0),
    }


def _label(key: str | None, group_by: str) -> str:
    if group_by == "severity":
        return SEVERITY_LABELS.get(key, key or "")
    if group_by == "department" and not key:
        return NO_DEPARTMENT
    return key or ""


def _always_listed(user: User, group_by: str) -> tuple[str, ...]:
    """Groups shown even with nothing in them, so the office's table has every line."""
    if group_by == "district":
        return tuple(d for d in DISTRICTS if user.can_see_district(d))
    if group_by == "severity":
        return SEVERITIES
    return ()


def _district_order(district: str) -> int:
    return DISTRICTS.index(district) if district in DISTRICTS else len(DISTRICTS)


def _order(group_by: str):
    if group_by == "district":
        return lambda row: (_district_order(row["key"]), row["key"] or "")
    if group_by == "severity":
        return lambda row: (SEVERITIES.index(row["key"]) if row["key"] in SEVERITIES else 9,)
    if group_by == "site_type":
        return lambda row: (
            SITE_TYPES.index(row["key"]) if row["key"] in SITE_TYPES else len(SITE_TYPES),
            row["key"] or "",
        )
    # Departments: the most findings first, the unnamed last.
    return lambda row: (row["key"] is None, -row["findings"], row["key"] or "")


def _public(row: dict) -> dict:
    return {
        "key": row["key"],
        "label": row["label"],
        **{name: row[name] for name in ROW_FIELDS},
        "rectification_rate": row["rectification_rate"],
    }


def _figures(total: dict, measures: dict[str, tuple[int, int, int]]) -> dict:
    """The campaign's statistics table (统计表); ``measures``: kind → (count, sites, fines)."""
    return {
        "sites_inspected": total["sites_inspected"],
        "findings": total["findings"],
        "key_findings": total["key_findings"],
        "major_hazards": total["major_hazards"],
        "rectified": total["rectified"],
        "rectification_rate": total["rectification_rate"],
        "open": total["open"],
        "overdue": total["overdue"],
        "sites_closed_down": measures["ban"][1],
        "cases_filed": sum(measures[kind][0] for kind in CASE_KINDS),
        "fines_yuan": measures["fine"][2],
        "enforcements": {kind: counts[0] for kind, counts in measures.items()},
    }
