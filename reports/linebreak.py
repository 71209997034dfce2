"""Chinese line breaking (禁则) for every paragraph the reports wrap.

Chinese typesetting keeps opening brackets and quotes (《（“‘【〔「…) off the end of a
line and closing punctuation (，。、；：？！）》”’】〕」…) off its start, and never cuts a
dash —— or an ellipsis …… in two. reportlab's CJK wrapping knows only part of this: its
list of closing marks lacks the full-width ，；：？！ and 》”’, it never looks at the end of
a line, and where it does act it hangs the mark past the right edge of the column.

``Paragraph`` here is reportlab's with its CJK line breaking replaced: the same greedy
fill, but where the natural break is forbidden the break moves back to the nearest
allowed place, taking the characters after it to the next line. A line never grows past
its width. Runs of Latin letters and digits (RO-01, 2025-05-12, GB 50156) are kept whole
where the line leaves room to do so. Every report builds its paragraphs from this class.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.pdfbase.pdfmetrics import getAscentDescent
from reportlab.platypus import paragraph as rl_paragraph
from reportlab.platypus.paragraph import FragLine, ParaLines, cjkU, makeCJKParaLine
from reportlab.rl_config import _FUZZ

# May not end a line: opening brackets and quotes, and prefixes that belong to what follows.
OPENING = frozenset("（《〈「『【〔〖〘［｛“‘([{￥＄$")
# May not start a line: closing brackets and quotes, stops, pauses, and marks that hang
# on what precedes them.
CLOSING = frozenset("，。、；：？！）》〉」』】〕〗〙］｝”’…‥·〃々％‰℃°,.;:?!)]}%")
# Cut in two neither: —— and …… are single marks two characters wide.
DOUBLED = frozenset("—…")
# How far back (a share of the line) a break may move to keep a Latin word whole; beyond
# that the word is cut, as a long code or address would overflow otherwise.
WORD_BACKOFF = 0.5


def _is_word_char(ch: str) -> bool:
    return len(ch) == 1 and ch.isascii() and (ch.isalnum() or ch in "-_./")


def break_allowed(before: str, after: str, *, keep_words: bool = True) -> bool:
    """Whether a line may end after ``before`` with ``after`` starting the next one."""
    if after in CLOSING or before in OPENING or after.isspace():
        return False
    if before == after and before in DOUBLED:
        return False
    return not (keep_words and _is_word_char(before) and _is_word_char(after))


def line_starts(
    chars: Sequence[str],
    widths: Sequence[float],
    max_widths: Sequence[float],
    forced: Sequence[bool] = (),
) -> list[int]:
    """Index of the first character of every line after the first, filling each line as
    far as its width allows and moving a forbidden break back to an allowed one.

    ``forced[i]`` ends a line after character ``i`` (a ``<br/>``). ``max_widths`` gives
    the width of each line, the last repeated for the rest.
    """
    starts: list[int] = []
    start, used, i, n = 0, 0.0, 0, len(chars)
    while i < n:
        limit = max_widths[min(len(starts), len(max_widths) - 1)]
        used += widths[i]
        if forced and forced[i]:
            starts.append(i + 1)
            start, used = i + 1, 0.0
        elif used > limit + _FUZZ and i > start:
            cut = _choose_break(chars, start, i)
            starts.append(cut)
            start, used = cut, 0.0
            i = cut
            continue
        i += 1
    return starts


def _choose_break(chars: Sequence[str], start: int, overflow: int) -> int:
    """Where the line from ``start`` ends, ``overflow`` being the first character that
    does not fit: the latest allowed break, else the break reportlab would take."""
    reach = max(start + 1, overflow - max(1, int((overflow - start) * WORD_BACKOFF)))
    for keep_words in (True, False):
        floor = reach if keep_words else start + 1
        for cut in range(overflow, floor - 1, -1):
            if break_allowed(chars[cut - 1], chars[cut], keep_words=keep_words):
                return cut
    return overflow  # nothing allowed (a line of brackets): cut where it overflows


class Paragraph(rl_paragraph.Paragraph):
    """reportlab's Paragraph with Chinese line-breaking rules for ``wordWrap="CJK"``."""

    def breakLinesCJK(self, maxWidths):  # noqa: N802, N803 - reportlab's names
        if not isinstance(maxWidths, list | tuple):
            maxWidths = [maxWidths]
        style = self.style
        self.height = 0
        rl_paragraph._handleBulletWidth(self.bulletText, style, maxWidths)
        if hasattr(self, "blPara") and getattr(self, "_splitpara", 0):
            return self.blPara  # a part made by split(): its lines are already broken
        frags = self.frags
        if not frags:
            return ParaLines(
                kind=0,
                fontSize=style.fontSize,
                fontName=style.fontName,
                textColor=style.textColor,
                lines=[],
                ascent=style.fontSize,
                descent=-0.2 * style.fontSize,
            )
        glyphs: list[cjkU] = []
        for frag in frags:
            text = frag.text if hasattr(frag, "text") else "".join(getattr(frag, "words", []))
            if isinstance(text, bytes):
                text = text.decode("utf8")
            # An empty fragment (a <br/>) still takes a place, to carry its line break.
            glyphs.extend(cjkU(ch, frag, "utf8") for ch in text or [""])
        widths = []
        for glyph in glyphs:
            width = glyph.width
            if hasattr(width, "normalizedValue"):
                width = width.normalizedValue(maxWidths[0])
            widths.append(width)
        forced = [hasattr(glyph.frag, "lineBreak") for glyph in glyphs]
        auto = getattr(self, "autoLeading", getattr(style, "autoLeading", ""))
        calc_bounds = auto not in ("", "off")
        lines = []
        bounds = [0, *line_starts(glyphs, widths, maxWidths, forced)]
        if bounds[-1] < len(glyphs):
            bounds.append(len(glyphs))
        for number, (begin, end) in enumerate(zip(bounds, bounds[1:], strict=False)):
            limit = maxWidths[min(number, len(maxWidths) - 1)]
            used = sum(widths[begin:end])
            line_break = forced[end - 1]
            line = glyphs[begin:end]
            lines.append(
                _one_frag_line(line, limit, used, line_break)
                or makeCJKParaLine(line, limit, used, limit - used, line_break, calc_bounds)
            )
        return ParaLines(kind=1, lines=lines)


def _one_frag_line(
    line: Sequence[cjkU], limit: float, used: float, line_break: bool
) -> FragLine | None:
    """What ``makeCJKParaLine`` makes of a line whose glyphs all come from one plain text
    fragment (nearly every line of a table cell), without its per-glyph comparisons; None
    for any other line. ``makeCJKParaLine`` compares each glyph's fragment with the
    previous one and asks the font's ascent of each: a tenth of a long list's time."""
    if not line:
        return None
    frag = line[0].frag
    if hasattr(frag, "cbDefn") or any(glyph.frag is not frag for glyph in line):
        return None
    ascent, descent = getAscentDescent(frag.fontName, frag.fontSize)
    word = frag.clone()
    word.text = "".join(line)
    return FragLine(
        kind=1,
        extraSpace=limit - used,
        wordCount=1,
        words=[word],
        fontSize=max(0, frag.fontSize),
        ascent=max(0, ascent),
        descent=min(0, descent),
        maxWidth=limit,
        currentWidth=used,
        lineBreak=line_break,
    )
