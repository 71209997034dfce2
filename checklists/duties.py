"""Step 4: the departments and their duties (职责分工), and the lead office."""

from __future__ import annotations

import math
import re
from collections import Counter

from .model import Clause, Department, Notice, _cn_numeral
from .rules import topic_departments
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

    def add(got: tuple[list[str], str] | None, line: int, where: Clause) -> None:
        if not got or not got[1].strip():
            return
        names, duty = got[0], got[1].strip()
        for name in names:
            if name not in found:
                found[name] = Department(name, duty, line, True, where.path, section.label)
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
                    add((names, child.body) if names else None, child.line, child)
                else:
                    add(_departments_in(child.text.partition("\n")[0], None), child.line, child)
            # Departments written one paragraph or table row each (市自然资源局：…).
            for text, cells, line in child.paragraphs:
                add(_departments_in(text, cells), line, child)
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


# ------------------------------------------------------------- lead of an item

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
# Words every duty and every check uses: they say nothing about who leads.
_PLAIN_TERMS = frozenset(
    "是否 情况 符合 要求 规定 开展 加强 依法 检查 排查 整治 进行 落实 负责 相关 行为 违法 "
    "违规 查处 严格 管理 监督 工作 部门 单位 企业 按照 对于 及时 全面 有关 实施 组织 配合 "
    "督促 指导 做好 加大 力度 专项 行动 问题 隐患 存在 确保".split()
)
_NAMED_AGENCY = re.compile(
    r"(?P<agency>[\u4e00-\u9fff]{2,8}?)(?:部门|机关)(?:颁发|核发|发放|审批)的《"
)


_PLAIN = re.compile("|".join(sorted(_PLAIN_TERMS, key=len, reverse=True)))


_ACTOR_OPENING = re.compile(r"^(?:领导小组|工作专班|专班|指挥部|各部门|各单位|成员单位|市)")
_OFFICE_OPENING = re.compile(r"^(?:领导小组|工作专班|专班|指挥部)(?:办公室)?")
# The site a question is about (再生资源回收站点是否…) is every department's concern.
_SITE = re.compile(r"^.*?(?:站点|企业|单位|场所|加油站|经营者|工地|油库)")


def _terms(text: str) -> set[str]:
    """Characters and character pairs: Chinese words without a word list.

    Licence names (《营业执照》) and plain words are taken out first: they say
    nothing about whose duty a check is.
    """
    text = _PLAIN.sub(" ", re.sub(r"《[^《》]*》", " ", text))
    terms: set[str] = set()
    for run in _CJK_RUN.findall(text):
        terms.update(run)
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    return terms


def _weight(term: str) -> float:
    # A single character counts half: 税 alone says a lot, 的 next to nothing.
    return 0.5 if len(term) == 1 else 1.0


class LeadFinder:
    """Who leads an item: the department the notice names for it, else whose duty it is.

    In order: a department named as the sentence's subject (一是各乡镇加大巡查力度;
    领导小组办公室… is the lead office); the agency that issues the licence asked
    about (应急管理部门颁发的《…》); a matter one kind of department handles
    (rules.DEPARTMENT_TOPICS); the clause's 牵头 note; the department whose duty
    (职责分工) the item matches best; the lead office.
    """

    MIN_SCORE = 2.5  # a duty must share this much distinctive wording
    MIN_LEAD = 1.3  # the best duty must beat the runner-up by this factor

    def __init__(self, notice: Notice) -> None:
        self.notice = notice
        self.stood_in = False
        self.departments = [d for d in notice.departments if d.from_division]
        self.clauses = [
            [_terms(s) for s in re.split(r"[。；;，,]", d.duties) if s] for d in self.departments
        ]
        df: Counter[str] = Counter()
        for clauses in self.clauses:
            df.update(set().union(*clauses) if clauses else set())
        n = len(self.departments)
        self.weight = {t: math.log((n + 1) / (count + 0.5)) * _weight(t) for t, count in df.items()}
        self.names = sorted((d.name for d in notice.departments), key=len, reverse=True)

    def _score(self, wanted: set[str], index: int) -> float:
        return max(
            (sum(self.weight[t] for t in wanted & terms) for terms in self.clauses[index]),
            default=0.0,
        )

    @staticmethod
    def _asked(text: str) -> str:
        # The site asked about (再生资源回收站点是否…) is every department's; what is
        # asked about it decides.
        subject, _, rest = text.partition("是否")
        m = _SITE.match(subject)
        return subject[len(m.group(0)) :] + rest if m else text

    def scores(self, text: str) -> list[tuple[float, str]]:
        """(match of the text with the department's best duty sentence, department)."""
        wanted = _terms(self._asked(text))
        return sorted(
            ((self._score(wanted, k), d.name) for k, d in enumerate(self.departments)),
            reverse=True,
        )

    def topical(self, text: str) -> str | None:
        """The one listed department that handles what the text is about, if one does."""
        found = set(topic_departments(self._asked(text), [d.name for d in self.departments]))
        return found.pop() if len(found) == 1 else None

    def named(self, text: str) -> str | None:
        """A department the sentence opens with, as its subject."""
        opening = re.sub(r"^(?:[一二三四五六七八九十]+是|由|同时)", "", text)
        if _OFFICE_OPENING.match(opening) and self.notice.lead_office:
            return self.notice.lead_office
        for name in self.names:
            short = name.removeprefix("市")
            if opening.startswith(name) or (len(short) >= 3 and opening.startswith(short)):
                return name
        return None

    def opens_with_actor(self, text: str) -> bool:
        """Whether the sentence opens with someone doing it (领导小组办公室…, 各部门…)."""
        return bool(
            re.match(
                r"^(?:[一二三四五六七八九十]+是)?(?:领导小组|专班|各部门|各单位|成员单位|市)", text
            )
        )

    def agency(self, focus: str, basis: str) -> str | None:
        """The agency that issues the licence the item asks about (…部门颁发的《X》)."""
        docs = re.findall(r"《[^《》]+》", focus)
        m = None
        for found in _NAMED_AGENCY.finditer(basis):
            if not docs or basis.startswith(docs[0], found.end() - 1):
                m = found
                break
        if not m:
            return None
        # 应急管理部门 → 市应急管理局, 市场监管部门 → 市市场监督管理局; an agency the
        # notice lists no department for (商务部门) is the lead office's to check.
        agency = m["agency"]
        pairs = {agency[i : i + 2] for i in range(len(agency) - 1)}
        ranked = sorted(
            ((sum(p in d.name for p in pairs), d.name) for d in self.notice.departments),
            reverse=True,
        )
        if ranked and ranked[0][0] and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
            return ranked[0][1]
        return self.notice.lead_office or None

    def best(self, text: str) -> str | None:
        scores = self.scores(text)
        if not scores or scores[0][0] < self.MIN_SCORE:
            return None
        if len(scores) > 1 and scores[0][0] < self.MIN_LEAD * scores[1][0]:
            return None
        return scores[0][1]

    def lead(self, focus: str, basis: str, clause_lead: str | None) -> str:
        """The item's lead; ``stood_in`` tells whether only the lead office stands in."""
        found = (
            self.named(focus)
            or self.named(basis)
            or self.agency(focus, basis)
            or self.topical(focus)
            or clause_lead
            or self.best(focus)
        )
        if found is None and focus == basis:
            found = self.best(basis)
        self.stood_in = found is None
        return found or self.notice.lead_office
