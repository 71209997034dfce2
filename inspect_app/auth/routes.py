"""POST/DELETE /auth/token: logging in and out."""

from flask import current_app, g, request

from inspect_app.accounts import services as accounts
from inspect_app.accounts.schemas import PasswordChangeSchema
from inspect_app.api import Blueprint
from inspect_app.auth import services
from inspect_app.auth.guard import protected
from inspect_app.auth.schemas import TokenRequestSchema, TokenResponseSchema
from inspect_app.errors import Unauthorized
from inspect_app.extensions import db

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录 Login")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenResponseSchema)
@blp.errors(400, 401, 422, 429)
def create_token(credentials):
    """Log in: exchange a username and password for a bearer token."""
    address = request.remote_addr
    try:
        raw, token = services.login(
            credentials["username"],
            credentials["password"],
            address,
            current_app.config["TOKEN_HOURS"],
        )
    except Unauthorized:
        # The failure must outlive this request's rollback, or the brake would never engage.
        db.session.rollback()
        services.record_failure(credentials["username"], address)
        db.session.commit()
        raise
    return {"token": raw, "expires_at": token.expires_at, "user": token.user}


@blp.route("/token", methods=["DELETE"])
@blp.response(204)
@protected(blp)
def revoke_token():
    """Log out: revoke the token in use."""
    services.revoke(g.current_token_id)
    return None


@blp.route("/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.errors(400, 403, 409, 422)
@protected(blp)
def change_password(data):
    """Choose one's own password (required first after a new account or a reset)."""
    accounts.change_own_password(g.current_user, data["current_password"], data["new_password"])
    return None
