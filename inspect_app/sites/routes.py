"""GET/POST /sites and GET /sites/{id}."""

from flask import g

from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.sites import services
from inspect_app.sites.schemas import (
    SiteDetailSchema,
    SiteListQuerySchema,
    SiteListSchema,
    SiteSchema,
)

blp = Blueprint("sites", __name__, url_prefix="/api/v1/sites", description="检查对象 Sites")


@blp.route("")
@blp.arguments(SiteListQuerySchema, location="query")
@blp.response(200, SiteListSchema)
@blp.errors(400, 404, 422)
@protected(blp)
def list_sites(query):
    """List sites in the caller's districts; with since=, only what changed, deletions included."""
    return services.list_sites(g.current_user, **query)


@blp.route("", methods=["POST"])
@blp.arguments(SiteSchema)
@blp.response(201, SiteSchema)
@blp.alt_response(200, schema=SiteSchema, description="A retry with the same client_uuid")
@blp.errors(400, 403, 409, 422)
@protected(blp)
def register_site(data):
    """Register a site found in the field (an unlicensed fuel point, say)."""
    site, created = services.register_site(g.current_user, data)
    return services.site_view(site), 201 if created else 200


@blp.route("/<int:site_id>")
@blp.response(200, SiteDetailSchema)
@blp.errors(404)
@protected(blp)
def get_site(site_id):
    """One site with its rectification summary per campaign."""
    site = services.visible_site(site_id, g.current_user)
    return {**services.site_view(site), "rectification": services.rectification_summary(site.id)}
