"""assignments, 回头看 draws, escalation reminders and webhooks

Revision ID: 0009_h17_run
Revises: 0008_h13_web
Create Date: 2026-12-02 15:00:00

Assignments send inspectors (or a team) to sites per campaign stage; a revisit
assignment comes from a 回头看 draw, stored with its seed and population so it can
be shown and repeated. Escalation steps are events of the finding: the partial unique
index uq_events_escalation holds "each step once per deadline" even when two runs
overlap. Such events are made by the system, so an event's actor may be NULL.
findings.supervised_at marks 挂牌督办.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import inspect_app.db_types

revision = "0009_h17_run"
down_revision = "0008_h13_web"
branch_labels = None
depends_on = None

STEPS = "action IN ('remind', 'escalate', 'supervise')"
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC_TIME = inspect_app.db_types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "revisit_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("share_percent", sa.Integer(), nullable=False),
        sa.Column("districts", JSON, nullable=False),
        sa.Column("population", JSON, nullable=False),
        sa.Column("drawn", JSON, nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("district", sa.String(length=32), nullable=False),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("findings.id"), nullable=True),
        sa.Column("draw_id", sa.Integer(), sa.ForeignKey("revisit_draws.id"), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=False, server_default=""),
        sa.Column("done_at", UTC_TIME, nullable=True),
        sa.Column("done_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("sync_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_campaign_stage", ["campaign_id", "stage"])
        batch_op.create_index("ix_assignments_sync_seq", ["sync_seq"])
        batch_op.create_index(
            "uq_assignments_site_stage",
            ["campaign_id", "stage", "site_id"],
            unique=True,
            sqlite_where=sa.text("kind = 'inspection'"),
            postgresql_where=sa.text("kind = 'inspection'"),
        )
        batch_op.create_index("uq_assignments_draw_finding", ["draw_id", "finding_id"], unique=True)
    op.create_table(
        "assignment_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "assignment_id",
            sa.Integer(),
            sa.ForeignKey("assignments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("removed_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assignment_id", "user_id", name="uq_assignment_members"),
    )
    with op.batch_alter_table("assignment_members", schema=None) as batch_op:
        batch_op.create_index("ix_assignment_members_user_id", ["user_id"])

    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            "uq_events_escalation",
            ["finding_id", "action", "deadline"],
            unique=True,
            sqlite_where=sa.text(STEPS),
            postgresql_where=sa.text(STEPS),
        )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supervised_at", UTC_TIME, nullable=True))

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("findings.id"), nullable=False),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("rectification_events.id"), nullable=False
        ),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("sync_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "user_id", name="uq_reminders_event_user"),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_user_seq", ["user_id", "sync_seq"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), sa.ForeignKey("webhooks.id"), nullable=False),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("rectification_events.id"), nullable=False
        ),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=True),
        sa.Column("delivered_at", UTC_TIME, nullable=True),
        sa.Column("log", JSON, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_due", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("reminders")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_column("supervised_at")
    # The system's escalation events have no actor, which 0007's schema cannot hold.
    op.execute("DELETE FROM rectification_events WHERE actor_id IS NULL")
    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.drop_index("uq_events_escalation")
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("assignment_members")
    op.drop_table("assignments")
    op.drop_table("revisit_draws")
