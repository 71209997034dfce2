"""Accounts (账号管理): the office creates, changes, disables and resets users; team leads
see the inspectors of their districts.

The rules of a user (role, districts, passwords, tokens) live in ``auth.services``, which
the command line uses too; this room adds who may see and change whom, the temporary
passwords the office hands out, and the last sync a phone made.
"""

import secrets
import time
from datetime import timedelta

from sqlalchemy import or_, select, update

from inspect_app.audit import services as audit
from inspect_app.auth import services as auth
from inspect_app.auth.models import User
from inspect_app.db_types import MAX_INT, utcnow
from inspect_app.errors import Conflict, Forbidden, NotFound
from inspect_app.extensions import db, reads_outside_transaction

# Temporary passwords are read out over the phone: no 0/O, 1/l/I.
_PASSWORD_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"
TEMPORARY_PASSWORD_LENGTH = 12
# A phone syncs every few seconds while in signal; its last sync is written at most once
# per this interval, so the feed stays a read.
SYNC_MARK_INTERVAL = timedelta(minutes=1)


def temporary_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH))


def may_see(viewer: User, user: User) -> bool:
    """The office sees everyone; a team lead the inspectors sharing one of their districts."""
    if viewer.role == "office":
        return True
    if viewer.role == "team_lead":
        return user.role == "inspector" and bool(set(user.districts) & set(viewer.districts))
    return False


def list_accounts(viewer: User) -> list[User]:
    if viewer.role not in ("office", "team_lead"):
        raise Forbidden("只有组长和专项办可以查看账号")
    # Districts are a JSON list: a campaign has hundreds of users, filtered here.
    users = db.session.scalars(select(User).order_by(User.role.desc(), User.username)).all()
    return [u for u in users if may_see(viewer, u)]


def visible_account(viewer: User, user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_INT else None
    if user is None or not may_see(viewer, user):
        raise NotFound("用户不存在")
    return user


def create_account(actor: User, data: dict) -> tuple[User, str]:
    """A new user with a temporary password, shown once, to be changed at first login."""
    password = temporary_password()
    user = auth.create_user(
        data["username"].strip(),
        data["role"],
        password,
        data.get("districts") or [],
        data.get("display_name"),
        phone=data.get("phone") or "",
        must_change_password=True,
        actor_id=actor.id,
    )
    return user, password


def change_account(actor: User, user: User, data: dict) -> User:
    """Role, districts, name, phone, enabled: each change at once, in the audit log."""
    if user.id == actor.id and (
        data.get("active") is False or data.get("role") not in (None, actor.role)
    ):
        # The office would lock itself out of the accounts it runs.
        raise Conflict("不能停用自己的账号或更改自己的角色")
    return auth.update_user(
        user,
        role=data.get("role"),
        districts=data.get("districts"),
        active=data.get("active"),
        display_name=data.get("display_name"),
        phone=data.get("phone"),
        actor_id=actor.id,
    )


def reset_password(actor: User, user: User) -> str:
    """A new temporary password (shown once); every login of the user ends with it."""
    if user.id == actor.id:
        # It would end the very login asking; one's own password is changed, not reset.
        raise Conflict("不能重置自己的密码，请使用“修改密码”")
    password = temporary_password()
    auth.set_password(user, password, must_change=True)
    revoked = auth.revoke_all(user.id)
    audit.record(actor.id, "auth.password_reset", "user", user.id, {"tokens_revoked": revoked})
    return password


def change_own_password(user: User, current: str, new: str) -> None:
    """The user chooses their password (required after a reset or a new account)."""
    if not auth.verify_password(user.password_hash, current):
        raise Forbidden("当前密码不正确")
    if new == current:
        raise Conflict("新密码不能与当前密码相同")
    auth.set_password(user, new, must_change=False)
    audit.record(user.id, "auth.password_changed", "user", user.id)


# (database, user id) -> when this process last wrote the mark
_last_marks: dict[tuple[str, int], float] = {}


def note_sync(user_id: int) -> None:
    """Remember that the user's phone synced now (the office sees the last sync).

    One UPDATE that commits by itself, outside the feed's read: a sync takes no write
    lock of the request, and the row is written at most once per SYNC_MARK_INTERVAL
    (by this process's memory first, so most syncs do not even try; by the row's own
    time across processes).
    """
    moment = time.monotonic()
    key = (str(db.engine.url), user_id)
    last = _last_marks.get(key)
    if last is not None and moment - last < SYNC_MARK_INTERVAL.total_seconds():
        return
    if len(_last_marks) > 100_000:
        _last_marks.clear()
    _last_marks[key] = moment
    now = utcnow()
    with reads_outside_transaction() as connection:
        connection.execute(
            update(User.__table__)
            .where(
                User.__table__.c.id == user_id,
                or_(
                    User.__table__.c.last_sync_at.is_(None),
                    User.__table__.c.last_sync_at < now - SYNC_MARK_INTERVAL,
                ),
            )
            .values(last_sync_at=now)
        )


def account_view(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "districts": list(user.districts),
        "phone": user.phone,
        "active": user.active,
        "must_change_password": user.must_change_password,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
        "last_sync_at": user.last_sync_at,
    }
