"""District scope: a user sees only sites and findings in their districts (office sees all).

Out-of-scope objects answer 404, exactly like missing ones, so their existence is
not revealed. A district filter outside the caller's districts is different: the
districts are no secret, the caller asks for what their rights do not cover, and
that is 403 (as is registering a site in someone else's district).

Every document names the area it covers (范围): ``covered_districts`` decides it from
the caller's rights and the filter, ``scope_name`` says it in words.
"""

from sqlalchemy import ColumnElement, true

from inspect_app.auth.models import User
from inspect_app.domain import DISTRICTS
from inspect_app.errors import Forbidden, Invalid

CITY = "全市"


def district_filter(user: User, column) -> ColumnElement[bool]:
    """A WHERE clause limiting ``column`` (a district column) to the user's districts."""
    if user.role == "office":
        return true()
    return column.in_(user.districts or [""])


def covered_districts(user: User, district: str | None = None) -> tuple[str, ...]:
    """The districts a document for ``user``, filtered to ``district`` if given, covers.

    In the city's order; Invalid (422) for a district the city does not have,
    Forbidden (403) for a filter outside the user's districts.
    """
    if district is not None:
        if district not in DISTRICTS:
            raise Invalid(f"没有名为「{district}」的区域", fields={"district": ["未知区域"]})
        if not user.can_see_district(district):
            raise Forbidden(f"「{district}」不在您的辖区内，只能查看本人辖区的数据")
        return (district,)
    return tuple(d for d in DISTRICTS if user.can_see_district(d))


def scope_name(districts: tuple[str, ...] | list[str]) -> str:
    """全市 for every district, else the districts joined with 、 (郭勒木德镇、唐古拉山镇)."""
    if set(districts) >= set(DISTRICTS):
        return CITY
    if not districts:
        return "无辖区"
    return "、".join(districts)


def scope_label(user: User, district: str | None = None) -> str:
    """The 范围 a document for ``user`` (filtered to ``district``) names."""
    return scope_name(covered_districts(user, district))


def narrowed(user: User, district: str | None) -> User:
    """The caller's scope, narrowed to one district when a document is limited to it.

    A transient User (never added to the session) so the statistics apply exactly the
    same district rules as for a real caller. Forbidden (403) for a district outside
    the caller's.
    """
    if district is None:
        return user
    return User(role="team_lead", districts=list(covered_districts(user, district)))
