"""Page furniture and text helpers shared by every report.

- ``ReportDocTemplate``: A4 (portrait or landscape) with a running header from page 2 on
  and a footer ``第 N 页 共 M 页`` plus the generation time in Asia/Shanghai.
- The total page count is known only at the end. Instead of building the document twice
  or keeping every page in memory until the end (the usual "numbered canvas" recipe),
  each page draws ``第 N 页`` and then places a form XObject; ``_ReportCanvas.save`` defines
  that one form, ``共 M 页``, after the last page. One pass, no page kept back.
- ``build_pdf`` feeds the document from an iterator of chunks (one site's table at a time)
  so that a report with thousands of findings never holds all its flowables at once, and
  writes a path atomically.
- Styles, and formatting of dates, rates, money and user text for Paragraph markup.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from .fonts import FontSet
from .linebreak import Paragraph

# ASCII85 would inflate every embedded photo and page stream by a quarter. PDF has been
# 8-bit clean since 1.2, and reportlab offers this only as a process-wide switch; this
# package is the only user of reportlab in the service.
rl_config.useA85 = 0

try:
    from zoneinfo import ZoneInfo

    SHANGHAI: Any = ZoneInfo("Asia/Shanghai")
except Exception:  # no tz database on the machine: China has kept UTC+8 since 1991
    SHANGHAI = timezone(timedelta(hours=8), "CST")

BLACK = colors.black
GREY = colors.HexColor("#555555")
LIGHT_GREY = colors.HexColor("#8A8A8A")
RULE = colors.HexColor("#444444")
HEAD_FILL = colors.HexColor("#E6E6E6")
BAND_FILL = colors.HexColor("#F4F4F4")
ALERT = colors.HexColor("#A40000")

TOTAL_FORM = "inspectPageTotal"
# (left, right, top, bottom); the header and footer sit in the top and bottom margins.
LANDSCAPE_MARGINS = (15 * mm, 15 * mm, 17 * mm, 16 * mm)
PORTRAIT_MARGINS = (22 * mm, 20 * mm, 20 * mm, 18 * mm)
OutTarget = str | os.PathLike[str] | IO[bytes]

# ---------------------------------------------------------------------------------------
# Formatting


def local(value: datetime) -> datetime:
    return value.astimezone(SHANGHAI)


def local_today(value: datetime) -> date:
    return local(value).date()


def fmt_datetime(value: datetime | None) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def fmt_date(value: date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def fmt_date_cn(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def fmt_yuan(amount: Decimal) -> str:
    """12500 -> '12,500'; 12500.5 -> '12,500.50'."""
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


def markup(value: str | None, *, empty: str = "—") -> str:
    """User text as Paragraph markup: escaped, line breaks kept."""
    if value is None or not value.strip():
        return empty
    return escape(value.strip()).replace("\r\n", "\n").replace("\n", "<br/>")


# ---------------------------------------------------------------------------------------
# Styles


@dataclass(frozen=True)
class Styles:
    fonts: FontSet
    title: ParagraphStyle
    doc_kind: ParagraphStyle
    doc_no: ParagraphStyle
    scope: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    body: ParagraphStyle
    meta: ParagraphStyle
    note: ParagraphStyle
    cell: ParagraphStyle
    cell_center: ParagraphStyle
    cell_right: ParagraphStyle
    cell_head: ParagraphStyle
    cell_label: ParagraphStyle
    signature: ParagraphStyle


@functools.cache
def make_styles(fonts: FontSet) -> Styles:
    song, hei = fonts.body, fonts.heading

    def style(name: str, font: str, size: float, leading: float, **kw: Any) -> ParagraphStyle:
        # CJK wrapping breaks between any two ideographs and keeps closing punctuation
        # off the start of a line, as Chinese typesetting expects.
        kw.setdefault("wordWrap", "CJK")
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading, **kw)

    cell = style("cell", song, 8.5, 11.5)
    return Styles(
        fonts=fonts,
        title=style("title", hei, 16, 24, alignment=TA_CENTER, spaceAfter=2),
        doc_kind=style("doc_kind", hei, 22, 30, alignment=TA_CENTER, spaceAfter=4),
        doc_no=style("doc_no", song, 11, 16, alignment=TA_CENTER, spaceAfter=2),
        scope=style("scope", song, 9.5, 14, alignment=TA_CENTER, textColor=GREY, spaceAfter=8),
        h1=style("h1", hei, 13, 19, spaceBefore=8, spaceAfter=5),
        h2=style("h2", hei, 11.5, 17, spaceBefore=6, spaceAfter=4),
        h3=style("h3", hei, 10.5, 15, spaceBefore=8, spaceAfter=2),
        body=style("body", song, 10.5, 17, alignment=TA_JUSTIFY, firstLineIndent=21),
        meta=style("meta", song, 9, 13, spaceAfter=3),
        note=style("note", song, 8.5, 12, textColor=GREY, spaceBefore=3),
        cell=cell,
        cell_center=ParagraphStyle("cell_center", parent=cell, alignment=TA_CENTER),
        cell_right=ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT),
        cell_head=style("cell_head", hei, 8.5, 11.5, alignment=TA_CENTER),
        cell_label=style("cell_label", hei, 8.5, 11.5, alignment=TA_LEFT),
        signature=style("signature", song, 10.5, 18),
    )


# ---------------------------------------------------------------------------------------
# Document template and canvas


class _ReportCanvas(Canvas):
    """Canvas that counts its pages and, on save, defines the ``共 M 页`` form that every
    page already refers to (PDF resolves a form by name, so it may come last)."""

    def __init__(self, *args: Any, total_font: tuple[str, float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._total_font = total_font
        self.pages_done = 0

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self.pages_done += 1
        super().showPage()

    def save(self) -> None:
        total = self.pages_done + (1 if self._code else 0)
        font, size = self._total_font
        self.beginForm(TOTAL_FORM, lowerx=0, lowery=-size, upperx=20 * size, uppery=2 * size)
        self.setFont(font, size)
        self.setFillColor(GREY)
        self.drawString(0, 0, f"共 {total} 页")
        self.endForm()
        super().save()


@dataclass(frozen=True)
class PageFurniture:
    header_left: str  # running header from page 2 on, e.g. the campaign name
    header_right: str  # e.g. 问题清单 · site name
    footer_left: str  # e.g. the document number
    generated_at: datetime


class ReportDocTemplate(BaseDocTemplate):
    """A4 page with the running header and the ``第 N 页 共 M 页`` footer."""

    def __init__(
        self,
        target: str | IO[bytes],
        *,
        styles: Styles,
        furniture: PageFurniture,
        landscape_pages: bool,
        title: str,
        author: str | None,
    ) -> None:
        pagesize = landscape(A4) if landscape_pages else A4
        left, right, top, bottom = LANDSCAPE_MARGINS if landscape_pages else PORTRAIT_MARGINS
        margins = {"leftMargin": left, "rightMargin": right}
        margins |= {"topMargin": top, "bottomMargin": bottom}
        super().__init__(
            target,
            pagesize=pagesize,
            title=title,
            author=author or "",
            subject=furniture.header_left,
            creator="inspect-app reports",
            lang="zh-CN",
            # Without this the canvas names Helvetica on every page: an unembedded font
            # that pdffonts would list.
            initialFontName=styles.fonts.body,
            pageCompression=1,
            **margins,
        )
        self.styles = styles
        self.furniture = furniture
        frame = Frame(
            self.leftMargin,
            self.bottomMargin,
            self.width,
            self.height,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._decorate)])

    def _decorate(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        font = self.styles.fonts.body
        page_w, _page_h = self.pagesize
        left, right = self.leftMargin, page_w - self.rightMargin
        top = self.bottomMargin + self.height
        furniture = self.furniture
        canv.saveState()
        canv.setStrokeColor(LIGHT_GREY)
        canv.setLineWidth(0.4)
        canv.setFillColor(GREY)
        canv.setFont(font, 8)
        if canv.getPageNumber() > 1:
            y = top + 5 * mm
            canv.drawString(left, y, furniture.header_left)
            canv.drawRightString(right, y, furniture.header_right)
            canv.line(left, y - 2 * mm, right, y - 2 * mm)
        y = self.bottomMargin - 9 * mm
        canv.line(left, y + 4 * mm, right, y + 4 * mm)
        canv.drawString(left, y, furniture.footer_left)
        canv.drawRightString(right, y, f"生成时间：{fmt_datetime(furniture.generated_at)}")
        middle = page_w / 2
        canv.drawRightString(middle - 2, y, f"第 {canv.getPageNumber()} 页")
        canv.translate(middle + 2, y)
        canv.doForm(TOTAL_FORM)
        canv.restoreState()

    def build_from(self, chunks: Iterable[Iterable[Flowable]]) -> int:
        """Lay out the chunks in order; returns the number of pages."""
        canvasmaker = functools.partial(_ReportCanvas, total_font=(self.styles.fonts.body, 8))
        self.build(_LazyStory(iter(chunks)), canvasmaker=canvasmaker)
        return self.canv.pages_done


class _LazyStory(list):
    """The flowable list ``BaseDocTemplate.build`` consumes from the front, refilled from
    an iterator of chunks as it drains, so only the part being laid out is in memory.

    build() asks ``len(flowables)`` before taking each flowable; keeping a few flowables
    ahead lets keep-with-next look past a chunk boundary.
    """

    LOOKAHEAD = 8

    def __init__(self, chunks: Iterator[Iterable[Flowable]]) -> None:
        super().__init__()
        self._chunks: Iterator[Iterable[Flowable]] | None = chunks

    def __len__(self) -> int:
        while self._chunks is not None and super().__len__() < self.LOOKAHEAD:
            try:
                self.extend(next(self._chunks))
            except StopIteration:
                self._chunks = None
        return super().__len__()


def build_pdf(out: OutTarget, make_doc: Callable[[str | IO[bytes]], int]) -> int:
    """Run ``make_doc`` against ``out``. A path is written to a temporary file beside it
    and renamed into place, so nobody ever sees half a PDF; a file object gets the bytes
    as they are."""
    if not isinstance(out, str | os.PathLike):
        return make_doc(out)
    path = Path(os.fspath(out))
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        pages = make_doc(str(temp))
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return pages


class CellParagraph(Paragraph):
    """A Paragraph that remembers its line breaking, and shares it with equal cells.

    A table cell is wrapped to the same column width several times: once to size its
    row, again when the table is split at a page end, and again for the part carried to
    the next page. CJK line breaking measures every glyph, so doing it once per width
    makes long problem lists roughly twice as fast. The breaking depends only on the
    markup, the style and the width, never on the height offered.

    Problem lists repeat a lot of cell text (检查项, 依据 and 责任单位 come from the
    campaign's checklist), so the parsed markup and the line breaking are also kept per
    (style, markup[, width]) in a bounded per-process cache and shared by equal cells:
    reportlab only reads them when it draws.
    """

    _wrapped_for: float | None = None
    _wrapped: tuple[float, float] = (0.0, 0.0)

    def __init__(self, text: str | None, style: ParagraphStyle, **kwargs: Any) -> None:
        if kwargs or text is None:  # the parts made by split(), from existing fragments
            super().__init__(text, style, **kwargs)
            return
        key = (style, text)
        frags = _PARSED.get(key)
        super().__init__(text, style, frags=frags)
        if frags is None:
            _remember(_PARSED, key, self.frags)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        # split() drops blPara when the paragraph cannot be cut at the height offered.
        if avail_width == self._wrapped_for and hasattr(self, "blPara"):
            self.width, self.height = self._wrapped
            return self._wrapped
        key = (self.style, self.text, avail_width)
        known = _BROKEN.get(key) if self.text is not None else None
        if known is not None and known[0] is self.frags:
            self.blPara, self._wrapWidths, self._wrapped = known[1:]
            self.width, self.height = self._wrapped
        else:
            self._wrapped = super().wrap(avail_width, avail_height)
            if self.text is not None:
                entry = (self.frags, self.blPara, self._wrapWidths, self._wrapped)
                _remember(_BROKEN, key, entry)
        self._wrapped_for = avail_width
        return self._wrapped


# (style, markup) -> parsed fragments; (style, markup, width) -> (fragments, line
# breaking, wrap widths, size). Emptied when full; a few thousand entries of short text.
_PARSED: dict[tuple, Any] = {}
_BROKEN: dict[tuple, Any] = {}
_CACHE_LIMIT = 4096


def _remember(cache: dict[tuple, Any], key: tuple, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
