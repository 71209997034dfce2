"""Campaign statistics and spreadsheets: /campaigns/{code}/stats, stats.xlsx, findings.xlsx."""

import tempfile
from collections.abc import Callable
from typing import BinaryIO

from flask import g

from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.auth.models import User
from inspect_app.campaigns.models import Campaign
from inspect_app.campaigns.services import campaign_by_code
from inspect_app.db_types import utcnow
from inspect_app.documents import names
from inspect_app.downloads import send_download
from inspect_app.findings.schemas import FindingListQuerySchema
from inspect_app.findings.services import problem_list_rows
from inspect_app.scope import covered_districts, narrowed, scope_name
from inspect_app.sites.services import today_shanghai
from inspect_app.stats import services, xlsx
from inspect_app.stats.schemas import XLSX_BODY, XLSX_MIMETYPE, StatsQuerySchema, StatsSchema

blp = Blueprint("stats", __name__, url_prefix="/api/v1/campaigns", description="统计 Statistics")


@blp.route("/<code>/stats")
@blp.arguments(StatsQuerySchema, location="query")
@blp.response(200, StatsSchema)
@blp.errors(404, 422)
@protected(blp)
def campaign_stats(query, code):
    """Rectification statistics of a campaign by one grouping, with a total and its figures.

    Voided findings do not count; rectified means closed (立行立改 included); the rate is
    rectified / findings (null when there are none); overdue is judged on today's date in
    Asia/Shanghai. Office sees every district, team leads and inspectors their own.
    cases_filed counts 行政处罚, 移交公安机关 and 移交司法机关 measures; sites_closed_down
    the distinct sites with a 取缔 measure.
    """
    campaign = campaign_by_code(code)
    return services.campaign_stats(g.current_user, campaign, query["group_by"])


@blp.route("/<code>/stats.xlsx")
@blp.arguments(StatsQuerySchema, location="query")
@blp.response(200, XLSX_BODY, content_type=XLSX_MIMETYPE, description="整改情况统计表 (.xlsx)")
@blp.errors(404, 422)
@protected(blp)
def campaign_stats_xlsx(query, code):
    """The statistics as a spreadsheet: the table by the grouping, and the main figures.

    Sheet 整改情况统计: title and document number, frozen Chinese header row, one row per
    group and a 合计 row, the rate as a percentage. Sheet 主要指标: the figures.
    """
    return send_stats_workbook(g.current_user, campaign_by_code(code), query["group_by"])


@blp.route("/<code>/findings.xlsx")
@blp.arguments(FindingListQuerySchema(exclude=("campaign",)), location="query")
@blp.response(200, XLSX_BODY, content_type=XLSX_MIMETYPE, description="问题清单 (.xlsx)")
@blp.errors(403, 404, 422)
@protected(blp)
def problem_list_xlsx(filters, code):
    """The campaign's 问题清单 as a spreadsheet, with the filters of GET /findings.

    One row per finding (voided ones only when asked for with status=voided), ordered by
    district and site; dates are real dates (发现日期 in Asia/Shanghai). Written in
    openpyxl's write-only mode to a temporary file and streamed from there. A district
    outside the caller's districts is 403.
    """
    return send_problem_list_workbook(g.current_user, campaign_by_code(code), filters)


def send_stats_workbook(user: User, campaign: Campaign, group_by: str, district=None):
    """The 整改情况统计表 of the caller's districts, or of one of them."""
    covered = covered_districts(user, district)
    stats = services.campaign_stats(narrowed(user, district), campaign, group_by)
    name = names.stats_table(
        campaign.code,
        campaign.name,
        covered,
        today_shanghai(),
        group_by=group_by,
        group_label=stats["group_label"],
    )
    return xlsx_response(lambda out: xlsx.write_stats_workbook(out, stats), name)


def send_problem_list_workbook(user: User, campaign: Campaign, filters: dict):
    """The 问题清单 spreadsheet with the filters of GET /findings, titled by its scope."""
    covered = covered_districts(user, filters.get("district"))
    meta = {
        "campaign_name": campaign.name,
        "document_no": campaign.document_no,
        "scope": scope_name(covered),
        "filters": xlsx.describe_filters(filters),
    }
    rows = problem_list_rows(user, campaign, filters)
    name = names.campaign_problem_list(
        campaign.code, campaign.name, covered, today_shanghai(), ext="xlsx"
    )
    return xlsx_response(
        lambda out: xlsx.write_problem_list_workbook(out, meta, rows, exported_at=utcnow()), name
    )


def xlsx_response(write: Callable[[BinaryIO], object], download_name: names.DownloadName):
    """Write the workbook to a temporary file and stream it from there.

    openpyxl's write-only mode only finishes the zip when saving, so the bytes cannot
    be produced as rows arrive; an unnamed temporary file keeps them out of memory,
    and it disappears when the response is closed.
    """
    out = tempfile.TemporaryFile()
    try:
        write(out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    response = send_download(out, XLSX_MIMETYPE, download_name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
