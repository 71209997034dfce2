"""Who is calling: the bearer token check and role rules applied to every protected view.

``protected`` marks a view; the check itself runs in a ``before_request``
(``authenticate_protected_view``), before flask-smorest parses the view's arguments:
a caller without a valid token learns nothing about what the body or query should
hold (401, not 422), and the login is checked before the body is read.
"""

from functools import wraps

from flask import current_app, g, request

from inspect_app.api import BEARER
from inspect_app.auth import services
from inspect_app.errors import Forbidden, Unauthorized

# Attribute ``protected`` sets on a view; functools.wraps carries it up through the
# decorators stacked above (flask-smorest's arguments, response, doc).
ROLES_ATTRIBUTE = "_inspect_protected_roles"
# What a login with a password the office made may do: choose one's own, or log out.
MUST_CHANGE_ALLOWED = ("auth.change_password", "auth.revoke_token")


def current_user():
    return g.current_user


def login_cache() -> services.LoginCache:
    """This app's cache of checked logins (one per app, so per worker process)."""
    cache = current_app.extensions.get("inspect_login_cache")
    if cache is None:
        cache = current_app.extensions["inspect_login_cache"] = services.LoginCache()
    cache.seconds = current_app.config["AUTH_CACHE_SECONDS"]
    return cache


def authenticate(roles: tuple[str, ...] = ()) -> None:
    """Check the request's bearer token (and role); sets g.current_user and g.current_token_id."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized("请先登录（缺少 Authorization: Bearer 令牌）")
    user, token_id = services.user_for_token(raw.strip(), login_cache())
    if user.must_change_password and request.endpoint not in MUST_CHANGE_ALLOWED:
        raise Forbidden("请先修改初始密码（POST /api/v1/auth/password）后再使用")
    if roles and user.role not in roles:
        raise Forbidden("当前角色无权执行此操作")
    g.current_user = user
    g.current_token_id = token_id


def protected_roles(view) -> tuple[str, ...] | None:
    """The roles a view function (or MethodView method) was protected with, or None."""
    return getattr(view, ROLES_ATTRIBUTE, None)


def _view_for_request():
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return view
    method = request.method.lower()
    handler = getattr(view_class, method, None)
    if handler is None and method == "head":
        handler = getattr(view_class, "get", None)
    return handler


def authenticate_protected_view() -> None:
    """before_request: authenticate the caller of a protected view, before anything else."""
    roles = protected_roles(_view_for_request())
    if roles is not None:
        authenticate(roles)


def protected(blp, *roles: str):
    """Require a valid bearer token, and one of ``roles`` if given; documents 401/403."""

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            if "current_user" not in g:
                # Called outside the request pipeline's check (never in a request).
                authenticate(roles)
            return func(*args, **kwargs)

        setattr(wrapper, ROLES_ATTRIBUTE, tuple(roles))
        wrapper = blp.doc(security=BEARER)(wrapper)
        wrapper = blp.errors(401, 403)(wrapper) if roles else blp.errors(401)(wrapper)
        return wrapper

    return decorator
