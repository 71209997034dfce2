"""From a document request to a PDF file: gather the data, call the renderer, name it."""

from datetime import date
from pathlib import Path

import reports
from inspect_app.auth.models import User
from inspect_app.campaigns.services import campaign_by_code
from inspect_app.documents import gather, names
from inspect_app.extensions import db
from inspect_app.photos.services import media_store
from inspect_app.scope import covered_districts
from inspect_app.sites.models import Site

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


def document_name(kind: str, params: dict, user: User, on: date) -> names.DownloadName:
    """The file name of one document, made for ``user`` on the day ``on``: the same for
    a document sent at once and for a background job's result."""
    if kind == "site_problem_list":
        site = db.session.get(Site, params["site_id"])
        label = site.name if site is not None else f"站点{params['site_id']}"
        return names.site_problem_list(params["site_id"], label, on)
    campaign = campaign_by_code(params["campaign"])
    districts = covered_districts(user, params.get("district"))
    if kind == "campaign_problem_list":
        return names.campaign_problem_list(campaign.code, campaign.name, districts, on)
    if kind == "rectification_report":
        return names.rectification_report(campaign.code, campaign.name, districts, on)
    raise ValueError(f"unknown document kind {kind!r}")
