"""Step 5b: what kind of site an item is about, how grave a finding is, whether to photograph.

Read from the item's own words first (the question's subject, the question, its
basis), then from the clause around it within the kinds of site the campaign is
about; the regulator itself (监管部门) when the item holds departments to account.
"""

from __future__ import annotations

import re
from collections import Counter

from .model import Notice
from .questions import _LEADING_CHECK, _STRIKE, _URGE
from .questions import _Draft as Draft
from .vocab import REGULATOR, SITE_TYPES

_SITE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "加油站": ("加油站", "加油点", "成品油零售", "黑加油"),
    "油库": ("油库", "批发企业", "油气储存", "储油库", "石油储备库"),
    "工矿企业自备油罐": ("自备油罐", "自备用油", "工矿企业", "非煤矿山", "用油单位"),
    "建筑工地": ("建筑工地", "施工工地", "工地", "工程项目", "施工单位", "施工现场"),
    "流动加油车": ("流动加油", "流动售油", "流动销售", "运油车", "改装机动车", "改装车辆"),
    "再生资源回收站点": ("再生资源", "回收站", "废旧金属", "废品回收"),
    "危险化学品企业": (
        "危险化学品",
        "危化",
        "化工",
        "重大危险源",
        "硝酸铵",
        "液氯",
        "储罐",
        "燃气",
        "加气站",
        "充装站",
        "易制爆",
        "易制毒",
        "剧毒",
        "危险废物",
        "危险货物",
        "危货",
        "压力管道",
        "压力容器",
        "特种设备",
    ),
    "砂石场": (
        "砂石场",
        "砂石料场",
        "砂石堆场",
        "砂石企业",
        "砂石行业",
        "砂石资源",
        "采砂(?!金)",
        "砂场",
        "采石",
        "堆砂",
    ),
    "洗砂场": ("洗砂",),
    "砂金盗采点": ("砂金", "采金", "盗采"),
}
_REGULATOR = re.compile(
    r"监管部门|监管执法|执法人员|执法力量|行业监管|部门之间|相关部门|成员单位|领导小组|联合执法|"
    r"联合检查|执法检查|审查机制|服务对象|警力|巡逻|乡镇|书面报告|立案|清场|督导|考核|下发《|"
    r"出台|把关|管理机构|监管人员|线索|问责|受理|失职渎职|保护伞"
)
_ENTERPRISE_SUBJECT = re.compile(r"^(?:部分)?[^，,。]{0,12}?(?:企业|站点|经营单位|加油站|场所)")

_KEY = re.compile(
    r"重大(?:事故)?隐患|重大危险源|非法|违法|无证|无照|取缔|盗采|偷采|私挖|严禁|擅自|私设|伪证|"
    r"超范围|超许可|过期|失效|未取得|未获得|未持有|未经许可|违禁|黑加油|窝点|不合格|不符合国家标准|"
    r"停产整顿|火灾|爆炸|紧急切断|安全仪表|自动化控制|外部安全距离|包保责任|采金装置|超载|违规"
)
_REGULATOR_KEY = re.compile(r"失职|渎职|保护伞|关系网|不受理|不查办|包庇|徇私")
_PHOTO = re.compile(
    r"设施|设备|装置|储罐|油罐|罐区|管道|现场|堆放|存放|码放|标识|标志|告示牌|张贴|警示|围挡|围栏|"
    r"消防器材|应急物资|环境卫生|清运|停放|场地|采金|机械|采砂|洗砂|开采|河道|植被|排水|"
    r"停车场|窝点|黑加油站|油罐|易燃易爆|氧气瓶|违禁物品|拆解"
)
_PAPER_ONLY = re.compile(r"台账|登记|制度|培训|预案|演练|报告|发票|备案|申报|证照|许可证|执照|体系")


def _strip_documents(text: str) -> str:
    # A licence name (《危险化学品经营许可证》) says nothing about the kind of site.
    return re.sub(r"《[^《》]*》", "", text)


def _keyword_sites(text: str, allowed: set[str] | None = None) -> list[str]:
    plain = _strip_documents(text)
    found = [
        site
        for site in SITE_TYPES
        if site in _SITE_KEYWORDS and any(re.search(w, plain) for w in _SITE_KEYWORDS[site])
    ]
    if allowed is not None:
        found = [site for site in found if site in allowed]
    return found


def campaign_sites(notice: Notice, texts: list[str]) -> list[str]:
    """The kinds of site the campaign is about, most mentioned first."""
    counts: Counter[str] = Counter()
    # The title names what the campaign is about; count it as much as a clause.
    text = _strip_documents(notice.title * 5 + "\n" + "\n".join(texts))
    for site, words in _SITE_KEYWORDS.items():
        counts[site] = sum(len(re.findall(word, text)) for word in words)
    if not counts or counts.most_common(1)[0][1] == 0:
        return []
    top = counts.most_common(1)[0][1]
    return [site for site, count in counts.most_common() if count and count >= top * 0.2]


def site_types(draft: Draft, context: str, campaign_sites: list[str]) -> tuple[list[str], bool]:
    """The item's kinds of site, and whether the item's own words name them."""
    focus = _LEADING_CHECK.sub("", _STRIKE.sub("", draft.focus))
    allowed = set(campaign_sites) if campaign_sites else None
    enterprise = _ENTERPRISE_SUBJECT.match(focus) or _URGE.match(draft.focus)
    if not enterprise and _REGULATOR.search(draft.focus):
        return [REGULATOR], True
    # The subject of a 是否 question decides (再生资源回收企业是否存在回收危险化学品
    # 容器…); else what the question names, whatever the campaign; else the wider
    # clause, within the campaign's own kinds of site.
    subject = draft.focus.split("是否")[0] if "是否" in draft.focus else ""
    for own, text, among in (
        (True, subject, None),
        (True, draft.focus, None),
        (True, draft.basis, None),
        (False, context, allowed),
    ):
        sites = _keyword_sites(text, among)
        if sites:
            return sites, own
    return campaign_sites[:1] or [REGULATOR], False


def severity(draft: Draft, sites: list[str]) -> str:
    if sites == ["监管部门"]:
        # A regulator's lapse is a 重点问题 when it shields wrongdoing, not when
        # the clause it works on is about illegal mining.
        return "key" if _REGULATOR_KEY.search(draft.focus) else "general"
    if _KEY.search(draft.focus) or _KEY.search(draft.text):
        return "key"
    # The behaviours a campaign lists to strike at (…开采砂石资源的行为) are violations.
    return "key" if re.match(r"^是否存在.*行为？$", draft.text) else "general"


def photo_required(draft: Draft, sites: list[str]) -> bool:
    if sites == ["监管部门"]:
        return False
    about = draft.focus if draft.focus != draft.basis else draft.text
    physical = len(_PHOTO.findall(about))
    # Paperwork (台账, 证照, 预案) is recorded by number, not photographed.
    return physical > 0 and physical >= len(_PAPER_ONLY.findall(about))
