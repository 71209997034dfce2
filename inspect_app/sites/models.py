"""Sites (检查对象): fuel stations, depots, recycling yards, sand pits, digging spots."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_app.db_types import JSONType, UTCDateTime, utcnow
from inspect_app.extensions import db


class Site(db.Model):
    """Site — 检查对象/点位. Deleted sites stay as tombstones so phones learn of the deletion."""

    __tablename__ = "sites"
    __table_args__ = (
        Index("ix_sites_district_type", "district", "site_type"),
        Index("ix_sites_name_district", "name", "district"),
        # One live site per name in a district: the constraint behind POST /sites' check,
        # so that concurrent registrations make one site.
        Index(
            "uq_sites_live_name",
            "name",
            "district",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    site_type: Mapped[str] = mapped_column(String(32))
    # 统一社会信用代码 (GB 32100); unknown for an unlicensed point found in the field.
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    address: Mapped[str] = mapped_column(Text, default="")
    district: Mapped[str] = mapped_column(String(32))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    licences: Mapped[list[str]] = mapped_column(JSONType, default=list)
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    # Made by the phone that registered the site in the field: a retried POST finds it.
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A retired record of a place registered twice: the site that holds its history now.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    # Position in the change feed (see inspect_app.sync): phones ask "what changed after N".
    sync_seq: Mapped[int] = mapped_column(default=0, index=True)
