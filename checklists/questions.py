"""Step 6: a requirement as the questions an inspector answers at the site."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rules import question_for

# ---------------------------------------------------------------------------- parts

_OPEN = "（(《“‘〔【["
_CLOSE = "）)》”’〕】]"


def _top_level_splits(text: str, separators: str) -> list[tuple[int, int]]:
    """Spans of text between separators that are not inside brackets or quotes."""
    spans = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and ch in separators:
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(text)))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \n，,。；;：:":
        start += 1
    while end > start and text[end - 1] in " \n，,。；;：:":
        end -= 1
    return start, end


# A sentence that states the consequence or purpose of the one before it belongs
# with it: 凡达到刑事追诉标准…依法移送司法机关, 确保…
_FOLLOW_ON = re.compile(r"^(?:凡|确保|以便|从而|进而|形成|对达到|对构成|对符合立案|依法移送|追究)")
_CATCH_ALL = re.compile(r"^其他(?:违反|违法|违规|非法)")


def _parts(text: str) -> list[tuple[str, str]]:
    """Split a unit into the requirements it states: (basis, the requirement itself).

    Both are verbatim from the text; the basis also takes in a following sentence
    that only states the consequence or purpose (凡达到刑事追诉标准的…).
    """
    pieces: list[tuple[int, int]] = []
    for s, e in _top_level_splits(text, "。；;\n"):
        # …，同时加强自备油罐的排查整治 starts a second requirement in one sentence.
        cut = [m.start() for m in re.finditer(r"[，,](?:同时|并督促)", text[s:e])]
        bounds = [s] + [s + c for c in cut] + [e]
        for a, b in zip(bounds, bounds[1:], strict=False):
            a, b = _trim(text, a, b)
            if b - a >= 4:
                pieces.append((a, b))
    merged: list[tuple[int, int, int]] = []  # start, end of the requirement, end of basis
    for a, b in pieces:
        chunk = text[a:b]
        if _CATCH_ALL.match(chunk):
            continue
        if merged and _FOLLOW_ON.match(chunk):
            merged[-1] = (merged[-1][0], merged[-1][1], b)
        else:
            merged.append((a, b, b))
    return [(text[a:c], text[a:b]) for a, b, c in merged]


# ------------------------------------------------------------------------ questions

_LEADING_CHECK = re.compile(
    r"^(?:同时)?(?:重点)?(?:排查整治|排查|检查|核查|核实|查看|查阅|确认|严格核查|严密排查)"
)
_STRIKE = re.compile(
    r"^(?:同时)?(?:依法)?(?:严厉|严肃|坚决)?(?:打击|查处|清除|取缔|整治)(?:并查处)?"
)
_ILLEGAL = re.compile(
    r"非法|违法|无证|无照|擅自|私设|盗采|偷采|黑加油|窝点|未经许可|不符合国家标准|违规|伪证|违禁"
)
_URGE = re.compile(r"^(?:同时)?(?:监督指导|督促指导|指导督促|督促)(?:企业|经营单位|单位)")
_PROBLEM = re.compile(
    r"不牢|不落实|不到位|不严|不足|薄弱|滞后|未按|未建立|未建设|未形成|没有|缺乏|不深入|不彻底|"
    r"达不到|只挂名|不完善|两张皮|割裂"
)
_DIRECTIVE = re.compile(
    r"^(?:同时)?(?:全面|深入|进一步|严格|认真|切实|积极|加快|持续|常态化|依法|坚决|重点)*"
    r"(?:开展|建立|落实|配齐|制定|完善|推动|推进|强化|加强|实现|健全|执行|组织|确认|排查|提升|"
    r"深化|对照|规范|查明|明确|储备|严把|合理|保持|预留|加快|督促|监督|严防|严禁|杜绝|严格)"
)
_DOC_NAME = re.compile(r"《([^《》]*?(?:证|照|证书|执照|许可|批准书))》")
_NEGATION = re.compile(r"未获得|未取得|未持有|未办理|无(?=《)")
_CHECK_OBJECTS = re.compile(
    r"对(?P<objs>[^，,。；;对]{4,60}?)(?:进行|开展)(?:监督)?(?:检查|核查|查验|排查)"
)
_SITE_WORDS = re.compile(r"企业|单位|工地|站|场所|窝点|车辆")
_ENTITY = re.compile(r"^(?P<entity>.*?(?:回收站点?|站点|企业|加油站|单位|场所|经营者|油库|工地))")
_BEHAVIOUR_VERB = re.compile(r"开采|采砂|洗砂|经营|销售|运输|储存|生产|回收|从事|使用|处置")


_CONTEXT = re.compile(
    r"^(?:(?:围绕|针对|聚焦|按照|根据|依据)[^，,]*(?:方面|领域|环节|要求|工作)?"
    r"|对[^，,]{2,40}(?:开展|进行)(?:检查|排查|核查)(?:工作)?)$"
)
_DEADLINE = re.compile(r"^(?P<when>\d{4}年(?:年底|底|\d{1,2}月(?:\d{1,2}日)?)前)[，,]?")
_ENTITY_WORD = re.compile(r"企业|站点|加油站|单位|场所|经营者|回收站|工地|油库")


_LONG = 90


def _finish(question: str) -> str:
    """End a question with ？; a long one loses its leading context, never a part of a clause.

    The notice's sentence stays whole in ``basis``; the question keeps the clauses
    from the one that asks (是否…) to the end.
    """
    question = question.strip().rstrip("。；;，,：: ")
    question = re.sub(r"等$", "", question)
    if len(question) > _LONG and "是否" in question:
        spans = _top_level_splits(question, "，,")
        asking = next(k for k, (a, b) in enumerate(spans) if "是否" in question[a:b])
        if asking:
            question = _LEADING_CHECK.sub("", question[spans[asking][0] :])
    return question + "？"


def _strip_verbs(text: str) -> str:
    """Drop the inspector's verb (排查整治, 严厉打击…) to get at what is checked."""
    while True:
        shorter = _STRIKE.sub("", _LEADING_CHECK.sub("", text), count=1)
        if shorter == text:
            return text
        text = shorter


def _ask(part: str) -> str:
    """One question for one requirement."""
    text = part.strip()
    deadline = _DEADLINE.match(text)
    if deadline:
        return _finish(_ask(text[deadline.end() :])[:-1] + f"（时限：{deadline['when']}）")
    asked = question_for(text)
    if asked is not None:
        return _finish(asked)
    rest = _strip_verbs(text)
    if rest != text and (_ILLEGAL.search(rest) or re.search(r"(?:行为|问题|隐患)$", rest)):
        suffix = "" if re.search(r"(?:行为|问题|现象|情况|隐患)$", rest) else "的情况"
        return _finish("是否存在" + rest + suffix)
    if rest != text and rest.endswith("情况"):
        return _finish(rest + "是否符合要求")
    if re.search(r"行为$", text) and not _DIRECTIVE.match(text):
        return _finish("是否存在" + text)
    if _PROBLEM.search(text) and not _DIRECTIVE.match(text):
        return _finish("是否存在以下问题：" + text)
    return _finish("是否" + _LEADING_CHECK.sub("", text))


@dataclass
class _Draft:
    text: str
    basis: str
    focus: str  # the words this question is about, for site types and severity


def _with_subject(question: str, subject: str | None) -> str:
    """再生资源回收站点 + 证照是否齐全: give a bare 是否 question the clause's subject."""
    own = question.split("是否")[0]
    if subject and not _ENTITY_WORD.search(own) and not own.startswith(subject):
        return subject + question
    return question


def _subject_of(question: str) -> str | None:
    m = _ENTITY.match(question.split("是否")[0]) if "是否" in question else None
    return m["entity"] if m else None


def _split_questions(part: str, subject: str | None = None) -> tuple[list[_Draft], str | None]:
    """Items for one requirement, several when it asks several things, and its subject.

    ``subject`` is the site named by an earlier requirement of the same clause
    (排查整治加油站是否…；是否开展…), for questions that do not repeat it.
    """
    docs = _DOC_NAME.findall(part)
    if docs and _NEGATION.search(part):
        verb = "持有" if re.search(r"车|驾驶员|押运员", part) else "取得"
        drafts = [
            _Draft(_finish(f"是否{verb}《{doc}》"), part, f"未{verb}《{doc}》")
            for doc in dict.fromkeys(docs)
        ]
        return drafts, subject

    if "是否" in part:
        # 拆解过程中对设备容器内部情况不明的，是否采取… is one question: a piece
        # without 是否 qualifies the next question, or extends the last one.
        questions: list[str] = []
        pending = ""
        for a, b in _top_level_splits(part, "，,；;"):
            piece = part[a:b].strip()
            if not piece:
                continue
            if "是否" in piece:
                piece = re.sub(r"^(?:如|例如|比如)", "", _LEADING_CHECK.sub("", piece))
                questions.append(pending + piece)
                pending = ""
            elif _DIRECTIVE.match(piece) or _CONTEXT.match(piece):
                # A directive (加强…管理) or a topic (围绕…方面) next to the question
                # is no part of what is asked; basis keeps it.
                continue
            elif questions:
                questions[-1] += "，" + piece
            else:
                pending += piece + "，"
        drafts = []
        for q in questions:
            q = _with_subject(_LEADING_CHECK.sub("", q), subject)
            subject = subject or _subject_of(q)
            drafts.append(_Draft(_finish(q), part, q))
        return drafts, subject

    objects: list[str] = []
    for m in _CHECK_OBJECTS.finditer(part):
        names = [re.sub(r"等(?:方面|情况)?$", "", o) for o in m["objs"].split("、")]
        if len(names) >= 2 and all(2 <= len(o) <= 14 for o in names):
            if not any(_SITE_WORDS.search(o) for o in names):
                objects = names
    if objects:
        return [_Draft(_finish(f"{obj}是否符合要求"), part, obj) for obj in objects], subject

    behaviour = _strip_verbs(part)
    if re.search(r"行为$", behaviour) and "，" not in behaviour and "," not in behaviour:
        elements = [behaviour[a:b] for a, b in _top_level_splits(behaviour, "、")]
        last = elements[-1]
        verb = _BEHAVIOUR_VERB.search(last)
        if (
            len(elements) >= 3
            and verb
            and all(len(e) <= 10 and not _BEHAVIOUR_VERB.search(e) for e in elements[:-1])
        ):
            tail = last[verb.start() :]
            acts = [e + tail for e in elements[:-1]] + [last]
            return [_Draft(_finish("是否存在" + act), part, act) for act in acts], subject

    # A directive of several clauses (严格…管控，核查…台账，防止…行为): the clauses a
    # rule turns into a fact to check are the items, one each.
    if _DIRECTIVE.match(part):
        facts = []
        for a, b in _top_level_splits(part, "，,"):
            clause = part[a:b].strip()
            asked = question_for(clause) if clause else None
            if asked:
                facts.append(_Draft(_finish(_with_subject(asked, subject)), part, clause))
        if facts:
            return facts, subject
    return [_Draft(_ask(part), part, part)], subject
