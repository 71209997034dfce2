"""Reminders (提醒) of the caller, and the office's outgoing webhooks."""

from flask import g

from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.escalation import services
from inspect_app.escalation.schemas import (
    DeliveryListSchema,
    ReminderListSchema,
    ReminderQuerySchema,
    WebhookInSchema,
    WebhookListSchema,
    WebhookSchema,
)

blp = Blueprint("escalation", __name__, url_prefix="/api/v1", description="督办提醒 Escalation")


@blp.route("/reminders")
@blp.arguments(ReminderQuerySchema, location="query")
@blp.response(200, ReminderListSchema)
@blp.errors(422)
@protected(blp)
def reminders(query):
    """The caller's reminders of approaching and passed deadlines, newest first."""
    return services.reminders_of(g.current_user, query["limit"])


@blp.route("/webhooks")
@blp.response(200, WebhookListSchema)
@protected(blp, "office")
def list_webhooks():
    """The office's webhooks (secrets are never shown)."""
    return services.list_webhooks()


@blp.route("/webhooks", methods=["POST"])
@blp.arguments(WebhookInSchema)
@blp.response(201, WebhookSchema)
@blp.errors(400, 422)
@protected(blp, "office")
def create_webhook(data):
    """Add a webhook: every escalation step is POSTed to it, signed with HMAC-SHA256."""
    return services.create_webhook(g.current_user, data)


@blp.route("/webhooks/<int:hook_id>", methods=["DELETE"])
@blp.response(204)
@blp.errors(404)
@protected(blp, "office")
def disable_webhook(hook_id):
    """Stop sending to a webhook; its delivery log stays."""
    services.disable_webhook(g.current_user, hook_id)
    return ""


@blp.route("/webhooks/<int:hook_id>/deliveries")
@blp.response(200, DeliveryListSchema)
@blp.errors(404)
@protected(blp, "office")
def deliveries(hook_id):
    """Deliveries to a webhook, newest first, each with the log of its attempts."""
    return services.deliveries(hook_id)
