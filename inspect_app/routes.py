"""Registers every area's blueprint on the app's Api."""

from flask import Blueprint as FlaskBlueprint
from flask import jsonify, redirect
from swagger_ui_bundle import swagger_ui_path

from inspect_app.api import Blueprint

meta = Blueprint("meta", __name__, url_prefix="/api/v1", description="服务状态 Service")


@meta.route("/health")
@meta.response(200)
def health():
    """Liveness: the process answers (no database access)."""
    return jsonify({"status": "ok"})


# Static files of the browsable API page at /api/v1/docs.
docs_assets = FlaskBlueprint(
    "docs_assets", __name__, static_folder=swagger_ui_path, static_url_path="/api/v1/docs-assets"
)


def _home():
    # The address `make run` prints: a person lands on the dashboard (its login page
    # links to the API documentation for developers).
    return redirect("/dashboard/")


def register_blueprints(app, api) -> None:
    # Imported here, when the app is made: this module sits on the top floor, and loading
    # every area at import time would load the whole app for any ``from inspect_app import``.
    from inspect_app.accounts.routes import blp as users_blp
    from inspect_app.assignments.routes import blp as assignments_blp
    from inspect_app.auth.routes import blp as auth_blp
    from inspect_app.campaigns.draft_routes import blp as drafts_blp
    from inspect_app.campaigns.routes import blp as campaigns_blp
    from inspect_app.documents.routes import blp as documents_blp
    from inspect_app.escalation.routes import blp as escalation_blp
    from inspect_app.field.routes import bp as field_bp
    from inspect_app.findings.routes import blp as findings_blp
    from inspect_app.findings.routes import site_enforcements_blp
    from inspect_app.inspections.routes import blp as inspections_blp
    from inspect_app.openrosa.key_routes import blp as app_keys_blp
    from inspect_app.openrosa.routes import bp as openrosa_bp
    from inspect_app.openrosa.submission_routes import bp as openrosa_submission_bp
    from inspect_app.photos.routes import blp as photos_blp
    from inspect_app.sites.routes import blp as sites_blp
    from inspect_app.stats.routes import blp as stats_blp
    from inspect_app.sync.routes import blp as sync_blp

    # The pages of these modules are routes of the dashboard's blueprint: imported before
    # it is registered, so that they are on it.
    from inspect_app.web import accounts as _account_pages  # noqa: F401
    from inspect_app.web import registry as _registry_pages  # noqa: F401
    from inspect_app.web.routes import bp as web_bp

    app.register_blueprint(docs_assets)
    # The dashboard's pages are for people, not phones: outside the API and its spec.
    app.register_blueprint(web_bp)
    # The inspectors' field app: static files only; it works through the API like any phone.
    app.register_blueprint(field_bp)
    # ODK Collect, KoboCollect and Enketo: OpenRosa XML under an app key, outside the API.
    app.register_blueprint(openrosa_bp)
    # ODK Collect's and Enketo's submissions: OpenRosa's XML, not the JSON API.
    app.register_blueprint(openrosa_submission_bp)
    app.add_url_rule("/", "home", _home)
    api.register_blueprint(meta)
    api.register_blueprint(auth_blp)
    api.register_blueprint(users_blp)
    api.register_blueprint(app_keys_blp)
    api.register_blueprint(campaigns_blp)
    api.register_blueprint(drafts_blp)
    api.register_blueprint(stats_blp)
    api.register_blueprint(sites_blp)
    api.register_blueprint(inspections_blp)
    api.register_blueprint(photos_blp)
    api.register_blueprint(findings_blp)
    api.register_blueprint(site_enforcements_blp)
    api.register_blueprint(sync_blp)
    api.register_blueprint(documents_blp)
    api.register_blueprint(assignments_blp)
    api.register_blueprint(escalation_blp)
