"""PDF downloads: a site's 问题清单, a campaign's 问题清单 and rectification report, jobs.

Small documents are made within the request. A document with more findings than
``REPORT_SYNC_MAX_FINDINGS`` (a site's, a campaign's) is made in the background: the
answer is 202 with a job to poll (``GET /jobs/{id}``), then the file (``GET /jobs/{id}/file``).
"""

import os
import uuid
from pathlib import Path

from flask import current_app, g

from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.documents import jobs, render
from inspect_app.documents.schemas import (
    CampaignDocumentQuerySchema,
    JobSchema,
    RectificationQuerySchema,
    SiteDocumentQuerySchema,
)
from inspect_app.downloads import send_download
from inspect_app.errors import Conflict, NotFound
from inspect_app.scope import covered_districts
from inspect_app.sites.services import today_shanghai, visible_site

blp = Blueprint("documents", __name__, url_prefix="/api/v1", description="报表 Documents")


def send_pdf_now(kind: str, params: dict):
    """Render within the request into a private file, send it, and leave nothing behind."""
    folder = Path(current_app.config["MEDIA_DIR"]) / "reports"
    path = folder / f"now-{uuid.uuid4().hex}.pdf"
    user = g.current_user
    render.render_kind(kind, params, user, path)
    name = render.document_name(kind, params, user, today_shanghai())
    handle = open(path, "rb")  # noqa: SIM115 - send_file closes it after sending
    os.unlink(path)  # the open handle keeps the bytes until the response is sent
    return send_download(handle, "application/pdf", name)


def send_job_file(job):  # noqa: ANN001, ANN201 - a ReportJob; a response
    """The PDF of a finished job, named as the same document sent at once would be."""
    path = jobs.output_path(current_app, job.id)
    if job.status != "done" or not path.is_file():
        raise NotFound("报表文件已不存在，请重新生成")
    return send_download(path, "application/pdf", jobs.download_name(job))


def _job_response(job, new: bool):
    # Dumped with the job schema here: a bare dict would be jsonified as it stands.
    view = jobs.job_view(job)
    return JobSchema().dump(view), 202, {"Location": view["url"]}


@blp.route("/sites/<int:site_id>/problem-list.pdf")
@blp.arguments(SiteDocumentQuerySchema, location="query")
@blp.response(200, description="问题清单 PDF, made at once", content_type="application/pdf")
@blp.alt_response(202, schema=JobSchema, description="Large: made in the background; poll url")
@blp.errors(404, 422)
@protected(blp)
def site_problem_list(query, site_id):
    """问题清单 of one site in one campaign, to hand to the site at the end of an inspection."""
    site = visible_site(site_id, g.current_user)
    params = {"site_id": site.id, "campaign": query["campaign"]}
    if jobs.in_background(g.current_user, "site_problem_list", params):
        return _job_response(*jobs.submit(g.current_user, "site_problem_list", params))
    return send_pdf_now("site_problem_list", params)


@blp.route("/campaigns/<code>/problem-list.pdf")
@blp.arguments(CampaignDocumentQuerySchema, location="query")
@blp.response(200, description="问题清单 PDF, made at once", content_type="application/pdf")
@blp.alt_response(202, schema=JobSchema, description="Large: made in the background; poll url")
@blp.errors(404, 422)
@protected(blp, "team_lead", "office")
def campaign_problem_list(query, code):
    """问题清单 of a campaign, or of one district, grouped by district and site."""
    statuses = sorted(set(query["status"]))
    covered_districts(g.current_user, query["district"])  # 403 outside the caller's districts
    params = {"campaign": code, "district": query["district"], "statuses": statuses}
    if jobs.in_background(g.current_user, "campaign_problem_list", params):
        return _job_response(*jobs.submit(g.current_user, "campaign_problem_list", params))
    return send_pdf_now("campaign_problem_list", params)


@blp.route("/campaigns/<code>/rectification-report.pdf")
@blp.arguments(RectificationQuerySchema, location="query")
@blp.response(200, description="整改情况报告 PDF, made at once", content_type="application/pdf")
@blp.alt_response(202, schema=JobSchema, description="Large: made in the background; poll url")
@blp.errors(404, 422)
@protected(blp, "team_lead", "office")
def rectification_report(query, code):
    """Rectification status report: totals, rates by district and department, overdue list."""
    covered_districts(g.current_user, query["district"])  # 403 outside the caller's districts
    params = {"campaign": code, "district": query["district"]}
    if jobs.in_background(g.current_user, "rectification_report", params):
        return _job_response(*jobs.submit(g.current_user, "rectification_report", params))
    return send_pdf_now("rectification_report", params)


@blp.route("/jobs/<job_id>")
@blp.response(200, JobSchema)
@blp.errors(404)
@protected(blp)
def get_job(job_id):
    """State of a background document job (handed out again if its worker died)."""
    return jobs.job_view(jobs.visible_job(g.current_user, job_id))


@blp.route("/jobs/<job_id>/file")
@blp.response(200, description="The finished PDF", content_type="application/pdf")
@blp.errors(404, 409)
@protected(blp)
def get_job_file(job_id):
    """The PDF of a finished job."""
    job = jobs.visible_job(g.current_user, job_id)
    if job.status != "done":
        raise Conflict(f"报表尚未生成完成（当前状态：{job.status}）")
    return send_job_file(job)
