"""The inspection body a phone PUTs after working offline (API-CONTRACT.md, "Inspection body")."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from inspect_app.domain import ANSWER_RESULTS, SEVERITIES
from inspect_app.inputs import Day, Text, Time
from inspect_app.sites.schemas import LAT_RANGE, LON_RANGE, ROW_ID
from inspect_app.validators import SHA256_PATTERN, FullMatch

SHA256 = FullMatch(SHA256_PATTERN, error="应为 64 位小写十六进制 SHA-256")


class LocationSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(*LAT_RANGE))
    lon = fields.Float(required=True, validate=validate.Range(*LON_RANGE))


class AnswerSchema(Schema):
    item_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    result = fields.String(required=True, validate=validate.OneOf(ANSWER_RESULTS))
    note = Text(2000, load_default="")


class FindingInSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "Made by the phone"})
    item_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    description = Text(4000, min_length=1, required=True)
    severity = fields.String(
        load_default=None,
        validate=validate.OneOf(SEVERITIES),
        metadata={"description": "general 一般问题 / key 重点问题; default: the item's"},
    )
    major_hazard = fields.Boolean(load_default=False, metadata={"description": "重大事故隐患"})
    requirement = Text(2000, load_default="")
    deadline = Day(
        load_default=None,
        metadata={"description": "整改时限; default: the campaign's days for the severity"},
    )
    fixed_on_spot = fields.Boolean(
        load_default=False, metadata={"description": "立行立改: needs an evidence photo"}
    )
    responsible_department = Text(
        200,
        load_default=None,
        metadata={"description": "责任单位; default: the item's lead department"},
    )
    photos = fields.List(fields.String(validate=SHA256), load_default=list)


class InspectionInSchema(Schema):
    campaign = fields.String(required=True)
    checklist_version = fields.Integer(required=True, validate=ROW_ID)
    site_id = fields.Integer(required=True, validate=ROW_ID)
    started_at = Time(required=True)
    finished_at = Time(load_default=None)
    location = fields.Nested(LocationSchema, load_default=None, allow_none=True)
    answers = fields.List(fields.Nested(AnswerSchema), load_default=list)
    findings = fields.List(fields.Nested(FindingInSchema), load_default=list)
    final = fields.Boolean(load_default=False)

    @validates_schema
    def _times_in_order(self, data, **_kwargs):
        if data.get("finished_at") and data["finished_at"] < data["started_at"]:
            raise ValidationError("结束时间早于开始时间", "finished_at")


class FindingRefSchema(Schema):
    id = fields.Integer()
    uuid = fields.String()
    status = fields.String()


class InspectionResultSchema(Schema):
    id = fields.Integer()
    uuid = fields.String()
    status = fields.String(
        metadata={
            "enum": ["draft", "awaiting_photos", "complete"],
            "description": "draft: not final; awaiting_photos: final, photos still to upload",
        }
    )
    missing_photos = fields.List(fields.String())
    findings = fields.List(fields.Nested(FindingRefSchema))


class StoredFindingSchema(FindingInSchema):
    server_id = fields.Integer()
    status = fields.String()


class InspectionOutSchema(InspectionResultSchema):
    campaign = fields.String()
    checklist_version = fields.Integer()
    site_id = fields.Integer()
    inspector = fields.String()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    location = fields.Nested(LocationSchema, allow_none=True)
    answers = fields.List(fields.Nested(AnswerSchema))
    findings = fields.List(fields.Nested(StoredFindingSchema))
    final = fields.Boolean()
