"""Bodies of the site endpoints."""

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from inspect_app import formats
from inspect_app.db_types import MAX_INT
from inspect_app.domain import DISTRICTS, SITE_TYPES
from inspect_app.inputs import Text
from inspect_app.sites import credit_code

# One rule for a site name, typed on a phone or read from the office's spreadsheet.
from inspect_app.sites.sheet import normalise_text as normalise_name

# China's extent, with a margin: a point outside is a GPS fault, not a site.
LAT_RANGE = (3.5, 54.0)
LON_RANGE = (73.0, 135.5)

# Ids in bodies and filters: beyond an INTEGER column no row can have them.
ROW_ID = validate.Range(min=1, max=MAX_INT)


# A sync cursor is a position in the change counter (an INTEGER column).
validate_cursor = formats.Matches(formats.SYNC_CURSOR, error="游标格式不正确")


# A credit code as the spec shows it: 18 symbols of GB 32100's alphabet (the server also
# takes small letters and full-width forms, and checks the check character).
CREDIT_CODE = f"^(?:[{credit_code.ALPHABET}]{{18}})?$"
CREDIT_CODE_FORMAT = "gb32100"


def text(max_length: int, **kwargs):
    return Text(max_length, **kwargs)


# A name must hold a character that normalise_name keeps (it drops blanks and invisible
# characters): found by asking normalise_name itself, so the spec follows its rule.
VISIBLE_CHARACTER = formats.containing(
    ch for ch in map(chr, range(1, 0x10000)) if not normalise_name(ch)
)


class SiteSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"pattern": VISIBLE_CHARACTER},
    )
    site_type = fields.String(required=True, validate=validate.OneOf(SITE_TYPES))
    credit_code = fields.String(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "统一社会信用代码 (GB 32100, with its check character); empty: none",
            "pattern": CREDIT_CODE,
            "format": CREDIT_CODE_FORMAT,
        },
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

    @post_load
    def _normalise_name(self, data, **_kwargs):
        # "昆仑路１号加油站" and "昆仑路1号\u200b加油站" are the site "昆仑路1号加油站".
        data["name"] = normalise_name(data["name"])
        if not data["name"]:
            raise ValidationError("名称不能为空", "name")
        return data


class SiteListQuerySchema(Schema):
    campaign = fields.String(load_default=None)
    district = fields.String(load_default=None, validate=validate.OneOf(DISTRICTS))
    site_type = fields.String(load_default=None, validate=validate.OneOf(SITE_TYPES))
    since = fields.String(
        load_default=None,
        validate=validate_cursor,
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


class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(
        load_default=True,
        metadata={"description": "true (the default): only report what each row would do"},
    )


class ImportFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "站点台账: .xlsx or .csv with Chinese headers in any order",
            **formats.checked_against("a spreadsheet with a header row holding 名称 and 所属区域"),
        },
    )


class ImportChangeSchema(Schema):
    to = fields.Raw(metadata={"description": "the value the row brings"})
    # "from" is a Python keyword: the attribute is named apart from its JSON key.
    from_ = fields.Raw(data_key="from", attribute="from", metadata={"description": "held now"})


class ImportRowSchema(Schema):
    row = fields.Integer(metadata={"description": "the row number in the file"})
    action = fields.String(metadata={"enum": ["create", "update", "unchanged", "refused"]})
    action_label = fields.String()
    site_id = fields.Integer(allow_none=True)
    name = fields.String()
    district = fields.String()
    credit_code = fields.String(allow_none=True)
    reasons = fields.List(fields.String(), metadata={"description": "why a row is refused"})
    changes = fields.Dict(keys=fields.String(), values=fields.Nested(ImportChangeSchema))


class ImportSummarySchema(Schema):
    rows = fields.Integer()
    create = fields.Integer()
    update = fields.Integer()
    unchanged = fields.Integer()
    refused = fields.Integer()


class ImportReportSchema(Schema):
    dry_run = fields.Boolean()
    file = fields.String()
    sha256 = fields.String()
    columns = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "field: column"}
    )
    ignored_columns = fields.List(fields.String())
    summary = fields.Nested(ImportSummarySchema)
    rows = fields.List(fields.Nested(ImportRowSchema))


class MergeSchema(Schema):
    into = fields.Integer(
        required=True,
        validate=ROW_ID,
        metadata={
            "description": "the site that keeps the history",
            **formats.checked_against("another site in the caller's districts"),
        },
    )
    note = text(500, load_default="")


class RetireSchema(Schema):
    note = text(500, load_default="")
