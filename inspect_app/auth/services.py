"""Passwords, bearer tokens and the brake on repeated failed logins."""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import make_transient_to_detached

from inspect_app.audit import services as audit
from inspect_app.auth.models import ApiToken, LoginFailure, User
from inspect_app.db_types import utcnow
from inspect_app.domain import DISTRICTS, ROLES
from inspect_app.errors import Conflict, Invalid, RateLimited, Unauthorized
from inspect_app.extensions import db

# Argon2id (memory-hard). 19 MiB / 2 passes is OWASP's minimum profile: a login costs
# ~20 ms, which keeps gunicorn workers free while making offline guessing expensive.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

FAILURE_WINDOW = timedelta(minutes=15)
SLOW_AFTER = 3  # failures of one account before each further attempt is delayed
LOCK_AFTER = 5  # failures of one account before attempts are refused with 429 for a while
# A whole office or a carrier's NAT shares one address, so an address locks much later.
LOCK_AFTER_ADDRESS = 20
MAX_LOCK_SECONDS = 15 * 60


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    username: str,
    role: str,
    password: str,
    districts: list[str] | None = None,
    display_name: str | None = None,
) -> User:
    districts = list(dict.fromkeys(districts or []))
    problems: dict[str, list[str]] = {}
    if role not in ROLES:
        problems["role"] = [f"角色只能是：{'、'.join(ROLES)}"]
    unknown = [d for d in districts if d not in DISTRICTS]
    if unknown:
        problems["districts"] = [f"未知辖区：{'、'.join(unknown)}"]
    if role in ("inspector", "team_lead") and not districts:
        problems["districts"] = ["检查员和组长至少需要一个辖区"]
    if len(password) < 8:
        problems["password"] = ["密码至少 8 位"]
    if not username or len(username) > 64:
        problems["username"] = ["用户名长度应为 1 到 64"]
    if problems:
        raise Invalid("用户信息有误", fields=problems)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已存在")
    user = User(
        username=username,
        role=role,
        districts=districts,
        display_name=display_name or username,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _recent_failures(key: str, now: datetime) -> tuple[int, datetime | None]:
    count, last = db.session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.key == key, LoginFailure.at > now - FAILURE_WINDOW
        )
    ).one()
    if last is not None and last.tzinfo is None:
        # func.max() bypasses the column type on SQLite, so the offset is restored here.
        last = last.replace(tzinfo=UTC)
    return count, last


def check_login_allowed(username: str, address: str | None, now: datetime | None = None) -> float:
    """Raise RateLimited while an account or address is locked; else return the delay to apply."""
    now = now or utcnow()
    delay = 0.0
    keys = [(f"user:{username}", LOCK_AFTER)]
    if address:
        keys.append((f"addr:{address}", LOCK_AFTER_ADDRESS))
    for key, lock_after in keys:
        count, last = _recent_failures(key, now)
        if count >= lock_after and last is not None:
            lock = min(2 ** (count - lock_after) * 30, MAX_LOCK_SECONDS)
            wait = (last + timedelta(seconds=lock) - now).total_seconds()
            if wait > 0:
                raise RateLimited(
                    f"登录失败次数过多，请 {int(wait) + 1} 秒后再试",
                    headers={"Retry-After": str(int(wait) + 1)},
                )
        if key.startswith("user:") and count >= SLOW_AFTER:
            delay = max(delay, min(0.25 * (count - SLOW_AFTER + 1), 1.0))
    return delay


def login(username: str, password: str, address: str | None, hours: int) -> tuple[str, ApiToken]:
    """Check credentials and issue a token. Failures are recorded by ``record_failure``."""
    delay = check_login_allowed(username, address)
    if delay:
        # Slows a guesser down without telling them whether the account exists.
        time.sleep(delay)
    user = db.session.scalar(select(User).where(User.username == username))
    # Verify against a dummy hash for unknown users too, so timing does not reveal them.
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if not ok or user is None or not user.active:
        raise Unauthorized("用户名或密码错误")
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == f"user:{username}"))
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user=user,
        token_hash=_token_hash(raw),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(user.id, "auth.login", "user", user.id, address=address)
    return raw, token


def record_failure(username: str, address: str | None) -> None:
    db.session.add(LoginFailure(key=f"user:{username}"))
    if address:
        db.session.add(LoginFailure(key=f"addr:{address}"))
    db.session.flush()


@dataclass(frozen=True, slots=True)
class _CachedLogin:
    token_id: int
    expires_at: datetime
    user: dict  # column values of the User row
    checked_at: float


# token hash -> what the database said about it a moment ago (see user_for_token).
_login_cache: dict[str, _CachedLogin] = {}
_USER_COLUMNS = (
    "id",
    "username",
    "display_name",
    "role",
    "districts",
    "password_hash",
    "active",
    "created_at",
)


def user_for_token(raw: str, cache_seconds: float = 0) -> tuple[User, int]:
    """The user a bearer token belongs to, and the token's id; Unauthorized if not valid.

    With ``cache_seconds`` the answer is kept in this process that long, so the
    phones' frequent small calls (a checklist 304, a sync) cost no database query for
    the login. A token revoked through this process stops at once; through another
    app process, within ``cache_seconds``.
    """
    token_hash = _token_hash(raw)
    hit = _login_cache.get(token_hash) if cache_seconds else None
    if hit is not None and time.monotonic() - hit.checked_at < cache_seconds:
        if hit.expires_at <= utcnow():
            raise Unauthorized("登录已过期，请重新登录")
        user = User(**hit.user)
        make_transient_to_detached(user)
        # Attach without a query; the instance is as good as a loaded one for this request.
        return db.session.merge(user, load=False), hit.token_id
    row = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash)
    ).first()
    if row is None or row.ApiToken.revoked_at is not None:
        raise Unauthorized("登录已失效，请重新登录")
    token, user = row
    if token.expires_at <= utcnow():
        raise Unauthorized("登录已过期，请重新登录")
    if not user.active:
        raise Unauthorized("账号已停用")
    if cache_seconds:
        if len(_login_cache) > 10_000:
            _login_cache.clear()
        _login_cache[token_hash] = _CachedLogin(
            token.id,
            token.expires_at,
            {c: getattr(user, c) for c in _USER_COLUMNS},
            time.monotonic(),
        )
    return user, token.id


def revoke(token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    token.revoked_at = utcnow()
    _login_cache.pop(token.token_hash, None)
    audit.record(token.user_id, "auth.logout", "user", token.user_id)
    db.session.flush()


_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))
