"""The reading pipeline: text → header → structure → duties, as one call."""

from __future__ import annotations

import re
from datetime import date

from .duties import (
    MISSING_LEAD_OFFICE,
    _departments_from_notes,
    _find_departments,
    _find_lead_office,
    _full_name,
)
from .header import _cut_header, _Header, _split_title
from .model import Attachment, Notice, NoticeError
from .structure import _build_nodes, _find_stages, _fix_lines, _make_clause, split_attachments
from .text import _Para, _paragraphs, _read_lines, _undouble_lines

# --------------------------------------------------------------------------- clean


def _prepare(raw: str, source: str) -> tuple[_Header, str, int, list[_Para], str, list[Attachment]]:
    lines = _read_lines(raw)
    if not lines:
        raise NoticeError(source, 1, "通知为空：应为格尔木市人民政府办公室印发工作方案的通知全文")
    _undouble_lines(lines)
    lines = [ln for ln in lines if ln.text]
    header, lines = _cut_header(lines, source)
    if not lines:
        raise NoticeError(source, header.line, "通知之后没有方案正文")
    title, title_lines = _split_title(lines, header)
    title_no = lines[0].no if title_lines else header.line
    plan, attachments = split_attachments(lines[title_lines:])
    paras = _paragraphs(plan)
    # Attachments stay in the text, a row a line, so a table row can be a basis.
    appended = [
        line
        for attachment in attachments
        for line in [f"附件{attachment.number}", attachment.title]
        + [text for text, _, _ in attachment.rows]
        if line
    ]
    text = "\n".join(([title] if title_lines else []) + [p.text for p in paras] + appended)
    return header, title, title_no, paras, text, attachments


def clean_text(raw: str, source: str = "<notice>") -> str:
    """The notice with PDF artefacts undone: one paragraph per line.

    Only whitespace is removed (inside paragraphs, and wrapped lines are joined),
    doubled bold runs are printed once, and the 通知 header block is taken out
    wherever it was printed. Nothing else is rewritten, so any clause of the plan
    can be found in the result verbatim.
    """
    return _prepare(raw, source)[4]


# ----------------------------------------------------------------------------- parse


def parse_notice(text: str, source: str = "<notice>") -> Notice:
    """Read a notice as extracted from the PDF; NoticeError says where and what is wrong."""
    header, title, title_no, paras, cleaned, attachments = _prepare(text, source)
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
    stages = _find_stages(clauses, header.issued_on, _base_year(header), source)
    lead_office = _find_lead_office(cleaned, departments)
    missing = list(header.missing)
    if lead_office is None:
        missing.append(MISSING_LEAD_OFFICE)
    return Notice(
        source=source,
        document_no=header.document_no,
        title=title,
        issued_on=header.issued_on,
        lead_office=lead_office or "",
        stages=stages,
        departments=departments,
        clauses=clauses,
        preamble="\n".join(p.text for p in preamble_paras),
        text=cleaned,
        issuer=header.issuer,
        addressees=header.addressees,
        missing=missing,
        attachments=attachments,
    )


def _base_year(header: _Header) -> int:
    """The year stage dates leave out: the notice's, else its document number's."""
    if header.issued_on:
        return header.issued_on.year
    year = re.search(r"〔(\d{4})〕", header.document_no)
    return int(year.group(1)) if year else date.today().year
