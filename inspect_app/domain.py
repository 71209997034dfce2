"""Domain vocabulary shared by every area: districts, site kinds, severities, statuses.

These are the words of the Golmud campaigns (专项整治); the database stores the
Chinese names of districts and site types as they appear in the notices, and the
English codes of the contract for severities, answers, roles and statuses.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from checklists import vocab

# 格尔木市 districts and townships an inspector can be assigned to.
DISTRICTS: tuple[str, ...] = (
    "东城区",
    "西城区",
    "察尔汗行政委员会",
    "昆仑经济技术开发区",
    "陆港园区",
    "郭勒木德镇",
    "唐古拉山镇",
    "乌图美仁乡",
    "大格勒乡",
)

# Kinds of site the campaigns inspect. "监管部门" stands for a regulator that a
# notice checks itself (hazchem sections 1 and 2 hold the departments to account).
SITE_TYPES = vocab.SITE_TYPES  # the generator's vocabulary is the domain's

# 一般问题 (立行立改, fixed on the spot) and 重点问题 (deadline, responsible unit, 销号).
SEVERITIES: tuple[str, ...] = ("general", "key")
SEVERITY_LABELS = {"general": "一般", "key": "重点"}

ANSWER_TYPES: tuple[str, ...] = ("pass_fail_na",)
ANSWER_RESULTS: tuple[str, ...] = ("pass", "fail", "na")

ROLES: tuple[str, ...] = ("inspector", "team_lead", "office")
ROLE_LABELS = {"inspector": "检查员", "team_lead": "组长", "office": "专项办"}

FINDING_STATUSES: tuple[str, ...] = ("open", "rectifying", "pending_review", "closed", "voided")
# A finding in one of these is still to be dealt with (counted open, can be overdue).
OPEN_STATUSES: tuple[str, ...] = ("open", "rectifying", "pending_review")
FINDING_STATUS_LABELS = {
    "open": "待整改",
    "rectifying": "整改中",
    "pending_review": "待复查",
    "closed": "已销号",
    "voided": "已作废",
}

# Enforcement measures the notices list (执法措施).
ENFORCEMENT_KINDS = {
    "order_rectify": "责令限期整改",
    "suspend": "责令停产停业整顿",
    "ban": "取缔",
    "fine": "行政处罚",
    "revoke_licence": "吊销证照",
    "refer_police": "移交公安机关",
    "refer_judicial": "移交司法机关",
    "blacklist": "纳入黑名单",
}

# Default rectification deadlines (days after the inspection) when a campaign sets none.
DEFAULT_DEADLINE_DAYS = vocab.DEFAULT_DEADLINE_DAYS

TIMEZONE = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TIMEZONE)


def today_shanghai() -> date:
    """Overdue is judged by the calendar day in Golmud (Beijing time), not by UTC."""
    return datetime.now(SHANGHAI).date()


# The plausible window of every time and date the API takes (inspection times, deadlines,
# filters): the campaigns are of this century. Anything outside is a typing or clock
# slip, and refusing it keeps every conversion and date sum far from datetime's limits.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def add_days(day: date, days: int) -> date:
    """``day`` plus ``days``, held at LATEST_DATE: a deadline never overflows the calendar."""
    room = (LATEST_DATE - day).days
    return LATEST_DATE if days >= room else day + timedelta(days=days)
