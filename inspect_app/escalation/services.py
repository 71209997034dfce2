"""Escalation (督办) of findings whose deadline comes near or has passed.

The steps, by default (``INSPECT_ESCALATION_STEPS``, days counted from the deadline):

- ``remind`` (临期提醒), 3 days before: the responsible inspector (who recorded it);
- ``escalate`` (逾期上报), the first day past it: the team leads of the district;
- ``supervise`` (挂牌督办), 15 days past it: the office; the finding is marked 挂牌督办.

Each step is a RectificationEvent of the finding made by the system (no actor), once
per step and deadline: the partial unique index ``uq_events_escalation`` holds it even
when two runs overlap, and an extended deadline starts the steps afresh. A run takes
the feed counter first (``next_seq``), which on PostgreSQL makes a second run wait
for the first's commit and then find its events; SQLite's writers queue anyway
(BEGIN IMMEDIATE). Each step's rows go in a savepoint, so a collision the index
catches drops only that step. Each event gives a Reminder per person told and a
WebhookDelivery per active webhook, sent after the commit by ``escalation.webhooks``.
"""

import json
from datetime import date, datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError

from inspect_app.audit.services import record as audit
from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign
from inspect_app.config import escalation_steps
from inspect_app.db_types import utcnow
from inspect_app.domain import today_shanghai
from inspect_app.errors import Invalid, NotFound
from inspect_app.escalation.models import Reminder, Webhook, WebhookDelivery
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, RectificationEvent
from inspect_app.inspections.models import Inspection
from inspect_app.sites.models import Site
from inspect_app.sync.services import next_seq

STEP_LABELS = {"remind": "临期提醒", "escalate": "逾期上报", "supervise": "挂牌督办"}
# A reminder before the deadline is for work still to do; one awaiting review is the
# team lead's to move, and past the deadline the other steps take over.
REMIND_STATUSES = ("open", "rectifying")
ESCALATE_STATUSES = ("open", "rectifying", "pending_review")


def message(step: str, site_name: str, description: str, deadline: date, today: date) -> str:
    """The Chinese text of a reminder (and of the webhook's message)."""
    what = f"{site_name}「{description[:40]}」"
    days = (today - deadline).days
    if step == "remind":
        left = -days
        when = "今天到期" if left == 0 else f"还剩 {left} 天"
        return f"【{STEP_LABELS[step]}】{what}整改时限 {deadline.isoformat()}，{when}，请督促整改。"
    if step == "escalate":
        return (
            f"【{STEP_LABELS[step]}】{what}已超过整改时限 {deadline.isoformat()}"
            f"（逾期 {days} 天），请组长督促整改。"
        )
    return f"【{STEP_LABELS[step]}】{what}逾期 {days} 天仍未整改，已挂牌督办。"


def _candidates(step: str, day: int, today: date) -> list:
    """Findings due for ``step`` today that do not have it for their current deadline."""
    done = exists().where(
        RectificationEvent.finding_id == Finding.id,
        RectificationEvent.action == step,
        RectificationEvent.deadline == Finding.deadline,
    )
    statuses = REMIND_STATUSES if step == "remind" else ESCALATE_STATUSES
    # today - deadline >= day, i.e. deadline <= today - day (dates as ordinals).
    conditions = [
        Finding.status.in_(statuses),
        Finding.deadline.is_not(None),
        Finding.withdrawn_at.is_(None),
        Finding.deadline <= date.fromordinal(today.toordinal() - day),
        ~done,
    ]
    if day <= 0:
        # Steps before the deadline are for findings not yet overdue.
        conditions.append(Finding.deadline >= today)
    return db.session.execute(
        select(Finding, Site.name, Inspection.inspector_id)
        .join(Site, Site.id == Finding.site_id)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .where(and_(*conditions))
        .order_by(Finding.id)
        # PostgreSQL: a finding someone is moving right now (its row locked) waits for the
        # next run; the others are locked until this run commits, so a move made meanwhile
        # comes after the step and its status. SQLite's writers are serialised anyway.
        .with_for_update(of=Finding, skip_locked=True)
    ).all()


def _recipients(step: str, finding: Finding, inspector_id: int, people: list[User]) -> list[User]:
    if step == "remind":
        return [u for u in people if u.id == inspector_id]
    if step == "escalate":
        return [u for u in people if u.role == "team_lead" and finding.district in u.districts]
    return [u for u in people if u.role == "office"]


def run(steps_setting: str, *, now: datetime | None = None, today: date | None = None) -> dict:
    """Make every escalation step that is due; counts per step. The caller commits."""
    now = now or utcnow()
    today = today or today_shanghai()
    steps = escalation_steps(steps_setting)
    counts = {step: 0 for step, _ in steps}
    # The feed counter, taken before anything is read: overlapping runs queue here.
    next_seq(0)
    people = list(db.session.scalars(select(User).where(User.active.is_(True))))
    hooks = list(db.session.scalars(select(Webhook).where(Webhook.active.is_(True))))
    codes = dict(db.session.execute(select(Campaign.id, Campaign.code)).all())
    for step, day in steps:
        for finding, site_name, inspector_id in _candidates(step, day, today):
            text = message(step, site_name, finding.description, finding.deadline, today)
            told = _recipients(step, finding, inspector_id, people)
            try:
                with db.session.begin_nested():
                    event_id = _make_step(step, finding, text, now, told)
            except IntegrityError:
                # Another run made this step meanwhile: it is theirs, once.
                continue
            counts[step] += 1
            _queue_deliveries(hooks, event_id, step, finding, site_name, codes, text, now)
    return counts


def _make_step(step: str, finding: Finding, text: str, now: datetime, people: list[User]) -> int:
    """The step's event, its reminders and (supervise) the 挂牌督办 mark; the event's id."""
    event = RectificationEvent(
        finding_id=finding.id,
        action=step,
        from_status=finding.status,
        to_status=finding.status,
        actor_id=None,
        at=now,
        note=text,
        deadline=finding.deadline,
        photos=[],
    )
    db.session.add(event)
    db.session.flush()
    if people:
        first = next_seq(len(people))
        for offset, person in enumerate(people):
            db.session.add(
                Reminder(
                    user_id=person.id,
                    finding_id=finding.id,
                    event_id=event.id,
                    step=step,
                    message=text,
                    created_at=now,
                    sync_seq=first + offset,
                )
            )
    if step == "supervise":
        seq = next_seq()
        finding.supervised_at = now
        finding.updated_at = now
        finding.sync_seq = seq
    db.session.flush()
    return event.id


def _queue_deliveries(hooks, event_id, step, finding, site_name, codes, text, now) -> None:
    body = {
        # WeCom and DingTalk robots both read this text message; other systems the rest.
        "msgtype": "text",
        "text": {"content": text},
        "event": {
            "id": event_id,
            "step": step,
            "step_label": STEP_LABELS[step],
            "at": now.isoformat(),
        },
        "finding": {
            "id": finding.id,
            "uuid": finding.uuid,
            "campaign": codes.get(finding.campaign_id),
            "site_id": finding.site_id,
            "site_name": site_name,
            "district": finding.district,
            "description": finding.description,
            "deadline": finding.deadline.isoformat(),
            "status": finding.status,
            "responsible_department": finding.responsible_department,
        },
    }
    payload = json.dumps(body, ensure_ascii=False, sort_keys=True)
    for hook in hooks:
        db.session.add(
            WebhookDelivery(
                webhook_id=hook.id,
                event_id=event_id,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                log=[],
                created_at=now,
            )
        )
    db.session.flush()


# ---------------------------------------------------------------------------
# Reminders as users see them


def reminders_of(user: User, limit: int = 100) -> dict:
    """The caller's reminders, newest first, with the finding's campaign and site."""
    rows = db.session.execute(
        select(Reminder, Finding, Site.name, Campaign.code)
        .join(Finding, Finding.id == Reminder.finding_id)
        .join(Site, Site.id == Finding.site_id)
        .join(Campaign, Campaign.id == Finding.campaign_id)
        .where(Reminder.user_id == user.id)
        .order_by(Reminder.id.desc())
        .limit(limit)
    ).all()
    return {"items": [reminder_view(*row) for row in rows]}


def reminder_view(reminder: Reminder, finding: Finding, site_name: str, code: str) -> dict:
    return {
        "id": reminder.id,
        "step": reminder.step,
        "step_label": STEP_LABELS.get(reminder.step, reminder.step),
        "message": reminder.message,
        "finding_id": finding.id,
        "finding_uuid": finding.uuid,
        "campaign": code,
        "site_id": finding.site_id,
        "site_name": site_name,
        "district": finding.district,
        "deadline": finding.deadline,
        "status": finding.status,
        "supervised": finding.supervised_at is not None,
        "created_at": reminder.created_at,
    }


# ---------------------------------------------------------------------------
# Webhooks, configured by the office


def webhook_view(hook: Webhook) -> dict:
    return {
        "id": hook.id,
        "name": hook.name,
        "url": hook.url,
        "active": hook.active,
        "created_at": hook.created_at,
    }


def list_webhooks() -> dict:
    return {
        "items": [webhook_view(h) for h in db.session.scalars(select(Webhook).order_by(Webhook.id))]
    }


def create_webhook(user: User, data: dict) -> dict:
    if not data["url"].startswith(("http://", "https://")):
        raise Invalid("Webhook 地址须以 http:// 或 https:// 开头", fields={"url": ["地址无效"]})
    hook = Webhook(
        name=data["name"].strip(),
        url=data["url"],
        secret=data["secret"],
        active=True,
        created_by_id=user.id,
        created_at=utcnow(),
    )
    db.session.add(hook)
    db.session.flush()
    audit(user.id, "webhook.create", "webhook", hook.id, {"name": hook.name, "url": hook.url})
    return webhook_view(hook)


def webhook(hook_id: int) -> Webhook:
    hook = db.session.get(Webhook, hook_id) if 0 < hook_id < 2**31 else None
    if hook is None:
        raise NotFound("Webhook 不存在")
    return hook


def disable_webhook(user: User, hook_id: int) -> None:
    """Stops new deliveries to it; its log stays."""
    hook = webhook(hook_id)
    hook.active = False
    db.session.flush()
    audit(user.id, "webhook.disable", "webhook", hook.id, {"name": hook.name})


def deliveries(hook_id: int, limit: int = 200) -> dict:
    hook = webhook(hook_id)
    rows = db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return {
        "items": [
            {
                "id": d.id,
                "event_id": d.event_id,
                "status": d.status,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at if d.status == "pending" else None,
                "delivered_at": d.delivered_at,
                "log": d.log,
                "created_at": d.created_at,
            }
            for d in rows
        ]
    }
