"""Recording audit entries; callers pass who acted, never the request."""

from sqlalchemy import insert

from inspect_app.audit.models import AuditLog
from inspect_app.db_types import utcnow
from inspect_app.extensions import db

_INSERT = insert(AuditLog.__table__)


def record(
    user_id: int | None,
    action: str,
    object_type: str,
    object_id,
    detail=None,
    address: str | None = None,
) -> None:
    """Write an entry in the current transaction: it lands only if the change does.

    A plain INSERT on the session's connection: nothing reads the entry back, and the
    ORM's unit of work would cost more than the insert itself.
    """
    db.session.connection().execute(
        _INSERT,
        {
            "at": utcnow(),
            "user_id": user_id,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "detail": detail or {},
            "address": address,
        },
    )
