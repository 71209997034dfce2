"""Serves the field app's shell at /app/: the page, its modules, manifest and service worker.

Nothing here reads the database or the session: the app logs in and works through the
public API. The service worker gets a version made from the shell's files, so a changed
file makes phones fetch the new shell the next time they are online.
"""

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, abort, make_response, redirect, send_from_directory

STATIC = Path(__file__).parent / "static"

bp = Blueprint("field", __name__, url_prefix="/app")


@cache
def shell_files() -> tuple[str, ...]:
    """Every file of the shell, as paths under /app/ (what the service worker caches)."""
    names = sorted(
        p.relative_to(STATIC).as_posix()
        for p in STATIC.rglob("*")
        if p.is_file() and p.name != "sw.js"
    )
    return tuple(names)


@cache
def shell_version() -> str:
    digest = hashlib.sha256()
    for name in (*shell_files(), "sw.js"):
        digest.update(name.encode() + b"\0" + (STATIC / name).read_bytes())
    return digest.hexdigest()[:16]


def _headers(response, cache_control: str):
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("")
def app_root():
    """The app lives under /app/ (its service worker's scope)."""
    return redirect("/app/")


@bp.route("/")
def index():
    """The app's one page; its modules draw every screen."""
    return _headers(send_from_directory(STATIC, "index.html"), "no-cache")


@bp.route("/sw.js")
def service_worker():
    """The service worker, with the shell's version and file list filled in."""
    source = (STATIC / "sw.js").read_text(encoding="utf-8")
    files = ", ".join(f'"/app/{name}"' for name in shell_files() if name != "index.html")
    source = source.replace("__VERSION__", shell_version()).replace('"__FILES__"', files)
    response = make_response(source)
    response.mimetype = "text/javascript"
    # Served at /app/sw.js its scope is /app/ already; the header says so for a proxy that
    # serves the app under another path.
    response.headers["Service-Worker-Allowed"] = "/app/"
    return _headers(response, "no-cache")


@bp.route("/<path:name>")
def shell_file(name: str):
    """A module, the stylesheet, the manifest or an icon of the shell."""
    if name not in shell_files():
        abort(404)
    response = send_from_directory(STATIC, name)
    if name.endswith(".webmanifest"):
        response.mimetype = "application/manifest+json"
    return _headers(response, "no-cache")
