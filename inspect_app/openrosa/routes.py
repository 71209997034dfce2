"""The OpenRosa endpoints ODK Collect, KoboCollect and Enketo use, under an app key:
``/openrosa/key/<token>/…``, in ODK Central's URL shapes.

- ``GET formList`` (``?formID=`` narrows it): the forms the key's user may fill;
- ``GET forms/<formID>.xml``: the form; ``GET forms/<formID>/manifest``: its media
  (``sites.csv``); ``GET forms/<formID>/attachments/<name>``: a media file;
- ``HEAD``/``GET submission``: 204 (Collect asks before it posts; the post itself is
  ``openrosa.submission``).

Every answer carries the OpenRosa headers (``responses``). As in Central, formList, the
manifest and the submission URL refuse a request without ``X-OpenRosa-Version`` (400)
before they look at the key; the form and media downloads do not ask for it. A key
that cannot be one answers 401; a well-formed key that is unknown, revoked or whose
user is disabled answers 403 (Central's choice: a 401 makes the apps ask for a
password that does not exist). A form or file the user may not have is 404.
"""

from __future__ import annotations

from urllib.parse import quote
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, g, request

from inspect_app.errors import DomainError, add_error_page
from inspect_app.openrosa import forms, keys, responses

bp = Blueprint("openrosa", __name__, url_prefix="/openrosa/key/<token>")

# Views that, as in ODK Central, need X-OpenRosa-Version (the downloads do not).
NEEDS_VERSION = {"openrosa.form_list", "openrosa.manifest", "openrosa.submission_probe"}
FORM_NOT_FOUND = "没有这个表单，或您无权填写它"
FILE_NOT_FOUND = "该表单没有这个附件"


@bp.record_once
def _answer_errors_in_xml(state) -> None:
    # Routing errors (no such URL, wrong method) under the prefix answer OpenRosa XML too.
    add_error_page(state.app, "/openrosa/", _error_page)


def _error_page(status: int, message: str) -> Response:
    return responses.openrosa_response(message, status)


@bp.url_value_preprocessor
def _take_token(_endpoint, values) -> None:
    g.openrosa_token = values.pop("token", "") if values else ""


@bp.url_defaults
def _give_token(_endpoint, values) -> None:
    values.setdefault("token", g.get("openrosa_token", ""))


@bp.before_request
def _check_version_and_key():
    """400 without the version header (where Central asks for it), then the key."""
    if request.endpoint in NEEDS_VERSION:
        problem = responses.version_problem()
        if problem is not None:
            return problem
    token = g.get("openrosa_token", "")
    if not keys.well_formed(token):
        return responses.openrosa_response(responses.BAD_KEY, 401)
    user = keys.user_for_key(token)
    if user is None:
        return responses.openrosa_response(responses.NO_KEY, 403)
    g.current_user = user
    return None


@bp.after_request
def _openrosa_headers(response: Response) -> Response:
    return responses.add_headers(response)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Response:
    return responses.openrosa_response(error.message, error.status)


def _base() -> str:
    """Where the apps reach this server: INSPECT_PUBLIC_URL, else the request's host."""
    public = current_app.config.get("PUBLIC_URL") or request.host_url
    return public.rstrip("/") + f"/openrosa/key/{g.openrosa_token}"


def _form_url(form_id: str, tail: str) -> str:
    return f"{_base()}/forms/{quote(form_id, safe='')}{tail}"


@bp.route("/formList")
def form_list():
    """One form per campaign: its current checklist version (``?formID=`` narrows it)."""
    wanted = request.args.get("formID")
    entries = []
    for campaign, version in forms.current_versions():
        form = forms.form_of(campaign, version)
        if wanted is not None and form.form_id != wanted:
            continue
        entries.append(
            "  <xform>\n"
            f"    <formID>{escape(form.form_id)}</formID>\n"
            f"    <name>{escape(form.title)}</name>\n"
            f"    <version>{escape(form.version)}</version>\n"
            f"    <hash>md5:{form.md5}</hash>\n"
            f"    <downloadUrl>{escape(_form_url(form.form_id, '.xml'))}</downloadUrl>\n"
            f"    <manifestUrl>{escape(_form_url(form.form_id, '/manifest'))}</manifestUrl>\n"
            "  </xform>\n"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<xforms xmlns="{responses.FORMS_LIST_NS}">\n' + "".join(entries) + "</xforms>\n"
    )
    return responses.xml_response(body)


@bp.route("/forms/<form_id>.xml")
def form_xml(form_id):
    """The form (XForm XML); the same checklist version always gives the same bytes."""
    found = forms.version_for_form(form_id)
    if found is None:
        return responses.openrosa_response(FORM_NOT_FOUND, 404)
    form = forms.form_of(*found)
    return responses.xml_response(
        form.xml, **{"Content-Disposition": f"attachment; filename={form.form_id}.xml"}
    )


@bp.route("/forms/<form_id>/manifest")
def manifest(form_id):
    """The form's media: sites.csv, the sites the user may inspect with it."""
    found = forms.version_for_form(form_id)
    if found is None:
        return responses.openrosa_response(FORM_NOT_FOUND, 404)
    entries = []
    for media in forms.media_files(g.current_user, found[1]):
        url = _form_url(form_id, f"/attachments/{quote(media.name, safe='')}")
        entries.append(
            "  <mediaFile>\n"
            f"    <filename>{escape(media.name)}</filename>\n"
            f"    <hash>md5:{media.md5}</hash>\n"
            f"    <downloadUrl>{escape(url)}</downloadUrl>\n"
            "  </mediaFile>\n"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<manifest xmlns="{responses.MANIFEST_NS}">\n' + "".join(entries) + "</manifest>\n"
    )
    return responses.xml_response(body)


@bp.route("/forms/<form_id>/attachments/<name>")
def attachment(form_id, name):
    """A media file the manifest lists."""
    found = forms.version_for_form(form_id)
    if found is None:
        return responses.openrosa_response(FORM_NOT_FOUND, 404)
    for media in forms.media_files(g.current_user, found[1]):
        if media.name == name:
            return Response(
                media.data,
                content_type=media.content_type,
                headers={"Content-Disposition": f"attachment; filename={media.name}"},
            )
    return responses.openrosa_response(FILE_NOT_FOUND, 404)


@bp.route("/submission", methods=["HEAD", "GET"])
def submission_probe():
    """What Collect asks before it posts a submission: 204, no body."""
    return responses.no_content()
