"""Campaign statistics and spreadsheets: /campaigns/{code}/stats, stats.xlsx, findings.xlsx."""

import tempfile
from collections.abc import Callable
from typing import BinaryIO

from flask import g, send_file

from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.campaigns.services import campaign_by_code
from inspect_app.db_types import utcnow
from inspect_app.findings.schemas import FindingListQuerySchema
from inspect_app.findings.services import problem_list_rows
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
    campaign = campaign_by_code(code)
    stats = services.campaign_stats(g.current_user, campaign, query["group_by"])
    name = f"{campaign.name}统计表（按{stats['group_label']}）.xlsx"
    return xlsx_response(lambda out: xlsx.write_stats_workbook(out, stats), name)


@blp.route("/<code>/findings.xlsx")
@blp.arguments(FindingListQuerySchema(exclude=("campaign",)), location="query")
@blp.response(200, XLSX_BODY, content_type=XLSX_MIMETYPE, description="问题清单 (.xlsx)")
@blp.errors(404, 422)
@protected(blp)
def problem_list_xlsx(filters, code):
    """The campaign's 问题清单 as a spreadsheet, with the filters of GET /findings.

    One row per finding (voided ones only when asked for with status=voided), ordered by
    district and site; dates are real dates (发现日期 in Asia/Shanghai). Written in
    openpyxl's write-only mode to a temporary file and streamed from there.
    """
    campaign = campaign_by_code(code)
    meta = {
        "campaign_name": campaign.name,
        "document_no": campaign.document_no,
        "filters": xlsx.describe_filters(filters),
    }
    rows = problem_list_rows(g.current_user, campaign, filters)
    return xlsx_response(
        lambda out: xlsx.write_problem_list_workbook(out, meta, rows, exported_at=utcnow()),
        f"{campaign.name}问题清单.xlsx",
    )


def xlsx_response(write: Callable[[BinaryIO], object], download_name: str):
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
    response = send_file(
        out, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=download_name
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
