"""who holds a photo's bytes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00

photo_holders lists the users who proved to hold a photo by uploading its bytes: knowing
a photo's SHA-256 is no right to see it (issue 12, item 5). Every photo's uploader is a
holder from the start.
"""

import sqlalchemy as sa
from alembic import op

import inspect_app.db_types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo_holders",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", inspect_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["photos.sha256"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("sha256", "user_id"),
    )
    op.execute(
        "INSERT INTO photo_holders (sha256, user_id, created_at) "
        "SELECT sha256, uploaded_by_id, created_at FROM photos WHERE uploaded_by_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("photo_holders")
