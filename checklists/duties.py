"""Step 4: the departments and their duties (职责分工), and the lead office."""

from __future__ import annotations

import re

from .model import Clause, Department, _cn_numeral
from .structure import _DIVISION_SECTION

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

# Whatever the body is called (领导小组, 工作专班, 指挥部), its office is the lead office.
_OFFICE_SEAT = re.compile(
    r"(?:领导小组|工作专班|专班|指挥部|工作组)办公室(?:下)?设(?:在|于)(?P<dept>[^，,。；;]{2,30})"
)
MISSING_LEAD_OFFICE = "牵头单位（方案中应写明“领导小组办公室设在……”“专班办公室设在……”或“……牵头”）"
_COORDINATOR = re.compile(r"(?P<dept>[\u4e00-\u9fff]{2,20}?)负责(?:指导和)?(?:综合)?(?:统筹)?协调")
_REPORT_TO = re.compile(r"报(?:送)?(?:至)?(?P<dept>市[\u4e00-\u9fff]{2,20})")
_UP_TO_SUFFIX = re.compile(r"^(.*" + _DEPT_SUFFIX + ")")


def _find_lead_office(text: str, departments: list[Department]) -> str | None:
    """The office that runs the campaign, or None when the notice does not say."""
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
    return None


def _full_name(name: str, departments: list[Department]) -> str:
    """Map a short form used in the text (自然资源局) to the listed department (市自然资源局)."""
    for dept in departments:
        if dept.name == name or dept.name == "市" + name:
            return dept.name
    return name
