"""The inspection body a phone PUTs after working offline (API-CONTRACT.md, "Inspection body")."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from inspect_app import formats
from inspect_app.domain import ANSWER_RESULTS, SEVERITIES
from inspect_app.inputs import Day, Text, Time
from inspect_app.sites.schemas import LAT_RANGE, LON_RANGE, ROW_ID

SHA256 = formats.Matches(formats.SHA256, error="应为 64 位小写十六进制 SHA-256")


class LocationSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(*LAT_RANGE))
    lon = fields.Float(required=True, validate=validate.Range(*LON_RANGE))


ITEM_OF_THE_CHECKLIST = formats.checked_against("an item of the campaign's checklist version")


class AnswerSchema(Schema):
    item_code = fields.String(
        required=True, validate=validate.Length(min=1, max=32), metadata=ITEM_OF_THE_CHECKLIST
    )
    result = fields.String(required=True, validate=validate.OneOf(ANSWER_RESULTS))
    note = Text(2000, load_default="")


class FindingInSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "Made by the phone"})
    item_code = fields.String(
        required=True, validate=validate.Length(min=1, max=32), metadata=ITEM_OF_THE_CHECKLIST
    )
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
    campaign = fields.String(required=True, metadata=formats.checked_against("campaigns"))
    checklist_version = fields.Integer(
        required=True,
        validate=ROW_ID,
        metadata=formats.checked_against("the campaign's published checklist versions"),
    )
    site_id = fields.Integer(
        required=True,
        validate=ROW_ID,
        metadata=formats.checked_against("sites in the caller's districts"),
    )
    started_at = Time(required=True)
    finished_at = Time(load_default=None, metadata=formats.checked_against("not before started_at"))
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
    source = fields.String(
        metadata={
            "enum": ["app", "collect", "enketo"],
            "description": "Where it came from: app (this API), collect (ODK Collect, "
            "KoboCollect), enketo (a browser), the last two through OpenRosa",
        }
    )
