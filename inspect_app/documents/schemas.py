"""Parameters and bodies of the document endpoints."""

from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from inspect_app.domain import DISTRICTS, FINDING_STATUSES


class SiteDocumentQuerySchema(Schema):
    campaign = fields.String(required=True, metadata={"example": "refined-oil-2025"})


class CampaignDocumentQuerySchema(Schema):
    district = fields.String(load_default=None, validate=validate.OneOf(DISTRICTS))
    status = DelimitedList(
        fields.String(validate=validate.OneOf(FINDING_STATUSES)),
        load_default=list,
        metadata={"description": "comma-separated statuses, e.g. open,rectifying; none: all"},
    )


class RectificationQuerySchema(Schema):
    district = fields.String(load_default=None, validate=validate.OneOf(DISTRICTS))


class JobSchema(Schema):
    id = fields.String()
    kind = fields.String(
        metadata={"enum": ["site_problem_list", "campaign_problem_list", "rectification_report"]}
    )
    status = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    pages = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    attempts = fields.Integer(
        metadata={"description": "times handed to a worker (retried if one dies)"}
    )
    created_at = fields.DateTime(metadata={"description": "ISO 8601 with offset"})
    finished_at = fields.DateTime(allow_none=True, metadata={"description": "ISO 8601 with offset"})
    url = fields.String(metadata={"description": "poll here"})
    download_url = fields.String(allow_none=True, metadata={"description": "the PDF, once done"})
