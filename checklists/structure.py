"""Step 3: the clause tree (一、/（一）/1./（1）/①/一是) and the stages."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from .model import (
    Attachment,
    Clause,
    NoticeError,
    Stage,
    _cn_numeral,
    _normal_marker,
    _path_part,
    cn_number,
)
from .text import _KINDS, _RESP_NOTE, _Line, _marker, _Para

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


# 即日起至5月15日: the stage starts on the day the notice is issued.
_FROM_TODAY = re.compile(r"(?:自|从)?即日起\s*(?:至|到|—|－|-|~|～|–|―)+\s*")


def _parse_range(
    text: str, base_year: int, source: str, line: int, issued_on: date | None = None
) -> tuple[date, date, int] | None:
    """Dates of a stage written as 2025年5月1日—5月10日, 4月30至6月30日 or 2025年1月至3月.

    A stage 即日起至5月15日 runs from the issue date (none if the notice has no date).
    """
    today = _FROM_TODAY.search(text)
    if today:
        m = _RANGE.match(text, today.end())
        if not m or issued_on is None:
            return None
        try:
            y = int(m["y1"]) if m["y1"] else issued_on.year
            d = int(m["d1"]) if m["d1"] else _month_end(y, int(m["m1"]))
            end = date(y, int(m["m1"]), d)
        except ValueError:
            raise NoticeError(source, line, f"阶段日期“{m.group(0)}”不是有效日期") from None
        if end < issued_on and not m["y1"]:
            end = date(y + 1, end.month, end.day)
        return issued_on, end, end.year
    m = _RANGE.search(text)
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
    name = re.split(r"[（(]\s*(?:(?:自|从)?即日起|(?:\d{4}年)?\d{1,2}月)", label)[0]
    return name.strip("。：:，, ")


def _find_stages(
    clauses: list[Clause], issued_on: date | None, base_year: int, source: str
) -> list[Stage]:
    stages: list[Stage] = []
    year = base_year

    def add(name: str, text: str, line: int) -> None:
        nonlocal year
        found = _parse_range(text, year, source, line, issued_on)
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
            dated = _RANGE.search(label) or _FROM_TODAY.search(label)
            dates = label if dated else child.body[:30]
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


def is_boilerplate(clause: Clause) -> bool:
    """Whether a section is about aims, organisation, timing, division or requirements."""
    return bool(_BOILERPLATE.search(clause.heading))


def is_stage_section(clause: Clause) -> bool:
    """Whether a section sets out the campaign's stages and timing."""
    return bool(_STAGE_SECTION.search(clause.heading))


# ---------------------------------------------------------------------- attachments

# 附件1 / 附件 2 alone on a line opens an attachment; 附件：1. …表 is the plan's list
# of its attachments and stays with the plan.
_ATTACHMENT_START = re.compile(r"^附件(?P<number>\d{0,2})(?:[：:](?P<title>\D.{0,40}))?$")


def split_attachments(lines: list[_Line]) -> tuple[list[_Line], list[Attachment]]:
    """The plan's lines, and each 附件 printed after it with its title and rows."""
    starts = []
    for idx, line in enumerate(lines):
        m = _ATTACHMENT_START.match(line.text)
        if m and (m["number"] or not m["title"]) and line.cells is None:
            starts.append((idx, m))
    if not starts:
        return lines, []
    attachments = []
    for k, (idx, m) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        body = lines[idx + 1 : end]
        title = m["title"] or ""
        if not title and body and body[0].cells is None:
            title, body = body[0].text, body[1:]
        attachment = Attachment(int(m["number"] or k + 1), title, lines[idx].no)
        attachment.rows = [(ln.text, ln.cells, ln.no) for ln in body]
        attachments.append(attachment)
    return lines[: starts[0][0]], attachments


# A header row of a table of checks, and which of its columns say what.
_CHECK_HEADER = re.compile(r"检查内容|检查项目|检查事项|检查要点|检查标准|检查重点|检查指标")
_CONTENT_COLUMN = re.compile(r"检查内容|检查要点|检查标准|检查要求|要求|标准|内容")
_SUBJECT_COLUMN = re.compile(r"检查项目|检查事项|项目|部位|设施|类别|对象|名称")


def check_rows(attachment: Attachment) -> list[tuple[str, str, int]] | None:
    """(what is checked, what the check asks, line) of a table of checks; None for a form."""
    rows = iter(attachment.rows)
    for _, cells, _ in rows:
        if cells and any(_CHECK_HEADER.search(c) for c in cells):
            header = cells
            break
    else:
        return None
    content = next((i for i, c in enumerate(header) if _CONTENT_COLUMN.search(c)), None)
    subject = next(
        (i for i, c in enumerate(header) if i != content and _SUBJECT_COLUMN.search(c)), None
    )
    if content is None:
        return None
    # A row may leave out its number (序号): align the cells from the right.
    found = []
    for _, cells, line in rows:
        if not cells or len(cells) < 2:
            continue
        shift = len(header) - len(cells)
        at = content - shift
        if not 0 <= at < len(cells):
            continue
        what = (
            cells[subject - shift]
            if subject is not None and 0 <= subject - shift < len(cells)
            else ""
        )
        found.append((what, cells[at], line))
    return found
