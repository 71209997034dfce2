"""one live site per name and district; withdrawn findings

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00

uq_sites_live_name (partial: sites not deleted) puts a constraint behind the check
"no second site of that name in the district" of POST /sites: ten concurrent
registrations made up to seven sites on PostgreSQL. findings.withdrawn_at marks a
finding that a replaced draft no longer holds (a tombstone in the sync feed) instead
of deleting it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"


def upgrade() -> None:
    duplicates = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT district, name, COUNT(*) FROM sites WHERE {LIVE} "
                "GROUP BY district, name HAVING COUNT(*) > 1"
            )
        )
        .all()
    )
    if duplicates:
        listed = "; ".join(f"{district} {name} ×{n}" for district, name, n in duplicates[:10])
        raise RuntimeError(
            "sites with the same name in the same district must be merged or renamed "
            f"before this upgrade: {listed}"
        )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(
            "uq_sites_live_name",
            ["name", "district"],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index("uq_sites_live_name")
