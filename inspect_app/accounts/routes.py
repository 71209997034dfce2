"""/users: accounts run by the campaign office; team leads see their inspectors."""

from flask import g

from inspect_app.accounts import services
from inspect_app.accounts.schemas import (
    AccountChangeSchema,
    AccountCreatedSchema,
    AccountCreateSchema,
    AccountListSchema,
    AccountSchema,
    PasswordResetSchema,
)
from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="账号 Accounts")


@blp.route("")
@blp.response(200, AccountListSchema)
@protected(blp, "team_lead", "office")
def list_users():
    """Users: every one for the office, the inspectors of their districts for a team lead."""
    return {"items": [services.account_view(u) for u in services.list_accounts(g.current_user)]}


@blp.route("", methods=["POST"])
@blp.arguments(AccountCreateSchema)
@blp.response(201, AccountCreatedSchema)
@blp.errors(400, 409, 422)
@protected(blp, "office")
def create_user(data):
    """Create a user; the answer shows their temporary password, this once."""
    user, password = services.create_account(g.current_user, data)
    return {"user": services.account_view(user), "temporary_password": password}


@blp.route("/<int:user_id>")
@blp.response(200, AccountSchema)
@blp.errors(404)
@protected(blp, "team_lead", "office")
def get_user(user_id):
    """One user with their last login and last sync."""
    return services.account_view(services.visible_account(g.current_user, user_id))


@blp.route("/<int:user_id>", methods=["PATCH"])
@blp.arguments(AccountChangeSchema)
@blp.response(200, AccountSchema)
@blp.errors(400, 404, 409, 422)
@protected(blp, "office")
def change_user(data, user_id):
    """Change a user's role, districts, name or phone, or disable (revoking every login)."""
    user = services.visible_account(g.current_user, user_id)
    return services.account_view(services.change_account(g.current_user, user, data))


@blp.route("/<int:user_id>/password-reset", methods=["POST"])
@blp.response(200, PasswordResetSchema)
@blp.errors(404, 409)
@protected(blp, "office")
def reset_password(user_id):
    """A new temporary password for the user, shown once; their logins end."""
    user = services.visible_account(g.current_user, user_id)
    return {"temporary_password": services.reset_password(g.current_user, user)}
