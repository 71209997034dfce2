"""The dashboard's site registry pages (站点台账): upload a spreadsheet, read the dry run
row by row, then import it; download the template; merge and retire a site.

The uploaded file is kept under the media folder (``imports/<sha256>``) between the dry
run and the import, so the office confirms exactly the file it has read the report of;
the import plans it again against the registry as it is then.
"""

import hashlib
import io
import re
from pathlib import Path

from flask import current_app, flash, g, redirect, render_template, request, url_for

from inspect_app.documents.names import DownloadName
from inspect_app.downloads import send_download
from inspect_app.errors import Conflict, Forbidden, Invalid, NotFound
from inspect_app.extensions import db
from inspect_app.sites import registry, sheet
from inspect_app.sites.services import visible_site
from inspect_app.stats.schemas import XLSX_MIMETYPE
from inspect_app.web.routes import bp
from inspect_app.web.session import login_required

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _managers_only() -> None:
    if g.current_user.role not in registry.MANAGERS:
        raise Forbidden("只有组长和专项办可以管理站点台账")


def _upload_path(sha256: str) -> Path:
    return Path(current_app.config["MEDIA_DIR"]) / "imports" / sha256


@bp.route("/sites/import", methods=["GET", "POST"])
@login_required
def site_import():
    """Upload the office's spreadsheet; the answer is the dry run, row by row."""
    _managers_only()
    if request.method == "GET":
        return render_template("web/site_import.html", report=None, problem=None)
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    filename = sheet.file_name(upload.filename or "") if upload else ""
    if not data:
        return render_template(
            "web/site_import.html", report=None, problem="请选择要导入的 .xlsx 或 .csv 文件"
        ), 422
    try:
        report = registry.import_file(g.current_user, data, filename, dry_run=True)
    except Invalid as error:
        return render_template("web/site_import.html", report=None, problem=error.message), 422
    path = _upload_path(report["sha256"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return render_template("web/site_import.html", report=report, problem=None)


@bp.route("/sites/import/apply", methods=["POST"])
@login_required
def site_import_apply():
    """Import the file whose dry run was shown: every row not refused, in one go."""
    _managers_only()
    sha256 = request.form.get("sha256", "")
    path = _upload_path(sha256) if _SHA256.fullmatch(sha256) else None
    if path is None or not path.is_file():
        raise NotFound("找不到该文件的预览，请重新上传")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise NotFound("找不到该文件的预览，请重新上传")
    filename = sheet.file_name(request.form.get("filename", ""))
    try:
        report = registry.import_file(g.current_user, data, filename, dry_run=False)
    except Conflict as error:
        db.session.rollback()
        flash(error.message, "alert")
        return redirect(url_for("web.site_import"))
    path.unlink(missing_ok=True)
    return render_template("web/site_import.html", report=report, problem=None)


@bp.route("/sites/import-template.xlsx")
@login_required
def site_import_template():
    """The spreadsheet to fill in."""
    _managers_only()
    return send_download(
        io.BytesIO(sheet.template_workbook()),
        XLSX_MIMETYPE,
        DownloadName("站点台账导入模板.xlsx", "site-import-template.xlsx"),
    )


@bp.route("/sites/<int:site_id>/merge", methods=["POST"])
@login_required
def site_merge(site_id):
    """Merge this site into another (two records of one place)."""
    _managers_only()
    loser = visible_site(site_id, g.current_user)
    try:
        into = int(request.form.get("into", ""))
    except ValueError:
        into = 0
    try:
        winner = visible_site(into, g.current_user)
        registry.merge(g.current_user, loser, winner, request.form.get("note", "").strip()[:500])
    except (NotFound, Invalid) as error:
        db.session.rollback()
        flash(f"无法合并：{error.message}", "alert")
        return redirect(url_for("web.site", site_id=site_id))
    flash(f"已将「{loser.name}」合并到本站点，其检查记录和问题已转到这里", "status")
    return redirect(url_for("web.site", site_id=winner.id))


@bp.route("/sites/<int:site_id>/retire", methods=["POST"])
@login_required
def site_retire(site_id):
    """Retire a site that is gone (关停、取缔); its history stays."""
    _managers_only()
    site = visible_site(site_id, g.current_user)
    registry.retire(g.current_user, site, request.form.get("note", "").strip()[:500])
    flash(f"已注销站点「{site.name}」", "status")
    return redirect(url_for("web.sites"))
