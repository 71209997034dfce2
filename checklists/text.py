"""Step 1: the extracted text as lines, then paragraphs."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .model import _CIRCLED, cn_number

# ----------------------------------------------------------------------- raw lines


@dataclass
class _Line:
    no: int  # 1-based line number in the source file
    text: str
    cells: tuple[str, ...] | None = None  # columns when the line is a table row


# Full-width digits and Latin letters (２０２５年, ＶＯＣｓ) read as their ASCII forms;
# full-width punctuation is the notice's own and stays.
_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
)
# Page furniture the extractor leaves between the lines: page numbers (— 3 —, -3-,
# 第3页 共12页, a bare 12) and the running header of every page.
_PAGE_NUMBER = re.compile(r"^[-—－–‒\s]*\d{1,3}[-—－–‒\s]*$|^第\d{1,3}页(?:[，,]?共\d{1,3}页)?$")
_RUNNING_HEADER_MIN = 3  # a short line printed this often is a page header
_TABLE_GAP = re.compile(r"\t+|[ \u3000]{2,}")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
_BOLD_MARKUP = re.compile(r"\*\*(.+?)\*\*")


def _squeeze(text: str) -> str:
    """Drop whitespace, keeping one space only where it separates two Latin words.

    Spaced-out characters (洁 能 源, 2 0 2 1) close up: a space between two digits
    is letter-spacing, not a word break.
    """
    out: list[str] = []
    pending_space = False
    for ch in text:
        if ch.isspace():
            pending_space = True
            continue
        if (
            pending_space
            and out
            and _ASCII_WORD.match(out[-1])
            and _ASCII_WORD.match(ch)
            and not (out[-1].isdigit() and ch.isdigit())
        ):
            out.append(" ")
        pending_space = False
        out.append(ch)
    return "".join(out)


def _read_lines(raw: str) -> list[_Line]:
    raw = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines: list[_Line] = []
    for no, physical in enumerate(raw.split("\n"), start=1):
        stripped = physical.strip().translate(_FULLWIDTH)
        if not stripped or _PAGE_NUMBER.match(stripped):
            continue
        cells = tuple(c for c in (_squeeze(p) for p in _TABLE_GAP.split(stripped)) if c)
        # Some extractors render bold as Markdown instead of printing it twice;
        # that is the same artefact and goes the same way.
        text = _BOLD_MARKUP.sub(r"\1", _squeeze(stripped))
        if not text:
            continue
        lines.append(_Line(no, text, cells if len(cells) > 1 else None))
    return _without_running_headers(lines)


def _without_running_headers(lines: list[_Line]) -> list[_Line]:
    """Drop a short line without sentence punctuation that every page repeats."""
    counts = Counter(ln.text for ln in lines if ln.cells is None)
    repeated = {
        text
        for text, count in counts.items()
        if count >= _RUNNING_HEADER_MIN
        and len(text) <= 30
        and not re.search(r"[。；;，,：:、]", text)
        and not _marker(text)
    }
    return [ln for ln in lines if ln.text not in repeated]


# -------------------------------------------------------------------- doubled bold

_OPENING = "（(〔[【《“"
_CLOSING = {"（": "）", "(": ")", "〔": "〕", "[": "]", "【": "】", "《": "》", "“": "”"}
_PUNCT_ONLY = re.compile(r"^[\W_]+$")


def _is_phrase(run: str) -> bool:
    # Pure digits repeat legitimately (2020, 1111) and punctuation runs (……) are
    # typography; anything else printed twice back to back is the bold artefact.
    return not run.isdigit() and not _PUNCT_ONLY.match(run)


def _double_at(s: str, i: int, min_len: int) -> tuple[int, int]:
    """Longest doubled run starting at i: (length kept, length dropped), or (0, 0)."""
    n = len(s)
    for length in range((n - i) // 2, min_len - 1, -1):
        run = s[i : i + length]
        if s.startswith(run, i + length) and _is_phrase(run):
            return length, length
    # The extractor sometimes loses the opening bracket of the second copy:
    # （各相关成员单位分工落实）各相关成员单位分工落实）
    if i < n and s[i] in _OPENING:
        close = _CLOSING[s[i]]
        for length in range((n - i + 1) // 2, 3, -1):
            run = s[i : i + length]
            if run.endswith(close) and s.startswith(run[1:], i + length):
                return length, length - 1
    return 0, 0


def _undouble(s: str) -> tuple[str, bool, bool]:
    """Collapse doubled runs of two or more characters inside one line.

    Returns the new text and whether a doubled run touched the start / the end.
    """
    out: list[str] = []
    i = 0
    n = len(s)
    at_start = at_end = False
    while i < n:
        keep, drop = _double_at(s, i, 2)
        if keep:
            at_start = at_start or i == 0
            at_end = at_end or i + keep + drop == n
            out.append(s[i : i + keep])
            i += keep + drop
        else:
            out.append(s[i])
            i += 1
    return "".join(out), at_start, at_end


def _undouble_lines(lines: list[_Line]) -> None:
    flags = []
    for line in lines:
        line.text, starts, ends = _undouble(line.text)
        flags.append((starts, ends))
    # A bold run split by a line break is doubled on each side of the break: the
    # halves may be a single character (五五 / 是是). Single characters repeat
    # legitimately (层层, 年年底), so only undo them when the other side of the
    # break shows the artefact too.
    single_end = [
        not ends and len(ln.text) >= 2 and ln.text[-1] == ln.text[-2]
        for ln, (_, ends) in zip(lines, flags, strict=True)
    ]
    single_start = [
        not starts and len(ln.text) >= 2 and ln.text[0] == ln.text[1]
        for ln, (starts, _) in zip(lines, flags, strict=True)
    ]
    for k in range(len(lines) - 1):
        a, b = lines[k], lines[k + 1]
        a_double = flags[k][1] or single_end[k]
        b_double = flags[k + 1][0] or single_start[k + 1]
        if single_end[k] and b_double and _is_phrase(a.text[-1]):
            a.text = a.text[:-1]
        if single_start[k + 1] and a_double and _is_phrase(b.text[0]):
            b.text = b.text[1:]


# ---------------------------------------------------------------------- paragraphs

_L1 = re.compile(r"^([一二三四五六七八九十]{1,3})、")
_L2 = re.compile(r"^[（(]([一二三四五六七八九十]{1,3})[）)]")
_L3 = re.compile(r"^(\d{1,2})(?:[.．](?!\d)|、)")
_L4 = re.compile(r"^[（(](\d{1,2})[）)]")
_L5 = re.compile(r"^([①-⑳])")
_MARKERS = (_L1, _L2, _L3, _L4, _L5)
_KINDS = ("section", "subsection", "item", "subitem", "point")
_STAGE_PARA = re.compile(r"^第[一二三四五六七八九十]{1,3}(?:阶段|步)[：:]")
_SENTENCE_END = "。！？；;：:!?"
_NO_PARAGRAPH_START = "、，,。．；;：:！？!?）)》〕】”’…"
_RESP_NOTE = re.compile(r"[（(]([^（）()]{2,200}?(?:牵头|落实|负责|配合)[^（）()]{0,40})[）)]$")
_TITLE_END = re.compile(r"(?:方案|计划|办法|意见|细则|要点|规定)$")


@dataclass
class _Para:
    text: str
    lines: list[_Line]
    offsets: list[int]  # where each source line starts inside text

    @property
    def no(self) -> int:
        return self.lines[0].no

    @property
    def cells(self) -> tuple[str, ...] | None:
        return self.lines[0].cells if len(self.lines) == 1 else None

    def line_at(self, offset: int) -> int:
        no = self.lines[0].no
        for start, line in zip(self.offsets, self.lines, strict=True):
            if start <= offset:
                no = line.no
        return no


def _marker(text: str) -> tuple[int, int, str] | None:
    """(rank, number, matched marker) for a paragraph that starts with a clause marker."""
    for rank, pattern in enumerate(_MARKERS, start=1):
        m = pattern.match(text)
        if not m:
            continue
        raw = m.group(1)
        if rank in (1, 2):
            number = cn_number(raw)
        elif rank == 5:
            number = _CIRCLED.index(raw) + 1
        else:
            number = int(raw)
        return rank, number, m.group(0)
    return None


def _wrap_width(lines: list[_Line]) -> int | None:
    """The typical length of a wrapped line, or None when lines are whole paragraphs."""
    lengths = Counter(len(ln.text) for ln in lines if ln.cells is None)
    if not lengths:
        return None
    mode, _ = lengths.most_common(1)[0]
    near = sum(count for length, count in lengths.items() if abs(length - mode) <= 2)
    if mode < 12 or near < 0.5 * sum(lengths.values()):
        return None
    return mode


# A line that opens an entry of a list: a department and its duties, an attachment.
_ENTRY_START = re.compile(
    r"^(?:[^，,。；;：:（(]{2,30}?(?:局|委员会|管委会|委|支队|大队|人民政府|政府|办公室|中心|行委|"
    r"公司|乡|镇)(?:[：:]|负责|牵头)|附件\s*\d{0,2}(?:$|[：:]))"
)


def _ends_paragraph(line: _Line, nxt: _Line, width: int | None) -> bool:
    text = line.text
    if nxt.text[0] in _NO_PARAGRAPH_START:
        return False
    if line.cells or nxt.cells:
        return True
    if _marker(nxt.text) or _STAGE_PARA.match(nxt.text):
        return True
    if _RESP_NOTE.search(text):
        return True
    short = len(text) < width - 2 if width else True
    if text[-1] in _SENTENCE_END:
        # A full line that ends a sentence is no proof the paragraph goes on: in
        # narrow columns most lines are full. The next line decides when it opens
        # an entry of its own (市公安局：…, 附件1, 第二阶段…).
        return short or bool(_ENTRY_START.match(nxt.text))
    found = _marker(text)
    if found and not any(ch in text[len(found[2]) :] for ch in "。；;！？、，,（("):
        # A heading line such as 一、目标要求 with no punctuation of its own, unless
        # the next line just finishes its sentence (…整改清 / 零。围绕…) or it has a
        # list in it: then it is a sentence the PDF wrapped.
        stop = re.search(r"[。；;！？]", nxt.text)
        if width and len(text) >= 0.75 * width and stop and stop.start() <= 6:
            return False
        return short if width else len(text) <= 30
    return False


def _paragraphs(lines: list[_Line]) -> list[_Para]:
    width = _wrap_width(lines)
    paras: list[_Para] = []
    current: list[_Line] = []
    for k, line in enumerate(lines):
        current.append(line)
        if k + 1 == len(lines) or _ends_paragraph(line, lines[k + 1], width):
            offsets, pos = [], 0
            for ln in current:
                offsets.append(pos)
                pos += len(ln.text)
            paras.append(_Para("".join(ln.text for ln in current), current, offsets))
            current = []
    return paras
