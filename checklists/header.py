"""Step 2: the 通知 header, each field found on its own wherever the layout put it.

The 通知 that forwards the plan has an issuer, a title (关于印发…的通知), a document
number, the addressees, one forwarding sentence and the date. A PDF extractor may
print that block at the top, in the middle of the plan (where page 1 ended), or
tear the document number away from it and drop it mid-paragraph later on; issuer,
title and number can also share one line. Each field is looked for by itself, the
block and the stray number are taken out of the text, and a field that is nowhere
is named in ``missing`` instead of stopping the reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .model import NoticeError
from .text import _L1, _TITLE_END, _Line, _marker

_DOC_NO = re.compile(
    r"^(?P<prefix>[\u4e00-\u9fff]{1,12})[〔\[［【(（](?P<year>\d{4})[〕\]］】)）](?P<num>\d{1,4})号$"
)
_DATE_LINE = re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日$")
_ISSUER = re.compile(r"^[\u4e00-\u9fff]{2,24}(?:人民政府办公室|人民政府|办公厅|办公室|委员会)")
# The 通知's own title line: it starts with 关于 (or the issuer, then 关于); a
# 《关于…的通知》 cited inside a sentence does not.
_ABOUT = re.compile(r"^(?P<issuer>" + _ISSUER.pattern[1:] + r")?关于")
_ADDRESSEES = re.compile(r"^各[^。]{2,200}[：:]$")
_BLOCK_REACH = 24  # lines from the title line to the date, at the most

# What ``missing`` says for each header field the notice does not show.
MISSING_DOCUMENT_NO = "发文字号（应有单独一行形如“格政办发〔2025〕28号”的发文字号）"
MISSING_DATE = "成文日期（应有单独一行形如“2025年4月25日”的日期）"
MISSING_TITLE = "方案标题（正文开头应为“……工作方案”或“……实施方案”等标题）"


@dataclass
class _Header:
    document_no: str  # "" when the notice shows none
    issued_on: date | None
    title: str  # the plan's title as the 通知 quotes it in 《》, "" if it does not
    line: int
    issuer: str = ""
    addressees: str = ""
    missing: list[str] = field(default_factory=list)


def _first(lines: list[_Line], pattern: re.Pattern, start: int = 0, stop: int | None = None):
    for idx in range(start, len(lines) if stop is None else min(stop, len(lines))):
        if pattern.match(lines[idx].text):
            return idx
    return None


def _before_the_plan(lines: list[_Line]) -> int:
    """Index of the plan's first section (一、…), or the end: the header is usually above."""
    for idx, line in enumerate(lines):
        m = _L1.match(line.text)
        if m and m.group(1) == "一":
            return idx
    return len(lines)


def _cut_header(lines: list[_Line], source: str) -> tuple[_Header, list[_Line]]:
    """Find the 通知 header's fields and take the header out of the lines."""
    missing: list[str] = []
    plan_start = _before_the_plan(lines)
    doc_idx = _first(lines, _DOC_NO)
    about = next(
        (k for k, ln in enumerate(lines) if _ABOUT.match(ln.text) and "通知" in _joined(lines, k)),
        None,
    )
    anchor = about if about is not None else doc_idx
    start = end = None
    if anchor is not None:
        start = anchor
        if start > 0 and _ISSUER.fullmatch(lines[start - 1].text):
            start -= 1
        end = _first(lines, _DATE_LINE, anchor + 1, _reach(lines, anchor))
        if end is None:
            end = _block_end(lines, anchor)
    date_idx = end if end is not None and _DATE_LINE.match(lines[end].text) else None
    if date_idx is None:
        # A date printed on its own, away from the title: above the plan if any.
        date_idx = _first(lines, _DATE_LINE, 0, plan_start)
        if date_idx is None:
            date_idx = _first(lines, _DATE_LINE)

    document_no = ""
    if doc_idx is None:
        missing.append(MISSING_DOCUMENT_NO)
    else:
        m = _DOC_NO.match(lines[doc_idx].text)
        assert m is not None
        document_no = f"{m['prefix']}〔{m['year']}〕{int(m['num'])}号"

    issued_on = None
    if date_idx is None:
        missing.append(MISSING_DATE)
    else:
        dm = _DATE_LINE.match(lines[date_idx].text)
        assert dm is not None
        try:
            issued_on = date(int(dm["y"]), int(dm["m"]), int(dm["d"]))
        except ValueError:
            raise NoticeError(
                source, lines[date_idx].no, f"成文日期“{lines[date_idx].text}”不是有效日期"
            ) from None

    drop = {k for k in (doc_idx, date_idx) if k is not None}
    if start is not None and end is not None:
        drop.update(range(start, end + 1))
    block = [lines[k] for k in sorted(drop)]
    body = "".join(ln.text for ln in block)
    quoted = re.search(r"《([^《》]{4,80})》", body)
    title = quoted.group(1) if quoted else ""
    if not title and about is not None:
        printed = re.search(r"关于印发(.{4,80}?)的通知", _joined(lines, about))
        title = printed.group(1) if printed else ""
    issuer = ""
    if start is not None:
        m = _ISSUER.match(lines[start].text)
        issuer = m.group(0) if m else ""
    addressees = next((ln.text for ln in block if _ADDRESSEES.match(ln.text)), "")
    first_no = lines[min(drop)].no if drop else (lines[0].no if lines else 1)
    header = _Header(document_no, issued_on, title, first_no, issuer, addressees, missing)
    return header, [ln for k, ln in enumerate(lines) if k not in drop]


def _reach(lines: list[_Line], anchor: int) -> int:
    """Where a header block starting at ``anchor`` must end: at the plan's title or 一、."""
    for k in range(anchor + 1, min(len(lines), anchor + _BLOCK_REACH)):
        text = lines[k].text
        if _marker(text) or (_TITLE_END.search(text) and not text.startswith(("关于", "《"))):
            return k
    return min(len(lines), anchor + _BLOCK_REACH)


_FORWARDING = re.compile(r"印发给你们|现印发|现予印发|请认真|贯彻执行|贯彻落实|抓好落实")


def _block_end(lines: list[_Line], anchor: int) -> int:
    """The last line of a header block that has no date: addressees, forwarding, issuer."""
    end = anchor
    for k in range(anchor + 1, min(len(lines), anchor + _BLOCK_REACH)):
        text = lines[k].text
        if _marker(text) or (_TITLE_END.search(text) and "通知" not in text):
            break
        if (
            _ADDRESSEES.match(text)
            or _FORWARDING.search(text)
            or _ISSUER.fullmatch(text)
            or _DOC_NO.match(text)
            or text.endswith("通知")
        ):
            end = k
    return end


def _joined(lines: list[_Line], idx: int, count: int = 4) -> str:
    return "".join(ln.text for ln in lines[idx : idx + count])


def _split_title(lines: list[_Line], header: _Header) -> tuple[str, int]:
    """The plan's title and how many leading lines it takes ("" and 0 if none is found)."""
    text = ""
    for count, line in enumerate(lines[:4], start=1):
        if _marker(line.text) or len(text) + len(line.text) > 80:
            break
        text += line.text
        if _TITLE_END.search(text):
            return text, count
    if not header.title:
        header.missing.append(MISSING_TITLE)
    return header.title, 0
