"""Body of GET /sync: what changed for the caller since a cursor."""

from marshmallow import Schema, fields, validate

from inspect_app.assignments.schemas import AssignmentSchema
from inspect_app.escalation.schemas import ReminderSchema
from inspect_app.sites.schemas import SiteSchema, validate_cursor


class SyncQuerySchema(Schema):
    since = fields.String(
        load_default=None,
        validate=validate_cursor,
        metadata={"description": "next_cursor of the previous sync; omit for everything"},
    )
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 2000))


class FindingChangeSchema(Schema):
    id = fields.Integer()
    uuid = fields.String()
    site_id = fields.Integer()
    campaign = fields.String()
    status = fields.String()
    severity = fields.String()
    deadline = fields.Date(allow_none=True)
    description = fields.String()
    updated_at = fields.DateTime()
    last_action = fields.String(allow_none=True)
    last_note = fields.String(allow_none=True)
    deleted = fields.Boolean(
        metadata={
            "description": "Tombstone: withdrawn (撤回) from a draft the inspector replaced "
            "without it; drop it from the phone (status voided, last_action withdraw)"
        }
    )


class ChecklistChangeSchema(Schema):
    campaign = fields.String()
    version = fields.Integer()
    published_at = fields.DateTime()


class AssignmentChangeSchema(AssignmentSchema):
    deleted = fields.Boolean(
        metadata={"description": "Tombstone: the caller was taken off this assignment"}
    )


class ChangesSchema(Schema):
    sites = fields.List(fields.Nested(SiteSchema))
    findings = fields.List(fields.Nested(FindingChangeSchema))
    checklists = fields.List(fields.Nested(ChecklistChangeSchema))
    assignments = fields.List(
        fields.Nested(AssignmentChangeSchema),
        metadata={"description": "The caller's assignments (检查任务, 回头看复查) made or changed"},
    )
    reminders = fields.List(
        fields.Nested(ReminderSchema),
        metadata={
            "description": "Reminders (临期提醒, 逾期上报, 挂牌督办) addressed to the caller"
        },
    )


class SyncSchema(Schema):
    changes = fields.Nested(ChangesSchema)
    next_cursor = fields.String()
    has_more = fields.Boolean()
