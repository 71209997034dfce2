"""Bodies and parameters of the photo endpoints."""

from marshmallow import Schema, fields, validate


class PhotoSchema(Schema):
    sha256 = fields.String()
    content_type = fields.String(metadata={"enum": ["image/jpeg", "image/png", "image/heic"]})
    size_bytes = fields.Integer()
    width = fields.Integer(metadata={"description": "after the EXIF orientation is applied"})
    height = fields.Integer()
    taken_at = fields.DateTime(allow_none=True, metadata={"description": "EXIF time taken"})
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    url = fields.String(metadata={"description": "the report variant (~1600 px JPEG)"})
    thumbnail_url = fields.String(metadata={"description": "the thumb variant (~320 px JPEG)"})
    original_url = fields.String()


class VariantQuerySchema(Schema):
    variant = fields.String(
        load_default="report", validate=validate.OneOf(["original", "report", "thumb"])
    )
