"""Bodies of the site endpoints."""

from marshmallow import Schema, ValidationError, fields, validate, validates

from inspect_app.domain import DISTRICTS, SITE_TYPES
from inspect_app.sites import credit_code

# China's extent, with a margin: a point outside is a GPS fault, not a site.
LAT_RANGE = (3.5, 54.0)
LON_RANGE = (73.0, 135.5)


def text(max_length: int, **kwargs):
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


class SiteSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    site_type = fields.String(required=True, validate=validate.OneOf(SITE_TYPES))
    credit_code = fields.String(
        allow_none=True,
        load_default=None,
        metadata={"description": "统一社会信用代码 (GB 32100, with its check character)"},
    )
    address = text(300, load_default="")
    district = fields.String(required=True, validate=validate.OneOf(DISTRICTS))
    lat = fields.Float(allow_none=True, load_default=None, validate=validate.Range(*LAT_RANGE))
    lon = fields.Float(allow_none=True, load_default=None, validate=validate.Range(*LON_RANGE))
    licences = fields.List(text(100), load_default=list)
    contact_name = text(64, load_default="")
    contact_phone = text(32, load_default="")
    client_uuid = fields.UUID(
        load_default=None,
        load_only=True,
        metadata={"description": "Made by the phone; a retried POST with it returns the site"},
    )
    updated_at = fields.DateTime(dump_only=True)
    deleted = fields.Boolean(dump_only=True)

    @validates("credit_code")
    def _check_credit_code(self, value, **_kwargs):
        if value is None or value == "":
            return
        why = credit_code.problem(credit_code.normalise(value))
        if why:
            raise ValidationError(why)


class SiteListQuerySchema(Schema):
    campaign = fields.String(load_default=None)
    district = fields.String(load_default=None)
    site_type = fields.String(load_default=None)
    since = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{1,18}$", error="游标格式不正确"),
        metadata={"description": "next_cursor of an earlier answer: only changes after it"},
    )
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


class SiteListSchema(Schema):
    items = fields.List(fields.Nested(SiteSchema))
    next_cursor = fields.String(
        metadata={"description": "Pass as since= for the next page or the next sync"}
    )
    has_more = fields.Boolean(metadata={"description": "true when another page follows at once"})


class CampaignSummarySchema(Schema):
    campaign = fields.String()
    campaign_name = fields.String()
    findings = fields.Integer()
    open = fields.Integer(metadata={"description": "open + rectifying + pending_review"})
    overdue = fields.Integer()
    rectified = fields.Integer()
    rectification_rate = fields.Float(allow_none=True)
    last_inspection = fields.DateTime(allow_none=True)


class SiteDetailSchema(SiteSchema):
    rectification = fields.List(fields.Nested(CampaignSummarySchema))
