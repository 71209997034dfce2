"""Request and response bodies of the login endpoints."""

from marshmallow import Schema, fields, validate


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String(metadata={"enum": ["inspector", "team_lead", "office"]})
    districts = fields.List(fields.String())
    must_change_password = fields.Boolean(
        metadata={"description": "true: choose a password (POST /auth/password) first"}
    )


class TokenResponseSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)
