"""Recording audit entries; callers pass who acted, never the request."""

from inspect_app.audit.models import AuditLog
from inspect_app.extensions import db


def record(
    user_id: int | None,
    action: str,
    object_type: str,
    object_id,
    detail=None,
    address: str | None = None,
) -> None:
    """Add an entry to the current transaction: it lands only if the change does."""
    db.session.add(
        AuditLog(
            user_id=user_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=detail or {},
            address=address,
        )
    )
