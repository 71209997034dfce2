"""GET/POST /sites, GET /sites/{id}; the registry: import, template, merge, retire."""

import io

from flask import g

from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.documents.names import DownloadName
from inspect_app.downloads import send_download
from inspect_app.sites import registry, services, sheet
from inspect_app.sites.schemas import (
    ImportFileSchema,
    ImportQuerySchema,
    ImportReportSchema,
    MergeSchema,
    RetireSchema,
    SiteDetailSchema,
    SiteListQuerySchema,
    SiteListSchema,
    SiteSchema,
)
from inspect_app.stats.schemas import XLSX_BODY, XLSX_MIMETYPE

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


@blp.route("/import-template.xlsx")
@blp.response(200, XLSX_BODY, content_type=XLSX_MIMETYPE, description="站点台账模板 (.xlsx)")
@protected(blp, "team_lead", "office")
def import_template():
    """The spreadsheet to fill in for an import: the columns, an example, the allowed values."""
    return send_download(
        io.BytesIO(sheet.template_workbook()),
        XLSX_MIMETYPE,
        DownloadName("站点台账导入模板.xlsx", "site-import-template.xlsx"),
    )


@blp.route("/import", methods=["POST"])
@blp.arguments(ImportQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportReportSchema)
@blp.errors(400, 409, 413, 422)
@protected(blp, "team_lead", "office")
def import_sites(query, files):
    """Import sites from the office's spreadsheet: a dry run by default, row by row."""
    upload = files["file"]
    return registry.import_file(
        g.current_user,
        upload.read(),
        sheet.file_name(upload.filename or ""),
        dry_run=query["dry_run"],
    )


@blp.route("/<int:site_id>/merge", methods=["POST"])
@blp.arguments(MergeSchema)
@blp.response(200, SiteSchema, description="The site that kept the history")
@blp.errors(400, 404, 422)
@protected(blp, "team_lead", "office")
def merge_site(data, site_id):
    """Merge two records of one place: this one is retired, its history moves to `into`."""
    loser = services.visible_site(site_id, g.current_user)
    winner = services.visible_site(data["into"], g.current_user)
    return services.site_view(registry.merge(g.current_user, loser, winner, data["note"]))


@blp.route("/<int:site_id>/retire", methods=["POST"])
@blp.arguments(RetireSchema)
@blp.response(200, SiteSchema, description="The retired site (deleted: true)")
@blp.errors(400, 404, 422)
@protected(blp, "team_lead", "office")
def retire_site(data, site_id):
    """Retire a site (closed down): phones see it deleted; its history stays."""
    site = services.visible_site(site_id, g.current_user)
    return services.site_view(registry.retire(g.current_user, site, data["note"]))
