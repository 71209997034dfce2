"""Bodies of the campaign and checklist endpoints, shaped as API-CONTRACT.md says."""

from marshmallow import Schema, fields

from inspect_app.domain import SEVERITIES, SITE_TYPES


class StageSchema(Schema):
    name = fields.String()
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)


class DeadlineDaysSchema(Schema):
    general = fields.Integer(metadata={"description": "一般问题: days from finding to deadline"})
    key = fields.Integer(metadata={"description": "重点问题: days from finding to deadline"})


class CampaignSchema(Schema):
    code = fields.String(metadata={"example": "refined-oil-2025"})
    name = fields.String()
    document_no = fields.String(metadata={"example": "格政办发〔2025〕30号"})
    issued_on = fields.Date(allow_none=True)
    lead_office = fields.String(allow_none=True)
    stages = fields.List(fields.Nested(StageSchema))
    checklist_version = fields.Integer(allow_none=True)
    deadline_days = fields.Nested(
        DeadlineDaysSchema,
        metadata={"description": "整改时限 a new finding gets by default, per severity"},
    )


class CampaignListSchema(Schema):
    items = fields.List(fields.Nested(CampaignSchema))


class ChecklistItemSchema(Schema):
    code = fields.String(metadata={"example": "RO-01"})
    section = fields.String()
    text = fields.String()
    basis = fields.String(metadata={"description": "通知原文 (the notice clause, verbatim)"})
    clause = fields.String(
        metadata={"description": "条款编号 (the clause's key)", "example": "二（三）14三是"}
    )
    clause_label = fields.String(
        dump_only=True,
        metadata={"description": "条款 as a reader cites it", "example": "二（三）第14项 三是"},
    )
    lead_department = fields.String(allow_none=True)
    site_types = fields.List(fields.String(metadata={"enum": list(SITE_TYPES)}))
    answer_type = fields.String(metadata={"enum": ["pass_fail_na"]})
    default_severity = fields.String(metadata={"enum": list(SEVERITIES)})
    photo_required = fields.Boolean()


class ChecklistSchema(Schema):
    campaign = fields.String()
    version = fields.Integer()
    items = fields.List(fields.Nested(ChecklistItemSchema))
