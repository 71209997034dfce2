"""Realistic sample documents of the 2025 refined-oil campaign (成品油市场专项整治).

Used by the tests, by ``bench/reports.py`` (which needs a campaign list of any size) and
to render the page images in the README: ``python -m reports.samples OUT_DIR PHOTO...``
writes one PDF of each kind. Names of sites and people are made up.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from .data import (
    CampaignInfo,
    CampaignProblemList,
    DistrictFindings,
    EnforcementFigures,
    FindingRow,
    InspectionVisit,
    OverdueFinding,
    PhotoRef,
    RateRow,
    RectificationReport,
    RectificationTotals,
    SiteFindings,
    SiteInfo,
    SiteProblemList,
)
from .layout import SHANGHAI

CAMPAIGN = CampaignInfo(
    name="2025年格尔木市成品油市场专项整治行动",
    document_no="格政办发〔2025〕30号",
    issuer="格尔木市成品油市场专项整治工作领导小组办公室",
)
DISTRICTS = (
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
GENERATED_AT = datetime(2025, 5, 12, 10, 5, tzinfo=SHANGHAI)

# (code, 检查项, clause, basis, 责任单位)
ITEMS = (
    (
        "RO-01",
        "是否取得《成品油零售经营批准证书》《危险化学品经营许可证》《营业执照》",
        "二（三）",
        "对未获得《危险化学品经营许可证》《营业执照》《成品油零售经营批准证书》擅自销售成品油的窝点一律予以查处。",
        "市商务局",
    ),
    (
        "RO-02",
        "储油设施是否符合安全要求",
        "三（一）",
        "负责对成品油的生产、经营、储存企业开展安全生产执法检查，依法查处安全生产违法行为。",
        "市应急管理局",
    ),
    (
        "RO-03",
        "油品来源是否合法，购销台账是否完整",
        "二（一）",
        "核查成品油批发企业购销台账，查清油品来源去向，防止油品从正规成品油批发企业（油库）流出。",
        "市工业信息化和科技局",
    ),
    (
        "RO-04",
        "计量器具是否经检定合格",
        "三（四）",
        "查处计量违法、消费侵权等违法行为；对非标油品进行追根溯源。",
        "市市场监督管理局",
    ),
    (
        "RO-05",
        "自备油罐是否登记建账、是否对外销售",
        "二（二）",
        "加强自备油罐的排查整治，摸清底数，建立台账，取缔不符合条件的自备油罐。",
        "市住房和城乡建设局",
    ),
)
PROBLEMS = (
    ("未取得《成品油零售经营批准证书》擅自销售柴油", "立即停止销售，限期办理相关证照"),
    ("储油罐区未设置静电接地装置，现场配备的灭火器已过期", "设置静电接地装置，更换过期灭火器"),
    ("无法提供近三个月成品油购销台账及进货发票", "补齐购销台账及发票，说明油品来源"),
    ("加油机计量检定证书过期，未按期送检", "立即停用该加油机，送法定计量机构检定"),
    ("建筑工地自备油罐未登记，存在向周边车辆加油行为", "停止对外销售，办理自备油罐登记"),
)
STATUSES = ("open", "rectifying", "pending_review", "closed", "closed", "open", "voided")
SITE_WORDS = ("顺达", "昆仑", "盐湖", "西部", "瀚海", "柴达木", "金源", "通宇", "察汗", "青藏")
SITE_KINDS = ("加油站", "汽车服务站", "建筑工地", "物流园油库", "运输有限公司")
INSPECTORS = (("张伟", "李娜"), ("王强", "赵敏"), ("马海", "韩雪"))


def _finding(n: int, photos: Sequence[PhotoRef], inspected: date) -> FindingRow:
    code, item, clause, basis, unit = ITEMS[n % len(ITEMS)]
    problem, requirement = PROBLEMS[n % len(PROBLEMS)]
    severity = "key" if n % 3 == 0 else "general"
    status = STATUSES[n % len(STATUSES)]
    fixed = severity == "general" and n % 4 == 1
    return FindingRow(
        item_code=code,
        item_text=item,
        description=f"{problem}（第{n + 1}号）",
        clause=clause,
        basis=basis,
        severity=severity,
        requirement=requirement,
        deadline=None if fixed else inspected + timedelta(days=30 if severity == "key" else 7),
        responsible_unit=unit,
        status=status,
        photos=tuple(photos),
        major_hazard=severity == "key" and n % 6 == 0,
        fixed_on_spot=fixed,
    )


def _site(n: int, district: str) -> SiteInfo:
    word = SITE_WORDS[n % len(SITE_WORDS)]
    kind = SITE_KINDS[n % len(SITE_KINDS)]
    return SiteInfo(
        name=f"格尔木{word}{kind}（{n + 1}号）",
        district=district,
        address=f"青海省海西州格尔木市{district}昆仑路{100 + n}号",
        credit_code=None if n % 11 == 10 else f"91632801MA7{n:06d}X",
        site_type="加油站" if "加油" in kind else kind,
        contact_name="刘建国",
        contact_phone=f"1390979{n % 10000:04d}",
    )


def _visit(n: int, day: date) -> InspectionVisit:
    start = datetime(day.year, day.month, day.day, 9, 30, tzinfo=SHANGHAI)
    return InspectionVisit(
        started_at=start,
        finished_at=start + timedelta(minutes=35),
        inspectors=INSPECTORS[n % len(INSPECTORS)],
    )


def _photo(path: Path, n: int, day: date) -> PhotoRef:
    taken = datetime(day.year, day.month, day.day, 9, 35, tzinfo=SHANGHAI)
    return PhotoRef(path=path, taken_at=taken + timedelta(minutes=n % 30))


def site_problem_list(photos: Sequence[Path], findings: int = 5) -> SiteProblemList:
    """A site's list: ``findings`` findings sharing the given photos (two or so each)."""
    day = date(2025, 5, 12)
    cycle = itertools.cycle(photos)
    rows = []
    for n in range(findings):
        # Six photos on the first finding (more than a line holds), then two or one.
        count = (6 if n == 0 else 2 if n % 2 == 0 else 1) if photos else 0
        rows.append(_finding(n, [_photo(next(cycle), k, day) for k in range(count)], day))
    return SiteProblemList(
        campaign=CAMPAIGN,
        site=_site(0, "东城区"),
        visits=(_visit(0, day), _visit(1, day + timedelta(days=8))),
        findings=rows,
        generated_at=GENERATED_AT,
        inspecting_unit="格尔木市成品油市场专项整治联合检查组",
    )


def campaign_problem_list(
    photos: Sequence[Path],
    findings: int = 40,
    *,
    per_site: int = 4,
    photos_per_finding: int = 1,
    district: str | None = None,
) -> CampaignProblemList:
    """A campaign list of ``findings`` findings, ``per_site`` to a site, spread over the
    districts, each with ``photos_per_finding`` photos taken from ``photos`` in turn."""
    cycle = itertools.cycle(photos)
    districts = (district,) if district else DISTRICTS
    sites_by_district: dict[str, list[SiteFindings]] = {d: [] for d in districts}
    n = site_no = 0
    while n < findings:
        name = districts[site_no % len(districts)]
        day = date(2025, 4, 28) + timedelta(days=site_no % 14)
        rows = []
        for _ in range(min(per_site, findings - n)):
            refs = [_photo(next(cycle), k, day) for k in range(photos_per_finding if photos else 0)]
            rows.append(_finding(n, refs, day))
            n += 1
        sites_by_district[name].append(
            SiteFindings(site=_site(site_no, name), findings=rows, visits=(_visit(site_no, day),))
        )
        site_no += 1
    return CampaignProblemList(
        campaign=CAMPAIGN,
        districts=[
            DistrictFindings(district=d, sites=s, sites_inspected=len(s) + 2)
            for d, s in sites_by_district.items()
        ],
        scope=district or "全市",
        generated_at=GENERATED_AT,
    )


def rectification_report() -> RectificationReport:
    by_district = [
        RateRow(name=d, findings=f, rectified=r, overdue=o)
        for d, f, r, o in zip(
            DISTRICTS,
            (48, 41, 22, 35, 18, 12, 6, 9, 4),
            (40, 30, 20, 25, 18, 7, 2, 9, 0),
            (2, 5, 0, 3, 0, 2, 1, 0, 1),
            strict=True,
        )
    ]
    departments = [
        ("市商务局", 40, 33, 2),
        ("市应急管理局", 62, 50, 5),
        ("市工业信息化和科技局", 25, 20, 1),
        ("市市场监督管理局", 38, 30, 3),
        ("市住房和城乡建设局", 22, 18, 2),
        ("市公安局", 8, 8, 0),
        ("市交通运输局", 0, 0, 0),
    ]
    by_department = [
        RateRow(name=a, findings=b, rectified=c, overdue=d) for a, b, c, d in departments
    ]
    overdue = [
        OverdueFinding(
            district=DISTRICTS[i % 4],
            site_name=_site(i, DISTRICTS[i % 4]).name,
            description=PROBLEMS[i % len(PROBLEMS)][0],
            severity="key" if i % 2 else "general",
            deadline=date(2025, 5, 1) + timedelta(days=i),
            responsible_unit=ITEMS[i % len(ITEMS)][4],
            status="rectifying" if i % 3 else "open",
        )
        for i in range(6)
    ]
    findings = sum(r.findings for r in by_district)
    return RectificationReport(
        campaign=CAMPAIGN,
        as_of=datetime(2025, 5, 31, 18, 0, tzinfo=SHANGHAI),
        totals=RectificationTotals(
            sites_inspected=126,
            findings=findings,
            general=findings - 61,
            key=61,
            rectified=sum(r.rectified for r in by_district),
            overdue=sum(r.overdue for r in by_district),
        ),
        by_district=by_district,
        by_department=by_department,
        overdue=overdue,
        enforcement=EnforcementFigures(
            order_rectify=42,
            suspend=6,
            ban=3,
            fine_cases=5,
            fine_total_yuan=Decimal("125000"),
            revoke_licence=1,
            refer_police=2,
            refer_judicial=1,
            blacklist=2,
        ),
        scope="全市",
        generated_at=GENERATED_AT,
    )


def main(argv: Sequence[str]) -> None:
    from . import (
        render_campaign_problem_list,
        render_rectification_report,
        render_site_problem_list,
    )

    if not argv:
        raise SystemExit("usage: python -m reports.samples OUT_DIR [PHOTO.jpg ...]")
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    photos = [Path(p) for p in argv[1:]]
    render_site_problem_list(site_problem_list(photos), out / "site-problem-list.pdf")
    render_campaign_problem_list(campaign_problem_list(photos), out / "campaign-problem-list.pdf")
    render_rectification_report(rectification_report(), out / "rectification-report.pdf")
    print(f"wrote 3 PDFs to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
