"""The generator's tables: what a reviewer reads, and extends, to change its output.

Three tables, each row with an example from a notice:

- ``ORGANISATIONAL``: tasks that are no site check (meetings, publicity, reports
  upward, 长效机制, drafting rules, law lists, 完成时限); such a requirement is left
  out of the items and listed in the draft's ``excluded`` with the row's reason.
- ``QUESTION_RULES``: how a directive becomes a question about the site
  (严禁… → 是否存在…; 须/应持有… → 是否持有…; 建立…台账 → 是否建立…台账).
- ``DEPARTMENT_TOPICS``: matters that belong to one kind of department wherever
  a notice leaves it implicit (暴力抗法 → 公安), for an item's lead department.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Organisational:
    reason: str  # said in the draft's excluded list, in Chinese
    pattern: re.Pattern
    example: str  # a requirement of a real notice this row leaves out


def _org(reason: str, pattern: str, example: str) -> Organisational:
    return Organisational(reason, re.compile(pattern), example)


ORGANISATIONAL: tuple[Organisational, ...] = (
    _org(
        "法律法规清单，不是检查事项",
        r"^(?:[（(]?\d*[）)]?\s*)?(?:《[^《》]+》[、，,和及与]?\s*){1,}(?:等(?:法律法规|相关规定)?)?$",
        "《中华人民共和国生物安全法》",
    ),
    _org(
        "完成时限，不是检查事项", r"^(?:完成|办结)?时限[：:]|^完成时间[：:]", "完成时限：2024年6月"
    ),
    _org(
        "组织领导（领导小组、工作专班），不是现场检查事项",
        r"成立[^。；]{0,30}(?:领导小组|工作专班|专班|指挥部|工作组)|领导小组(?:办公室)?(?:设在|负责)|"
        r"主要领导(?:要)?亲自|(?:组长|副组长|成员)[：:]",
        "成立市打击盗采砂金专项整治行动工作领导小组",
    ),
    _org(
        "会议与调度，不是现场检查事项",
        r"(?:召开|组织召开|定期召开)[^。；]{0,20}(?:会议|调度会|推进会|联席会)|联席会议制度",
        "定期召开联席会议，通报工作进展",
    ),
    _org(
        "宣传教育，不是现场检查事项",
        r"^[^。；]{0,12}(?:宣传|舆论|曝光|举报渠道|举报电话|畅通举报|宣传报道)|广泛宣传|加大宣传",
        "各成员单位要畅通举报渠道，广泛宣传",
    ),
    _org(
        "向上报送材料，不是现场检查事项",
        r"(?:报送|上报|报告)[^。；]{0,30}(?:总结|进展|情况|报表|信息|联系人)|(?:总结|报表)[^。；]{0,20}"
        r"(?:报送|上报)|于\d{1,2}月\d{1,2}日前报",
        "于9月20日前报送工作总结及整治报表",
    ),
    _org(
        "长效机制建设，不是现场检查事项",
        r"长效(?:机制|管理|监管)|常态化监管机制|建章立制",
        "建立长效整改机制",
    ),
    _org(
        "起草制度与方案，不是现场检查事项",
        r"^(?:研究)?(?:制定|起草|出台|印发|修订)[^。；]{0,30}(?:方案|办法|制度|规定|细则|清单|规划)",
        "牵头制定工作实施方案",
    ),
    _org(
        "考核问责部门，不是现场检查事项",
        r"(?:纳入|列入)[^。；]{0,12}考核|督查督办|约谈|追责问责|问责追责",
        "将专项整治工作纳入年度目标考核",
    ),
)


# Words of a requirement an inspector verifies on the spot.
CHECK_CUE = re.compile(
    r"是否|违法|非法|违规|盗采|隐患|检查|排查|核查|查处|查验|严禁|禁止|台账|证照|许可证|执照|无证"
)
# Rows that never hold a site check, whatever else the sentence says.
_NEVER_A_CHECK = ("法律法规清单，不是检查事项", "完成时限，不是检查事项")


def organisational(requirement: str) -> Organisational | None:
    """The row that says why a requirement is no site check, or None.

    A requirement that also asks for a check on the spot (…开展隐患排查整治，并督促
    企业建立长效机制) stays an item; law lists and 完成时限 never are.
    """
    checked = bool(CHECK_CUE.search(requirement))
    for row in ORGANISATIONAL:
        if row.pattern.search(requirement) and (row.reason in _NEVER_A_CHECK or not checked):
            return row
    return None


# What some checks are about names the department that handles such matters
# wherever a notice leaves it implicit: (words of the check, words of the name).
DEPARTMENT_TOPICS: tuple[tuple[re.Pattern, re.Pattern, str], ...] = tuple(
    (re.compile(check), re.compile(name), example)
    for check, name, example in (
        (
            r"抗法|妨碍执法|阻碍[^，。]{0,4}执法|违禁|收赃|销赃|窝赃|治安",
            r"公安",
            "暴力抗法 → 市公安局",
        ),
        (r"偷税|漏税|未税|逃税|骗税|税收", r"税务", "偷税漏税 → 税务局"),
        (
            r"营业执照|无照|证照|守法经营|依法经营|超范围经营|核准经营范围",
            r"市场监督|市场监管",
            "证照是否齐全 → 市场监督管理局",
        ),
        (r"火灾|消防|防火", r"消防", "火灾隐患 → 消防救援支队"),
    )
)


def topic_departments(check: str, names: list[str]) -> list[str]:
    """The departments among ``names`` that handle what the check is about."""
    return [
        name
        for pattern, department, _ in DEPARTMENT_TOPICS
        if pattern.search(check)
        for name in names
        if department.search(name)
    ]
