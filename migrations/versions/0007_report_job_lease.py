"""report job lease: a job whose worker died is handed out again or failed

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import inspect_app.db_types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Jobs left queued or running from before keep a NULL lease: documents.jobs treats
    # that as run out, so they are handed out again at the next look.
    with op.batch_alter_table("report_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("lease_until", inspect_app.db_types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("report_jobs", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("token")
