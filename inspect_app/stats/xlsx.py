"""Spreadsheets (.xlsx) of a campaign: the statistics table and the 问题清单.

Plain data in, bytes out: nothing here knows Flask or SQLAlchemy. Workbooks are
made in openpyxl's write-only mode, so rows go to disk as they are appended and a
100,000-row 问题清单 never sits in memory; the caller hands in an open binary file
(a temporary file the route then streams).

What a reader in the office expects: a title row with the campaign's name and
document number, Chinese headers in a frozen row, columns wide enough for their
Chinese text, dates as real dates, the rectification rate as a percentage.
"""

import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from inspect_app.domain import (
    ENFORCEMENT_KINDS,
    FINDING_STATUS_LABELS,
    SEVERITY_LABELS,
    SHANGHAI,
)

DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.0%"
HEADER_ROW = 3  # title, subtitle, then the headers; the panes freeze below them
FREEZE_AT = f"A{HEADER_ROW + 1}"

TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="999999")
HEADER_BORDER = Border(bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

# Stats table columns: (header, field in a stats row).
STATS_COLUMNS = (
    ("检查点位数", "sites_inspected"),
    ("发现问题数", "findings"),
    ("已整改", "rectified"),
    ("未整改", "open"),
    ("逾期未整改", "overdue"),
    ("整改率", "rectification_rate"),
)

# 问题清单 columns: (header, width in Excel character units, kind of cell).
PROBLEM_COLUMNS = (
    ("序号", 7, "int"),
    ("问题编号", 10, "int"),
    ("区域", 20, "text"),
    ("检查对象", 30, "text"),
    ("对象类型", 16, "text"),
    ("检查项", 10, "text"),
    ("问题描述", 50, "wrap"),
    ("问题等级", 10, "text"),
    ("重大隐患", 10, "text"),
    ("整改要求", 36, "wrap"),
    ("责任单位", 24, "text"),
    ("发现日期", 12, "date"),
    ("整改时限", 12, "date"),
    ("立行立改", 10, "text"),
    ("整改状态", 10, "text"),
    ("是否逾期", 10, "text"),
    ("销号日期", 12, "date"),
)


def display_width(text: str) -> int:
    """Width in Excel's character units: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(texts: Iterable[str], minimum: int = 8, maximum: int = 60) -> float:
    return min(max([minimum, *(display_width(t) + 2 for t in texts)]), maximum)


def _text(ws, value: str | None, **style):
    """A string cell that stays a string: control characters dropped, never a formula."""
    if value is None:
        return None
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not style and not value.startswith("="):
        return value
    cell = _styled(ws, value, **style)
    # A description typed as "=…" must not become a formula in the office's Excel.
    cell.data_type = "s"
    return cell


def _styled(ws, value, *, font=None, fill=None, border=None, alignment=None, number_format=None):
    cell = WriteOnlyCell(ws, value=value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if border is not None:
        cell.border = border
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _title_rows(ws, title: str, subtitle: str) -> None:
    ws.append([_styled(ws, title, font=TITLE_FONT)])
    ws.append([_text(ws, subtitle)])


def _header_row(ws, headers: Iterable[str]) -> None:
    style = {"font": HEADER_FONT, "fill": HEADER_FILL, "border": HEADER_BORDER, "alignment": CENTER}
    ws.append([_text(ws, header, **style) for header in headers])


def _local_date(value: datetime | date | None) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).date()
    return value


# ---------------------------------------------------------------------------
# Statistics table


def write_stats_workbook(out: BinaryIO, stats: dict) -> None:
    """The campaign's statistics by one grouping, and its main figures on a second sheet."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("整改情况统计")
    headers = [stats["group_label"], *(h for h, _ in STATS_COLUMNS)]
    rows = [*stats["rows"], stats["total"]]
    ws.column_dimensions["A"].width = _fit([headers[0], *(r["label"] for r in rows)], 12)
    for index, (header, _field) in enumerate(STATS_COLUMNS, start=2):
        ws.column_dimensions[get_column_letter(index)].width = _fit([header], 10)
    ws.freeze_panes = FREEZE_AT
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    _title_rows(
        ws,
        f"{stats['campaign_name']}整改情况统计表（{stats['scope']}，按{stats['group_label']}）",
        f"文号：{stats['document_no']}　统计截至：{stats['as_of'].isoformat()}（北京时间）"
        f"　范围：{stats['scope']}",
    )
    _header_row(ws, headers)
    for row in rows:
        is_total = row is stats["total"]
        font = HEADER_FONT if is_total else None
        cells = [_text(ws, row["label"], font=font)]
        for _header, field in STATS_COLUMNS:
            value = row[field]
            if field == "rectification_rate":
                cells.append(_styled(ws, value, font=font, number_format=PERCENT_FORMAT))
            else:
                cells.append(_styled(ws, value, font=font))
        ws.append(cells)

    _figures_sheet(wb, stats)
    wb.save(out)


def _figures_sheet(wb: Workbook, stats: dict) -> None:
    figures = stats["figures"]
    ws = wb.create_sheet("主要指标")
    lines = [
        ("检查点位数", figures["sites_inspected"], None),
        ("发现问题数", figures["findings"], None),
        ("其中：重点问题", figures["key_findings"], None),
        ("其中：重大事故隐患", figures["major_hazards"], None),
        ("已整改", figures["rectified"], None),
        ("整改率", figures["rectification_rate"], PERCENT_FORMAT),
        ("未整改", figures["open"], None),
        ("逾期未整改", figures["overdue"], None),
        ("取缔（点位）", figures["sites_closed_down"], None),
        ("立案（行政处罚、移交）", figures["cases_filed"], None),
        ("罚款（元）", figures["fines_yuan"], "#,##0"),
        *(
            (f"执法措施：{label}", figures["enforcements"].get(kind, 0), None)
            for kind, label in ENFORCEMENT_KINDS.items()
        ),
    ]
    ws.column_dimensions["A"].width = _fit([label for label, _, _ in lines], 12)
    ws.column_dimensions["B"].width = 14
    ws.freeze_panes = FREEZE_AT
    _title_rows(
        ws,
        f"{stats['campaign_name']}主要指标（{stats['scope']}）",
        f"文号：{stats['document_no']}　统计截至：{stats['as_of'].isoformat()}（北京时间）"
        f"　范围：{stats['scope']}",
    )
    _header_row(ws, ["指标", "数值"])
    for label, value, number_format in lines:
        ws.append([label, _styled(ws, value, number_format=number_format)])


# ---------------------------------------------------------------------------
# 问题清单


def write_problem_list_workbook(
    out: BinaryIO, meta: dict, findings: Iterable[dict], *, exported_at: datetime
) -> int:
    """One row per finding, in the order given; returns how many were written.

    ``meta``: campaign_name, document_no, scope (the area covered: 全市, a district or
    the caller's districts) and filters (a short Chinese description).
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("问题清单")
    for index, (header, width, _kind) in enumerate(PROBLEM_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = max(width, display_width(header) + 2)
    ws.freeze_panes = FREEZE_AT
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    last = get_column_letter(len(PROBLEM_COLUMNS))
    _title_rows(
        ws,
        f"{meta['campaign_name']}问题清单（{meta['scope']}）",
        f"文号：{meta['document_no']}　导出时间："
        f"{exported_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）　{meta['filters']}",
    )
    _header_row(ws, (h for h, _, _ in PROBLEM_COLUMNS))

    count = 0
    for count, finding in enumerate(findings, start=1):
        ws.append(
            [
                count,
                finding["id"],
                finding["district"],
                _text(ws, finding["site_name"]),
                finding["site_type"],
                finding["item_code"],
                _text(ws, finding["description"], alignment=WRAP),
                SEVERITY_LABELS.get(finding["severity"], finding["severity"]),
                "是" if finding["major_hazard"] else "否",
                _text(ws, finding["requirement"], alignment=WRAP),
                _text(ws, finding["responsible_department"]),
                _local_date(finding["found_at"]),
                finding["deadline"],
                "是" if finding["fixed_on_spot"] else "否",
                FINDING_STATUS_LABELS.get(finding["status"], finding["status"]),
                "逾期" if finding["overdue"] else "",
                _local_date(finding["closed_at"]),
            ]
        )
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + count}"
    wb.save(out)
    return count


def describe_filters(filters: dict) -> str:
    """The filters of a 问题清单 in words, for its subtitle."""
    parts = []
    if filters.get("district"):
        parts.append(f"区域：{filters['district']}")
    if filters.get("site_id") is not None:
        parts.append(f"站点编号：{filters['site_id']}")
    if filters.get("status"):
        parts.append("状态：" + "、".join(FINDING_STATUS_LABELS[s] for s in filters["status"]))
    else:
        parts.append("状态：除已作废外全部")
    if filters.get("overdue") is True:
        parts.append("仅逾期")
    elif filters.get("overdue") is False:
        parts.append("未逾期")
    if filters.get("severity"):
        parts.append(f"等级：{SEVERITY_LABELS[filters['severity']]}")
    if filters.get("department"):
        parts.append(f"责任单位：{filters['department']}")
    return "筛选：" + "；".join(parts)
