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
        "成立专项整治行动工作领导小组",
    ),
    _org(
        "组织协调，不是现场检查事项",
        r"(?:组织|统筹|综合)协调|牵头抓总",
        "牵头负责专项行动的组织协调",
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
        r"长效[^。；，,]{0,4}机制|长效(?:管理|监管)|常态化监管机制|建章立制",
        "建立长效整改机制",
    ),
    _org(
        "起草制度与方案，不是现场检查事项",
        r"^(?:牵头|负责)?(?:研究)?(?:制定|起草|出台|印发|修订)[^。；]{0,30}(?:方案|办法|制度|规定|细则|清单|规划)",
        "牵头制定工作实施方案",
    ),
    _org(
        "指向附件：检查事项见附件的检查表",
        r"^(?:对照|按照|依照|参照)?(?:详见)?附件\d*(?:所列|中的)?",
        "对照附件1逐项检查",
    ),
    _org(
        "配合其他部门的工作，由牵头部门检查",
        r"^(?:负责)?(?:配合|协助)(?:其他|各|有关|相关)?(?:职能)?(?:部门|单位)",
        "配合其他职能部门依法查处成品油市场违法违规行为",
    ),
    _org(
        "考核问责部门，不是现场检查事项",
        r"(?:纳入|列入)[^。；]{0,12}考核|督查督办|约谈|追责问责|问责追责",
        "将专项整治工作纳入年度目标考核",
    ),
)


# Words of a requirement an inspector verifies on the spot.
CHECK_CUE = re.compile(
    r"是否|违法|非法|违规|盗采|隐患|检查|排查|核查|查处|查验|严禁|禁止|台账|证照|许可证|执照|无证|"
    r"持有|取得《"
)
# Rows that never hold a site check, whatever else the sentence says.
_NEVER_A_CHECK = (
    "法律法规清单，不是检查事项",
    "完成时限，不是检查事项",
    "配合其他部门的工作，由牵头部门检查",
    "指向附件：检查事项见附件的检查表",
)


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


# ------------------------------------------------------------------ questions


@dataclass(frozen=True)
class QuestionRule:
    """A directive of the notice → a question about the site (the first row that fits)."""

    name: str
    pattern: re.Pattern  # matched against the whole requirement
    template: str  # filled with the pattern's named groups (and ``defaults``)
    example: str  # a requirement as a notice writes it…
    question: str  # …and the question this row makes of it
    defaults: tuple[tuple[str, str], ...] = ()

    def ask(self, requirement: str) -> str | None:
        m = self.pattern.fullmatch(requirement)
        if not m:
            return None
        values = dict(self.defaults)
        values.update({k: v or values.get(k, "") for k, v in m.groupdict().items()})
        return self.template.format(**values)


_ILLEGAL = (
    r"非法|违法|无证|无照|擅自|私设|盗采|偷采|黑加油|窝点|未经许可|不符合国家标准|违规|伪证|违禁|"
    r"超范围|超限|超载|偷逃税|偷税|漏税"
)
_SUBJECT = r"(?P<who>[^，,；;。]{0,20}?)"


def _rule(name, pattern, template, example, question, **defaults) -> QuestionRule:
    return QuestionRule(
        name, re.compile(pattern), template, example, question, tuple(defaults.items())
    )


QUESTION_RULES: tuple[QuestionRule, ...] = (
    _rule(
        "已是问题",
        r"(?:同时)?(?:重点)?(?:排查整治|排查|检查|核查|核实|查看|查阅|确认)?(?P<q>.*是否.*)",
        "{q}",
        "检查企业源头控制、过程管理及末端治理是否有效",
        "企业源头控制、过程管理及末端治理是否有效",
    ),
    _rule(
        "禁止性规定（严禁/禁止/不得）",
        _SUBJECT + r"(?:严禁|禁止|不得|杜绝)(?P<act>.+?)(?:的(?:行为|情况|现象))?",
        "{who}是否存在{act}的情况",
        "严禁市外非法油品流入我市",
        "是否存在市外非法油品流入我市的情况",
    ),
    _rule(
        "持证要求（须/应持有《…》）",
        _SUBJECT + r"(?:须|应|必须|应当|要)(?:持有|取得|具备|办理)(?P<doc>《[^《》]+》.*)",
        "{who}是否持有{doc}",
        "项目建设单位所用苗木须持有《植物检疫证书》",
        "项目建设单位所用苗木是否持有《植物检疫证书》",
    ),
    _rule(
        "台账与制度（建立…台账）",
        r"(?:督促)?" + _SUBJECT + r"(?:应|须|要)?(?P<verb>建立健全|建立|完善|落实)"
        r"(?P<what>[^，,；;]*?(?:台账|档案|登记簿|记录|制度|预案))",
        "{who}是否{verb}{what}",
        "建立废旧金属收购登记台账",
        "是否建立废旧金属收购登记台账",
    ),
    _rule(
        "设施与标识（设置…设施）",
        _SUBJECT + r"(?:应|须|要|按规定)?(?P<verb>设置|配备|配齐|安装|张贴|悬挂)"
        r"(?P<what>[^，,；;]*?(?:设施|设备|器材|装置|标识|标志|警示牌|告示牌|制度|围挡))",
        "{who}是否{verb}{what}",
        "设置防火防盗设施",
        "是否设置防火防盗设施",
    ),
    _rule(
        "检查并查处（对…检查，查处…行为）",
        r"(?:对)?(?P<obj>[^，,；;]{2,24}?)(?:的|进行|开展)?(?:执法|安全)?(?:检查|清理整治|排查|巡查)[，,]"
        r"(?:依法)?查处(?P<act>[^；;]+?)(?:等)?(?:违法|违规)?(?P<end>行为|问题)",
        "{obj}是否存在{act}{end}",
        "渣土运输车辆的执法检查，查处带泥上路、沿途撒漏行为",
        "渣土运输车辆是否存在带泥上路、沿途撒漏行为",
    ),
    _rule(
        "防范性规定（防止…行为）",
        r"(?:严防|防止|杜绝)(?P<act>[^；;]+?)(?P<end>行为|现象|问题)",
        "是否存在{act}{end}",
        "防止油品从正规成品油批发企业（油库）流出从事非法经营行为",
        "是否存在油品从正规成品油批发企业（油库）流出从事非法经营行为",
    ),
    _rule(
        "核查台账（核查…台账）",
        r"(?:核查|检查|查看|查阅|核实)(?P<what>[^，,；;]*?(?:台账|记录|档案|登记簿|票据|发票|证照))",
        "{what}是否完整",
        "核查成品油批发企业购销台账",
        "成品油批发企业购销台账是否完整",
    ),
    _rule(
        "检查设施（检查…设施）",
        r"(?:检查|核查|查看|查验)(?P<what>[^，,；;]*?(?:设施|设备|器材|装置|标识|标志|围挡))",
        "{what}是否完好有效",
        "检查加油站消防设施",
        "加油站消防设施是否完好有效",
    ),
    _rule(
        "落实责任（落实…责任制）",
        r"(?:严格|全面|认真|切实)?落实(?P<what>[^，,；;]{2,30}?(?:责任制|责任|制度|措施|要求))",
        "{what}是否落实到位",
        "严格落实重大危险源包保责任制",
        "重大危险源包保责任制是否落实到位",
    ),
    _rule(
        "督促企业（督促企业…）",
        r"(?:同时)?(?:监督指导|督促指导|指导督促|督促)(?P<who>企业|经营单位|单位)(?P<rest>.+)",
        "{who}是否{rest}",
        "督促企业落实防火责任制",
        "企业是否落实防火责任制",
    ),
    _rule(
        "打击违法行为（打击/查处…行为）",
        r"(?:同时)?(?:依法)?(?:严厉|严肃|坚决)?(?:打击|查处|清除|取缔|整治)(?:并查处)?"
        r"(?P<act>(?:(?!行为$|问题$).)*(?:" + _ILLEGAL + r").*?)(?P<end>行为|问题|现象|情况|隐患)?",
        "是否存在{act}{end}",
        "依法查处采购、销售地炼厂未税油品、偷税漏税等税收违法行为",
        "是否存在采购、销售地炼厂未税油品、偷税漏税等税收违法行为",
        end="的情况",
    ),
)


def question_for(requirement: str) -> str | None:
    """The question the first fitting row of QUESTION_RULES makes, or None."""
    for rule in QUESTION_RULES:
        asked = rule.ask(requirement)
        if asked is not None:
            return asked
    return None
