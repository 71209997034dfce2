"""app keys for ODK Collect, KoboCollect and Enketo (OpenRosa)

Revision ID: 0012_h18_forms
Revises: 0012_h18_submit

app_keys: a user's key for the OpenRosa apps, kept as its SHA-256 only; revoked_at set
when the office revokes it or issues a new one.
"""

import sqlalchemy as sa
from alembic import op

import inspect_app.db_types

revision = "0012_h18_forms"
down_revision = "0012_h18_submit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", inspect_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", inspect_app.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("app_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_keys_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("app_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_keys_user_id"))
    op.drop_table("app_keys")
