"""Step 5: checklist items from every place a notice puts a site obligation.

The tasks (主要任务, 整治重点, 检查内容…), each department's duties in 职责分工 (that
department leads the item) and the rows of an attachment's table of checks; what
is organisational is left out and listed in ``excluded`` with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .duties import LeadFinder
from .model import Clause, Notice
from .questions import _Draft, _finish, _parts, _split_questions
from .rules import CHECK_CUE, organisational, question_for
from .sites import campaign_sites, photo_required, severity, site_types
from .structure import check_rows, is_boilerplate, is_stage_section
from .vocab import ANSWER_TYPE, DEFAULT_DEADLINE_DAYS, KNOWN_PREFIXES, REGULATOR


@dataclass
class Unit:
    """A checkable piece of a clause: the text items are drawn from."""

    clause: Clause
    path: str
    section: str
    text: str  # verbatim from the cleaned notice
    lead_department: str | None
    context: str  # the whole clause, for site types when the unit itself names none


# ------------------------------------------------------------------ checkable units

# A clause inside a checkable section that only sets the campaign's time frame.
_TIMING_CLAUSE = re.compile(r"时限|时间安排|进度|阶段")
# Stage sections are not checked, except an explicit list of what to strike at.
_FOCUS_LIST = re.compile(r"(?:打击|整治|检查|排查)重点[:：]")
_DATE_IN_HEADING = re.compile(r"[（(]\s*(?:\d{4}年)?\d{1,2}月[^）)]*[）)]$")


def _section_label(chain: list[Clause]) -> str:
    labels = []
    for clause in chain:
        if clause.kind == "enum" or not clause.heading:
            continue
        labels.append(_DATE_IN_HEADING.sub("", clause.label))
    return " / ".join(labels)


def checkable_units(notice: Notice) -> list[Unit]:
    """The clauses an inspector checks on site, in notice order."""
    units: list[Unit] = []

    def visit(clause: Clause, chain: list[Clause]) -> None:
        chain = chain + [clause]
        if clause.kind != "enum" and clause.kind != "section":
            if _TIMING_CLAUSE.search(clause.heading):
                return
        points = [c for c in clause.children if c.kind == "enum"]
        context = (
            "\n".join(c.heading for c in chain)
            + "\n"
            + (clause.text if clause.kind != "enum" else chain[-2].text)
        )
        if clause.children:
            # The intro of an enumerated clause can carry its own check (placer
            # gold: 一经发现安装采金装置…); the intro of a structural parent is an
            # overview of its children.
            if points and len(clause.intro) > 15:
                units.append(_unit(clause, chain, clause.intro, context))
            for child in clause.children:
                visit(child, chain)
            return
        if clause.kind == "section" and not clause.body:
            return
        text = clause.body or clause.heading
        if text:
            units.append(_unit(clause, chain, text, context))

    for section in notice.clauses:
        if not is_boilerplate(section):
            visit(section, [])
        elif is_stage_section(section):
            for clause in section.walk():
                if clause.children:
                    continue
                m = _FOCUS_LIST.search(clause.body)
                if m:
                    chain = [c for c in section.walk() if clause.path.startswith(c.path)]
                    focus = clause.body[m.end() :]
                    units.append(_unit(clause, chain[:-1] + [clause], focus, clause.body))
    return units


def _unit(clause: Clause, chain: list[Clause], text: str, context: str) -> Unit:
    section_chain = chain if clause.heading or clause.kind == "enum" else chain[:-1]
    return Unit(
        clause=clause,
        path=clause.path,
        section=_section_label(section_chain) or _section_label(chain[:1]),
        text=text.strip().rstrip("。；;，,").strip(),
        lead_department=clause.lead_department,
        context=context,
    )


# ------------------------------------------------------------------------- public


def derive_prefix(campaign_code: str) -> str:
    """Item-code prefix for a campaign: the known one, else initials of the code's words."""
    if campaign_code in KNOWN_PREFIXES:
        return KNOWN_PREFIXES[campaign_code]
    words = [w for w in re.split(r"[^A-Za-z]+", campaign_code) if w]
    if not words:
        return "CL"
    if len(words) == 1:
        return words[0][:2].upper().ljust(2, "X")
    return "".join(w[0] for w in words[:3]).upper()


@dataclass
class Excluded:
    """A part of the notice the generator left out of the items, and why (in Chinese)."""

    clause: str
    text: str
    reason: str


@dataclass
class Built:
    items: list[dict]
    excluded: list[Excluded]
    site_checks: int  # items whose own words name a kind of site that is not the regulator
    without_lead: int  # items whose lead is only the lead office standing in


_BOILERPLATE_REASONS = (
    (re.compile(r"目标|指导思想|原则|背景"), "目标与指导思想，不是检查事项"),
    (re.compile(r"组织|领导|机构"), "组织领导，不是现场检查事项"),
    (re.compile(r"保障|要求"), "工作要求，对各部门而非检查对象"),
    (re.compile(r"时间|进度|步骤|阶段|安排|时限"), "时间安排，不是检查事项"),
    (re.compile(r"分工|职责"), "职责分工：各部门职责中的检查事项已列为检查项"),
)


def _section_reason(section: Clause) -> str:
    for pattern, reason in _BOILERPLATE_REASONS:
        if pattern.search(section.heading):
            return reason
    return "不是检查事项"


def build_items(notice: Notice, prefix: str) -> Built:
    """Items from the tasks, the duties and the attachment tables, and what was left out."""
    units = checkable_units(notice)
    sites_of_campaign = campaign_sites(notice, [u.text for u in units])
    leads = LeadFinder(notice)
    items: list[dict] = []
    excluded = [
        Excluded(section.path, section.label, _section_reason(section))
        for section in notice.clauses
        if is_boilerplate(section)
    ]
    site_checks = without_lead = 0
    # 一是各乡镇加大巡查力度…；二是根据巡查情况…: a point that names its department
    # hands it on to the next point, which names none.
    carried: tuple[str, int, str] | None = None  # (parent path, point number, department)
    for unit in units:
        clause_lead = unit.lead_department
        parent = unit.path.removesuffix(unit.clause.marker)
        if unit.clause.kind == "enum":
            if carried and carried[:2] == (parent, unit.clause.number - 1):
                if not leads.named(unit.text) and not leads.opens_with_actor(unit.text):
                    clause_lead = carried[2]
            named = leads.named(unit.text)
            carried = (parent, unit.clause.number, named) if named else None
        drafts: list[_Draft] = []
        subject = None
        for basis, part in _parts(unit.text):
            row = organisational(part)
            if row:
                excluded.append(Excluded(unit.path, basis, row.reason))
                continue
            more, subject = _split_questions(part, subject)
            for draft in more:
                draft.basis = basis
            drafts.extend(more)
        for draft in drafts:
            sites, own = site_types(draft, unit.context, sites_of_campaign)
            lead = leads.lead(draft.focus, draft.basis, clause_lead)
            site_checks += bool(CHECK_CUE.search(draft.basis)) or (own and sites != [REGULATOR])
            without_lead += leads.stood_in
            items.append(_item(prefix, len(items), unit, draft, lead, sites))
    for source in _duty_units(notice) + _attachment_units(notice, excluded):
        for basis, part in _parts(source.text):
            row = organisational(part)
            if row:
                excluded.append(Excluded(source.path, basis, row.reason))
                continue
            if not (source.subject or CHECK_CUE.search(part)):
                # Every row of a table of checks is a check; a duty may be none.
                excluded.append(Excluded(source.path, basis, "职责中的管理工作，不是现场检查事项"))
                continue
            if _covered(part, items):
                continue
            drafts, _ = _split_questions(_DUTY_VERB.sub("", part), source.subject)
            if source.subject and "是否" not in part:
                # A table row: 燃气软管 | 无老化、龟裂 asks about the 燃气软管.
                asked = question_for(part.removeprefix(source.subject))
                asked = asked or "是否" + part.removeprefix(source.subject)
                if asked.startswith("是否"):
                    drafts = [_Draft(_finish(source.subject + asked), part, part)]
            for draft in drafts:
                draft.basis = basis
                sites, own = site_types(draft, source.unit.context, sites_of_campaign)
                lead = source.lead or leads.lead(draft.focus, draft.basis, None)
                site_checks += bool(source.subject or CHECK_CUE.search(draft.basis)) or (
                    own and sites != [REGULATOR]
                )
                without_lead += not source.lead and leads.stood_in
                items.append(_item(prefix, len(items), source.unit, draft, lead, sites))
    return Built(items, excluded, site_checks, without_lead)


def _item(prefix: str, count: int, unit: Unit, draft: _Draft, lead: str, sites: list[str]) -> dict:
    return {
        "code": f"{prefix}-{count + 1:02d}",
        "section": unit.section,
        "clause": unit.path,
        "text": draft.text,
        "basis": draft.basis,
        "lead_department": lead,
        "site_types": sites,
        "answer_type": ANSWER_TYPE,
        "default_severity": severity(draft, sites),
        "photo_required": photo_required(draft, sites),
    }


@dataclass
class _Source:
    """Text items are drawn from outside the tasks: a department's duty, a table row."""

    unit: Unit
    text: str
    lead: str | None  # the department whose duty it is
    subject: str | None = None  # the thing a table row checks (燃气软管)

    @property
    def path(self) -> str:
        return self.unit.path


# A duty names what the department does: 负责查处…, 配合…: the check is what follows.
_DUTY_VERB = re.compile(r"^(?:主要)?(?:牵头)?(?:负责|配合|协助|承担)(?:对)?")


def _pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _covered(part: str, items: list[dict]) -> bool:
    """Whether an item drawn from the tasks already asks what this duty says."""
    wanted = _pairs(part)
    return bool(wanted) and any(
        len(wanted & _pairs(item["basis"])) >= 0.6 * len(wanted) for item in items
    )


def _duty_units(notice: Notice) -> list[_Source]:
    """Each department's duties (职责分工): that department leads what they ask."""
    sources = []
    for dept in notice.departments:
        if not dept.from_division or not dept.clause:
            continue
        unit = Unit(
            clause=notice.find(dept.clause),
            path=dept.clause,
            section=f"{dept.section} / {dept.name}" if dept.section else dept.name,
            text=dept.duties,
            lead_department=dept.name,
            context=dept.duties,
        )
        sources.append(_Source(unit, dept.duties, dept.name))
    return sources


def _attachment_units(notice: Notice, excluded: list[Excluded]) -> list[_Source]:
    """The rows of each attachment that is a table of checks (附件1 检查表)."""
    sources = []
    for attachment in notice.attachments:
        path = f"附件{attachment.number}"
        rows = check_rows(attachment)
        if rows is None:
            excluded.append(Excluded(path, attachment.title, "附件不是检查表（表单或清单）"))
            continue
        section = f"{path} {attachment.title}".strip()
        clause = Clause("attachment", attachment.number, path, path, attachment.title, "", "", 0)
        for what, check, line in rows:
            clause.line = line
            # The row as printed (燃气软管是否超过使用年限…) when the text holds it so.
            if what and what + check in notice.text:
                check = what + check
            unit = Unit(clause, path, section, check, None, f"{attachment.title}\n{what}")
            sources.append(_Source(unit, check, None, what or None))
    return sources


def campaign_block(notice: Notice, campaign_code: str) -> dict:
    """The ``campaign:`` part of a checklist file, read off the notice."""
    source_name = Path(notice.source).name
    return {
        "code": campaign_code,
        "name": notice.title,
        "document_no": notice.document_no,
        "issued_on": notice.issued_on,
        "lead_office": notice.lead_office,
        "notice": source_name if source_name != "<notice>" else f"{campaign_code}.txt",
        "stages": [
            {"name": s.name, "starts_on": s.starts_on, "ends_on": s.ends_on} for s in notice.stages
        ],
        "departments": [{"name": d.name, "duties": d.duties} for d in notice.departments],
        "deadline_days": dict(DEFAULT_DEADLINE_DAYS),
    }
