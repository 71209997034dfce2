"""Bodies of assignments (检查任务), coverage, 回头看 draws, revisit outcomes and relapse rates."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from inspect_app import formats
from inspect_app.db_types import MAX_INT
from inspect_app.domain import DISTRICTS, SITE_TYPES
from inspect_app.inputs import Day, Text
from inspect_app.inspections.schemas import SHA256

ROW_ID = validate.Range(1, MAX_INT)
KINDS = ("inspection", "revisit")
OUTCOMES = ("fixed", "relapsed")


class AssignInSchema(Schema):
    """POST /assignments: sites by id, or every live site of a district (of one type)."""

    campaign = fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata=formats.checked_against("campaigns"),
    )
    stage = Text(
        200,
        min_length=1,
        required=True,
        metadata={
            "description": "工作阶段 name",
            **formats.checked_against("the campaign's stages"),
        },
    )
    site_ids = fields.List(
        fields.Integer(validate=ROW_ID),
        load_default=None,
        validate=validate.Length(1, 5000),
        metadata={
            "description": "The sites; or give district (and site_type) instead",
            **formats.checked_against("live sites in the caller's districts"),
        },
    )
    district = fields.String(
        load_default=None,
        validate=validate.OneOf(DISTRICTS),
        metadata=formats.checked_against("a district with live sites (of site_type)"),
    )
    site_type = fields.String(
        load_default=None,
        validate=validate.OneOf(SITE_TYPES),
        metadata={
            "description": "Only with district",
            **formats.checked_against("given with district"),
        },
    )
    inspector_ids = fields.List(
        fields.Integer(validate=ROW_ID),
        required=True,
        validate=validate.Length(1, 20),
        metadata={
            "description": "One inspector, or a team; each must cover the sites' districts",
            **formats.checked_against("active inspectors or team leads of the sites' districts"),
        },
    )
    due_on = Day(
        load_default=None, allow_none=True, metadata={"description": "Default: the stage's end"}
    )
    department = Text(
        200,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "责任部门 of the campaign's 职责分工",
            **formats.checked_against("the campaign's departments"),
        },
    )

    @validates_schema
    def _sites_or_district(self, data, **_kwargs):
        if bool(data.get("site_ids")) == bool(data.get("district")):
            raise ValidationError("填写 site_ids 或 district 之一", "site_ids")
        if data.get("site_type") and not data.get("district"):
            raise ValidationError("site_type 须与 district 一起填写", "site_type")

    @staticmethod
    def openapi_rules() -> dict:
        return {"oneOf": [{"required": ["site_ids"]}, {"required": ["district"]}]}


class AssignmentQuerySchema(Schema):
    campaign = fields.String(load_default=None, validate=validate.Length(1, 64))
    stage = Text(200, load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    mine = fields.Boolean(load_default=False, metadata={"description": "Only the caller's own"})
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 2000))


class MemberSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class AssignmentSchema(Schema):
    id = fields.Integer()
    campaign = fields.String()
    stage = fields.String()
    kind = fields.String(metadata={"enum": list(KINDS)})
    kind_label = fields.String()
    site_id = fields.Integer()
    site_name = fields.String()
    district = fields.String()
    department = fields.String(allow_none=True)
    finding_id = fields.Integer(allow_none=True, metadata={"description": "revisit: the finding"})
    draw_id = fields.Integer(allow_none=True)
    due_on = fields.Date()
    members = fields.List(fields.Nested(MemberSchema))
    inspected = fields.Boolean(
        metadata={
            "description": "inspection: a final inspection of the site within the stage; "
            "revisit: its outcome is recorded"
        }
    )
    outcome = fields.String(allow_none=True, metadata={"enum": [*OUTCOMES, None]})
    done_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()


class AssignmentListSchema(Schema):
    items = fields.List(fields.Nested(AssignmentSchema))


class AssignResultSchema(AssignmentListSchema):
    created = fields.Integer()
    updated = fields.Integer(
        metadata={"description": "Sites already assigned in the stage, re-assigned"}
    )


class CoverageQuerySchema(Schema):
    stage = Text(200, load_default=None, metadata={"description": "Default: the stage under way"})


class CoverageRowSchema(Schema):
    key = fields.String()
    assigned = fields.Integer()
    inspected = fields.Integer()
    not_inspected = fields.Integer()
    coverage_rate = fields.Float()


class CoverageSchema(Schema):
    campaign = fields.String()
    campaign_name = fields.String()
    stage = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    ended = fields.Boolean(metadata={"description": "The stage is over: not_inspected is final"})
    stages = fields.List(fields.String())
    by_district = fields.List(fields.Nested(CoverageRowSchema))
    by_department = fields.List(fields.Nested(CoverageRowSchema))
    total = fields.Nested(CoverageRowSchema)


class DrawInSchema(Schema):
    """POST /campaigns/{code}/revisit-draws."""

    share_percent = fields.Integer(load_default=30, validate=validate.Range(1, 100))
    seed = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(0, 2**53),
        metadata={"description": "Random seed; a random one is chosen and stored if absent"},
    )
    districts = fields.List(
        fields.String(validate=validate.OneOf(DISTRICTS)),
        load_default=None,
        validate=validate.Length(1, len(DISTRICTS)),
        metadata={
            "description": "Default: the caller's districts",
            **formats.checked_against("districts with closed findings"),
        },
    )
    due_on = Day(required=True)
    inspector_ids = fields.List(
        fields.Integer(validate=ROW_ID),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={
            "description": "Each revisit goes to those of them who cover its district",
            **formats.checked_against("active inspectors or team leads"),
        },
    )


class DrawDistrictSchema(Schema):
    district = fields.String()
    closed = fields.Integer()
    drawn = fields.Integer()


class DrawSchema(Schema):
    id = fields.Integer()
    campaign = fields.String()
    seed = fields.Integer()
    share_percent = fields.Integer()
    districts = fields.List(fields.String())
    due_on = fields.Date()
    created_at = fields.DateTime()
    population_size = fields.Integer(metadata={"description": "Closed findings drawn from"})
    finding_ids = fields.List(fields.Integer())
    major_hazard_ids = fields.List(
        fields.Integer(), metadata={"description": "重大隐患, always drawn"}
    )
    by_district = fields.List(fields.Nested(DrawDistrictSchema))
    reproducible = fields.Boolean(
        metadata={"description": "The seed on the stored population gives the same findings again"}
    )
    assignments = fields.List(fields.Nested(AssignmentSchema))


class RevisitInSchema(Schema):
    """POST /assignments/{id}/revisit: what the 回头看 found."""

    outcome = fields.String(
        required=True,
        validate=validate.OneOf(OUTCOMES),
        metadata={
            "description": "fixed 整改到位; relapsed 问题反弹 "
            "(reopens the finding: team_lead or office)"
        },
    )
    note = Text(2000, load_default="")
    photos = fields.List(
        fields.String(validate=SHA256),
        load_default=list,
        validate=validate.Length(max=20),
        metadata=formats.checked_against("photos the caller may name"),
    )


class RelapseRowSchema(Schema):
    key = fields.String()
    revisited = fields.Integer()
    relapsed = fields.Integer()
    relapse_rate = fields.Float()


class RelapseSchema(Schema):
    campaign = fields.String()
    by_district = fields.List(fields.Nested(RelapseRowSchema))
    by_department = fields.List(fields.Nested(RelapseRowSchema))
    total = fields.Nested(RelapseRowSchema)
