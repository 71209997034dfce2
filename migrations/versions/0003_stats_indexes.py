"""indexes for the campaign statistics

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:40:00

ix_findings_stats covers every column GET /campaigns/{code}/stats reads from findings,
campaign first and district next (a covering / index-only scan of one campaign, already
in district order); ix_inspections_campaign_site does the same for the count of sites
inspected; ix_findings_voided (partial) lists a campaign's voided findings, which the
enforcement figures leave out. See bench/stats.py.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

VOIDED = "status = 'voided'"


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_findings_stats",
            [
                "campaign_id",
                "district",
                "status",
                "deadline",
                "severity",
                "major_hazard",
                "responsible_department",
                "site_id",
            ],
            unique=False,
        )
        batch_op.create_index(
            "ix_findings_voided",
            ["campaign_id", "id"],
            unique=False,
            sqlite_where=sa.text(VOIDED),
            postgresql_where=sa.text(VOIDED),
        )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inspections_campaign_site", ["campaign_id", "site_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index("ix_inspections_campaign_site")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_voided")
        batch_op.drop_index("ix_findings_stats")
