"""Findings and their rectification lifecycle: GET /findings, GET /findings/{id}, POST events.

Also the enforcement measures (执法措施) recorded on a whole site, under /sites/{id}.
"""

from flask import g

from inspect_app import formats
from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.errors import NotFound
from inspect_app.findings import services
from inspect_app.findings.schemas import (
    EnforcementListQuerySchema,
    EnforcementListSchema,
    EnforcementSchema,
    EventInSchema,
    FindingDetailSchema,
    FindingPageQuerySchema,
    FindingPageSchema,
    SiteEnforcementInSchema,
)

blp = Blueprint(
    "findings", __name__, url_prefix="/api/v1/findings", description="问题整改 Findings"
)

site_enforcements_blp = Blueprint(
    "site_enforcements",
    __name__,
    url_prefix="/api/v1/sites",
    description="执法措施 Enforcement on sites",
)

FINDING_REF = formats.path_parameter(
    "finding_ref",
    formats.FINDING_REF,
    "The server's integer id, or the UUID the phone gave the finding",
    "42",
)


def _ref(finding_ref: str) -> str:
    """The reference as the spec publishes it; anything else names no finding (404)."""
    if not formats.matches(formats.FINDING_REF, finding_ref):
        raise NotFound("问题不存在")
    return finding_ref


@blp.route("")
@blp.arguments(FindingPageQuerySchema, location="query")
@blp.response(200, FindingPageSchema)
@blp.errors(400, 404, 422)
@protected(blp)
def list_findings(query):
    """List findings in the caller's districts, newest first, a page at a time."""
    return services.list_findings(g.current_user, **query)


@blp.route("/<finding_ref>", parameters=[FINDING_REF])
@blp.response(200, FindingDetailSchema)
@blp.errors(404)
@protected(blp)
def get_finding(finding_ref):
    """One finding with its full history of events and enforcement."""
    finding = services.visible_finding(g.current_user, _ref(finding_ref))
    return services.finding_detail(finding)


@blp.route("/<finding_ref>/events", methods=["POST"], parameters=[FINDING_REF])
@blp.arguments(EventInSchema)
@blp.response(200, FindingDetailSchema)
@blp.errors(400, 403, 404, 409, 422)
@protected(blp)
def post_event(data, finding_ref):
    """Move a finding along its lifecycle (start, submit, approve, reject, reopen, void, extend).

    403 when the caller's role may not make the move, 409 when the finding's current
    status does not allow it (or another reviewer moved it first), 422 for a bad body.
    """
    finding = services.visible_finding(g.current_user, _ref(finding_ref), for_update=True)
    services.apply_event(g.current_user, finding, data)
    return services.finding_detail(finding)


@site_enforcements_blp.route("/<int:site_id>/enforcements", methods=["POST"])
@site_enforcements_blp.arguments(SiteEnforcementInSchema)
@site_enforcements_blp.response(201, EnforcementSchema)
@site_enforcements_blp.errors(400, 404, 409, 422)
@protected(site_enforcements_blp)
def record_site_enforcement(data, site_id):
    """Record an enforcement measure on a site (取缔, 行政处罚 with the fine, 移交 …)."""
    return services.record_site_enforcement(g.current_user, site_id, data)


@site_enforcements_blp.route("/<int:site_id>/enforcements")
@site_enforcements_blp.arguments(EnforcementListQuerySchema, location="query")
@site_enforcements_blp.response(200, EnforcementListSchema)
@site_enforcements_blp.errors(404)
@protected(site_enforcements_blp)
def list_site_enforcements(query, site_id):
    """Enforcement measures recorded on a site, oldest first."""
    return services.site_enforcements(g.current_user, site_id, **query)
