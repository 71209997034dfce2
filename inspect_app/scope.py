"""District scope: a user sees only sites and findings in their districts (office sees all).

Out-of-scope objects answer 404, exactly like missing ones, so their existence is
not revealed.
"""

from sqlalchemy import ColumnElement, true

from inspect_app.auth.models import User


def district_filter(user: User, column) -> ColumnElement[bool]:
    """A WHERE clause limiting ``column`` (a district column) to the user's districts."""
    if user.role == "office":
        return true()
    return column.in_(user.districts or [""])
