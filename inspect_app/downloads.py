"""Sending a document as a download, named in both forms of RFC 6266.

``filename*=UTF-8''…`` (RFC 5987) carries the Chinese name every current browser and
the phone app show; ``filename="…"`` carries the ASCII name for clients that read only
that. Werkzeug's own fallback strips the Chinese and leaves "-110.pdf", so the header
is written here, once, for every download route.
"""

from typing import BinaryIO
from urllib.parse import quote

from flask import Response, send_file

from inspect_app.documents.names import DownloadName

# attr-char of RFC 5987 beyond letters, digits and quote()'s own "_.-~".
_ATTR_CHARS = "!#$&+^`|"


def content_disposition(name: DownloadName) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded-chinese``."""
    fallback = name.ascii.replace("\\", "").replace('"', "")
    encoded = quote(name.chinese, safe=_ATTR_CHARS)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def send_download(source: str | BinaryIO, mimetype: str, name: DownloadName) -> Response:
    """Send a file or an open binary file as an attachment named ``name``."""
    response = send_file(source, mimetype=mimetype, as_attachment=True, download_name=name.ascii)
    response.headers["Content-Disposition"] = content_disposition(name)
    return response
