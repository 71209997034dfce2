"""From a document request to a PDF file: gather the data, call the renderer."""

from pathlib import Path

import reports
from inspect_app.auth.models import User
from inspect_app.documents import gather
from inspect_app.photos.services import media_store

KINDS = ("site_problem_list", "campaign_problem_list", "rectification_report")


def gather_kind(kind: str, params: dict, user: User):  # noqa: ANN201 - one of reports.data
    """The plain data of one document, read within ``user``'s scope."""
    if kind == "site_problem_list":
        return gather.site_problem_list(user, params["site_id"], params["campaign"], media_store())
    if kind == "campaign_problem_list":
        return gather.campaign_problem_list(
            user,
            params["campaign"],
            media_store(),
            params.get("district"),
            tuple(params.get("statuses") or ()),
        )
    if kind == "rectification_report":
        return gather.rectification_report(user, params["campaign"], params.get("district"))
    raise ValueError(f"unknown document kind {kind!r}")


def draw(kind: str, data, out: Path) -> int:  # noqa: ANN001 - one of reports.data
    """Render gathered data to ``out`` (written atomically); returns the page count.
    Touches no database: a background job ends its transaction before it draws."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "site_problem_list":
        return reports.render_site_problem_list(data, out)
    if kind == "campaign_problem_list":
        return reports.render_campaign_problem_list(data, out)
    if kind == "rectification_report":
        return reports.render_rectification_report(data, out)
    raise ValueError(f"unknown document kind {kind!r}")


def render_kind(kind: str, params: dict, user: User, out: Path) -> int:
    """Render one document kind to ``out`` (written atomically); returns the page count."""
    return draw(kind, gather_kind(kind, params, user), out)
