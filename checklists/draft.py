"""The generator's answer: a draft checklist with what it left out and a fit check.

``generate`` is what the command line and the dashboard call: a notice in, a
:class:`Draft` out, or :class:`NotAFieldCampaign` when the notice has nothing an
inspector checks at a site (a subsidy programme, an industry plan), with one
Chinese sentence that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .items import Built, Excluded, build_items, campaign_block, derive_prefix
from .model import Notice, NoticeError
from .notice import parse_notice
from .vocab import REGULATOR

__all__ = ["Draft", "Excluded", "NotAFieldCampaign", "Summary", "draft_from_text", "generate"]

# A field campaign has at least this many items an inspector verifies on the spot
# (the requirement asks for a check, or the item's own words name a kind of site),
# and at least this share of its items: the campaigns have 7 to 83 and 77% to 100%,
# the industry plan and the subsidy programme one each (2%, 4%).
MIN_SITE_CHECKS = 3
MIN_SITE_CHECK_SHARE = 0.2


class NotAFieldCampaign(NoticeError):
    """A notice with no task an inspector checks at a site; ``message`` says so in Chinese."""


@dataclass
class Summary:
    """The fit check every draft carries."""

    items: int
    excluded: int
    without_lead: int  # items whose lead department the notice does not give
    regulator_only: int  # items whose only site type is the regulator itself
    site_checks: int  # items whose own words name a kind of site
    missing: list[str] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        text = (
            f"草稿共{self.items}个检查项，未列入{self.excluded}处；"
            f"{self.without_lead}项未写明牵头单位（暂由牵头单位负责），"
            f"{self.regulator_only}项只检查监管部门自身"
        )
        if self.missing:
            text += "；通知中未找到：" + "、".join(m.split("（")[0] for m in self.missing)
        return text + "。"


@dataclass
class Draft:
    notice: Notice
    campaign: dict
    items: list[dict]
    excluded: list[Excluded]
    summary: Summary

    @property
    def missing(self) -> list[str]:
        return self.summary.missing

    def checklist(self) -> dict:
        """The draft in the structure of ``checklists/<code>.yaml``."""
        return {"campaign": self.campaign, "items": self.items}


def generate(notice: Notice, campaign_code: str, prefix: str | None = None) -> Draft:
    """The draft checklist of a parsed notice; NotAFieldCampaign when there is nothing to check."""
    built: Built = build_items(notice, prefix or derive_prefix(campaign_code))
    if built.site_checks < max(MIN_SITE_CHECKS, MIN_SITE_CHECK_SHARE * len(built.items)):
        title = notice.title or "该通知"
        raise NotAFieldCampaign(
            notice.source,
            notice.clauses[0].line if notice.clauses else 1,
            f"《{title}》不是现场检查的专项整治：方案中没有检查员能在现场核查的任务，"
            "无法生成检查清单。",
        )
    summary = Summary(
        items=len(built.items),
        excluded=len(built.excluded),
        without_lead=built.without_lead,
        regulator_only=sum(item["site_types"] == [REGULATOR] for item in built.items),
        site_checks=built.site_checks,
        missing=list(notice.missing),
    )
    return Draft(
        notice, campaign_block(notice, campaign_code), built.items, built.excluded, summary
    )


def draft_from_text(
    text: str, campaign_code: str, prefix: str | None = None, source: str = "<notice>"
) -> Draft:
    """Text of a notice (as pdftotext gives it) to a draft: the call for an upload.

    Raises NoticeError for text that is no notice and NotAFieldCampaign for a
    notice with nothing to check at a site; both carry one Chinese ``message``.
    """
    return generate(parse_notice(text, source), campaign_code, prefix)
