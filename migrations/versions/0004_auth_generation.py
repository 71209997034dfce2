"""the revocation generation: one row every request reads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00

auth_generation holds a single row (id 1) whose value is bumped in the transaction of
every logout, user disable and role or district change; a worker's cache of checked
logins is valid only while the value it saw is unchanged (issue 12, item 7).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "auth_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("auth_generation")
