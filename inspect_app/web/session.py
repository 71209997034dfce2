"""The dashboard's login: a signed session cookie holding an API token, and CSRF tokens.

Logging in through the dashboard issues a token exactly as POST /auth/token does (same
password check, same brake on repeated failures) and keeps it in the session cookie;
logging out revokes it. The cookie is HttpOnly and SameSite=Lax (and Secure in
production, see Config). Every form carries a per-session CSRF token that each POST must
echo back.
"""

import hmac
import secrets
import unicodedata
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

from inspect_app.auth import services as auth
from inspect_app.auth.guard import login_cache
from inspect_app.auth.models import User
from inspect_app.errors import Forbidden, Unauthorized
from inspect_app.extensions import db

DASHBOARD_ROLES = ("team_lead", "office")
PASSWORD_PAGES = ("web.password", "web.logout")


class CsrfFailure(Exception):
    """A form came back without this session's CSRF token (old page, or another site)."""


def csrf_token() -> str:
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailure()


def log_in(username: str, password: str) -> User:
    """Check the password and start a session; Unauthorized, RateLimited or Forbidden."""
    address = request.remote_addr
    try:
        raw, token = auth.login(
            username, password, address, current_app.config["DASHBOARD_SESSION_HOURS"]
        )
    except Unauthorized:
        # As in the API: the failure is kept even though the request answers an error.
        db.session.rollback()
        auth.record_failure(username, address)
        db.session.commit()
        raise
    user = token.user
    if user.role not in DASHBOARD_ROLES:
        # The token made above is rolled back with the 403 answer.
        raise Forbidden("整改仪表板供组长和专项办使用；检查员请使用手机应用。")
    # A new session: nothing of the anonymous one (its CSRF token) carries over.
    session.clear()
    session["token"] = raw
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True
    return user


def log_out() -> None:
    raw = session.get("token")
    if raw:
        try:
            _user, token_id = auth.user_for_token(raw)
        except Unauthorized:
            token_id = None
        if token_id is not None:
            auth.revoke(token_id)
    session.clear()


def load_user() -> User | None:
    """The logged-in user of this request, or None (no session, expired or revoked)."""
    raw = session.get("token")
    if not raw:
        return None
    try:
        user, _token_id = auth.user_for_token(raw, login_cache())
    except Unauthorized:
        session.pop("token", None)
        return None
    if user.role not in DASHBOARD_ROLES:
        return None
    return user


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a path of this dashboard, never another site."""
    default = url_for("web.overview")
    if not target:
        return default
    if any(unicodedata.category(c).startswith("C") for c in target):
        # CR/LF would split the Location header; no path of ours holds control characters.
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/dashboard/"):
        return default
    if "\\" in target or target.startswith("//"):
        return default
    return target


def login_required(view):
    """Send a visitor without a valid session to the login page, then back here."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = load_user()
        if user is None:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        if user.must_change_password and request.endpoint not in PASSWORD_PAGES:
            # A password the office made opens only the page to choose one's own.
            return redirect(url_for("web.password"))
        g.current_user = user
        return view(*args, **kwargs)

    return wrapper
