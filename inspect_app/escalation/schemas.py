"""Bodies of reminders (提醒) and the office's webhooks."""

from marshmallow import Schema, fields, validate

from inspect_app import formats
from inspect_app.inputs import Text

STEPS = ("remind", "escalate", "supervise")


class ReminderQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class ReminderSchema(Schema):
    id = fields.Integer()
    step = fields.String(
        metadata={
            "enum": list(STEPS),
            "description": "remind 临期提醒, escalate 逾期上报, supervise 挂牌督办",
        }
    )
    step_label = fields.String()
    message = fields.String()
    finding_id = fields.Integer()
    finding_uuid = fields.String()
    campaign = fields.String()
    site_id = fields.Integer()
    site_name = fields.String()
    district = fields.String()
    deadline = fields.Date(allow_none=True)
    status = fields.String()
    supervised = fields.Boolean(metadata={"description": "The finding is 挂牌督办"})
    created_at = fields.DateTime()


class ReminderListSchema(Schema):
    items = fields.List(fields.Nested(ReminderSchema))


URL = r"^https?://[^\s]{1,2000}$"


class WebhookInSchema(Schema):
    """POST /webhooks."""

    name = Text(64, min_length=1, required=True, metadata={"example": "专项办企业微信群"})
    url = fields.String(
        required=True,
        validate=formats.Matches(URL, error="应为 http:// 或 https:// 地址"),
        metadata={"example": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"},
    )
    secret = fields.String(
        required=True,
        validate=[
            validate.Length(16, 200),
            formats.Matches(r"^[\x21-\x7e]+$", error="只能包含可见 ASCII 字符"),
        ],
        metadata={
            "description": "HMAC-SHA256 key: X-Inspect-Signature is sha256=hex(HMAC(secret, "
            "X-Inspect-Timestamp + '.' + body)); never shown again",
        },
    )


class WebhookSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    url = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()


class WebhookListSchema(Schema):
    items = fields.List(fields.Nested(WebhookSchema))


class AttemptSchema(Schema):
    at = fields.String()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)


class DeliverySchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    status = fields.String(metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    log = fields.List(fields.Nested(AttemptSchema))
    created_at = fields.DateTime()


class DeliveryListSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
