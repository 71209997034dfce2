"""Passwords, bearer tokens and the brake on repeated failed logins."""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, event, func, select, update
from sqlalchemy.orm import make_transient_to_detached

from inspect_app.audit import services as audit
from inspect_app.auth.models import ApiToken, AuthGeneration, LoginFailure, User
from inspect_app.db_types import utcnow
from inspect_app.domain import DISTRICTS, ROLES
from inspect_app.errors import Conflict, Invalid, RateLimited, Unauthorized
from inspect_app.extensions import db, reads_outside_transaction
from inspect_app.field_labels import describe

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
    *,
    phone: str = "",
    must_change_password: bool = False,
    actor_id: int | None = None,
) -> User:
    """A new account; ``actor_id``: who made it (None from the command line)."""
    districts = list(dict.fromkeys(districts or []))
    problems = account_problems(role, districts)
    if len(password) < 8:
        problems["password"] = ["密码至少 8 位"]
    if not username or len(username) > 64:
        problems["username"] = ["用户名长度应为 1 到 64"]
    if problems:
        raise Invalid(describe("用户信息有误", problems), fields=problems)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已存在")
    user = User(
        username=username,
        role=role,
        districts=districts,
        display_name=(display_name or "").strip() or username,
        phone=phone.strip(),
        must_change_password=must_change_password,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor_id, "auth.user_created", "user", user.id, detail=_account_detail(user))
    return user


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _recent_failures(key: str, now: datetime, reads) -> tuple[int, datetime | None]:
    count, last = reads.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.key == key, LoginFailure.at > now - FAILURE_WINDOW
        )
    ).one()
    if last is not None and last.tzinfo is None:
        # func.max() bypasses the column type on SQLite, so the offset is restored here.
        last = last.replace(tzinfo=UTC)
    return count, last


def check_login_allowed(
    username: str, address: str | None, now: datetime | None = None, reads=None
) -> float:
    """Raise RateLimited while an account or address is locked; else return the delay to apply.

    ``reads`` is where to query (default: the session), e.g. a connection outside the
    request's transaction.
    """
    now = now or utcnow()
    delay = 0.0
    keys = [(f"user:{username}", LOCK_AFTER)]
    if address:
        keys.append((f"addr:{address}", LOCK_AFTER_ADDRESS))
    for key, lock_after in keys:
        count, last = _recent_failures(key, now, reads if reads is not None else db.session)
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
    """Check credentials and issue a token. Failures are recorded by ``record_failure``.

    Read and check first, write last: the brake's counts and the account are read
    outside the caller's transaction, so neither the brake's sleep nor the password
    hash holds a lock (on SQLite, the one write lock of the whole database).
    """
    with reads_outside_transaction() as reads:
        delay = check_login_allowed(username, address, reads=reads)
        account = reads.execute(
            select(User.id, User.password_hash, User.active).where(User.username == username)
        ).first()
    if delay:
        # Slows a guesser down without telling them whether the account exists.
        time.sleep(delay)
    # Verify against a dummy hash for unknown users too, so timing does not reveal them.
    ok = verify_password(account.password_hash if account else _DUMMY_HASH, password)
    if not ok or account is None or not account.active:
        raise Unauthorized("用户名或密码错误")
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == f"user:{username}"))
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=account.id,
        token_hash=_token_hash(raw),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    db.session.add(token)
    db.session.flush()
    if not token.user.active:
        # Disabled between the check above and this transaction.
        raise Unauthorized("用户名或密码错误")
    db.session.execute(update(User).where(User.id == account.id).values(last_login_at=now))
    audit.record(account.id, "auth.login", "user", account.id, address=address)
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
    generation: int  # the revocation generation when the database said so
    checked_at: float


class LoginCache:
    """Checked logins remembered by one app (one worker process), for ``seconds``.

    An entry counts only while the revocation generation (AuthGeneration) is the one
    it was checked under: any logout, disable or role change anywhere ends every entry
    of every worker at once, for the price of one primary-key read per request.
    """

    MAX_ENTRIES = 10_000
    # Raw SQL on a connection of its own: through the pool and the SQL compiler this one
    # read cost several times the query itself, and it runs on every request.
    GENERATION_SQL = "SELECT value FROM auth_generation WHERE id = 1"

    def __init__(self, seconds: float = 0):
        self.seconds = seconds
        self.entries: dict[str, _CachedLogin] = {}
        self._local = threading.local()  # one autocommit connection per worker thread
        self._opened: list = []
        self._lock = threading.Lock()
        self._listening = False

    def generation(self, engine) -> int | None:
        """The revocation generation now, or None if it cannot be read (then no cache)."""
        connection = getattr(self._local, "connection", None)
        try:
            if connection is None:
                connection = self._connect(engine)
            cursor = connection.cursor()
            try:
                cursor.execute(self.GENERATION_SQL)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except engine.dialect.loaded_dbapi.Error:
            # A broken connection (database restarted): check this login in full, retry later.
            self._local.connection = None
            return None
        return row[0] if row else None

    def _connect(self, engine):
        connection = engine.raw_connection()
        connection.detach()  # kept by this thread, outside the pool's count
        if engine.dialect.name != "sqlite":
            # SQLite's driver never begins on its own here (see create_app).
            connection.dbapi_connection.autocommit = True
        with self._lock:
            if not self._listening:
                # Closed with the engine's pool (a test's app, a worker shutting down).
                event.listen(engine, "engine_disposed", lambda _engine: self.close())
                self._listening = True
            self._opened.append(connection)
        self._local.connection = connection
        return connection

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()

    def get(self, token_hash: str, generation: int | None) -> _CachedLogin | None:
        hit = self.entries.get(token_hash)
        if hit is None or generation is None or hit.generation != generation:
            return None
        if time.monotonic() - hit.checked_at >= self.seconds:
            return None
        return hit

    def put(self, token_hash: str, entry: _CachedLogin) -> None:
        if len(self.entries) >= self.MAX_ENTRIES:
            self.entries.clear()
        self.entries[token_hash] = entry


# The columns a User is rebuilt from (``attached_user``) after a read outside the
# request's transaction: a bearer token's, or an app key's (openrosa.keys).
USER_COLUMNS = (
    "id",
    "username",
    "display_name",
    "role",
    "districts",
    "password_hash",
    "active",
    "created_at",
    "phone",
    "must_change_password",
)
_LOGIN = (
    select(
        ApiToken.id.label("token_id"),
        ApiToken.expires_at,
        ApiToken.revoked_at,
        *(getattr(User, c) for c in USER_COLUMNS),
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def user_for_token(raw: str, cache: LoginCache | None = None) -> tuple[User, int]:
    """The user a bearer token belongs to, and the token's id; Unauthorized if not valid.

    Read outside the request's transaction (no lock is held for it, and a photo's
    upload streams after it with none). With a ``cache`` (``seconds`` > 0), a login
    checked a moment ago is taken from it as long as the revocation generation is
    unchanged: the phones' frequent small calls (a checklist 304, a sync) then cost one
    primary-key read, and a revocation through any process stops the token at once.
    """
    token_hash = _token_hash(raw)
    caching = cache is not None and cache.seconds > 0
    # The generation first: a revocation committed after this read bumps it, so the
    # entry stored below under the older value can never be used after it.
    generation = cache.generation(db.engine) if caching else None
    hit = cache.get(token_hash, generation) if caching else None
    if hit is not None:
        if hit.expires_at <= utcnow():
            raise Unauthorized("登录已过期，请重新登录")
        return attached_user(hit.user), hit.token_id
    with reads_outside_transaction() as reads:
        row = reads.execute(_LOGIN, {"token_hash": token_hash}).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("登录已失效，请重新登录")
    if row.expires_at <= utcnow():
        raise Unauthorized("登录已过期，请重新登录")
    if not row.active:
        raise Unauthorized("账号已停用")
    values = {c: getattr(row, c) for c in USER_COLUMNS}
    if caching and generation is not None:
        cache.put(
            token_hash,
            _CachedLogin(row.token_id, row.expires_at, values, generation, time.monotonic()),
        )
    return attached_user(values), row.token_id


def attached_user(values: dict) -> User:
    """A User in this request's session built from its column values, without a query."""
    user = User(**values)
    make_transient_to_detached(user)
    return db.session.merge(user, load=False)


def bump_generation() -> None:
    """End every worker's remembered logins; call in the transaction of the change."""
    db.session.execute(
        update(AuthGeneration).where(AuthGeneration.id == 1).values(value=AuthGeneration.value + 1)
    )


def revoke(token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    token.revoked_at = utcnow()
    bump_generation()
    audit.record(token.user_id, "auth.logout", "user", token.user_id)
    db.session.flush()


def update_user(
    user: User,
    *,
    role: str | None = None,
    districts: list[str] | None = None,
    active: bool | None = None,
    display_name: str | None = None,
    phone: str | None = None,
    actor_id: int | None = None,
) -> User:
    """Change a user's role, districts, name, phone or whether they may log in; at once.

    Logins already issued keep working for an active user but act with the new role
    and districts on their next call. Disabling revokes every token of the user (the
    dashboard's sessions hold one each), so no login of theirs works again, even after
    they are enabled: they log in anew.
    """
    new_role = role if role is not None else user.role
    new_districts = list(dict.fromkeys(districts)) if districts is not None else user.districts
    problems = account_problems(new_role, new_districts)
    if display_name is not None and not display_name.strip():
        problems["display_name"] = ["姓名不能为空"]
    if problems:
        raise Invalid(describe("用户信息有误", problems), fields=problems)
    before = _account_detail(user)
    user.role = new_role
    user.districts = new_districts
    if display_name is not None:
        user.display_name = display_name.strip()
    if phone is not None:
        user.phone = phone.strip()
    revoked = 0
    if active is not None:
        if user.active and not active:
            revoked = revoke_all(user.id)
        user.active = active
    bump_generation()
    db.session.flush()
    after = _account_detail(user)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    audit.record(
        actor_id,
        "auth.user_changed",
        "user",
        user.id,
        detail={**after, "changed": changed, "tokens_revoked": revoked},
    )
    return user


def account_problems(role: str, districts: list[str]) -> dict[str, list[str]]:
    """What is wrong with a role and its districts (Chinese, by field); empty if nothing."""
    problems: dict[str, list[str]] = {}
    if role not in ROLES:
        problems["role"] = [f"角色只能是：{'、'.join(ROLES)}"]
    unknown = [d for d in districts if d not in DISTRICTS]
    if unknown:
        problems["districts"] = [f"「{'、'.join(unknown)}」不是本市的辖区"]
    if role in ("inspector", "team_lead") and not districts:
        problems["districts"] = ["检查员和组长至少需要一个辖区"]
    return problems


def _account_detail(user: User) -> dict:
    return {
        "role": user.role,
        "districts": list(user.districts),
        "active": user.active,
        "display_name": user.display_name,
        "phone": user.phone,
    }


def revoke_all(user_id: int) -> int:
    """Revoke every live token of a user (API logins and dashboard sessions); how many."""
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    bump_generation()
    return result.rowcount


def set_password(user: User, password: str, *, must_change: bool) -> None:
    """A new password; ``must_change``: one the office made, good only to choose one's own."""
    if len(password) < 8:
        raise Invalid("密码有误", fields={"password": ["密码至少 8 位"]})
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    # Remembered logins carry the must-change mark: they are checked anew.
    bump_generation()
    db.session.flush()


_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))
