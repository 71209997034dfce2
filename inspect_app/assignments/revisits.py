"""回头看: a random, repeatable sample of closed findings sent back for re-inspection.

A draw takes, per district, a share (30% by default) of the findings closed (已销号) in
the caller's districts, every 重大隐患 always included, the rest chosen at random from
a seed that is stored with the draw and the population it chose from: showing the draw
again recomputes it from both and must give the same findings. Each drawn finding
becomes a revisit assignment; a revisit that finds the problem back reopens the
finding (the lifecycle's ``reopen``, so its role rules hold), and the relapse rate
(反弹率) is the share of revisits that did.
"""

import math
import random
import secrets
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from inspect_app.assignments.models import Assignment, RevisitDraw
from inspect_app.assignments.services import (
    assignees,
    rate,
    require_assigner,
    set_members,
    tally,
    views,
    visible_assignment,
)
from inspect_app.audit.services import record as audit
from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign
from inspect_app.campaigns.services import campaign_by_code
from inspect_app.db_types import utcnow
from inspect_app.domain import DISTRICTS
from inspect_app.errors import Conflict, Invalid, NotFound
from inspect_app.extensions import db
from inspect_app.findings import services as findings
from inspect_app.findings.models import Finding
from inspect_app.scope import covered_districts, district_filter
from inspect_app.sync.services import next_seq

REVISIT_STAGE = "回头看"
DEFAULT_SHARE_PERCENT = 30
OUTCOME_LABELS = {"fixed": "整改到位", "relapsed": "问题反弹"}


def sample(population: list[dict], share_percent: int, seed: int) -> list[int]:
    """The ids drawn from ``population`` ([{id, district, major_hazard}]), sorted.

    Per district (in the city's order): every major hazard, then as many others,
    chosen by ``random.Random(seed)``, as make up ``share_percent`` of the district's
    findings (rounded up). The same arguments always give the same ids.
    """
    rng = random.Random(seed)
    by_district: dict[str, list[dict]] = defaultdict(list)
    for row in sorted(population, key=lambda r: r["id"]):
        by_district[row["district"]].append(row)
    order = {d: i for i, d in enumerate(DISTRICTS)}
    chosen: list[int] = []
    for district in sorted(by_district, key=lambda d: (order.get(d, len(order)), d)):
        rows = by_district[district]
        majors = [r["id"] for r in rows if r["major_hazard"]]
        others = [r["id"] for r in rows if not r["major_hazard"]]
        wanted = math.ceil(len(rows) * share_percent / 100)
        chosen += majors + rng.sample(others, max(0, min(len(others), wanted - len(majors))))
    return sorted(chosen)


def draw(user: User, code: str, data: dict, *, now: datetime | None = None) -> dict:
    """Draw closed findings of a campaign for 回头看 and make a revisit assignment of each.

    Body: share_percent (30), seed (random if absent), districts (the caller's if
    absent), due_on, inspector_ids (each revisit gets those who cover its district).
    """
    require_assigner(user)
    now = now or utcnow()
    campaign = campaign_by_code(code)
    districts: list[str] = []
    for district in data.get("districts") or covered_districts(user):
        districts += [d for d in covered_districts(user, district) if d not in districts]
    share = data.get("share_percent", DEFAULT_SHARE_PERCENT)
    seed = data["seed"] if data.get("seed") is not None else secrets.randbelow(2**53)
    population = [
        {"id": fid, "district": district, "major_hazard": bool(major)}
        for fid, district, major in db.session.execute(
            select(Finding.id, Finding.district, Finding.major_hazard)
            .where(
                Finding.campaign_id == campaign.id,
                Finding.status == "closed",
                Finding.district.in_(districts),
                district_filter(user, Finding.district),
            )
            .order_by(Finding.id)
        )
    ]
    if not population:
        raise Invalid(
            "所选区域没有已销号的问题，无法抽取回头看", fields={"districts": ["无已销号问题"]}
        )
    drawn = sample(population, share, seed)
    team = _team(user, data.get("inspector_ids") or [])
    record = RevisitDraw(
        campaign_id=campaign.id,
        seed=seed,
        share_percent=share,
        districts=districts,
        population=population,
        drawn=drawn,
        due_on=data["due_on"],
        created_by_id=user.id,
        created_at=now,
    )
    db.session.add(record)
    db.session.flush()
    first = next_seq(len(drawn))
    rows = db.session.execute(
        select(Finding.id, Finding.site_id, Finding.district, Finding.responsible_department).where(
            Finding.id.in_(drawn)
        )
    ).all()
    made = []
    for offset, (finding_id, site_id, district, department) in enumerate(sorted(rows)):
        assignment = Assignment(
            campaign_id=campaign.id,
            stage=REVISIT_STAGE,
            kind="revisit",
            site_id=site_id,
            district=district,
            finding_id=finding_id,
            draw_id=record.id,
            department=department,
            due_on=data["due_on"],
            created_by_id=user.id,
            created_at=now,
            updated_at=now,
            sync_seq=first + offset,
            members=[],
        )
        set_members(assignment, [m for m in team if district in (m.districts or [])], now)
        db.session.add(assignment)
        made.append(assignment)
    db.session.flush()
    audit(
        user.id,
        "revisit.draw",
        "revisit_draw",
        record.id,
        {"seed": seed, "share_percent": share, "districts": districts, "drawn": len(drawn)},
    )
    return draw_view(record, campaign.code, made)


def _team(user: User, ids: list[int]) -> list[User]:
    """Inspectors named for the revisits; each need cover only some of the districts."""
    if not ids:
        return []
    members = [assignees(user, [i], set()) for i in ids]
    return [m for group in members for m in group]


def visible_draw(user: User, draw_id: int) -> RevisitDraw:
    record = db.session.get(RevisitDraw, draw_id) if 0 < draw_id < 2**31 else None
    if record is None or user.role == "inspector":
        raise NotFound("回头看抽查记录不存在")
    if not all(user.can_see_district(d) for d in record.districts):
        raise NotFound("回头看抽查记录不存在")
    return record


def draw_view(record: RevisitDraw, code: str, assignments: list[Assignment] | None = None) -> dict:
    """The draw as stored, and ``reproducible``: its seed on its population gives it again."""
    if assignments is None:
        assignments = list(
            db.session.scalars(
                select(Assignment).where(Assignment.draw_id == record.id).order_by(Assignment.id)
            )
        )
    majors = [r["id"] for r in record.population if r["major_hazard"]]
    per_district = defaultdict(lambda: {"closed": 0, "drawn": 0})
    drawn = set(record.drawn)
    for row in record.population:
        entry = per_district[row["district"]]
        entry["closed"] += 1
        entry["drawn"] += int(row["id"] in drawn)
    return {
        "id": record.id,
        "campaign": code,
        "seed": record.seed,
        "share_percent": record.share_percent,
        "districts": record.districts,
        "due_on": record.due_on,
        "created_at": record.created_at,
        "population_size": len(record.population),
        "finding_ids": record.drawn,
        "major_hazard_ids": majors,
        "by_district": [{"district": d, **per_district[d]} for d in DISTRICTS if d in per_district],
        "reproducible": sample(record.population, record.share_percent, record.seed)
        == list(record.drawn),
        "assignments": views(assignments, campaign_code=code),
    }


def show_draw(user: User, draw_id: int) -> dict:
    record = visible_draw(user, draw_id)
    code = campaign_code(record.campaign_id)
    return draw_view(record, code)


def campaign_code(campaign_id: int) -> str:
    return db.session.scalar(select(Campaign.code).where(Campaign.id == campaign_id))


def record_revisit(user: User, assignment_id: int, data: dict, *, now: datetime | None = None):
    """The outcome of a revisit: fixed, or relapsed (the finding is reopened, by the caller).

    409 if the assignment is no revisit or already has its outcome; 403 (the lifecycle's)
    when an inspector reports a relapse, since only a team lead or the office reopens.
    """
    now = now or utcnow()
    assignment = visible_assignment(user, assignment_id)
    if assignment.kind != "revisit":
        raise Conflict("这不是回头看复查任务")
    if assignment.done_at is not None:
        raise Conflict("该回头看复查已登记结果")
    note = (data.get("note") or "").strip()
    if data["outcome"] == "relapsed":
        finding = findings.visible_finding(user, str(assignment.finding_id), for_update=True)
        findings.apply_event(
            user,
            finding,
            {
                "action": "reopen",
                "note": f"回头看发现问题反弹{('：' + note) if note else ''}",
                "photos": data.get("photos") or [],
            },
            now=now,
        )
    assignment.outcome = data["outcome"]
    assignment.outcome_note = note
    assignment.done_at = now
    assignment.done_by_id = user.id
    assignment.updated_at = now
    assignment.sync_seq = next_seq()
    db.session.flush()
    return views([assignment])[0]


def relapse(user: User, code: str) -> dict:
    """Revisits with an outcome, and how many found the problem back, per district and
    per department (the finding's responsible department)."""
    campaign = campaign_by_code(code)
    rows = db.session.execute(
        select(Assignment.district, Finding.responsible_department, Assignment.outcome)
        .join(Finding, Finding.id == Assignment.finding_id)
        .where(
            Assignment.campaign_id == campaign.id,
            Assignment.kind == "revisit",
            Assignment.done_at.is_not(None),
            district_filter(user, Assignment.district),
        )
    ).all()
    tables = tally(
        [
            (district, department, {"revisited": 1, "relapsed": int(outcome == "relapsed")})
            for district, department, outcome in rows
        ],
        ("revisited", "relapsed"),
    )
    for row in [*tables["by_district"], *tables["by_department"], tables["total"]]:
        row["relapse_rate"] = rate(row["relapsed"], row["revisited"])
    return {"campaign": campaign.code, **tables}
