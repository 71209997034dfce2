"""App keys: how ODK Collect, KoboCollect and Enketo sign in (the way ODK Central's app
users do): a per-user token in the path, ``<server>/openrosa/key/<token>``.

The office issues and revokes a user's key (dashboard, API, ``inspect-app users
app-key``); every issue and revoke is in the audit log. Only the token's SHA-256 is
kept, so the token and the settings QR code holding it are shown once, when issued.
A key grants exactly what its user's role and districts grant in the JSON API; it is
checked against the database on every request, so a revoked key or a disabled user
stops at once on every worker.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import zlib

import segno
from sqlalchemy import select, update

from inspect_app.audit import services as audit
from inspect_app.auth.models import User
from inspect_app.auth.services import USER_COLUMNS, attached_user
from inspect_app.db_types import utcnow
from inspect_app.extensions import db, reads_outside_transaction
from inspect_app.openrosa.models import AppKey

# 48 random bytes, URL-safe base64: 64 characters that need no escaping in a path.
TOKEN_BYTES = 48
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{64}")
# The project name Collect shows in its project switcher.
PROJECT_NAME = "格尔木专项整治检查"


def well_formed(token: str) -> bool:
    """A string that could be a key (else 401; a well-formed unknown key is 403)."""
    return TOKEN_PATTERN.fullmatch(token or "") is not None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def live_key(user_id: int) -> AppKey | None:
    """The user's key that works now (None: none issued, or revoked)."""
    return db.session.scalar(
        select(AppKey)
        .where(AppKey.user_id == user_id, AppKey.revoked_at.is_(None))
        .order_by(AppKey.id.desc())
        .limit(1)
    )


def last_key(user_id: int) -> AppKey | None:
    """The user's newest key, live or revoked (what the user page tells)."""
    return db.session.scalar(
        select(AppKey).where(AppKey.user_id == user_id).order_by(AppKey.id.desc()).limit(1)
    )


def _revoke_live(user_id: int) -> int:
    result = db.session.execute(
        update(AppKey)
        .where(AppKey.user_id == user_id, AppKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def issue(user: User, actor_id: int | None) -> str:
    """A new key for ``user`` (their previous key stops); the token, to show this once.

    ``actor_id``: who issued it (None from the command line).
    """
    replaced = _revoke_live(user.id)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(AppKey(user_id=user.id, key_hash=_hash(token), created_by_id=actor_id))
    db.session.flush()
    audit.record(actor_id, "openrosa.key_issued", "user", user.id, detail={"replaced": replaced})
    return token


def revoke(user: User, actor_id: int | None) -> bool:
    """Revoke the user's key at once; False if they had none that worked."""
    revoked = _revoke_live(user.id)
    if revoked:
        audit.record(actor_id, "openrosa.key_revoked", "user", user.id)
    db.session.flush()
    return bool(revoked)


_BY_KEY = (
    select(*(getattr(User, c) for c in USER_COLUMNS))
    .join(AppKey, AppKey.user_id == User.id)
    .where(AppKey.revoked_at.is_(None), User.active.is_(True))
)


def user_for_key(token: str) -> User | None:
    """The active user a live key belongs to; None for an unknown or revoked key, or a
    disabled user.

    Read outside the request's transaction (as a bearer token is): no lock is held for
    it, and a submission's upload streams after it with none. The user is attached to
    the request's session without another query.
    """
    if not well_formed(token):
        return None
    with reads_outside_transaction() as reads:
        row = reads.execute(_BY_KEY.where(AppKey.key_hash == _hash(token))).first()
    if row is None:
        return None
    return attached_user({c: getattr(row, c) for c in USER_COLUMNS})


def key_url(server: str, token: str) -> str:
    """The server URL to enter in Collect: ``<server>/openrosa/key/<token>``."""
    return f"{server.rstrip('/')}/openrosa/key/{token}"


def collect_settings(server: str, token: str, username: str) -> dict:
    """ODK Collect's settings for this key (what its settings QR code carries).

    ``match_exactly``: the forms on the phone follow the server's list (a new checklist
    version replaces the old form), as ODK Central's app-user codes do.
    """
    return {
        "general": {
            "server_url": key_url(server, token),
            "username": username,
            "form_update_mode": "match_exactly",
        },
        "admin": {},
        "project": {"name": PROJECT_NAME},
    }


def settings_payload(settings: dict) -> str:
    """The text of a Collect settings QR code: the JSON, zlib-deflated, base64-encoded."""
    raw = json.dumps(settings, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def read_settings_payload(payload: str) -> dict:
    """The settings a QR code's text carries (the reverse of ``settings_payload``)."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def qr_svg(payload: str) -> str:
    """The QR code of ``payload`` as an inline SVG element (no XML declaration)."""
    code = segno.make(payload, error="m", micro=False)
    # A white quiet zone of its own: scanners need the light border, whatever is behind it.
    return code.svg_inline(scale=4, border=4, light="#fff", title="ODK Collect 配置二维码")
