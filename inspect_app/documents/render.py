"""From a document request to a PDF file: gather the data, call the renderer."""

from pathlib import Path

import reports
from inspect_app.auth.models import User
from inspect_app.documents import gather
from inspect_app.photos.services import media_store

KINDS = ("site_problem_list", "campaign_problem_list", "rectification_report")


def render_kind(kind: str, params: dict, user: User, out: Path) -> int:
    """Render one document kind to ``out`` (written atomically); returns the page count."""
    out.parent.mkdir(parents=True, exist_ok=True)
    store = media_store()
    if kind == "site_problem_list":
        data = gather.site_problem_list(user, params["site_id"], params["campaign"], store)
        return reports.render_site_problem_list(data, out)
    if kind == "campaign_problem_list":
        data = gather.campaign_problem_list(
            user,
            params["campaign"],
            store,
            params.get("district"),
            tuple(params.get("statuses") or ()),
        )
        return reports.render_campaign_problem_list(data, out)
    if kind == "rectification_report":
        data = gather.rectification_report(user, params["campaign"], params.get("district"))
        return reports.render_rectification_report(data, out)
    raise ValueError(f"unknown document kind {kind!r}")
