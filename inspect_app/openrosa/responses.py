"""What every OpenRosa answer carries, and its XML message body (ODK Central's behaviour,
which ODK Collect, KoboCollect and Enketo are built against).

Every answer: ``X-OpenRosa-Version: 1.0``, ``X-OpenRosa-Accept-Content-Length`` (the
largest submission post taken; Collect splits a submission with many photos at it),
``Date``, and XML as ``text/xml; charset=utf-8`` (Collect is particular about it). A
request without ``X-OpenRosa-Version: 1.0`` gets 400; the request's ``Date`` is not
checked (Collect sends it in the phone's own language). Messages are Chinese: the apps
show them to the inspector as they are.
"""

from __future__ import annotations

from email.utils import formatdate
from xml.sax.saxutils import escape

from flask import Response, current_app, request

VERSION = "1.0"
VERSION_HEADER = "X-OpenRosa-Version"
ACCEPT_LENGTH_HEADER = "X-OpenRosa-Accept-Content-Length"
XML_TYPE = "text/xml; charset=utf-8"
RESPONSE_NS = "http://openrosa.org/http/response"
FORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"

MISSING_VERSION = (
    "请求缺少 X-OpenRosa-Version: 1.0 请求头，请使用 ODK Collect、KoboCollect 或 Enketo"
)
BAD_KEY = "采集密钥格式不正确，请重新扫描账号页上的二维码"
NO_KEY = "采集密钥无效、已被吊销或账号已停用，请联系专项办重新签发"


def accept_content_length() -> int:
    """The largest submission post taken (its photos included), in bytes."""
    return int(current_app.config["MAX_PHOTO_BYTES"])


def add_headers(response: Response) -> Response:
    """The OpenRosa headers, on an answer of any kind (errors included)."""
    response.headers[VERSION_HEADER] = VERSION
    response.headers[ACCEPT_LENGTH_HEADER] = str(accept_content_length())
    response.headers["Date"] = formatdate(usegmt=True)
    return response


def xml_response(body: str | bytes, status: int = 200, **headers) -> Response:
    """An XML answer with the OpenRosa headers."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = Response(data, status=status, content_type=XML_TYPE, headers=headers)
    return add_headers(response)


def message_xml(message: str, nature: str = "error") -> str:
    """``<OpenRosaResponse>`` with one message (``nature``: "error", or "" for success)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OpenRosaResponse xmlns="{RESPONSE_NS}" items="0">'
        f'<message nature="{escape(nature, {chr(34): "&quot;"})}">{escape(message)}</message>'
        "</OpenRosaResponse>"
    )


def openrosa_response(message: str, status: int, nature: str | None = None) -> Response:
    """An OpenRosa message answer; errors (status ≥ 400) have nature "error"."""
    if nature is None:
        nature = "error" if status >= 400 else ""
    return xml_response(message_xml(message, nature), status)


def no_content() -> Response:
    """204 without a body (HEAD and GET of the submission URL)."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return add_headers(response)


def version_problem() -> Response | None:
    """400 for a request without ``X-OpenRosa-Version: 1.0``; None when it has it."""
    if request.headers.get(VERSION_HEADER, "").strip() != VERSION:
        return openrosa_response(MISSING_VERSION, 400)
    return None
