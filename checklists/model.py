"""The parsed notice: its clauses, stages and departments, and how a clause is cited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date


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
    clause: str = ""  # path of the 职责分工 clause that lists the department
    section: str = ""  # that clause as a reader cites it, e.g. 四、职责分工


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
class Attachment:
    """A 附件 printed after the plan: its number, title and rows (tables as cells)."""

    number: int
    title: str
    line: int
    rows: list[tuple[str, tuple[str, ...] | None, int]] = field(default_factory=list)


@dataclass
class Notice:
    source: str
    document_no: str  # "" when the notice shows none (then named in ``missing``)
    title: str
    issued_on: date | None
    lead_office: str
    stages: list[Stage]
    departments: list[Department]
    clauses: list[Clause]
    preamble: str
    text: str  # the cleaned notice, as clean_text() returns it
    issuer: str = ""
    addressees: str = ""
    # The parts of a notice the reader looked for and did not find, one Chinese
    # phrase each (发文字号…, 成文日期…, 牵头单位…): the draft names them.
    missing: list[str] = field(default_factory=list)
    # (title, paragraphs) of each 附件 printed after the plan.
    attachments: list[Attachment] = field(default_factory=list)

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
