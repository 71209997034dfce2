"""Users (检查员 / 组长 / 专项办), their bearer tokens and failed-login counters."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspect_app.db_types import JSONType, UTCDateTime, utcnow
from inspect_app.extensions import db


class User(db.Model):
    """User — 用户: an inspector, team lead or campaign-office member."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    districts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    phone: Mapped[str] = mapped_column(String(32), default="")
    # A password the office made (new account, reset): only good for choosing one's own.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")

    def can_see_district(self, district: str | None) -> bool:
        return self.role == "office" or (district is not None and district in self.districts)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak gives no logins."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class LoginFailure(db.Model):
    """Failed logins per account or per address, counted in a sliding window.

    Kept in the database rather than in memory so that every gunicorn worker
    (and every app server) sees the same count.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthGeneration(db.Model):
    """One row, bumped in the transaction of every change that ends logins early.

    A token revoked (logout), a user disabled, their role or districts changed: each
    bumps ``value``. Every request reads this one row (a primary-key lookup), and a
    worker's remembered logins count only while it is unchanged, so revocation takes
    effect at once on every worker without checking each login's rows on every call.
    """

    __tablename__ = "auth_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
