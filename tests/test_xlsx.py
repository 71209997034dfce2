"""stats.xlsx and findings.xlsx (问题清单), opened with openpyxl and read as the office would."""

import io
import tempfile
import tracemalloc
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from inspect_app import domain
from inspect_app.stats.xlsx import display_width, write_problem_list_workbook
from tests.factories import CAMPAIGN, CAMPAIGN_NAME, DOCUMENT_NO, Factory
from tests.helpers import assert_error

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATS_HEADERS = ["区域", "检查点位数", "发现问题数", "已整改", "未整改", "逾期未整改", "整改率"]
PROBLEM_HEADERS = [
    "序号",
    "问题编号",
    "区域",
    "检查对象",
    "对象类型",
    "检查项",
    "问题描述",
    "问题等级",
    "重大隐患",
    "整改要求",
    "责任单位",
    "发现日期",
    "整改时限",
    "立行立改",
    "整改状态",
    "是否逾期",
    "销号日期",
]


class FrozenClock(datetime):
    @classmethod
    def now(cls, tz=None):
        instant = datetime(2025, 6, 20, 2, 0, tzinfo=UTC)
        return instant.astimezone(tz) if tz else instant.replace(tzinfo=None)


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def data(factory, make_user, login, monkeypatch):
    monkeypatch.setattr(domain, "datetime", FrozenClock)
    office = make_user("office", "office", [])
    make_user("east", "inspector", ["东城区"])
    east = factory.inspection(factory.site("东城加油站", "东城区"), office)
    west = factory.inspection(factory.site("昆仑开发区油库", "昆仑经济技术开发区", "油库"), office)
    factory.finding(east, status="open", deadline=date(2025, 6, 12))  # overdue
    factory.finding(east, status="closed", item="T-02")
    factory.finding(east, status="voided")
    factory.finding(
        west, status="rectifying", item="T-03", severity="key", deadline=date(2025, 6, 30)
    )
    return {"office": login("office"), "east": login("east")}


def fetch_xlsx(client, url, headers):
    """GET a spreadsheet; returns (response headers, workbook). Closes the streamed file."""
    response = client.get(url, headers=headers)
    try:
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        assert response.mimetype == XLSX
        body = response.get_data()
    finally:
        response.close()
    return response.headers, load_workbook(io.BytesIO(body))


def test_stats_sheet(client, data):
    headers, wb = fetch_xlsx(
        client, f"/api/v1/campaigns/{CAMPAIGN}/stats.xlsx?group_by=district", data["office"]
    )
    assert "attachment" in headers["Content-Disposition"]
    assert "filename*=UTF-8''" in headers["Content-Disposition"]
    assert wb.sheetnames == ["整改情况统计", "主要指标"]
    ws = wb["整改情况统计"]
    assert CAMPAIGN_NAME in ws["A1"].value and "按区域" in ws["A1"].value
    assert DOCUMENT_NO in ws["A2"].value and "2025-06-20" in ws["A2"].value
    assert [c.value for c in ws[3]] == STATS_HEADERS
    assert ws.freeze_panes == "A4"
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 9 + 1  # every district, then the total
    by_district = {r[0]: r[1:] for r in rows}
    assert by_district["东城区"] == (1, 2, 1, 1, 1, 0.5)
    assert by_district["昆仑经济技术开发区"] == (1, 1, 0, 1, 0, 0)
    assert by_district["大格勒乡"] == (0, 0, 0, 0, 0, None)
    assert by_district["合计"] == (2, 3, 1, 2, 1, pytest.approx(0.3333))
    east_rate = next(r for r in ws.iter_rows(min_row=4) if r[0].value == "东城区")[6]
    assert east_rate.number_format == "0.0%"
    # The district column fits its longest name (two units per Chinese character).
    assert ws.column_dimensions["A"].width >= display_width("昆仑经济技术开发区")
    assert ws.column_dimensions["F"].width >= display_width("逾期未整改")

    figures = {r[0]: r[1] for r in wb["主要指标"].iter_rows(min_row=4, values_only=True)}
    assert figures["发现问题数"] == 3 and figures["已整改"] == 1
    assert figures["整改率"] == pytest.approx(0.3333)


def test_stats_sheet_by_department_has_no_per_row_site_count(client, data):
    _headers, wb = fetch_xlsx(
        client, f"/api/v1/campaigns/{CAMPAIGN}/stats.xlsx?group_by=department", data["east"]
    )
    ws = wb.active
    assert ws[3][0].value == "责任单位"
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in rows] == ["商务局", "应急管理局", "合计"]
    assert rows[0][1] is None and rows[-1][1] == 1


def test_problem_list_sheet(client, data):
    headers, wb = fetch_xlsx(client, f"/api/v1/campaigns/{CAMPAIGN}/findings.xlsx", data["office"])
    assert "attachment" in headers["Content-Disposition"]
    ws = wb.active
    assert ws.title == "问题清单"
    assert ws["A1"].value == f"{CAMPAIGN_NAME}问题清单（全市）"  # the office: the city
    assert DOCUMENT_NO in ws["A2"].value and "除已作废外" in ws["A2"].value
    assert [c.value for c in ws[3]] == PROBLEM_HEADERS
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref == "A3:Q6"
    rows = list(ws.iter_rows(min_row=4))
    assert len(rows) == 3  # the voided one is left out
    assert [r[0].value for r in rows] == [1, 2, 3]
    by_status = {r[14].value: r for r in rows}
    assert set(by_status) == {"待整改", "已销号", "整改中"}
    late = by_status["待整改"]
    assert late[15].value == "逾期"
    found, deadline = late[11], late[12]
    assert found.is_date and found.value.date() == date(2025, 5, 12)  # 09:30 in Golmud
    assert deadline.is_date and deadline.value.date() == date(2025, 6, 12)
    assert deadline.number_format == "yyyy-mm-dd"
    assert by_status["已销号"][16].is_date
    assert by_status["整改中"][7].value == "重点"
    for letter, header in zip("ABCDEFGHIJKLMNOPQ", PROBLEM_HEADERS, strict=True):
        assert ws.column_dimensions[letter].width >= display_width(header), header
    assert ws.column_dimensions["C"].width >= display_width("昆仑经济技术开发区")


def test_problem_list_takes_the_filters_and_the_scope(client, data):
    url = f"/api/v1/campaigns/{CAMPAIGN}/findings.xlsx"
    _h, wb = fetch_xlsx(client, url + "?district=昆仑经济技术开发区", data["office"])
    assert [r[2] for r in wb.active.iter_rows(min_row=4, values_only=True)] == [
        "昆仑经济技术开发区"
    ]
    assert "区域：昆仑经济技术开发区" in wb.active["A2"].value
    _h, wb = fetch_xlsx(client, url + "?overdue=true", data["office"])
    assert len(list(wb.active.iter_rows(min_row=4))) == 1
    _h, wb = fetch_xlsx(client, url + "?status=voided", data["office"])
    assert [r[14] for r in wb.active.iter_rows(min_row=4, values_only=True)] == ["已作废"]
    _h, wb = fetch_xlsx(client, url, data["east"])  # an inspector of 东城区
    assert {r[2] for r in wb.active.iter_rows(min_row=4, values_only=True)} == {"东城区"}


def test_text_that_looks_like_a_formula_stays_text(app, client, factory, make_user, login):
    office = make_user("office", "office", [])
    inspection = factory.inspection(factory.site('=HYPERLINK("x")', "东城区"), office)
    finding = factory.finding(inspection)
    with app.app_context():
        from inspect_app.extensions import db
        from inspect_app.findings.models import Finding

        db.session.get(Finding, finding).description = "=1+1\x07"
        db.session.commit()
    _h, wb = fetch_xlsx(client, f"/api/v1/campaigns/{CAMPAIGN}/findings.xlsx", login("office"))
    row = next(wb.active.iter_rows(min_row=4))
    assert (row[3].value, row[3].data_type) == ('=HYPERLINK("x")', "s")
    assert (row[6].value, row[6].data_type) == ("=1+1", "s")


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("/api/v1/campaigns/no-such/stats.xlsx", 404, "not_found"),
        ("/api/v1/campaigns/no-such/findings.xlsx", 404, "not_found"),
        (f"/api/v1/campaigns/{CAMPAIGN}/stats.xlsx?group_by=nope", 422, "validation_error"),
        (f"/api/v1/campaigns/{CAMPAIGN}/findings.xlsx?status=nope", 422, "validation_error"),
    ],
)
def test_bad_spreadsheet_requests(client, data, path, status, code):
    assert_error(client.get(path, headers=data["office"]), status, code)


def test_spreadsheets_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/campaigns/{code}/stats.xlsx", "/api/v1/campaigns/{code}/findings.xlsx"):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert content == {XLSX: {"schema": {"type": "string", "format": "binary"}}}


def _rows(count: int):
    for i in range(count):
        yield {
            "id": i,
            "district": "东城区",
            "site_name": f"站点{i}",
            "site_type": "加油站",
            "item_code": "T-01",
            "description": "未取得《成品油零售经营批准证书》擅自销售柴油",
            "severity": "general",
            "major_hazard": False,
            "requirement": "限期整改",
            "responsible_department": "商务局",
            "found_at": datetime(2025, 5, 12, 1, 30, tzinfo=UTC),
            "deadline": date(2025, 6, 12),
            "fixed_on_spot": False,
            "status": "open",
            "overdue": False,
            "closed_at": None,
        }


def _peak_bytes(count: int) -> int:
    meta = {"campaign_name": "测试", "document_no": "文号", "scope": "全市", "filters": "筛选"}
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        try:
            written = write_problem_list_workbook(
                out, meta, _rows(count), exported_at=datetime.now(UTC)
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert written == count
    return peak


def test_problem_list_streams_in_constant_memory():
    """Ten times the rows, about the same peak: rows go to disk, not into a list."""
    small, large = _peak_bytes(200), _peak_bytes(2000)
    assert large < small + 512 * 1024, (small, large)
