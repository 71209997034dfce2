"""Assignments (检查任务): the office or a team lead sends inspectors to sites, per stage.

Assigning a site again in the same stage re-assigns it (new team, due date,
department): one inspection assignment per site and stage, held by a unique index.
Members taken off keep their row (``removed_at``) so their phones drop it on sync.
Coverage (覆盖情况) is read, never stored: a site assigned in a stage counts as
inspected when a final inspection of it under the campaign began within the stage.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, exists, select

from inspect_app.assignments.models import Assignment, AssignmentMember
from inspect_app.audit.services import record as audit
from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign
from inspect_app.campaigns.services import campaign_by_code
from inspect_app.db_types import utcnow
from inspect_app.domain import DISTRICTS, SHANGHAI, today_shanghai
from inspect_app.errors import Forbidden, Invalid, NotFound
from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection
from inspect_app.scope import covered_districts, district_filter
from inspect_app.sites.models import Site
from inspect_app.sync.services import next_seq

ASSIGNERS = ("team_lead", "office")
ASSIGNABLE_ROLES = ("inspector", "team_lead")
NO_DEPARTMENT = "未指定部门"
KIND_LABELS = {"inspection": "检查", "revisit": "回头看复查"}


def require_assigner(user: User) -> None:
    if user.role not in ASSIGNERS:
        raise Forbidden("只有组长或专项办可以分派检查任务")


def stage_of(campaign: Campaign, name: str | None) -> dict:
    """The campaign's stage called ``name`` ({name, starts_on, ends_on} as dates).

    Without a name: the stage under way today, else the next one, else the last.
    """
    stages = [
        {
            "name": s["name"],
            "starts_on": date.fromisoformat(str(s["starts_on"])),
            "ends_on": date.fromisoformat(str(s["ends_on"])),
        }
        for s in campaign.stages or []
    ]
    if not stages:
        raise Invalid(f"专项行动「{campaign.name}」没有设定工作阶段", fields={"stage": ["无阶段"]})
    if name is None:
        today = today_shanghai()
        return next((s for s in stages if today <= s["ends_on"]), stages[-1])
    for stage in stages:
        if stage["name"] == name:
            return stage
    raise Invalid(
        f"专项行动没有名为「{name}」的阶段",
        fields={"stage": ["只能是以下之一：" + "、".join(s["name"] for s in stages)]},
    )


def assignees(user: User, ids: list[int], districts: set[str]) -> list[User]:
    """The users ``ids`` name: active inspectors or team leads covering every district.

    A team lead may send only people of their own districts (which follows, since the
    sites are theirs); a name outside the rules is a 422 that says which.
    """
    ids = list(dict.fromkeys(ids))
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    problems = {}
    for position, user_id in enumerate(ids):
        member = found.get(user_id)
        if member is None or not member.active or member.role not in ASSIGNABLE_ROLES:
            problems[f"inspector_ids[{position}]"] = ["不是可分派的检查员或组长"]
        elif not districts <= set(member.districts or []):
            missing = "、".join(d for d in DISTRICTS if d in districts - set(member.districts))
            problems[f"inspector_ids[{position}]"] = [f"{member.display_name}的辖区不含{missing}"]
    if problems:
        raise Invalid("分派的人员有误：" + next(iter(problems.values()))[0], fields=problems)
    return [found[i] for i in ids]


def _sites(user: User, data: dict) -> list[Site]:
    if data.get("site_ids"):
        wanted = list(dict.fromkeys(data["site_ids"]))
        sites = {
            s.id: s
            for s in db.session.scalars(
                select(Site).where(
                    Site.id.in_(wanted),
                    Site.deleted_at.is_(None),
                    district_filter(user, Site.district),
                )
            )
        }
        missing = {
            f"site_ids[{i}]": ["站点不存在"] for i, sid in enumerate(wanted) if sid not in sites
        }
        if missing:
            raise Invalid("部分站点不存在", fields=missing)
        return [sites[sid] for sid in wanted]
    (district,) = covered_districts(user, data["district"])
    query = select(Site).where(Site.district == district, Site.deleted_at.is_(None))
    if data.get("site_type"):
        query = query.where(Site.site_type == data["site_type"])
    sites = list(db.session.scalars(query.order_by(Site.id)))
    if not sites:
        raise Invalid(
            f"{district}没有符合条件的站点", fields={"district": ["该区域没有符合条件的站点"]}
        )
    return sites


def _check_department(campaign: Campaign, department: str | None) -> None:
    names = [d["name"] for d in campaign.departments or []]
    if department is not None and department not in names:
        raise Invalid(
            f"专项行动的职责分工中没有「{department}」", fields={"department": ["未知部门"]}
        )


def set_members(assignment: Assignment, members: list[User], now: datetime) -> bool:
    """Make ``members`` the assignment's team; True if anything changed."""
    wanted = {m.id for m in members}
    changed = False
    current = {m.user_id: m for m in assignment.members}
    for user_id, row in current.items():
        if user_id in wanted and row.removed_at is not None:
            row.removed_at, changed = None, True
        elif user_id not in wanted and row.removed_at is None:
            row.removed_at, changed = now, True
    for member in members:
        if member.id not in current:
            assignment.members.append(AssignmentMember(user_id=member.id))
            changed = True
    return changed


def assign(user: User, data: dict, *, now: datetime | None = None) -> dict:
    """Assign sites (by id, or every live site of a district, of a type) to a team.

    Body: campaign, stage, site_ids or district [+ site_type], inspector_ids, due_on
    (default: the stage's end), department. Returns counts and the assignments.
    """
    require_assigner(user)
    now = now or utcnow()
    campaign = campaign_by_code(data["campaign"])
    stage = stage_of(campaign, data["stage"])
    _check_department(campaign, data.get("department"))
    sites = _sites(user, data)
    members = assignees(user, data["inspector_ids"], {s.district for s in sites})
    due_on = data.get("due_on") or stage["ends_on"]
    existing = {
        a.site_id: a
        for a in db.session.scalars(
            select(Assignment).where(
                Assignment.campaign_id == campaign.id,
                Assignment.stage == stage["name"],
                Assignment.kind == "inspection",
                Assignment.site_id.in_([s.id for s in sites]),
            )
        )
    }
    first = next_seq(len(sites))
    created = updated = 0
    result = []
    for offset, site in enumerate(sites):
        assignment = existing.get(site.id)
        if assignment is None:
            assignment = Assignment(
                campaign_id=campaign.id,
                stage=stage["name"],
                kind="inspection",
                site_id=site.id,
                district=site.district,
                created_by_id=user.id,
                created_at=now,
                due_on=due_on,
                department=data.get("department"),
                members=[],
            )
            db.session.add(assignment)
            created += 1
        else:
            updated += 1
            assignment.due_on = due_on
            assignment.department = data.get("department")
        set_members(assignment, members, now)
        assignment.updated_at = now
        assignment.sync_seq = first + offset
        result.append(assignment)
    db.session.flush()
    audit(
        user.id,
        "assignment.assign",
        "campaign",
        campaign.code,
        {
            "stage": stage["name"],
            "sites": [s.id for s in sites],
            "inspectors": [m.id for m in members],
            "due_on": due_on.isoformat(),
        },
    )
    return {
        "created": created,
        "updated": updated,
        "items": views(result, campaign_code=campaign.code),
    }


def views(assignments: list[Assignment], *, campaign_code: str | None = None) -> list[dict]:
    """Assignments as the API shows them, with site names, teams and inspected state."""
    if not assignments:
        return []
    ids = [a.id for a in assignments]
    sites = dict(
        db.session.execute(
            select(Site.id, Site.name).where(Site.id.in_({a.site_id for a in assignments}))
        ).all()
    )
    codes = dict(db.session.execute(select(Campaign.id, Campaign.code)).all())
    team: dict[int, list[dict]] = defaultdict(list)
    for assignment_id, member in db.session.execute(
        select(AssignmentMember.assignment_id, User)
        .join(User, User.id == AssignmentMember.user_id)
        .where(AssignmentMember.assignment_id.in_(ids), AssignmentMember.removed_at.is_(None))
        .order_by(AssignmentMember.id)
    ):
        team[assignment_id].append(
            {"id": member.id, "username": member.username, "display_name": member.display_name}
        )
    inspected = _inspected(assignments)
    return [
        {
            "id": a.id,
            "campaign": codes.get(a.campaign_id, campaign_code),
            "stage": a.stage,
            "kind": a.kind,
            "kind_label": KIND_LABELS[a.kind],
            "site_id": a.site_id,
            "site_name": sites.get(a.site_id, ""),
            "district": a.district,
            "department": a.department,
            "finding_id": a.finding_id,
            "draw_id": a.draw_id,
            "due_on": a.due_on,
            "members": team[a.id],
            "inspected": a.id in inspected if a.kind == "inspection" else a.done_at is not None,
            "outcome": a.outcome,
            "done_at": a.done_at,
            "updated_at": a.updated_at,
        }
        for a in assignments
    ]


def stage_window(stage: dict) -> tuple[datetime, datetime]:
    """A stage's first and (after) last moment, Beijing time: its days, whole."""
    start = datetime.combine(stage["starts_on"], time(), SHANGHAI)
    return start, datetime.combine(stage["ends_on"] + timedelta(days=1), time(), SHANGHAI)


def _inspected(assignments: list[Assignment]) -> set[int]:
    """Ids of the inspection assignments whose site had a final inspection in the stage."""
    wanted = [a for a in assignments if a.kind == "inspection"]
    if not wanted:
        return set()
    campaigns = {
        c.id: c
        for c in db.session.scalars(
            select(Campaign).where(Campaign.id.in_({a.campaign_id for a in wanted}))
        )
    }
    visits = defaultdict(list)
    for campaign_id, site_id, started_at in db.session.execute(
        select(Inspection.campaign_id, Inspection.site_id, Inspection.started_at).where(
            Inspection.final.is_(True),
            Inspection.campaign_id.in_(campaigns),
            Inspection.site_id.in_({a.site_id for a in wanted}),
        )
    ):
        visits[(campaign_id, site_id)].append(started_at)
    done = set()
    for a in wanted:
        try:
            start, end = stage_window(stage_of(campaigns[a.campaign_id], a.stage))
        except Invalid:
            continue  # the stage was renamed in a later notice
        if any(start <= at < end for at in visits[(a.campaign_id, a.site_id)]):
            done.add(a.id)
    return done


def list_assignments(
    user: User,
    *,
    campaign: str | None = None,
    stage: str | None = None,
    kind: str | None = None,
    mine: bool = False,
    limit: int = 500,
) -> dict:
    """Assignments the caller may see: an inspector their own, a team lead their
    districts', the office all; open ones first, by due date."""
    query = select(Assignment).where(district_filter(user, Assignment.district))
    if user.role == "inspector" or mine:
        query = query.where(
            exists().where(
                AssignmentMember.assignment_id == Assignment.id,
                AssignmentMember.user_id == user.id,
                AssignmentMember.removed_at.is_(None),
            )
        )
    if campaign is not None:
        query = query.where(Assignment.campaign_id == campaign_by_code(campaign).id)
    if stage is not None:
        query = query.where(Assignment.stage == stage)
    if kind is not None:
        query = query.where(Assignment.kind == kind)
    rows = list(
        db.session.scalars(
            query.order_by(Assignment.done_at.is_not(None), Assignment.due_on, Assignment.id).limit(
                limit
            )
        )
    )
    return {"items": views(rows)}


def visible_assignment(user: User, assignment_id: int) -> Assignment:
    """The assignment if the caller may see it (an inspector: one of its team); else 404."""
    query = select(Assignment).where(
        Assignment.id == assignment_id, district_filter(user, Assignment.district)
    )
    if user.role == "inspector":
        query = query.where(
            exists().where(
                AssignmentMember.assignment_id == Assignment.id,
                AssignmentMember.user_id == user.id,
                AssignmentMember.removed_at.is_(None),
            )
        )
    assignment = db.session.scalar(query) if 0 < assignment_id < 2**31 else None
    if assignment is None:
        raise NotFound("检查任务不存在")
    return assignment


# ---------------------------------------------------------------------------
# Coverage (覆盖情况) of a stage


def coverage(user: User, code: str, stage_name: str | None = None) -> dict:
    """Sites assigned in a stage, inspected within it, and not (yet) inspected.

    Per district and per department (the assignment's), plus a total; in the
    caller's districts. ``ended``: the stage is over, so "not inspected" is final.
    """
    campaign = campaign_by_code(code)
    try:
        stage = stage_of(campaign, stage_name)
    except Invalid as error:
        # A query naming no stage names nothing to show: 404, like an unknown campaign.
        raise NotFound(error.message) from None
    start, end = stage_window(stage)
    inspected = exists().where(
        Inspection.campaign_id == Assignment.campaign_id,
        Inspection.site_id == Assignment.site_id,
        Inspection.final.is_(True),
        and_(Inspection.started_at >= start, Inspection.started_at < end),
    )
    rows = db.session.execute(
        select(Assignment.district, Assignment.department, Assignment.site_id, inspected).where(
            Assignment.campaign_id == campaign.id,
            Assignment.stage == stage["name"],
            Assignment.kind == "inspection",
            district_filter(user, Assignment.district),
        )
    ).all()
    tables = tally(
        [
            (district, department, {"assigned": 1, "inspected": int(bool(done))})
            for district, department, _site, done in rows
        ],
        ("assigned", "inspected"),
    )
    for row in [*tables["by_district"], *tables["by_department"], tables["total"]]:
        row["not_inspected"] = row["assigned"] - row["inspected"]
        row["coverage_rate"] = rate(row["inspected"], row["assigned"])
    return {
        "campaign": campaign.code,
        "campaign_name": campaign.name,
        "stage": stage["name"],
        "starts_on": stage["starts_on"],
        "ends_on": stage["ends_on"],
        "ended": today_shanghai() > stage["ends_on"],
        "stages": [s["name"] for s in campaign.stages or []],
        **tables,
    }


def rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0


def tally(rows, counters: tuple[str, ...]) -> dict:
    """Sums of ``counters`` per district (the city's order), per department, and in all.

    ``rows``: (district, department or None, {counter: amount}).
    """
    by_district: dict[str, dict] = {}
    by_department: dict[str, dict] = {}
    total = {"key": "合计", **dict.fromkeys(counters, 0)}
    for district, department, counts in rows:
        for table, key in ((by_district, district), (by_department, department or NO_DEPARTMENT)):
            row = table.setdefault(key, {"key": key, **dict.fromkeys(counters, 0)})
            for name, amount in counts.items():
                row[name] += amount
        for name, amount in counts.items():
            total[name] += amount
    order = {d: i for i, d in enumerate(DISTRICTS)}
    return {
        "by_district": sorted(by_district.values(), key=lambda r: order.get(r["key"], len(order))),
        "by_department": sorted(by_department.values(), key=lambda r: r["key"]),
        "total": total,
    }
