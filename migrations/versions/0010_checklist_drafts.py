"""checklist drafts: the office's own notice-to-checklist workflow

Revision ID: 0010_checklist_drafts
Revises: 0009_h17_run
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import inspect_app.db_types

revision = "0010_checklist_drafts"
down_revision = "0009_h17_run"
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "checklist_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_code", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("campaign", _json(), nullable=False),
        sa.Column("excluded", _json(), nullable=False),
        sa.Column("summary", _json(), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=False),
        sa.Column("notice_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", inspect_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", inspect_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checklist_drafts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checklist_drafts_campaign_code"), ["campaign_code"], unique=False
        )
    op.create_table(
        "checklist_draft_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("section", sa.Text(), nullable=False),
        sa.Column("clause", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("lead_department", sa.String(length=200), nullable=True),
        sa.Column("site_types", _json(), nullable=False),
        sa.Column("answer_type", sa.String(length=32), nullable=False),
        sa.Column("default_severity", sa.String(length=16), nullable=False),
        sa.Column("photo_required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["checklist_drafts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checklist_draft_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checklist_draft_items_draft_id"), ["draft_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("checklist_draft_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_draft_items_draft_id"))
    op.drop_table("checklist_draft_items")
    with op.batch_alter_table("checklist_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_drafts_campaign_code"))
    op.drop_table("checklist_drafts")
