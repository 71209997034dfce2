"""The sync feed: what changed for a phone since its cursor, across sites, findings and
checklists.

A cross-domain read, on the floor of ``documents.gather`` and ``web.queries``: it reads
every domain's tables and views. The counter that hands out feed positions stays below,
in ``sync.services``, where every domain that writes can use it.
"""

from collections import defaultdict

from sqlalchemy import select

from inspect_app.assignments.models import Assignment, AssignmentMember
from inspect_app.assignments.services import views as assignment_views
from inspect_app.campaigns.models import Campaign, ChecklistVersion
from inspect_app.escalation.models import Reminder
from inspect_app.escalation.services import reminder_view
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, RectificationEvent
from inspect_app.scope import district_filter
from inspect_app.sites.models import Site
from inspect_app.sites.services import site_view
from inspect_app.sync.models import ChangeCounter


def changes_since(user, since: str | None, limit: int) -> dict:
    """Sites, findings, checklist versions, the caller's assignments and reminders
    changed after ``since``, in feed order.

    Deletions come as tombstones (``deleted``): sites deleted, findings withdrawn, an
    assignment the caller was taken off.

    Each feed is read up to ``limit + 1`` rows; the merged page is cut at ``limit``
    so the cursor never passes a change the phone has not received.
    """
    after = int(since or 0)
    head = db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0
    sites = db.session.scalars(
        select(Site)
        .where(Site.sync_seq > after, district_filter(user, Site.district))
        .order_by(Site.sync_seq)
        .limit(limit + 1)
    ).all()
    last_event = (
        select(RectificationEvent.action, RectificationEvent.note)
        .where(RectificationEvent.finding_id == Finding.id)
        .order_by(RectificationEvent.id.desc())
        .limit(1)
        .correlate(Finding)
    )
    findings = db.session.execute(
        select(
            Finding,
            Campaign.code,
            last_event.with_only_columns(RectificationEvent.action).scalar_subquery(),
            last_event.with_only_columns(RectificationEvent.note).scalar_subquery(),
        )
        .join(Campaign, Campaign.id == Finding.campaign_id)
        .where(Finding.sync_seq > after, district_filter(user, Finding.district))
        .order_by(Finding.sync_seq)
        .limit(limit + 1)
    ).all()
    versions = db.session.execute(
        select(ChecklistVersion, Campaign.code)
        .join(Campaign, Campaign.id == ChecklistVersion.campaign_id)
        .where(ChecklistVersion.sync_seq > after)
        .order_by(ChecklistVersion.sync_seq)
        .limit(limit + 1)
    ).all()
    # The caller's own assignments (as a member, current or taken off) and reminders.
    assignments = db.session.execute(
        select(Assignment, AssignmentMember.removed_at)
        .join(AssignmentMember, AssignmentMember.assignment_id == Assignment.id)
        .where(AssignmentMember.user_id == user.id, Assignment.sync_seq > after)
        .order_by(Assignment.sync_seq)
        .limit(limit + 1)
    ).all()
    reminders = db.session.execute(
        select(Reminder, Finding, Site.name, Campaign.code)
        .join(Finding, Finding.id == Reminder.finding_id)
        .join(Site, Site.id == Finding.site_id)
        .join(Campaign, Campaign.id == Finding.campaign_id)
        .where(Reminder.user_id == user.id, Reminder.sync_seq > after)
        .order_by(Reminder.sync_seq)
        .limit(limit + 1)
    ).all()

    merged = sorted(
        [(s.sync_seq, "sites", s) for s in sites]
        + [(row[0].sync_seq, "findings", row) for row in findings]
        + [(row[0].sync_seq, "checklists", row) for row in versions]
        + [(row[0].sync_seq, "assignments", row) for row in assignments]
        + [(row[0].sync_seq, "reminders", row) for row in reminders],
        key=lambda entry: entry[0],
    )
    has_more = len(merged) > limit
    merged = merged[:limit]
    changes: dict[str, list] = {
        "sites": [],
        "findings": [],
        "checklists": [],
        "assignments": [],
        "reminders": [],
    }
    taken_off: dict[int, bool] = defaultdict(bool)
    chosen = []
    for _seq, kind, obj in merged:
        if kind == "assignments":
            taken_off[obj[0].id] = obj[1] is not None
            chosen.append(obj[0])
    for view in assignment_views(chosen):
        changes["assignments"].append({**view, "deleted": taken_off[view["id"]]})
    for _seq, kind, obj in merged:
        if kind == "assignments":
            continue
        if kind == "reminders":
            changes["reminders"].append(reminder_view(*obj))
        elif kind == "sites":
            changes["sites"].append(site_view(obj))
        elif kind == "findings":
            finding, code, action, note = obj
            changes["findings"].append(
                {
                    "id": finding.id,
                    "uuid": finding.uuid,
                    "site_id": finding.site_id,
                    "campaign": code,
                    "status": finding.status,
                    "severity": finding.severity,
                    "deadline": finding.deadline,
                    "description": finding.description,
                    "updated_at": finding.updated_at,
                    "last_action": action,
                    "last_note": note,
                    "deleted": finding.withdrawn_at is not None,
                }
            )
        else:
            version, code = obj
            changes["checklists"].append(
                {"campaign": code, "version": version.version, "published_at": version.published_at}
            )
    if has_more:
        cursor = merged[-1][0]
    else:
        cursor = max(head, merged[-1][0] if merged else 0, after)
    return {"changes": changes, "next_cursor": str(cursor), "has_more": has_more}
