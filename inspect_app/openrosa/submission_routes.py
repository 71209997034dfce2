"""POST /openrosa/key/<token>/submission: ODK Collect's and Enketo's submissions.

Every answer is an ``<OpenRosaResponse>`` with a Chinese message the app shows, and the
OpenRosa headers; success is 201 (Collect takes any other 2xx as a failure). Statuses
follow ODK Central: 400 for a request that is not a submission (no version header, no
``xml_submission_file``, malformed multipart or XML), 401 for a key that cannot be one,
403 for a well-formed key that opens nothing (unknown, revoked, user disabled),
404 for a form or version or edited record that does not exist, 409 for a conflict with
what is stored, 413 for a post over ``X-OpenRosa-Accept-Content-Length``, 422 for a
record the inspection rules refuse. Never a 5xx for anything a client sends.
"""

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.formparser import default_stream_factory

from inspect_app import input_rules
from inspect_app.errors import DomainError
from inspect_app.openrosa import keys, responses, submission
from inspect_app.openrosa.responses import accept_content_length, openrosa_response

bp = Blueprint("openrosa_submission", __name__, url_prefix="/openrosa/key/<token>")

# What a post may carry beyond the files Collect counts against the announced limit:
# the XML itself and the multipart framing.
MULTIPART_SLACK = 2 * 1024 * 1024


def source_of(user_agent: str) -> str:
    """collect for ODK Collect and its kin (KoboCollect), enketo for a browser."""
    agent = user_agent.lower()
    if "collect" in agent and "android" in agent:
        return "collect"
    if agent.startswith("mozilla/"):
        return "enketo"
    return "collect"


@bp.route("/submission", methods=["POST"])
def post_submission(token: str):
    """Store one post of a submission (see inspect_app.openrosa.submission)."""
    problem = responses.version_problem()
    if problem is not None:
        return problem
    if not keys.well_formed(token):
        return openrosa_response(responses.BAD_KEY, 401)
    user = keys.user_for_key(token)
    if user is None:
        return openrosa_response(responses.NO_KEY, 403)
    limit = accept_content_length() + MULTIPART_SLACK
    if request.content_length is not None and request.content_length > limit:
        return openrosa_response(f"提交内容超过 {limit // 2**20} MB 的上限，请分批发送", 413)
    request.max_content_length = limit
    opened = _track_part_files()
    try:
        xml, parts, incomplete = _read_multipart()
        instance = submission.parse_instance(xml)
        outcome = submission.receive(
            user,
            instance,
            parts,
            incomplete=incomplete,
            source=source_of(request.headers.get("User-Agent", "")),
            user_agent=request.headers.get("User-Agent", ""),
            cache_seconds=current_app.config["AUTH_CACHE_SECONDS"],
        )
    except DomainError as exc:
        return openrosa_response(exc.message, exc.status)
    except RequestEntityTooLarge:
        return openrosa_response(f"提交内容超过 {limit // 2**20} MB 的上限，请分批发送", 413)
    except HTTPException:
        # The body broke off, or its framing is not multipart: nothing was stored.
        return openrosa_response("提交内容不完整或格式有误（multipart），请重新发送", 400)
    finally:
        for file in opened:
            file.close()
    return openrosa_response(outcome.message, outcome.status)


def _track_part_files() -> list:
    """The files the multipart parser spools parts to, closed when the view ends.

    The parser drops the file of a part that breaks off without closing it; tracking
    them all closes that one too (and the others at once, not at garbage collection).
    """
    opened: list = []

    def factory(*args, **kwargs):
        file = default_stream_factory(*args, **kwargs)
        opened.append(file)
        return file

    request._get_current_object()._get_file_stream = factory
    return opened


def _read_multipart():
    """(XML bytes, photo parts, incomplete) of the post; SubmissionError (400) if none."""
    if request.mimetype != "multipart/form-data":
        raise submission.SubmissionError(
            400, f"提交内容应为 multipart/form-data，且包含 {submission.XML_PART}"
        )
    try:
        files = request.files
        form = request.form
    except ValueError:
        raise submission.SubmissionError(400, "提交内容的 multipart 格式有误") from None
    input_rules.check_texts(form.items(multi=True))
    xml_file = files.get(submission.XML_PART)
    if xml_file is not None:
        xml = xml_file.read()
    elif submission.XML_PART in form:
        xml = form[submission.XML_PART].encode()
    else:
        raise submission.SubmissionError(400, f"提交内容缺少 {submission.XML_PART}")
    if not xml.strip():
        raise submission.SubmissionError(400, "提交的表单数据为空")
    most = current_app.config["MAX_JSON_BYTES"]
    if len(xml) > most:
        # The XML of a checklist's form is a few KB; the photos are the other parts.
        raise submission.SubmissionError(413, f"表单数据超过 {most // 2**20} MB 的上限")
    parts = []
    for name, storage in files.items(multi=True):
        if name == submission.XML_PART:
            continue
        # Collect names each part by its file name, in both the field and the filename.
        parts.append(submission.PhotoPart(storage.filename or name, storage.stream))
    incomplete = form.get(submission.INCOMPLETE_FIELD, "").strip().lower() == "yes"
    return xml, parts, incomplete
