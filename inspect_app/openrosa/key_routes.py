"""/users/{id}/app-key: the office issues and revokes a user's key for the OpenRosa apps;
team leads see whether their inspectors have one."""

from flask import current_app, g, request

from inspect_app.accounts import services as accounts
from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.openrosa import keys
from inspect_app.openrosa.key_schemas import AppKeyIssuedSchema, AppKeyStateSchema

blp = Blueprint(
    "app_keys", __name__, url_prefix="/api/v1/users", description="采集密钥 App keys (OpenRosa)"
)


def server_url() -> str:
    """Where phones reach this server: INSPECT_PUBLIC_URL, else the address asked."""
    return (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


def key_state(user_id: int) -> dict:
    last = keys.last_key(user_id)
    return {
        "issued": last is not None,
        "active": last is not None and last.revoked_at is None,
        "created_at": last.created_at if last else None,
        "revoked_at": last.revoked_at if last else None,
    }


@blp.route("/<int:user_id>/app-key")
@blp.response(200, AppKeyStateSchema)
@blp.errors(404)
@protected(blp, "team_lead", "office")
def get_app_key(user_id):
    """Whether the user has a working key (the key itself is never shown again)."""
    user = accounts.visible_account(g.current_user, user_id)
    return key_state(user.id)


@blp.route("/<int:user_id>/app-key", methods=["POST"])
@blp.response(201, AppKeyIssuedSchema)
@blp.errors(404)
@protected(blp, "office")
def issue_app_key(user_id):
    """A new key for the user, shown this once; their previous key stops at once."""
    user = accounts.visible_account(g.current_user, user_id)
    token = keys.issue(user, g.current_user.id)
    server = server_url()
    settings = keys.collect_settings(server, token, user.username)
    return {
        "key_url": keys.key_url(server, token),
        "settings_qr": keys.settings_payload(settings),
        "created_at": keys.live_key(user.id).created_at,
    }


@blp.route("/<int:user_id>/app-key", methods=["DELETE"])
@blp.response(204)
@blp.errors(404)
@protected(blp, "office")
def revoke_app_key(user_id):
    """Revoke the user's key: the apps holding it stop at once (nothing to revoke: 204)."""
    user = accounts.visible_account(g.current_user, user_id)
    keys.revoke(user, g.current_user.id)
    return None
