"""where each inspection came from, and the XForm submissions as received

Revision ID: 0012_h18_submit
Revises: 0011_accounts_registry

inspections.source: app (the JSON API), collect (ODK Collect, KoboCollect), enketo.
form_submissions: the XML of each instance ODK Collect or Enketo sent, with the
inspection it made; form_attachments: the files (photos) each one quotes.
"""

import sqlalchemy as sa
from alembic import op

import inspect_app.db_types

revision = "0012_h18_submit"
down_revision = "0011_accounts_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="app", nullable=False)
        )
    op.create_table(
        "form_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("deprecated_id", sa.String(length=64), nullable=True),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.String(length=128), nullable=False),
        sa.Column("form_version", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("xml_sha256", sa.String(length=64), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("received_at", inspect_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
    )
    with op.batch_alter_table("form_submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_submissions_inspection_id"), ["inspection_id"], unique=False
        )
    op.create_table(
        "form_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("pending_sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("received_at", inspect_app.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["form_submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", "filename"),
    )


def downgrade() -> None:
    op.drop_table("form_attachments")
    with op.batch_alter_table("form_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_submissions_inspection_id"))
    op.drop_table("form_submissions")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_column("source")
