"""rectification events: when a move happened (phone) apart from when it was received

Revision ID: 0008_h13_web
Revises: 0007

``rectification_events.at`` is when the move happened, as the phone tells it (the
inspection's time for a finding recorded or fixed on the spot); ``received_at`` is when
the server received it. Until now both were the server's time of receipt: existing
events keep it as ``received_at``, and the events written from an inspection take the
inspection's times, as the findings' ``found_at`` already did.
"""

import sqlalchemy as sa
from alembic import op

import inspect_app.db_types

revision = "0008_h13_web"
down_revision = "0007"
branch_labels = None
depends_on = None

INSPECTION_END = """(SELECT COALESCE(i.finished_at, i.started_at) FROM findings f
    JOIN inspections i ON i.id = f.inspection_id WHERE f.id = {table}.{column})"""


def upgrade() -> None:
    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("received_at", inspect_app.db_types.UTCDateTime(timezone=True))
        )
    op.execute("UPDATE rectification_events SET received_at = at")
    op.execute(
        "UPDATE rectification_events SET at = (SELECT f.found_at FROM findings f "
        "WHERE f.id = rectification_events.finding_id) "
        "WHERE action = 'record' AND from_status IS NULL"
    )
    op.execute(
        "UPDATE rectification_events SET at = "
        + INSPECTION_END.format(table="rectification_events", column="finding_id")
        + " WHERE action = 'fix_on_spot'"
    )
    # 立行立改 closed it at the site, not when the phone synced.
    op.execute(
        "UPDATE findings SET closed_at = "
        + INSPECTION_END.format(table="findings", column="id")
        + " WHERE status = 'closed' AND fixed_on_spot AND NOT EXISTS ("
        "SELECT 1 FROM rectification_events e WHERE e.finding_id = findings.id "
        "AND e.action = 'approve')"
    )
    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.alter_column(
            "received_at",
            existing_type=inspect_app.db_types.UTCDateTime(timezone=True),
            nullable=False,
        )


def downgrade() -> None:
    op.execute(
        "UPDATE findings SET closed_at = (SELECT MAX(e.received_at) FROM rectification_events e "
        "WHERE e.finding_id = findings.id AND e.action = 'fix_on_spot') "
        "WHERE status = 'closed' AND fixed_on_spot AND NOT EXISTS ("
        "SELECT 1 FROM rectification_events e WHERE e.finding_id = findings.id "
        "AND e.action = 'approve')"
    )
    op.execute(
        "UPDATE rectification_events SET at = received_at WHERE action IN ('record', 'fix_on_spot')"
    )
    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.drop_column("received_at")
