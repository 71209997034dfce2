"""The rectification lifecycle (整改流程) of a finding: which move, from where, by whom.

A plain table with no database access, so that the rules can be read in one place
and tested on their own. ``services.apply_event`` enforces it; this module only
answers "may this role make this move from this status, and where does it lead".

    open ──start──▶ rectifying ──submit──▶ pending_review ──approve──▶ closed
      └─────────────submit────────────────▶      │                      │
                    ▲◀──────────reject───────────┘                      │
                    ▲◀──────────reopen (回头看) ─────────────────────────┘
    any status but voided ──void──▶ voided          extend: new deadline, same status
"""

from dataclasses import dataclass

from inspect_app.domain import FINDING_STATUS_LABELS, ROLE_LABELS, ROLES
from inspect_app.errors import Conflict, Forbidden

EVERYONE = frozenset({"inspector", "team_lead", "office"})
REVIEWERS = frozenset({"team_lead", "office"})
OFFICE = frozenset({"office"})
NOT_FINAL = frozenset({"open", "rectifying", "pending_review"})


@dataclass(frozen=True)
class Move:
    """One action of POST /findings/{id}/events."""

    action: str
    label: str  # Chinese name shown in messages and spreadsheets
    from_statuses: frozenset[str]
    to_status: str | None  # None: the status stays (extend)
    roles: frozenset[str]
    note_required: bool = False
    photos_required: bool = False
    deadline_required: bool = False


MOVES: dict[str, Move] = {
    move.action: move
    for move in (
        Move("start", "开始整改", frozenset({"open"}), "rectifying", EVERYONE),
        Move(
            "submit",
            "提交整改",
            frozenset({"open", "rectifying"}),
            "pending_review",
            EVERYONE,
            photos_required=True,
        ),
        Move("approve", "复查销号", frozenset({"pending_review"}), "closed", REVIEWERS),
        Move(
            "reject",
            "驳回",
            frozenset({"pending_review"}),
            "rectifying",
            REVIEWERS,
            note_required=True,
        ),
        Move("reopen", "重新打开", frozenset({"closed"}), "rectifying", REVIEWERS),
        Move("void", "作废", NOT_FINAL | {"closed"}, "voided", OFFICE, note_required=True),
        Move(
            "extend",
            "延期",
            NOT_FINAL,
            None,
            REVIEWERS,
            note_required=True,
            deadline_required=True,
        ),
    )
}

ACTIONS: tuple[str, ...] = tuple(MOVES)

# Events the inspection service writes when a finding is recorded, or withdrawn (撤回) from
# a draft the inspector replaced without it; not client actions.
# The escalation job's steps are events too (inspect_app.escalation), made by no user.
ACTION_LABELS = {
    "record": "现场发现",
    "fix_on_spot": "立行立改",
    "withdraw": "撤回",
    "remind": "临期提醒",
    "escalate": "逾期上报",
    "supervise": "挂牌督办",
} | {move.action: move.label for move in MOVES.values()}


def check(move: Move, role: str, status: str) -> str:
    """The status after ``move``; Forbidden (403) for the role, Conflict (409) for the status.

    The role is checked first: an inspector trying to approve learns that approving is
    not theirs, whatever the finding's status.
    """
    if role not in move.roles:
        allowed = "或".join(ROLE_LABELS[r] for r in ROLES if r in move.roles)
        raise Forbidden(f"只有{allowed}可以执行「{move.label}」")
    if status not in move.from_statuses:
        raise Conflict(
            f"当前状态为「{FINDING_STATUS_LABELS.get(status, status)}」，不能执行「{move.label}」"
        )
    return move.to_status or status
