"""Per-user app keys for OpenRosa clients: ``/openrosa/key/<token>/…``.

STAND-IN (h18-submit): h18-forms writes the real module (keys stored as hashes, issued
and revoked by the office). This one signs the user's id with the app's secret so that
the submission endpoint and its tests can run before that lands; the names and the
signature of ``user_for_key`` are the shared spec's.
"""

import re

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached

from inspect_app.auth.models import User
from inspect_app.extensions import db, reads_outside_transaction

_SALT = "openrosa-app-key"
_COLUMNS = tuple(c.key for c in sa_inspect(User).column_attrs)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def well_formed(token: str) -> bool:
    """A string that could be a key (else 401; a well-formed unknown key is 403)."""
    return re.fullmatch(r"[A-Za-z0-9_.-]{16,200}", token or "") is not None


def issue(user: User, actor_id: int | None) -> str:
    """A key for ``user`` (stand-in: signed, not stored, so not revocable by itself)."""
    return _serializer().dumps(user.id)


def user_for_key(token: str) -> User | None:
    """The active user the key belongs to, or None (unknown key, disabled user).

    Read outside the request's transaction, so that no lock is held while the body of a
    submission is read and its photos checked."""
    if not well_formed(token):
        return None
    try:
        user_id = _serializer().loads(token)
    except BadSignature:
        return None
    if type(user_id) is not int:
        return None
    with reads_outside_transaction() as reads:
        row = reads.execute(
            select(*(getattr(User, c) for c in _COLUMNS)).where(User.id == user_id)
        ).first()
    if row is None or not row.active:
        return None
    user = User(**dict(row._mapping))
    make_transient_to_detached(user)
    return db.session.merge(user, load=False)
