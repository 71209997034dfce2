"""Counts the problem lists print about their own findings, and Chinese numbering.

Voided findings (已作废, entered in error) stay listed so the paper trail is complete,
but no count or rate includes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .data import DistrictFindings, FindingRow, rate
from .layout import fmt_rate

_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 21 -> 二十一 (for headings 一、二、…; up to 99)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else _DIGITS[tens]) + "十" if tens else ""
    return text + (_DIGITS[ones] if ones else "")


@dataclass(frozen=True, slots=True)
class Counts:
    sites: int
    findings: int
    general: int
    key: int
    major_hazards: int
    rectified: int
    voided: int

    @property
    def rate(self) -> float | None:
        return rate(self.rectified, self.findings)


def count_findings(findings: Iterable[FindingRow], sites: int = 0) -> Counts:
    total = general = key = major = rectified = voided = 0
    for finding in findings:
        if finding.status == "voided":
            voided += 1
            continue
        total += 1
        general += finding.severity == "general"
        key += finding.severity == "key"
        major += finding.major_hazard
        rectified += finding.status == "closed"
    return Counts(sites, total, general, key, major, rectified, voided)


def count_line(findings: Sequence[FindingRow]) -> str:
    """One sentence with the counts of a site's findings."""
    c = count_findings(findings)
    if not c.findings and not c.voided:
        return "本次检查未发现问题。"
    text = f"共发现问题{c.findings}项，其中一般问题{c.general}项、重点问题{c.key}项"
    if c.major_hazards:
        text += f"（含重大隐患{c.major_hazards}项）"
    text += f"；已销号{c.rectified}项，整改率{fmt_rate(c.rate)}。"
    if c.voided:
        text += f"另有已作废{c.voided}项，不计入统计。"
    return text


def scope_count_line(scope: str, c: Counts, *, filtered: bool = False) -> str:
    """The summary sentence of a campaign list: the area it covers and its counts."""
    found = "列入本清单的问题" if filtered else "发现问题"
    text = (
        f"{scope}共检查场所{c.sites}家，{found}{c.findings}项，"
        f"其中一般问题{c.general}项、重点问题{c.key}项"
    )
    if c.major_hazards:
        text += f"（含重大隐患{c.major_hazards}项）"
    return text + f"；已销号{c.rectified}项，整改率{fmt_rate(c.rate)}。"


def district_counts(district: DistrictFindings) -> Counts:
    counts = count_findings(f for site in district.sites for f in site.findings)
    sites = district.sites_inspected
    if sites is None:
        sites = len(district.sites)
    return Counts(
        sites,
        counts.findings,
        counts.general,
        counts.key,
        counts.major_hazards,
        counts.rectified,
        counts.voided,
    )


def add_counts(rows: Iterable[Counts]) -> Counts:
    rows = list(rows)
    return Counts(*(sum(getattr(r, name) for r in rows) for name in Counts.__dataclass_fields__))
