"""The headers and XML body of every OpenRosa response.

STAND-IN (h18-submit): h18-forms writes the real module; this one has the names and
signatures the submission endpoint uses from it, so that it runs before that lands.
"""

from email.utils import formatdate
from xml.sax.saxutils import escape

from flask import Response, current_app, request

VERSION = "1.0"
VERSION_HEADER = "X-OpenRosa-Version"
RESPONSE_NS = "http://openrosa.org/http/response"
MISSING_VERSION = (
    "请求缺少 X-OpenRosa-Version: 1.0 请求头，请使用 ODK Collect、KoboCollect 或 Enketo"
)
BAD_KEY = "采集密钥格式不正确，请重新扫描账号页上的二维码"
NO_KEY = "采集密钥无效、已被吊销或账号已停用，请联系专项办重新签发"


def accept_content_length() -> int:
    """The largest submission post taken, photos included (Collect splits at it)."""
    return int(current_app.config["MAX_PHOTO_BYTES"])


def openrosa_response(message: str, status: int, nature: str | None = None) -> Response:
    """``<OpenRosaResponse>`` with one message (nature "error" for a status of 400 and up)."""
    if nature is None:
        nature = "error" if status >= 400 else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OpenRosaResponse xmlns="{RESPONSE_NS}" items="0">'
        f'<message nature="{nature}">{escape(message)}</message>'
        "</OpenRosaResponse>"
    )
    response = Response(body, status=status, content_type="text/xml; charset=utf-8")
    response.headers[VERSION_HEADER] = VERSION
    response.headers["X-OpenRosa-Accept-Content-Length"] = str(accept_content_length())
    response.headers["Date"] = formatdate(usegmt=True)
    return response


def version_problem() -> Response | None:
    """400 for a request without ``X-OpenRosa-Version: 1.0``; None when it has it."""
    if request.headers.get(VERSION_HEADER, "").strip() != VERSION:
        return openrosa_response(MISSING_VERSION, 400)
    return None
