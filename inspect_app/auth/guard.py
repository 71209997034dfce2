"""Who is calling: the bearer token check and role rules applied to every protected view."""

from functools import wraps

from flask import current_app, g, request

from inspect_app.api import BEARER
from inspect_app.auth import services
from inspect_app.errors import Forbidden, Unauthorized


def current_user():
    return g.current_user


def protected(blp, *roles: str):
    """Require a valid bearer token, and one of ``roles`` if given; documents 401/403."""

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, raw = header.partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                raise Unauthorized("请先登录（缺少 Authorization: Bearer 令牌）")
            user, token_id = services.user_for_token(
                raw.strip(), current_app.config["AUTH_CACHE_SECONDS"]
            )
            if roles and user.role not in roles:
                raise Forbidden("当前角色无权执行此操作")
            g.current_user = user
            g.current_token_id = token_id
            return func(*args, **kwargs)

        wrapper = blp.doc(security=BEARER)(wrapper)
        wrapper = blp.errors(401, 403)(wrapper) if roles else blp.errors(401)(wrapper)
        return wrapper

    return decorator
