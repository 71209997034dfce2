"""The headers and XML body of every OpenRosa response.

STAND-IN (h18-submit): h18-forms writes the real module; this one has the shared
spec's names and signatures so the submission endpoint runs before that lands.
"""

from email.utils import formatdate
from xml.sax.saxutils import escape

from flask import Response, current_app

OPENROSA_VERSION = "1.0"
# What a client may send in one post; Collect splits a larger submission (ODK Central
# announces 100 MB; photos are checked one by one against MAX_PHOTO_BYTES anyway).
DEFAULT_ACCEPT_CONTENT_LENGTH = 100 * 1024 * 1024


def accept_content_length() -> int:
    """INSPECT_OPENROSA_ACCEPT_CONTENT_LENGTH (config.py)."""
    return int(
        current_app.config.get("OPENROSA_ACCEPT_CONTENT_LENGTH", DEFAULT_ACCEPT_CONTENT_LENGTH)
    )


def openrosa_headers(response: Response) -> Response:
    response.headers["X-OpenRosa-Version"] = OPENROSA_VERSION
    response.headers["X-OpenRosa-Accept-Content-Length"] = str(accept_content_length())
    response.headers["Date"] = formatdate(usegmt=True)
    return response


def openrosa_response(message: str, status: int) -> Response:
    """``<OpenRosaResponse>`` with one message (nature "error" for a status of 400 and up)."""
    nature = "error" if status >= 400 else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0">'
        f'<message nature="{nature}">{escape(message)}</message>'
        "</OpenRosaResponse>"
    )
    response = Response(body, status=status, content_type="text/xml; charset=utf-8")
    return openrosa_headers(response)
