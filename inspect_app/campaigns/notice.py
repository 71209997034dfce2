"""Parse a campaign notice (通知 + 工作方案) as extracted from the published PDF.

The city government publishes each remediation campaign (专项整治) as a 通知 that
forwards a 工作方案 / 实施方案. The text we receive is what a PDF extractor made
of it: lines broken inside words, bold runs printed twice (``一是一是``, sometimes
half on one line and half on the next), the 通知 header block dropped in the
middle of the plan, mixed full- and half-width punctuation. This module undoes
those artefacts without rewriting anything else, then reads the plan's structure:
document number, title, issue date, stages, lead office, departments and the
clause tree (``一、`` / ``（一）`` / ``1.`` / ``（1）`` / ``一是…二是…``).

Everything here is pure Python; the checklist generator builds on the result.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

__all__ = [
    "Clause",
    "Department",
    "Notice",
    "NoticeError",
    "Stage",
    "clean_text",
    "cn_number",
    "is_boilerplate",
    "is_stage_section",
    "parse_notice",
]


class NoticeError(ValueError):
    """A notice that cannot be read; the message names the file and line for the CLI user."""

    def __init__(self, source: str, line: int, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        super().__init__(f"{source}:{line}: {message}")


@dataclass
class Stage:
    name: str
    starts_on: date
    ends_on: date
    line: int = 0


@dataclass
class Department:
    name: str
    duties: str
    line: int = 0
    # False when the notice has no 职责分工 section and the entry was gathered
    # from the clauses' 牵头 notes instead.
    from_division: bool = True


@dataclass
class Clause:
    """One numbered clause of the plan, or one ``一是…`` point inside a clause."""

    kind: str  # section | subsection | item | subitem | point | enum
    number: int
    marker: str  # normalised: 三、 / （二） / 2. / （1） / ① / 一是
    path: str  # e.g. 三（二）2 or 二（一）1一是
    heading: str
    body: str  # text after the heading, without the trailing 牵头 note
    text: str  # the whole clause as it appears in the cleaned notice (after the marker)
    line: int
    lead_department: str | None = None
    responsibility: str = ""  # the note itself, e.g. 市应急管理局牵头落实
    children: list[Clause] = field(default_factory=list)
    tail: str = ""  # closing paragraph after the children, addressed to all units
    intro: str = ""  # body text before the first ``一是`` of an enumerated clause
    # (lead, first point, last point) from notes like 市能源局牵头第五项工作落实.
    point_leads: list[tuple[str, int, int]] = field(default_factory=list)
    # (text, table cells, line) of the paragraphs after the first one, tail included;
    # the department and stage readers need them one by one.
    paragraphs: list[tuple[str, tuple[str, ...] | None, int]] = field(
        default_factory=list, repr=False, compare=False
    )

    def walk(self) -> Iterator[Clause]:
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def label(self) -> str:
        """Marker and heading as a reader would cite them, e.g. ``（一）严格油品源头管控``."""
        marker = self.marker if self.kind != "item" else self.marker + " "
        return (marker + self.heading).strip() if self.heading else self.marker.rstrip("、. ")

    @property
    def citation(self) -> str:
        """The clause's path as a reader cites it, e.g. ``二（三）第14项 三是``."""
        return clause_citation(self.path)


@dataclass
class Notice:
    source: str
    document_no: str
    title: str
    issued_on: date
    lead_office: str
    stages: list[Stage]
    departments: list[Department]
    clauses: list[Clause]
    preamble: str
    text: str  # the cleaned notice, as clean_text() returns it

    def walk(self) -> Iterator[Clause]:
        for clause in self.clauses:
            yield from clause.walk()

    def find(self, path: str) -> Clause:
        for clause in self.walk():
            if clause.path == path:
                return clause
        raise KeyError(path)


# --------------------------------------------------------------------------- numbers

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS.update({"六": 6, "七": 7, "八": 8, "九": 9})
_CN_NUMERALS = "一二三四五六七八九十"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def cn_number(text: str) -> int:
    """Value of a Chinese numeral up to 99 (``十二`` → 12); ValueError otherwise."""
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        raise ValueError(text)
    if "十" not in text:
        if len(text) != 1:
            raise ValueError(text)
        return _CN_DIGITS[text]
    tens, _, units = text.partition("十")
    value = (_CN_DIGITS[tens] if tens else 1) * 10
    return value + (_CN_DIGITS[units] if units else 0)


def _cn_numeral(value: int) -> str:
    if value <= 10:
        return " 一二三四五六七八九十"[value]
    tens, units = divmod(value, 10)
    return (
        ("" if tens == 1 else _cn_numeral(tens)) + "十" + ("" if not units else _cn_numeral(units))
    )


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

# ----------------------------------------------------------------------- raw lines


@dataclass
class _Line:
    no: int  # 1-based line number in the source file
    text: str
    cells: tuple[str, ...] | None = None  # columns when the line is a table row


_TABLE_GAP = re.compile(r"\t+|[ \u3000]{2,}")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
_BOLD_MARKUP = re.compile(r"\*\*(.+?)\*\*")


def _squeeze(text: str) -> str:
    """Drop whitespace, keeping one space only where it separates two Latin words."""
    out: list[str] = []
    pending_space = False
    for ch in text:
        if ch.isspace():
            pending_space = True
            continue
        if pending_space and out and _ASCII_WORD.match(out[-1]) and _ASCII_WORD.match(ch):
            out.append(" ")
        pending_space = False
        out.append(ch)
    return "".join(out)


def _read_lines(raw: str) -> list[_Line]:
    raw = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines: list[_Line] = []
    for no, physical in enumerate(raw.split("\n"), start=1):
        stripped = physical.strip()
        if not stripped:
            continue
        cells = tuple(c for c in (_squeeze(p) for p in _TABLE_GAP.split(stripped)) if c)
        # Some extractors render bold as Markdown instead of printing it twice;
        # that is the same artefact and goes the same way.
        text = _BOLD_MARKUP.sub(r"\1", _squeeze(stripped))
        if not text:
            continue
        lines.append(_Line(no, text, cells if len(cells) > 1 else None))
    return lines


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


# ------------------------------------------------------------------------- header

_DOC_NO = re.compile(
    r"^(?P<prefix>[\u4e00-\u9fff]{1,12})[〔\[［【(（](?P<year>\d{4})[〕\]］】)）](?P<num>\d{1,4})号$"
)
_DATE_LINE = re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日$")
_ISSUER = re.compile(r"^[\u4e00-\u9fff]{2,24}(?:人民政府办公室|人民政府|办公厅|办公室|委员会)$")


@dataclass
class _Header:
    document_no: str
    issued_on: date
    title: str  # the plan's title as the 通知 quotes it in 《》, "" if it does not
    line: int


def _cut_header(lines: list[_Line], source: str) -> tuple[_Header, list[_Line], int]:
    """Find the 通知 header, wherever it was printed, and take it out of the lines.

    Returns the header, the remaining lines and the index where the header was.
    """
    doc_idx = None
    for idx, line in enumerate(lines):
        if _DOC_NO.match(line.text.translate(_FULLWIDTH_DIGITS)):
            doc_idx = idx
            break
    if doc_idx is None:
        first = lines[0].no if lines else 1
        raise NoticeError(
            source, first, "未找到发文字号：通知中应有单独一行形如“格政办发〔2025〕28号”的发文字号"
        )
    doc_line = lines[doc_idx]
    m = _DOC_NO.match(doc_line.text.translate(_FULLWIDTH_DIGITS))
    assert m is not None
    document_no = f"{m['prefix']}〔{m['year']}〕{int(m['num'])}号"

    start = doc_idx
    for k in range(doc_idx - 1, max(-1, doc_idx - 6), -1):
        if "关于" in lines[k].text:
            start = k
            break
    if start > 0 and start < doc_idx and _ISSUER.match(lines[start - 1].text):
        start -= 1

    end = None
    for k in range(doc_idx + 1, min(len(lines), doc_idx + 16)):
        if _DATE_LINE.match(lines[k].text.translate(_FULLWIDTH_DIGITS)):
            end = k
            break
    if end is None:
        raise NoticeError(
            source,
            doc_line.no,
            "发文字号之后未找到通知的成文日期：应有单独一行形如“2025年4月25日”的日期",
        )
    dm = _DATE_LINE.match(lines[end].text.translate(_FULLWIDTH_DIGITS))
    assert dm is not None
    try:
        issued_on = date(int(dm["y"]), int(dm["m"]), int(dm["d"]))
    except ValueError:
        raise NoticeError(
            source, lines[end].no, f"成文日期“{lines[end].text}”不是有效日期"
        ) from None

    body = "".join(ln.text for ln in lines[doc_idx + 1 : end])
    quoted = re.search(r"《([^《》]{4,80})》", body)
    header = _Header(document_no, issued_on, quoted.group(1) if quoted else "", doc_line.no)
    return header, lines[:start] + lines[end + 1 :], start


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
        return short
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


def _split_title(lines: list[_Line], header: _Header, source: str) -> tuple[str, int]:
    """The plan's title and how many leading lines it takes."""
    text = ""
    for count, line in enumerate(lines[:4], start=1):
        if _marker(line.text) or len(text) + len(line.text) > 80:
            break
        text += line.text
        if _TITLE_END.search(text):
            return text, count
    if header.title:
        return header.title, 0
    first = lines[0].no if lines else header.line
    raise NoticeError(source, first, "未找到方案标题：正文开头应为“……工作方案”或“……实施方案”等标题")


# --------------------------------------------------------------------------- clean


def _prepare(raw: str, source: str) -> tuple[_Header, str, int, list[_Para], str]:
    lines = _read_lines(raw)
    if not lines:
        raise NoticeError(source, 1, "通知为空：应为格尔木市人民政府办公室印发工作方案的通知全文")
    _undouble_lines(lines)
    lines = [ln for ln in lines if ln.text]
    header, lines, _ = _cut_header(lines, source)
    if not lines:
        raise NoticeError(source, header.line, "通知之后没有方案正文")
    title, title_lines = _split_title(lines, header, source)
    title_no = lines[0].no if title_lines else header.line
    paras = _paragraphs(lines[title_lines:])
    text = "\n".join(([title] if title_lines else []) + [p.text for p in paras])
    return header, title, title_no, paras, text


def clean_text(raw: str, source: str = "<notice>") -> str:
    """The notice with PDF artefacts undone: one paragraph per line.

    Only whitespace is removed (inside paragraphs, and wrapped lines are joined),
    doubled bold runs are printed once, and the 通知 header block is taken out
    wherever it was printed. Nothing else is rewritten, so any clause of the plan
    can be found in the result verbatim.
    """
    return _prepare(raw, source)[4]


# ---------------------------------------------------------------------- clause tree

# Section headings that hold no site checks: aims, principles, organisation,
# safeguards, timing, division of duties, requirements to the departments.
_BOILERPLATE = re.compile(
    r"目标|(?:总体|工作|有关|基本|其他)要求|指导思想|原则|组织|领导|机构|保障|时间|进度|步骤|阶段|"
    r"安排|分工|职责|时限|背景"
)
_STAGE_SECTION = re.compile(r"时间|进度|步骤|阶段|安排|时限")
_DIVISION_SECTION = re.compile(r"职责分工|责任分工|工作分工|部门职责|职责任务|任务分工")
_ENUM_PREV = "。；;：:，,\n（("


@dataclass
class _Node:
    rank: int
    number: int
    marker: str
    paras: list[_Para]
    children: list[_Node] = field(default_factory=list)
    closed: bool = False  # a 牵头 note ended it; later paragraphs belong to the parent
    tail_paras: list[_Para] = field(default_factory=list)


def _normal_marker(rank: int, number: int) -> str:
    if rank == 1:
        return _cn_numeral(number) + "、"
    if rank == 2:
        return "（" + _cn_numeral(number) + "）"
    if rank == 3:
        return f"{number}."
    if rank == 4:
        return f"（{number}）"
    return _CIRCLED[number - 1]


def _path_part(rank: int, number: int) -> str:
    return _normal_marker(rank, number).rstrip("、.")


# A clause path as _path_part builds it: 二 / （三） / 14 / （2） / ① / 三是. The
# compact form is the key checklists and the database keep; people read citations.
_CN = "〇一二三四五六七八九十百"
_PATH = re.compile(
    rf"(?P<section>[{_CN}]+?(?=[（\d{_CIRCLED}]|[{_CN}]+是$|$))?"
    rf"(?P<subsection>（[{_CN}]+）)?(?P<item>\d+)?(?P<subitem>（\d+）)?"
    rf"(?P<point>[{_CIRCLED}])?(?P<enum>[{_CN}]+是)?"
)


def clause_citation(path: str) -> str:
    """A clause path as a reader cites it: ``二（三）14三是`` → ``二（三）第14项 三是``.

    Digits and numerals run together in the compact path ("二1" reads as 21), so the
    third level is spelled 第N项, a section directly followed by it takes its 、, and
    an enumerated point (一是…) stands apart. A clause that is not such a path (a
    hand-written checklist may cite 第三条) is returned as it is.
    """
    path = path.strip()
    m = _PATH.fullmatch(path)
    if not path or m is None:
        return path
    section, subsection, item, subitem, point, enum = m.group(
        "section", "subsection", "item", "subitem", "point", "enum"
    )
    citation = section or ""
    if section and not subsection and (item or subitem or point or enum):
        citation += "、"
    citation += subsection or ""
    citation += f"第{item}项" if item else ""
    citation += (subitem or "") + (point or "")
    if enum:
        citation += ("" if citation.endswith("、") or not citation else " ") + enum
    return citation


def _build_nodes(paras: list[_Para], source: str) -> tuple[list[_Para], list[_Node]]:
    preamble: list[_Para] = []
    top: list[_Node] = []
    stack: list[_Node] = []
    # Numbering of a level may run on across its parents (hazchem numbers 1–14
    # straight through （一）（二）（三）), so remember the last number per level
    # inside the current section.
    last_in_section: dict[int, int] = {}
    for para in paras:
        found = _marker(para.text)
        if found:
            rank, number, raw = found
            siblings = top if rank == 1 else None
            if rank > 1:
                parents = [n for n in stack if n.rank < rank]
                siblings = parents[-1].children if parents else None
            accepted = False
            if rank == 1:
                expected = (top[-1].number + 1) if top else 1
                if number == expected:
                    accepted = True
                elif number > expected:
                    raise NoticeError(
                        source,
                        para.no,
                        f"一级标题编号不连续：此处为“{raw}”，应为“{_normal_marker(1, expected)}”",
                    )
            elif siblings is not None:
                same = [n for n in siblings if n.rank == rank]
                if same:
                    accepted = number == same[-1].number + 1
                else:
                    accepted = number in (1, last_in_section.get(rank, 0) + 1)
            if accepted:
                node = _Node(rank, number, raw, [para])
                if rank == 1:
                    top.append(node)
                    stack = [node]
                    last_in_section = {}
                else:
                    while stack and stack[-1].rank >= rank:
                        stack.pop()
                    stack[-1].children.append(node)
                    stack.append(node)
                last_in_section[rank] = number
                node.closed = bool(_RESP_NOTE.search(para.text))
                continue
        if not stack:
            preamble.append(para)
            continue
        # An open clause takes the paragraph; one closed by its 牵头 note hands it
        # up to its parent, where it follows the children.
        idx = len(stack) - 1
        while idx > 0 and stack[idx].closed:
            idx -= 1
        target = stack[idx]
        if target.children:
            target.tail_paras.append(para)
        else:
            target.paras.append(para)
            target.closed = bool(_RESP_NOTE.search(para.text))
    return preamble, top


def _split_heading(text: str, leaf_text: bool) -> tuple[str, str]:
    """Separate a short heading sentence (严格油品源头管控。) from the body."""
    first_para, _, rest = text.partition("\n")
    stop = first_para.find("。")
    if stop > 0:
        head = first_para[:stop]
        if len(head) <= 40 and not re.search(r"[，,；;]|是否", head):
            body = first_para[stop + 1 :]
            return head, (body + ("\n" + rest if rest else "")).strip("\n")
        return "", text
    if (
        len(first_para) <= 40
        and first_para[-1:] not in "；;，,"
        and not re.search(r"[，,；;]|是否", first_para)
        and (rest or not leaf_text)
    ):
        return first_para, rest
    return "", text


def _enum_spans(body: str) -> list[tuple[int, int, int]]:
    """(number, start of 一是, start of its text) for a body enumerating 一是、二是…."""
    spans: list[tuple[int, int, int]] = []
    pos = 0
    number = 1
    while number <= 20:
        word = _cn_numeral(number) + "是"
        k = body.find(word, pos)
        while k > 0 and body[k - 1] not in _ENUM_PREV:
            k = body.find(word, k + 1)
        if k < 0:
            break
        spans.append((number, k, k + len(word)))
        pos = k + len(word)
        number += 1
    return spans if len(spans) >= 2 else []


_RESP_LEAD = re.compile(r"(?:^|[，,；;、（(])(?:由)?(?P<dept>[^，,；;、（()）]{2,30}?)牵头")
_POINT_RANGE = re.compile(r"第([一二三四五六七八九十]+)(?:至([一二三四五六七八九十]+))?项")


def _parse_responsibility(note: str) -> tuple[str | None, list[tuple[str, int, int]]]:
    lead = None
    point_leads: list[tuple[str, int, int]] = []
    for part in re.split(r"[；;]", note):
        m = _RESP_LEAD.search(part)
        if not m:
            continue
        dept = m["dept"]
        lead = lead or dept
        rng = _POINT_RANGE.search(part)
        if rng:
            first = cn_number(rng.group(1))
            last = cn_number(rng.group(2)) if rng.group(2) else first
            point_leads.append((dept, first, last))
    return lead, point_leads


_LEADING_LEAD = re.compile(r"^由(?P<dept>[^，,。；;]{2,30}?)牵头")
_TAIL_SENTENCE = re.compile(
    r"(?<=[。])(各(?:单位|部门|相关|有关|成员单位|城区|乡镇)[^。]*以上[^。]*。.*)$", re.S
)


def _make_clause(node: _Node, parent_path: str, start_line: int) -> Clause:
    marker_len = len(node.marker)
    text = "\n".join(p.text for p in node.paras)[marker_len:]
    tail = "\n".join(p.text for p in node.tail_paras)
    children_nodes = node.children
    heading, body = _split_heading(text, leaf_text=not children_nodes)
    body = body.strip()

    responsibility = ""
    note = _RESP_NOTE.search(body.rstrip("。"))
    if note:
        responsibility = note.group(1)
        body = body[: note.start()].rstrip()
    if not body and not children_nodes:
        # A clause that is a single short sentence is all body, no heading.
        heading, body = "", heading
    lead, point_leads = _parse_responsibility(responsibility) if responsibility else (None, [])
    if lead is None:
        m = _LEADING_LEAD.match(body)
        if m:
            lead = m["dept"]

    path = parent_path + _path_part(node.rank, node.number)
    clause = Clause(
        kind=_KINDS[node.rank - 1],
        number=node.number,
        marker=_normal_marker(node.rank, node.number),
        path=path,
        heading=heading,
        body=body,
        text=text,
        line=node.paras[0].no,
        lead_department=lead,
        responsibility=responsibility,
        tail=tail,
        point_leads=point_leads,
        paragraphs=[(p.text, p.cells, p.no) for p in node.paras[1:] + node.tail_paras],
    )
    clause.children = [_make_clause(child, path, child.paras[0].no) for child in children_nodes]
    if clause.children and clause.children[-1].tail and not children_nodes[-1].children:
        # The last clause's closing sentence (see below) is the parent's.
        last = clause.children[-1]
        clause.tail = (last.tail + ("\n" + clause.tail if clause.tail else "")).strip()
        last.tail = ""

    # A closing sentence about "以上问题" addressed to all units belongs to the
    # parent, even when the PDF wrapped it into the last clause's paragraph.
    if not clause.children:
        m = _TAIL_SENTENCE.search(clause.body)
        if m:
            clause.tail = m.group(1).strip()
            clause.body = clause.body[: m.start()].rstrip()

    if not clause.children:
        spans = _enum_spans(clause.body)
        if spans:
            clause.intro = clause.body[: spans[0][1]].strip()
            for idx, (number, _, text_start) in enumerate(spans):
                end = spans[idx + 1][1] if idx + 1 < len(spans) else len(clause.body)
                segment = clause.body[text_start:end].strip().rstrip("。；;，,").strip()
                seg_head, seg_body = _split_heading(segment + "。", leaf_text=True)
                seg_body = seg_body.rstrip("。")
                if not seg_body:
                    seg_head, seg_body = "", segment
                seg_lead = None
                for dept, first, last in point_leads:
                    if first <= number <= last:
                        seg_lead = dept
                clause.children.append(
                    Clause(
                        kind="enum",
                        number=number,
                        marker=_cn_numeral(number) + "是",
                        path=path + _cn_numeral(number) + "是",
                        heading=seg_head,
                        body=seg_body,
                        text=segment,
                        line=start_line,
                        lead_department=seg_lead or lead,
                    )
                )
    return clause


def _fix_lines(clauses: list[Clause], paras: list[_Para]) -> None:
    """Point each ``一是`` at the source line where it starts."""
    for clause in clauses:
        for point in clause.walk():
            if point.kind != "enum":
                continue
            for para in paras:
                k = para.text.find(point.text)
                if k >= 0:
                    point.line = para.line_at(k)
                    break


# --------------------------------------------------------------------------- stages

_RANGE = re.compile(
    r"(?:(?P<y1>\d{4})年)?(?P<m1>\d{1,2})月(?:(?P<d1>\d{1,2})日?)?"
    r"(?:\s*(?:—|－|-|~|～|–|―|至|到)+\s*"
    r"(?:(?P<y2>\d{4})年)?(?:(?P<m2>\d{1,2})月)?(?:(?P<d2>\d{1,2})日?)?)?"
)


_STAGE_IN_TEXT = re.compile(
    r"第[一二三四五六七八九十]+(?:阶段|步)[：:](?P<name>[^（(。]+)[（(](?P<dates>[^）)]+)[）)]"
)


def _month_end(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _parse_range(
    text: str, base_year: int, source: str, line: int
) -> tuple[date, date, int] | None:
    """Dates of a stage written as 2025年5月1日—5月10日, 4月30至6月30日 or 2025年1月至3月."""
    m = _RANGE.search(text.translate(_FULLWIDTH_DIGITS))
    if not m:
        return None
    try:
        y1 = int(m["y1"]) if m["y1"] else base_year
        m1 = int(m["m1"])
        d1 = int(m["d1"]) if m["d1"] else 1
        start = date(y1, m1, d1)
        if m["m2"] or m["d2"]:
            y2 = int(m["y2"]) if m["y2"] else y1
            m2 = int(m["m2"]) if m["m2"] else m1
            d2 = int(m["d2"]) if m["d2"] else _month_end(y2, m2)
            end = date(y2, m2, d2)
            if end < start and not m["y2"]:
                end = date(y2 + 1, m2, d2)
        else:
            end = date(y1, m1, _month_end(y1, m1) if not m["d1"] else d1)
    except ValueError:
        raise NoticeError(source, line, f"阶段日期“{m.group(0)}”不是有效日期") from None
    return start, end, y1


def _stage_name(label: str) -> str:
    name = re.split(r"[（(]\s*(?:\d{4}年)?\d{1,2}月", label)[0]
    return name.strip("。：:，, ")


def _find_stages(clauses: list[Clause], base_year: int, source: str) -> list[Stage]:
    stages: list[Stage] = []
    year = base_year

    def add(name: str, text: str, line: int) -> None:
        nonlocal year
        found = _parse_range(text, year, source, line)
        if not found or not name:
            return
        start, end, year = found
        if end < start:
            raise NoticeError(source, line, f"阶段“{name}”的结束日期早于开始日期")
        stages.append(Stage(name, start, end, line))

    for section in clauses:
        if not _STAGE_SECTION.search(section.heading):
            continue
        for child in section.children:
            if child.kind == "enum":
                continue
            label = child.heading or child.body.split("。")[0]
            # The dates follow the stage's name, in its heading or right after it.
            dates = label if _RANGE.search(label) else child.body[:30]
            add(_stage_name(label), dates, child.line)
        for text, _, line in section.paragraphs:
            for m in _STAGE_IN_TEXT.finditer(text):
                add(m["name"].strip(), m["dates"], line)
    if stages:
        return stages
    # No stage section: a clause such as 专项整治行动时限为2024年7月—2024年10月.
    for clause in (c for top in clauses for c in top.walk()):
        m = re.search(
            r"(?P<name>[\u4e00-\u9fff]{2,20}?)(?:时限|时间|期限)为(?P<dates>[0-9年月日至到—－~～\-–]+)",
            clause.body,
        )
        if m:
            add(m["name"], m["dates"], clause.line)
            break
    return stages


# ---------------------------------------------------------------------- departments

_DEPT_SUFFIX = (
    r"(?:局|委员会|管委会|委|支队|大队|人民政府|政府|办公室|办|中心|行委|公司|所|站|队|区|镇|乡|院)"
)
_DEPT_AT_START = re.compile(
    r"^(?P<name>[^,。；;：:（(]{2,60}?" + _DEPT_SUFFIX + r")(?=负责|牵头|落实|配合|主要|：|:|。)"
)
_DEPT_NAME = re.compile(r"^[^，,。；;：:]{1,38}" + _DEPT_SUFFIX + r"$")
_GROUP_ROW = re.compile(
    r"牵头单位[：:](?P<lead>.+?)(?:责任单位[：:].+?)?(?:工作职责|职责)[：:](?P<duty>.+)$"
)


def _split_names(name: str) -> list[str] | None:
    """Names of a group written together (市公安局、市交通运输局); None if not all are names."""
    parts = [p for p in re.split(r"[、，,]|及(?=[\u4e00-\u9fff]{2})", name) if p]
    if len(parts) > 1 and all(_DEPT_NAME.match(p) for p in parts):
        return parts
    # 东、西城区行委 is one name written short; a comma inside is never part of a name.
    return None if "，" in name else [name]


def _departments_in(text: str, cells: tuple[str, ...] | None) -> tuple[list[str], str] | None:
    if cells:
        names = _split_names(cells[0]) if _DEPT_NAME.match(cells[0]) else None
        return (names, "".join(cells[1:])) if names else None
    group = _GROUP_ROW.search(text)
    if group:
        names = _split_names(group["lead"])
        return (names, group["duty"]) if names else None
    m = _DEPT_AT_START.match(text)
    if m:
        names = _split_names(m["name"])
        duty = text[m.end() :].lstrip("：:。，, ")
        return (names, duty) if names else None
    return None


def _find_departments(clauses: list[Clause]) -> list[Department]:
    found: dict[str, Department] = {}

    def add(got: tuple[list[str], str] | None, line: int) -> None:
        if not got or not got[1].strip():
            return
        names, duty = got[0], got[1].strip()
        for name in names:
            if name not in found:
                found[name] = Department(name, duty, line)
            elif duty not in found[name].duties:
                # Listed twice (e.g. once alone, once with another department).
                found[name].duties += duty

    for section in clauses:
        if not _DIVISION_SECTION.search(section.heading):
            continue
        for child in section.walk():
            if child.kind == "enum":
                continue
            if child is not section:
                if child.heading and _DEPT_NAME.match(child.heading):
                    names = _split_names(child.heading)
                    add((names, child.body) if names else None, child.line)
                else:
                    add(_departments_in(child.text.partition("\n")[0], None), child.line)
            # Departments written one paragraph or table row each (市自然资源局：…).
            for text, cells, line in child.paragraphs:
                add(_departments_in(text, cells), line)
    return list(found.values())


def _departments_from_notes(clauses: list[Clause]) -> list[Department]:
    """Without a 职责分工 section, list who leads which clause from the 牵头 notes."""
    led: dict[str, list[str]] = {}
    lines: dict[str, int] = {}
    for clause in (c for top in clauses for c in top.walk()):
        if clause.point_leads:
            leads = [
                (
                    dept,
                    f"（第{_cn_numeral(first)}项）"
                    if first == last
                    else f"（第{_cn_numeral(first)}至{_cn_numeral(last)}项）",
                )
                for dept, first, last in clause.point_leads
            ]
        elif clause.responsibility and clause.lead_department:
            leads = [(clause.lead_department, "")]
        else:
            leads = []
        topic = clause.heading or re.split(r"[，,。]", clause.body)[0]
        for dept, points in leads:
            led.setdefault(dept, []).append(f"{clause.path} {topic}{points}")
            lines.setdefault(dept, clause.line)
    return [
        Department(dept, "牵头落实：" + "；".join(topics), lines[dept], from_division=False)
        for dept, topics in led.items()
    ]


# ---------------------------------------------------------------------- lead office

_OFFICE_SEAT = re.compile(r"领导小组办公室(?:下)?设在(?P<dept>[^，,。；;]{2,30})")
_COORDINATOR = re.compile(r"(?P<dept>[\u4e00-\u9fff]{2,20}?)负责(?:指导和)?(?:综合)?(?:统筹)?协调")
_REPORT_TO = re.compile(r"报(?:送)?(?:至)?(?P<dept>市[\u4e00-\u9fff]{2,20})")
_UP_TO_SUFFIX = re.compile(r"^(.*" + _DEPT_SUFFIX + ")")


def _find_lead_office(text: str, departments: list[Department], source: str, line: int) -> str:
    for dept in departments:
        if dept.from_division and dept.duties.startswith("牵头"):
            return dept.name
    for dept in departments:
        if dept.from_division and re.match(r"^[^。]{0,6}牵头", dept.duties):
            return dept.name
    for pattern in (_OFFICE_SEAT, _COORDINATOR, _REPORT_TO):
        m = pattern.search(text)
        # 市住房和城乡建设局 ends at its last suffix, not at 乡; 商务科 after 局 is dropped.
        name = _UP_TO_SUFFIX.match(m["dept"]) if m else None
        if name:
            return _full_name(name.group(1), departments)
    raise NoticeError(
        source, line, "未能确定牵头单位：方案中应写明“领导小组办公室设在……”或“……牵头”"
    )


def _full_name(name: str, departments: list[Department]) -> str:
    """Map a short form used in the text (自然资源局) to the listed department (市自然资源局)."""
    for dept in departments:
        if dept.name == name or dept.name == "市" + name:
            return dept.name
    return name


# ----------------------------------------------------------------------------- parse


def parse_notice(text: str, source: str = "<notice>") -> Notice:
    """Read a notice as extracted from the PDF; NoticeError says where and what is wrong."""
    header, title, title_no, paras, cleaned = _prepare(text, source)
    preamble_paras, nodes = _build_nodes(paras, source)
    if not nodes:
        first = paras[0].no if paras else title_no
        raise NoticeError(source, first, "未找到方案正文的一级标题：应有“一、……”“二、……”等章节")
    clauses = [_make_clause(node, "", node.paras[0].no) for node in nodes]
    _fix_lines(clauses, paras)

    departments = _find_departments(clauses)
    for clause in (c for top in clauses for c in top.walk()):
        if clause.lead_department:
            clause.lead_department = _full_name(clause.lead_department, departments)
    if not departments:
        departments = _departments_from_notes(clauses)
    stages = _find_stages(clauses, header.issued_on.year, source)
    lead_office = _find_lead_office(cleaned, departments, source, clauses[0].line)
    return Notice(
        source=source,
        document_no=header.document_no,
        title=title,
        issued_on=header.issued_on,
        lead_office=lead_office,
        stages=stages,
        departments=departments,
        clauses=clauses,
        preamble="\n".join(p.text for p in preamble_paras),
        text=cleaned,
    )


def is_boilerplate(clause: Clause) -> bool:
    """Whether a section is about aims, organisation, timing, division or requirements."""
    return bool(_BOILERPLATE.search(clause.heading))


def is_stage_section(clause: Clause) -> bool:
    """Whether a section sets out the campaign's stages and timing."""
    return bool(_STAGE_SECTION.search(clause.heading))
