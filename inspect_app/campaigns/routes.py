"""GET /campaigns and GET /campaigns/{code}/checklist (with ETag / 304)."""

from flask import current_app, make_response, request

from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.campaigns import services
from inspect_app.campaigns.schemas import CampaignListSchema, ChecklistSchema

blp = Blueprint(
    "campaigns", __name__, url_prefix="/api/v1/campaigns", description="专项行动 Campaigns"
)


@blp.route("")
@blp.response(200, CampaignListSchema)
@protected(blp)
def list_campaigns():
    """List the campaigns with their current checklist version."""
    return {"items": services.list_campaigns()}


@blp.route("/<code>/checklist")
@blp.response(200, ChecklistSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, description="Not Modified: the phone's copy (If-None-Match) is current")
@blp.errors(404)
@protected(blp)
def get_checklist(code):
    """The campaign's current published checklist; send If-None-Match to get 304 when unchanged."""
    version = services.current_version_ref(code, current_app.config["AUTH_CACHE_SECONDS"])
    etag = services.checklist_etag(code, version)
    if etag in request.if_none_match or request.if_none_match.contains_weak(etag.strip('"')):
        response = make_response("", 304)
        response.headers["ETag"] = etag
        return response
    body = {"campaign": code, "version": version.version, "items": services.version_items(version)}
    return body, 200, {"ETag": etag, "Cache-Control": "no-cache"}
