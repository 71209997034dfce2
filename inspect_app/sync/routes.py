"""GET /sync: one call for everything a phone must learn after being offline."""

from flask import g

from inspect_app.accounts.services import note_sync
from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.sync import feed
from inspect_app.sync.schemas import SyncQuerySchema, SyncSchema

blp = Blueprint("sync", __name__, url_prefix="/api/v1", description="同步 Sync")


@blp.route("/sync")
@blp.arguments(SyncQuerySchema, location="query")
@blp.response(200, SyncSchema)
@blp.errors(422)
@protected(blp)
def sync(query):
    """What changed for the caller since the cursor: sites, finding statuses, checklist versions."""
    note_sync(g.current_user.id)
    return feed.changes_since(g.current_user, query["since"], query["limit"])
