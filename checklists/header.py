"""Step 2: the 通知 header (issuer, number, date, title), wherever it was printed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .model import NoticeError
from .text import _FULLWIDTH_DIGITS, _TITLE_END, _Line, _marker

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
