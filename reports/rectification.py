"""整改情况报告: where rectification of a campaign stands, for the campaign office.

Portrait A4: totals in a sentence and a table, rectification rate by district and by
department as horizontal bar charts (reportlab.graphics, vector, Chinese labels in the
embedded font) each with its table, the overdue findings with days overdue, and the
enforcement figures.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import IO

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    LongTable,
    Spacer,
    Table,
    TableStyle,
)

from .data import (
    SEVERITY_LABELS,
    STATUS_LABELS,
    EnforcementFigures,
    OverdueFinding,
    RateRow,
    RectificationReport,
)
from .fonts import FontSet, get_fonts
from .layout import (
    ALERT,
    GREY,
    HEAD_FILL,
    RULE,
    CellParagraph,
    OutTarget,
    PageFurniture,
    ReportDocTemplate,
    Styles,
    build_pdf,
    fmt_date,
    fmt_date_cn,
    fmt_datetime,
    fmt_rate,
    fmt_yuan,
    local_today,
    make_styles,
    markup,
)
from .linebreak import Paragraph
from .tables import PagedTable, RoomFor, base_table_commands, header_room, split_tall_row

DOC_KIND = "整改情况报告"
BAR_COLOR = colors.HexColor("#3F5F7F")
BAR_PITCH = 15  # points per bar
CHART_MAX_BARS = 30  # a longer list is drawn as several charts, each fitting a page

ENFORCEMENT_ROWS: tuple[tuple[str, str], ...] = (
    ("order_rectify", "责令限期整改"),
    ("suspend", "责令停产停业整顿"),
    ("ban", "取缔"),
    ("fine_cases", "行政处罚"),
    ("revoke_licence", "吊销证照"),
    ("refer_police", "移交公安机关"),
    ("refer_judicial", "移交司法机关"),
    ("blacklist", "纳入黑名单"),
)


def render_rectification_report(
    data: RectificationReport, out: OutTarget, *, fonts: FontSet | None = None
) -> int:
    """Write the 整改情况报告 of the area ``data.scope`` names as PDF to ``out``.

    Returns the number of pages.
    """
    styles = make_styles(fonts or get_fonts())
    scope = data.scope
    furniture = PageFurniture(
        header_left=data.campaign.name,
        header_right=f"{DOC_KIND}（{scope}）",
        footer_left=data.campaign.document_no,
        generated_at=data.generated_at,
    )

    def make(target: str | IO[bytes]) -> int:
        doc = ReportDocTemplate(
            target,
            styles=styles,
            furniture=furniture,
            landscape_pages=False,
            title=f"{data.campaign.name} {DOC_KIND}（{scope}）",
            author=data.campaign.issuer,
        )
        return doc.build_from(_story(data, styles, doc.width, doc.height))

    return build_pdf(out, make)


def _story(
    data: RectificationReport, styles: Styles, width: float, height: float
) -> Iterator[list[Flowable]]:
    scope = data.scope
    line = f"范围：{markup(scope)}　统计截至：{fmt_datetime(data.as_of)}"
    if data.campaign.issuer:
        line += f"　编制单位：{markup(data.campaign.issuer)}"
    yield [
        Paragraph(markup(data.campaign.name), styles.title),
        Paragraph(f"{DOC_KIND}（{markup(scope)}）", styles.doc_kind),
        Paragraph(markup(data.campaign.document_no), styles.doc_no),
        Paragraph(line, styles.scope),
        Paragraph("一、总体情况", styles.h1),
        Paragraph(_overview_sentence(data, scope), styles.body),
        Spacer(0, 3 * mm),
        _totals_table(data, styles, width),
    ]
    for number, title, rows in (
        ("二", "各区域整改情况", data.by_district),
        ("三", "各部门整改情况", data.by_department),
    ):
        heading = Paragraph(f"{number}、{title}", styles.h1)
        if not rows:
            yield [heading, Paragraph("无数据。", styles.body)]
            continue
        charts = [
            _rate_chart(rows[i : i + CHART_MAX_BARS], styles, width)
            for i in range(0, len(rows), CHART_MAX_BARS)
        ]
        yield [KeepTogether([heading, Paragraph("整改率（%）", styles.note), charts[0]])]
        yield charts[1:] + [Spacer(0, 2 * mm), _rate_table(rows, styles, width)]

    today = local_today(data.as_of)
    heading = Paragraph(f"四、逾期未整改问题（{len(data.overdue)}项）", styles.h1)
    if data.overdue:
        table = _overdue_table(data.overdue, styles, width, height, today)
        yield [RoomFor([heading], table), heading, table]
    else:
        yield [heading, Paragraph("截至统计时点，无逾期未整改问题。", styles.body)]

    yield [
        KeepTogether(
            [
                Paragraph("五、执法情况", styles.h1),
                _enforcement_table(data.enforcement, styles, width),
            ]
        )
    ]
    if data.remarks:
        remarks = [Paragraph(markup(text), styles.body) for text in data.remarks]
        # The heading goes with the first remark, never alone at the foot of a page.
        yield [KeepTogether([Paragraph("六、说明", styles.h1), remarks[0]]), *remarks[1:]]


def _overview_sentence(data: RectificationReport, scope: str) -> str:
    t, e = data.totals, data.enforcement
    # Official prose runs numbers into the text without spaces (and so lets the CJK line
    # breaker keep punctuation off the start of a line).
    text = (
        f"截至{fmt_date_cn(local_today(data.as_of))}，{markup(scope)}共检查场所"
        f"{t.sites_inspected}家，发现问题{t.findings}项，其中一般问题{t.general}项、"
        f"重点问题{t.key}项；已整改销号{t.rectified}项，整改率{fmt_rate(t.rate)}；"
        f"逾期未整改{t.overdue}项。"
    )
    text += f"依法采取执法措施{e.total_cases}起"
    if e.fine_cases:
        text += f"，其中行政处罚{e.fine_cases}起、罚款{fmt_yuan(e.fine_total_yuan)}元"
    return text + "。"


def _grid(
    styles: Styles, commands: list[tuple] | None = None, *, every_row: bool = True
) -> TableStyle:
    """Table style with a header row; ruled between all rows, or with ``every_row=False``
    only around the header and where ``commands`` draw lines."""
    if every_row:
        lines: list[tuple] = [("GRID", (0, 0), (-1, -1), 0.5, RULE)]
    else:
        lines = [
            ("BOX", (0, 0), (-1, -1), 0.5, RULE),
            ("LINEAFTER", (0, 0), (-2, -1), 0.5, RULE),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, RULE),
        ]
    base: list[tuple] = [
        *base_table_commands(styles),
        *lines,
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    return TableStyle(base + (commands or []))


def _totals_table(data: RectificationReport, styles: Styles, width: float) -> Table:
    t = data.totals
    figures = (
        ("检查场所<br/>（家）", t.sites_inspected),
        ("发现问题<br/>（项）", t.findings),
        ("一般问题<br/>（项）", t.general),
        ("重点问题<br/>（项）", t.key),
        ("已销号<br/>（项）", t.rectified),
        ("整改率", fmt_rate(t.rate)),
        ("逾期未整改<br/>（项）", t.overdue),
        ("执法措施<br/>（起）", data.enforcement.total_cases),
    )
    head = [CellParagraph(name, styles.cell_head) for name, _ in figures]
    values = [CellParagraph(str(value), styles.cell_center) for _, value in figures]
    table = Table([head, values], colWidths=[width / len(figures)] * len(figures))
    table.setStyle(_grid(styles))
    return table


def _rate_chart(rows: Sequence[RateRow], styles: Styles, width: float) -> Drawing:
    font = styles.fonts.body
    size = 8
    label_w = min(width * 0.38, max(stringWidth(r.name, font, size) for r in rows) + 8)
    plot_h = BAR_PITCH * len(rows)
    drawing = Drawing(width, plot_h + 22)
    # The renderer's starting font, set even if no text uses it; Helvetica by default,
    # which would end up named (not embedded) in the PDF.
    drawing.initialFontName = font
    chart = HorizontalBarChart()
    chart.x, chart.y = label_w, 16
    chart.width, chart.height = width - label_w - 42, plot_h
    # Rows without findings have no rate: a zero-length bar labelled 无问题, not 0.0%.
    chart.data = [[(r.rate or 0.0) * 100 for r in rows]]
    chart.barLabelFormat = "values"
    chart.barLabelArray = [[fmt_rate(r.rate) if r.rate is not None else "无问题" for r in rows]]
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = size
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    chart.bars[0].fillColor = BAR_COLOR
    chart.bars[0].strokeColor = None
    chart.barWidth = 9
    chart.groupSpacing = BAR_PITCH - 9
    chart.categoryAxis.categoryNames = [r.name for r in rows]
    chart.categoryAxis.reverseDirection = 1  # first row on top, as in the table below
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = size
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.categoryAxis.strokeColor = GREY
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = 100
    chart.valueAxis.valueStep = 20
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = size
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.valueAxis.strokeColor = GREY
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = colors.HexColor("#D0D0D0")
    chart.valueAxis.gridStrokeWidth = 0.4
    drawing.add(chart)
    return drawing


def _rate_table(rows: Sequence[RateRow], styles: Styles, width: float) -> Table:
    head = [
        "序号",
        "名称",
        "发现问题<br/>（项）",
        "已销号<br/>（项）",
        "整改率",
        "逾期未整改<br/>（项）",
    ]
    data: list[list[Paragraph]] = [[CellParagraph(h, styles.cell_head) for h in head]]
    center = styles.cell_center
    for number, r in enumerate(rows, 1):
        values = [r.findings, r.rectified, fmt_rate(r.rate), r.overdue]
        data.append(
            [CellParagraph(str(number), center), CellParagraph(markup(r.name), styles.cell)]
            + [CellParagraph(str(v), center) for v in values]
        )
    weights = (8, 40, 18, 16, 14, 20)
    total = sum(weights)
    table = LongTable(data, colWidths=[width * w / total for w in weights], repeatRows=1)
    table.setStyle(_grid(styles))
    return table


def _overdue_table(
    rows: Sequence[OverdueFinding], styles: Styles, width: float, height: float, today: date
) -> PagedTable:
    head = [
        "序号",
        "区域",
        "场所",
        "问题描述",
        "严重<br/>程度",
        "整改时限",
        "逾期<br/>天数",
        "责任单位",
        "状态",
    ]
    data: list[list[Paragraph]] = [[CellParagraph(h, styles.cell_head) for h in head]]
    cell, center = styles.cell, styles.cell_center
    alert = ALERT.hexval()[2:]
    # Longest overdue first: that is what the office chases.
    ordered = sorted(rows, key=lambda r: r.days_overdue(today), reverse=True)
    weights = (5.5, 12, 16, 31, 7, 12.5, 7, 13, 8)
    col_widths = [width * w / sum(weights) for w in weights]
    rules: list[tuple] = []
    room = header_room(data[0], col_widths, height)
    for number, r in enumerate(ordered, 1):
        cells = [
            CellParagraph(str(number), center),
            CellParagraph(markup(r.district), cell),
            CellParagraph(markup(r.site_name), cell),
            CellParagraph(markup(r.description), cell),
            CellParagraph(SEVERITY_LABELS[r.severity], center),
            CellParagraph(fmt_date(r.deadline), center),
            CellParagraph(f'<font color="#{alert}">{r.days_overdue(today)}</font>', center),
            CellParagraph(markup(r.responsible_unit), cell),
            CellParagraph(STATUS_LABELS[r.status], center),
        ]
        first = len(data)
        data.extend(split_tall_row(cells, col_widths, height, room=room))
        if len(data) - 1 > first:  # continued rows read as one cell: no gap between them
            rules.append(("BOTTOMPADDING", (0, first), (-1, len(data) - 2), 0))
            rules.append(("TOPPADDING", (0, first + 1), (-1, len(data) - 1), 0))
        rules.append(("LINEBELOW", (0, len(data) - 1), (-1, len(data) - 1), 0.5, RULE))
    # Ruled per finding, so a description continued in a second row reads as one cell.
    # Thousands of overdue findings are usual in a large campaign: laid out page by page.
    grid = _grid(styles, [("VALIGN", (0, 1), (-1, -1), "TOP"), *rules], every_row=False)
    return PagedTable(data, col_widths, grid.getCommands())


def _enforcement_table(e: EnforcementFigures, styles: Styles, width: float) -> Table:
    head = ["执法措施", "数量（起）", "备注"]
    data: list[list[Paragraph]] = [[CellParagraph(h, styles.cell_head) for h in head]]
    for field_name, label in ENFORCEMENT_ROWS:
        note = f"罚款{fmt_yuan(e.fine_total_yuan)}元" if field_name == "fine_cases" else ""
        data.append(
            [
                CellParagraph(label, styles.cell),
                CellParagraph(str(getattr(e, field_name)), styles.cell_center),
                CellParagraph(note, styles.cell),
            ]
        )
    data.append(
        [
            CellParagraph(f'<font name="{styles.fonts.heading}">合计</font>', styles.cell),
            CellParagraph(str(e.total_cases), styles.cell_center),
            CellParagraph("", styles.cell),
        ]
    )
    table = Table(data, colWidths=[width * 0.4, width * 0.2, width * 0.4])
    table.setStyle(_grid(styles, [("BACKGROUND", (0, -1), (-1, -1), HEAD_FILL)]))
    return table
