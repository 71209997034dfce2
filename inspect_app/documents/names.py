"""What a downloaded document is called: a Chinese name and an ASCII fallback.

Every download (the PDFs, the spreadsheets, a background job's result) is named here
from its kind, its subject (a campaign, a site), the area it covers and its date:

- 问题清单-格尔木昆仑路加油站-2025-05-12.pdf / problem-list-site-110-2025-05-12.pdf
- 2025年成品油市场专项整治行动问题清单（郭勒木德镇、唐古拉山镇）-2025-05-12.pdf /
  problem-list-refined-oil-2025-guolemude-tanggulashan-2025-05-12.pdf

The ASCII name is for clients that ignore ``filename*`` (RFC 6266); it holds only
letters, digits, ``-`` and ``.``. ``inspect_app.downloads`` puts both into the header.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from inspect_app.scope import CITY, scope_name

# The districts in Hanyu Pinyin, as a reader in the office would type them.
DISTRICT_SLUGS: dict[str, str] = {
    "东城区": "dongcheng",
    "西城区": "xicheng",
    "察尔汗行政委员会": "chaerhan",
    "昆仑经济技术开发区": "kunlun-kaifaqu",
    "陆港园区": "lugang",
    "郭勒木德镇": "guolemude",
    "唐古拉山镇": "tanggulashan",
    "乌图美仁乡": "wutumeiren",
    "大格勒乡": "dagele",
}
CITY_SLUG = "city"

# Characters a file system or a browser's save dialog refuses or reads as a path.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_NOT_ASCII_NAME = re.compile(r"[^A-Za-z0-9.]+")


@dataclass(frozen=True, slots=True)
class DownloadName:
    """A document's file name: ``chinese`` for people, ``ascii`` for old clients."""

    chinese: str
    ascii: str


def campaign_title(name: str) -> str:
    """The campaign as a document names it: its notice is the 工作方案, the documents are
    of the campaign itself."""
    return re.sub(r"的?(工作|实施)方案$", "", name) or name


def scope_slug(districts: Sequence[str]) -> str:
    if scope_name(districts) == CITY:
        return CITY_SLUG
    return "-".join(DISTRICT_SLUGS.get(d, "district") for d in districts) or "none"


def _chinese(text: str) -> str:
    text = unicodedata.normalize("NFC", _UNSAFE.sub("_", text))
    return re.sub(r"\s+", " ", text).strip(" .")


def _ascii(*parts: object) -> str:
    words = (_NOT_ASCII_NAME.sub("-", str(part)).strip("-") for part in parts)
    return "-".join(word for word in words if word).lower()


def _name(chinese: str, ascii_parts: Sequence[object], on: date, ext: str) -> DownloadName:
    return DownloadName(
        chinese=f"{_chinese(chinese)}-{on.isoformat()}.{ext}",
        ascii=f"{_ascii(*ascii_parts, on.isoformat())}.{ext}",
    )


def site_problem_list(site_id: int, site_name: str, on: date) -> DownloadName:
    """问题清单 of one site."""
    return _name(f"问题清单-{site_name}", ["problem-list-site", site_id], on, "pdf")


def campaign_problem_list(
    code: str, campaign_name: str, districts: Sequence[str], on: date, *, ext: str = "pdf"
) -> DownloadName:
    """问题清单 of a campaign within ``districts`` (as a PDF, or as a spreadsheet)."""
    title = f"{campaign_title(campaign_name)}问题清单（{scope_name(districts)}）"
    return _name(title, ["problem-list", code, scope_slug(districts)], on, ext)


def rectification_report(
    code: str, campaign_name: str, districts: Sequence[str], on: date
) -> DownloadName:
    """整改情况报告 of a campaign within ``districts``."""
    title = f"{campaign_title(campaign_name)}整改情况报告（{scope_name(districts)}）"
    return _name(title, ["rectification-report", code, scope_slug(districts)], on, "pdf")


def stats_table(
    code: str,
    campaign_name: str,
    districts: Sequence[str],
    on: date,
    *,
    group_by: str,
    group_label: str,
) -> DownloadName:
    """整改情况统计表 of a campaign within ``districts``, by one grouping."""
    title = (
        f"{campaign_title(campaign_name)}整改情况统计表（{scope_name(districts)}，按{group_label}）"
    )
    return _name(title, ["stats", code, scope_slug(districts), "by", group_by], on, "xlsx")
