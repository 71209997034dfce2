"""Bodies of the checklist-draft endpoints (检查清单草稿): upload, edit, diff, publish."""

from marshmallow import Schema, fields, validate

from inspect_app import formats
from inspect_app.campaigns.schemas import StageSchema
from inspect_app.domain import SEVERITIES, SITE_TYPES
from inspect_app.inputs import Text

MAX_ITEMS = 2000
CAMPAIGN_CODE = "^[a-z0-9]+(?:-[a-z0-9]+)*$"
PREFIX = "^[A-Z]{2,4}$"
_BLANKS = formats.char_class(ch for ch in map(chr, range(0x10000)) if ch.isspace())
# A question as the checklist file takes it: it ends in ？ (or ?, made ？), blanks may follow.
QUESTION = f"^[^\\u0000]*[？?]{_BLANKS}*$"
NOT_A_QUESTION = "检查内容应为以“？”结尾的问题，如：是否持有《危险化学品经营许可证》？"
BLANK = "不能为空"
NOTICE = formats.checked_against(
    "the notice's content: a PDF pdftotext can read, UTF-8 text, with tasks checkable at a site"
)


class DraftUploadQuerySchema(Schema):
    campaign = fields.String(
        required=True,
        validate=[
            validate.Length(max=64),
            formats.Matches(CAMPAIGN_CODE, error="活动代码应为小写字母、数字和连字符"),
        ],
        metadata={"description": "活动代码", "example": "placer-gold-2024"},
    )
    prefix = fields.String(
        load_default=None,
        validate=formats.Matches(PREFIX, error="前缀应为 2 到 4 个大写字母"),
        metadata={"description": "检查项编号前缀 (derived from the code if absent)"},
    )
    source_name = Text(200, load_default="", metadata={"description": "上传的文件名"})


class DraftItemSchema(Schema):
    id = fields.Integer()
    position = fields.Integer(metadata={"description": "1 is the first"})
    code = fields.String(metadata={"example": "PG-01"})
    section = fields.String()
    clause = fields.String()
    clause_label = fields.String()
    text = fields.String()
    basis = fields.String(metadata={"description": "通知原文 (the notice clause, verbatim)"})
    lead_department = fields.String(allow_none=True)
    site_types = fields.List(fields.String(metadata={"enum": list(SITE_TYPES)}))
    answer_type = fields.String()
    default_severity = fields.String(metadata={"enum": list(SEVERITIES)})
    photo_required = fields.Boolean()


class DraftCampaignSchema(Schema):
    code = fields.String()
    name = fields.String(allow_none=True)
    document_no = fields.String(allow_none=True)
    issued_on = fields.Date(allow_none=True)
    lead_office = fields.String(allow_none=True)
    stages = fields.List(fields.Nested(StageSchema))


class DraftSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": ["draft", "published"]})
    published_version = fields.Integer(allow_none=True)
    source_name = fields.String()
    prefix = fields.String()
    campaign = fields.Nested(DraftCampaignSchema)
    summary = fields.Dict(keys=fields.String(), values=fields.Raw())
    excluded = fields.List(fields.Dict())
    items = fields.List(fields.Nested(DraftItemSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class DraftItemEditSchema(Schema):
    text = Text(
        500,
        validate=formats.Matches(QUESTION, error=NOT_A_QUESTION),
        metadata={"description": "以“？”结尾的问题"},
    )
    lead_department = Text(200, validate=formats.Matches(formats.NOT_BLANK, error=BLANK))
    site_types = fields.List(
        fields.String(validate=validate.OneOf(list(SITE_TYPES))),
        validate=validate.Length(min=1, max=len(SITE_TYPES)),
    )
    default_severity = fields.String(validate=validate.OneOf(list(SEVERITIES)))
    photo_required = fields.Boolean()


class DraftItemAddSchema(DraftItemEditSchema):
    text = Text(500, required=True, validate=formats.Matches(QUESTION, error=NOT_A_QUESTION))
    lead_department = Text(
        200, required=True, validate=formats.Matches(formats.NOT_BLANK, error=BLANK)
    )
    site_types = fields.List(
        fields.String(validate=validate.OneOf(list(SITE_TYPES))),
        required=True,
        validate=validate.Length(min=1, max=len(SITE_TYPES)),
    )
    section = Text(500, load_default="")
    clause = Text(64, load_default="")
    basis = Text(4000, load_default="")
    after = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "id of the item to put the new one after (default: last)"},
    )


class DraftMergeSchema(Schema):
    items = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)),
        required=True,
        validate=validate.Length(equal=2),
        metadata={
            "description": "ids of the two items; the second is folded into the first",
            **formats.checked_against("two different items of the draft"),
        },
    )


class DraftMoveSchema(Schema):
    position = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_ITEMS),
        metadata={
            "description": "the item's new place, 1 is the first",
            **formats.checked_against("the number of items in the draft"),
        },
    )


class DiffItemSchema(Schema):
    code = fields.String()
    text = fields.String()
    basis = fields.String()
    clause = fields.String()
    section = fields.String()
    lead_department = fields.String(allow_none=True)
    site_types = fields.List(fields.String())
    default_severity = fields.String()
    photo_required = fields.Boolean()


# "fields" would shadow marshmallow's module inside a class body.
DiffChangeSchema = Schema.from_dict(
    {
        "code": fields.String(),
        "fields": fields.List(fields.String(), metadata={"description": "the fields changed"}),
        "before": fields.Nested(DiffItemSchema),
        "after": fields.Nested(DiffItemSchema),
    },
    name="DiffChangeSchema",
)


class DraftDiffSchema(Schema):
    campaign = fields.String()
    base_version = fields.Integer(
        allow_none=True, metadata={"description": "the current version (null: none yet)"}
    )
    added = fields.List(fields.Nested(DiffItemSchema))
    changed = fields.List(fields.Nested(DiffChangeSchema))
    withdrawn = fields.List(fields.Nested(DiffItemSchema))
    unchanged = fields.Integer()


class DraftPublishSchema(Schema):
    base_version = fields.Integer(
        required=True,
        allow_none=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={
            "description": (
                "the version the diff was read against (GET …/diff base_version); "
                "null for a campaign's first version. 409 if another version was "
                "published since"
            )
        },
    )


class PublishedSchema(Schema):
    campaign = fields.String()
    version = fields.Integer()
    draft = fields.Integer()


class VersionYamlQuerySchema(Schema):
    version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
