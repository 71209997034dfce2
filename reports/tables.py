"""Tables shared by the problem lists: the problem table, site details, signatures.

The problem table is a ``PagedTable``: laid out a page at a time as a ``LongTable`` of the
rows that page shows, with the header row repeated on every page, so that each page costs
what it shows however long the table. A table row never runs off the page: a finding too tall for
a row of a reasonable height (a description of thousands of characters) continues over
several rows, its text cut between lines (``split_tall_row``); any other row is kept
whole, moving to the next page when it does not fit. A finding's photos sit in the last
column of its row (``PhotoGrid``, two to a line), so a photo costs no more height than
the text beside it. The block that closes a table (the signature lines) is drawn with
its last row, and ``RoomFor`` keeps headings from standing alone at the foot of a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, LongTable, Table, TableStyle
from reportlab.platypus.paragraph import FragLine, ParaLines

from .data import SEVERITY_LABELS, STATUS_LABELS, FindingRow, InspectionVisit, SiteInfo
from .layout import (
    ALERT,
    BAND_FILL,
    GREY,
    HEAD_FILL,
    RULE,
    CellParagraph,
    Styles,
    fmt_date,
    local,
    markup,
)
from .linebreak import Paragraph
from .photos import PhotoCache, PhotoGrid, grid_width

# The problem table's columns: a width in mm for those holding a short value (a date
# and 逾期 112 天 on one line each), else a weight in the width the others leave
# (landscape A4 gives the table 267 mm, the photo column takes 70 of it).
PROBLEM_COLUMNS: tuple[tuple[str, float, bool], ...] = (
    ("序号", 9 * mm, True),
    ("检查项", 14.0, False),
    ("问题描述", 20.0, False),
    ("依据", 17.0, False),
    ("严重程度", 15 * mm, True),
    ("整改要求", 14.0, False),
    ("整改时限", 19 * mm, True),
    ("责任单位", 9.0, False),
    ("状态", 12.5 * mm, True),
)
PHOTO_COLUMN = "现场照片（拍摄时间）"  # last column, where any finding has photos
PAD = 3
CENTERED_COLUMNS = (0, 4, 6, 8)  # 序号, 严重程度, 整改时限, 状态
# A row taller than the page (under its header row) continues over rows of PIECE_SHARE
# of the frame: short pieces waste little of a page when one does not fit.
PIECE_SHARE = 0.2
PHOTO_LABEL = "图"  # captions read 图3-1: first photo of the finding numbered 3


class PagedTable(Flowable):
    """A long table laid out a page at a time: a LongTable of just the rows that page
    needs (the header row, then the rows from where the last page stopped).

    reportlab splits a table at a page end by making a new table of all the rows left,
    which copies and re-sorts every style command of the rest: with thousands of rows
    (a site with 10,000 findings, a description cut into hundreds of rows) each page
    costs as much as the whole table, and the document is quadratic in its length.
    Here a page costs what it shows.

    ``commands`` use coordinates of the whole table (row 0 the header). A command whose
    rows are both body rows (>= ``header_rows``) belongs to those rows and is cut to the
    rows of each page; any other (negative rows, the header row) applies to every page.
    """

    FIRST_WINDOW = 32  # body rows tried first; doubled until the page is full

    def __init__(
        self,
        rows: Sequence[Sequence[Flowable | str]],
        col_widths: Sequence[float],
        commands: Sequence[tuple],
        *,
        header_rows: int = 1,
        h_align: str = "LEFT",
        tail: Flowable | None = None,
        tail_gap: float = 0.0,
        _index: tuple | None = None,
        _start: int | None = None,
    ) -> None:
        """``tail`` is drawn ``tail_gap`` below the last row, on the same page: if they
        do not fit together, rows move on to the next page with it."""
        super().__init__()
        self.rows = rows
        self.tail = tail
        self.tail_gap = tail_gap
        self.col_widths = list(col_widths)
        self.header_rows = header_rows
        self.hAlign = h_align
        self.start = header_rows if _start is None else _start
        if _index is None:
            _index = self._index_commands(commands, header_rows)
        self._index = _index
        self._fitted: Table | None = None
        self._windows: dict[tuple[float, float], tuple[Table, float, bool]] = {}

    @staticmethod
    def _index_commands(commands: Sequence[tuple], header_rows: int) -> tuple:
        every_page: list[tuple] = []
        by_first_row: dict[int, list[tuple]] = {}
        reach = 0  # rows the longest row command covers, to know how far back to look
        for command in commands:
            (_c0, r0), (_c1, r1) = command[1], command[2]
            if r0 >= header_rows and r1 >= header_rows:
                by_first_row.setdefault(r0, []).append(command)
                reach = max(reach, r1 - r0)
            else:
                every_page.append(command)
        return every_page, by_first_row, reach

    def _table(self, stop: int) -> Table:
        every_page, by_first_row, reach = self._index
        start, head = self.start, self.header_rows
        shift = head - start
        commands = list(every_page)
        for first in range(max(head, start - reach), stop):
            for name, (c0, r0), (c1, r1), *values in by_first_row.get(first, ()):
                if r1 < start:
                    continue
                top, bottom = max(r0, start) + shift, min(r1, stop - 1) + shift
                commands.append((name, (c0, top), (c1, bottom), *values))
        rows = [*self.rows[:head], *self.rows[start:stop]]
        table = LongTable(rows, colWidths=self.col_widths, repeatRows=head, hAlign=self.hAlign)
        table.setStyle(TableStyle(commands))
        return table

    def _window(self, avail_width: float, avail_height: float) -> tuple[Table, float, bool]:
        """The table of the next rows: all the rest if they fit, else enough to fill.

        Remembered for the last few spaces asked about: the frame asks ``wrap`` and then
        ``split`` with the same space, and each window is a table of up to a page of rows
        to build and measure (a fifth of a long list's time went to building it twice)."""
        key = (avail_width, avail_height)
        result = self._windows.get(key)
        if result is None:
            if len(self._windows) >= 4:  # a few spaces per page: with and without the tail
                self._windows.clear()
            result = self._windows[key] = self._make_window(avail_width, avail_height)
        return result

    def _make_window(self, avail_width: float, avail_height: float) -> tuple[Table, float, bool]:
        size = self.FIRST_WINDOW
        while True:
            stop = min(len(self.rows), self.start + size)
            table = self._table(stop)
            width, height = table.wrap(avail_width, avail_height)
            if stop == len(self.rows) or height > avail_height:
                return table, width, stop == len(self.rows) and height <= avail_height
            size *= 2

    def _tail_height(self, avail_width: float, avail_height: float) -> float:
        if self.tail is None:
            return 0.0
        return self.tail_gap + self.tail.wrap(avail_width, avail_height)[1]

    def first_row_height(self, avail_width: float) -> float:
        """Height of the header and the first body row still to lay out: the least of
        this table a page must hold under a heading."""
        stop = min(len(self.rows), self.start + 1)
        return self._table(stop).wrap(avail_width, 1e9)[1]

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        tail = self._tail_height(avail_width, avail_height)
        table, width, fits = self._window(avail_width, avail_height - tail)
        self._fitted = table if fits else None
        self.width = width
        self.height = table._height + tail if fits else avail_height + 1
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        tail = self._tail_height(avail_width, avail_height)
        table, _width, fits = self._window(avail_width, avail_height - tail)
        if fits:
            return [self]
        if tail and self._window(avail_width, avail_height)[2]:
            # The rows fit, the closing block does not: the last rows go on with it.
            parts = table.split(avail_width, avail_height - tail)
            if len(parts) != 2 or len(parts[0]._cellvalues) <= self.header_rows:
                if not self._at_top():
                    return []
                # Not even with one row on an empty page: the block follows by itself.
                return [self._window(avail_width, avail_height)[0], self.tail]
        else:
            table = self._window(avail_width, avail_height)[0]
            parts = table.split(avail_width, avail_height)
        if len(parts) != 2:
            return []
        taken = len(parts[0]._cellvalues) - self.header_rows
        if taken <= 0:
            return []
        rest = PagedTable(
            self.rows,
            self.col_widths,
            (),
            header_rows=self.header_rows,
            h_align=self.hAlign,
            tail=self.tail,
            tail_gap=self.tail_gap,
            _index=self._index,
            _start=self.start + taken,
        )
        return [parts[0], rest]

    def _at_top(self) -> bool:
        frame = self._doctemplateAttr("frame")
        return bool(frame is None or getattr(frame, "_atTop", False))

    def draw(self) -> None:
        tail = self._tail_height(self.width, 1e9)
        if self._fitted is None:  # wrap() said it fits, so it was made there
            self._fitted = self._window(self.width, 1e9)[0]
        self._fitted.drawOn(self.canv, 0, tail)
        if self.tail is not None:
            self.tail.drawOn(self.canv, 0, 0)


class RoomFor(CondPageBreak):
    """A page break unless the flowables after it (headings, a site's particulars) fit
    on this page together with the header and first row of the table they introduce.

    reportlab's keep-with-next cannot serve before a long table: it would move the
    whole table on whenever the table does not fit the rest of the page.
    """

    def __init__(self, flowables: Sequence[Flowable], table: PagedTable) -> None:
        super().__init__(0)
        self.flowables = list(flowables)
        self.table = table

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        needed = self.table.first_row_height(avail_width)
        for flowable in self.flowables:
            needed += flowable.wrap(avail_width, avail_height)[1]
            needed += flowable.getSpaceBefore() + flowable.getSpaceAfter()
        frame = self._doctemplateAttr("frame")
        # On an empty page there is no better page to go to.
        self.height = 0 if getattr(frame, "_atTop", False) else needed
        return super().wrap(avail_width, avail_height)


def base_table_commands(styles: Styles) -> list[tuple]:
    """Commands every table gets. The FONT matters even though every cell holds a
    Paragraph: reportlab sets the cell font for empty and spanned cells too, and its
    default, Helvetica, would then be named in the PDF without being embedded."""
    cell = styles.cell
    return [("FONT", (0, 0), (-1, -1), styles.fonts.body, cell.fontSize, cell.leading)]


def problem_column_widths(width: float, *, with_photos: bool) -> list[float]:
    """Widths of the problem table's columns, PROBLEM_COLUMNS and then, ``with_photos``,
    the photo column (two photos and the cell padding)."""
    photos = grid_width() + 2 * PAD if with_photos else 0.0
    fixed = sum(size for _, size, is_fixed in PROBLEM_COLUMNS if is_fixed)
    total = sum(size for _, size, is_fixed in PROBLEM_COLUMNS if not is_fixed)
    share = (width - photos - fixed) / total
    widths = [size if is_fixed else size * share for _, size, is_fixed in PROBLEM_COLUMNS]
    return widths + [photos] if with_photos else widths


def problem_table(
    findings: Sequence[FindingRow],
    styles: Styles,
    cache: PhotoCache,
    *,
    width: float,
    max_height: float,
    today: date,
    tail: Flowable | None = None,
    tail_gap: float = 0.0,
) -> PagedTable:
    """The 问题清单 table: one row per finding, numbered from 1, its photos in the last
    column (a column there only when some finding has photos). ``tail`` (the signature
    lines) is kept on the page of the last row.

    ``max_height`` is the height of the page's frame: a finding too tall for a page under
    the header row continues in further rows (see ``split_tall_row``).
    """
    with_photos = any(finding.photos for finding in findings)
    col_widths = problem_column_widths(width, with_photos=with_photos)
    names = [name for name, *_ in PROBLEM_COLUMNS] + ([PHOTO_COLUMN] if with_photos else [])
    header = [CellParagraph(name, styles.cell_head) for name in names]
    rows: list[list[Flowable | str]] = [header]
    room = header_room(header, col_widths, max_height)
    # Ruled per finding, not per table row: the rows a long finding continues in read
    # as one cell each, without a line across the text.
    commands: list[tuple] = [
        *base_table_commands(styles),
        ("BOX", (0, 0), (-1, -1), 0.5, RULE),
        ("LINEAFTER", (0, 0), (-2, -1), 0.5, RULE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        *(("ALIGN", (c, 1), (c, -1), "CENTER") for c in CENTERED_COLUMNS),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
        ("TOPPADDING", (0, 0), (-1, -1), PAD),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PAD),
    ]
    for seq, finding in enumerate(findings, start=1):
        first = len(rows)
        cells, cell_commands = _finding_cells(seq, finding, styles, today)
        if with_photos:
            labels = [f"{PHOTO_LABEL}{seq}-{n}" for n in range(1, len(finding.photos) + 1)]
            grid = PhotoGrid(finding.photos, cache, styles.fonts.body, labels)
            cells.append(grid if finding.photos else "")
        rows.extend(split_tall_row(cells, col_widths, max_height, room=room))
        last = len(rows) - 1
        for name, column, *values in cell_commands:
            commands.append((name, (column, first), (column, first), *values))
        if last > first:
            commands.append(("BOTTOMPADDING", (0, first), (-1, last - 1), 0))
            commands.append(("TOPPADDING", (0, first + 1), (-1, last), 0))
        if finding.status == "voided":
            commands.append(("BACKGROUND", (0, first), (-1, last), BAND_FILL))
        commands.append(("LINEBELOW", (0, last), (-1, last), 0.5, RULE))
    if not findings:
        rows.append([CellParagraph("无", styles.cell_center)] + [""] * (len(names) - 1))
        commands.append(("SPAN", (0, 1), (-1, 1)))
    return PagedTable(rows, col_widths, commands, tail=tail, tail_gap=tail_gap)


def _row_height(
    cells: Sequence[Flowable | str], col_widths: Sequence[float], frame_height: float
) -> float:
    tallest = 0.0
    for cell, col_width in zip(cells, col_widths, strict=True):
        if isinstance(cell, Flowable):
            # The width the table will offer, so that the wrap is remembered and reused.
            tallest = max(tallest, cell.wrap(col_width - PAD - PAD, frame_height)[1])
    return tallest + PAD + PAD


def split_tall_row(
    cells: Sequence[Flowable | str],
    col_widths: Sequence[float],
    frame_height: float,
    *,
    room: float,
) -> list[list[Flowable | str]]:
    """One table row; or, when it would be taller than ``room`` (the frame under the
    header row), several rows of at most ``PIECE_SHARE`` of the frame each, the text
    cut between lines and the photos between their lines, continued in the same column.

    reportlab can split a row itself (``splitInRow``), but it first tries the row
    boundary, and then lays the rest out on the same page under a second copy of the
    header row.
    """
    if _row_height(cells, col_widths, frame_height) <= room:
        return [list(cells)]
    piece = frame_height * PIECE_SHARE
    columns: list[list[Flowable | str]] = []
    for cell, col_width in zip(cells, col_widths, strict=True):
        if isinstance(cell, Paragraph):
            columns.append(cut_paragraph(cell, col_width - PAD - PAD, piece))
        elif isinstance(cell, PhotoGrid):
            columns.append(list(cell.cut(piece)))
        else:
            columns.append([cell])
    count = max(len(parts) for parts in columns)
    return [[parts[i] if i < len(parts) else "" for parts in columns] for i in range(count)]


def header_room(
    header: Sequence[Flowable | str], col_widths: Sequence[float], frame_height: float
) -> float:
    """The tallest a body row may be to fit a page under ``header``."""
    return frame_height - _row_height(header, col_widths, frame_height) - 2


def cut_paragraph(para: Paragraph, avail_width: float, height: float) -> list[Paragraph]:
    """``para`` cut between lines into pieces at most ``height`` tall, in one pass.

    The lines are broken once, at ``avail_width``, and each piece takes its share of
    them, as reportlab's own ``Paragraph.split`` does for the part that fits. Calling
    ``split`` again on the rest, piece by piece, would break the whole remaining text
    anew for every piece: quadratic in the length of the text (a description of 2,000
    short lines took 20 s).
    """
    para.wrap(avail_width, height)
    style = para.style
    lines = para.blPara.lines
    per_piece = max(1, int(height / style.leading))
    if len(lines) <= per_piece or getattr(style, "autoLeading", "") not in ("", "off"):
        return [para]
    cut = para._get_split_blParaFunc()
    later_style = style
    if style.firstLineIndent:  # the lines after the first were broken without it
        later_style = ParagraphStyle(f"{style.name}-continued", parent=style, firstLineIndent=0)
    pieces: list[Paragraph] = []
    for start in range(0, len(lines), per_piece):
        stop = min(start + per_piece, len(lines))
        part_style = style if start == 0 else later_style
        part = type(para)(None, part_style, frags=cut(para.blPara, start, stop))
        # What reportlab's split gives the first part: the lines already broken, so that
        # wrap() reuses them instead of breaking the text again.
        part.blPara = ParaLines(kind=1, lines=lines[start:stop], aH=height, aW=avail_width)
        last = lines[stop - 1]
        part._JustifyLast = not (isinstance(last, FragLine) and getattr(last, "lineBreak", False))
        part._splitpara = 1
        part.width, part.height = avail_width, (stop - start) * style.leading
        pieces.append(part)
    return pieces


def _finding_cells(
    seq: int, finding: FindingRow, styles: Styles, today: date
) -> tuple[list[Flowable | str], list[tuple]]:
    """The cells of a finding's row, and style commands for its plain-text cells (with
    the column as their only coordinate).

    Short one-line values go in as plain strings, which the table draws without parsing
    markup or breaking lines: a long list has thousands of them.
    """
    cell, center = styles.cell, styles.cell_center
    grey = GREY.hexval()[2:]
    alert = ALERT.hexval()[2:]
    hei = styles.fonts.heading
    commands: list[tuple] = []
    item = f'<font color="#{grey}" size="7">{markup(finding.item_code)}</font><br/>'
    item += markup(finding.item_text)
    basis = f'<font name="{hei}">{markup(finding.clause)}</font> {markup(finding.basis, empty="")}'
    severity: Flowable | str = SEVERITY_LABELS[finding.severity]
    if finding.major_hazard:
        label = f'<font name="{hei}">{severity}</font>' if finding.severity == "key" else severity
        severity = CellParagraph(f'{label}<br/><font color="#{alert}">重大隐患</font>', center)
    elif finding.severity == "key":
        commands.append(("FONT", 4, hei, cell.fontSize, cell.leading))
    deadline: Flowable | str = "立行立改" if finding.fixed_on_spot else fmt_date(finding.deadline)
    late = 0 if finding.fixed_on_spot else finding.days_overdue(today)
    if late:
        deadline = CellParagraph(
            f'{deadline}<br/><font color="#{alert}">逾期 {late} 天</font>', center
        )
    if finding.status == "voided":
        commands.append(("TEXTCOLOR", 8, GREY))
    cells: list[Flowable | str] = [
        str(seq),
        CellParagraph(item, cell),
        CellParagraph(markup(finding.description), cell),
        CellParagraph(basis.strip(), cell),
        severity,
        CellParagraph(markup(finding.requirement), cell),
        deadline,
        CellParagraph(markup(finding.responsible_unit), cell),
        STATUS_LABELS[finding.status],
    ]
    return cells, commands


def visits_text(visits: Sequence[InspectionVisit]) -> str:
    """'2025-05-12 09:30—10:05；2025-05-20 14:00' for the visits, in Asia/Shanghai."""
    parts = []
    for visit in sorted(visits, key=lambda v: v.started_at):
        start = local(visit.started_at)
        text = start.strftime("%Y-%m-%d %H:%M")
        if visit.finished_at is not None:
            end = local(visit.finished_at)
            text += "—" + end.strftime("%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M")
        parts.append(text)
    return "；".join(parts) or "—"


def inspectors_text(visits: Sequence[InspectionVisit]) -> str:
    names = dict.fromkeys(name for visit in visits for name in visit.inspectors if name)
    return "、".join(names) or "—"


def contact_text(site: SiteInfo) -> str:
    return " ".join(part for part in (site.contact_name, site.contact_phone) if part) or "—"


def site_details_table(
    site: SiteInfo, visits: Sequence[InspectionVisit], styles: Styles, *, width: float
) -> Table:
    """Label/value grid with the site's particulars and the inspection(s)."""
    label, value = styles.cell_label, styles.cell

    def pair(name: str, text: str) -> list[Paragraph]:
        return [CellParagraph(name, label), CellParagraph(text, value)]

    rows = [
        pair("被检查单位", markup(site.name))
        + pair("统一社会信用代码", markup(site.credit_code, empty="无")),
        pair("地址", markup(site.address)) + pair("所属区域", markup(site.district)),
        pair("场所类型", markup(site.site_type)) + pair("联系人及电话", markup(contact_text(site))),
        pair("检查时间", visits_text(visits)) + pair("检查人员", markup(inspectors_text(visits))),
    ]
    label_w = 30 * mm
    value_w = (width - 2 * label_w) / 2
    table = Table(rows, colWidths=[label_w, value_w, label_w, value_w], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                *base_table_commands(styles),
                ("GRID", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (0, -1), HEAD_FILL),
                ("BACKGROUND", (2, 0), (2, -1), HEAD_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 3.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            ]
        )
    )
    return table


def signature_table(
    styles: Styles, *, width: float, inspecting_unit: str | None, site_name: str
) -> Table:
    """Signature lines for 检查人员 and 被检查单位负责人, with dates to fill in by hand."""
    sig = styles.signature

    def p(text: str) -> Paragraph:
        return Paragraph(text, sig)

    wide, narrow = "&nbsp;" * 8, "&nbsp;" * 4  # room to write the date by hand
    date_line = f"日期：{wide}年{narrow}月{narrow}日"
    unit = markup(inspecting_unit, empty="")
    rows = [
        [p(f"检查单位：{unit}"), "", "", p(f"被检查单位：{markup(site_name)}"), ""],
        [p("检查人员（签字）："), "", "", p("被检查单位负责人（签字）："), ""],
        [p(date_line), "", "", p(date_line), ""],
    ]
    label_w, gap_w = 60 * mm, 12 * mm
    line_w = (width - 2 * label_w - gap_w) / 2
    table = Table(rows, colWidths=[label_w, line_w, gap_w, label_w, line_w], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                *base_table_commands(styles),
                ("SPAN", (0, 0), (1, 0)),
                ("SPAN", (3, 0), (4, 0)),
                ("SPAN", (0, 2), (1, 2)),
                ("SPAN", (3, 2), (4, 2)),
                ("LINEBELOW", (1, 1), (1, 1), 0.6, RULE),  # the lines to sign on
                ("LINEBELOW", (4, 1), (4, 1), 0.6, RULE),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table
