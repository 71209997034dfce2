"""accounts run by the office, the site registry imported from spreadsheets

Revision ID: 0011_accounts_registry
Revises: 0010_checklist_drafts

users: a phone number, a password the user must change at first login (one the office
reset or made), the last login and the last sync the office sees. sites: the site a
retired record was merged into, so a re-import of its credit code is told where it went.
"""

import sqlalchemy as sa
from alembic import op

import inspect_app.db_types

revision = "0011_accounts_registry"
down_revision = "0010_checklist_drafts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone", sa.String(length=32), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "last_login_at", inspect_app.db_types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "last_sync_at", inspect_app.db_types.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_sites_merged_into_id", "sites", ["merged_into_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_constraint("fk_sites_merged_into_id", type_="foreignkey")
        batch_op.drop_column("merged_into_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_sync_at")
        batch_op.drop_column("last_login_at")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("phone")
