"""问题清单 of a whole campaign, or of one district, as the campaign office sends it upward.

Landscape A4: title block and scope, a summary table per district, then one section per
district (the first on page 1 under the summary, each further one from a new page) and
within it one problem table per site, the photos beside their findings. The story is
produced site by site, so thousands of findings are never all in memory as flowables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import IO

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Table,
    TableStyle,
)

from .data import STATUS_LABELS, CampaignProblemList, DistrictFindings, SiteFindings
from .fonts import FontSet, get_fonts
from .layout import (
    HEAD_FILL,
    RULE,
    CellParagraph,
    OutTarget,
    PageFurniture,
    ReportDocTemplate,
    Styles,
    build_pdf,
    fmt_rate,
    local_today,
    make_styles,
    markup,
)
from .linebreak import Paragraph
from .photos import PhotoCache
from .summary import (
    Counts,
    add_counts,
    cn_number,
    count_line,
    district_counts,
    scope_count_line,
)
from .tables import (
    RoomFor,
    base_table_commands,
    contact_text,
    inspectors_text,
    problem_table,
    visits_text,
)

DOC_KIND = "问题清单"
# One line of header: page 1 keeps room for the first problems under the summary.
SUMMARY_COLUMNS = (
    ("序号", 7),
    ("区域", 26),
    ("检查场所（家）", 15),
    ("发现问题（项）", 15),
    ("一般问题（项）", 15),
    ("重点问题（项）", 15),
    ("已销号（项）", 13),
    ("整改率", 11),
)


def render_campaign_problem_list(
    data: CampaignProblemList, out: OutTarget, *, fonts: FontSet | None = None
) -> int:
    """Write the 问题清单 of the area ``data.scope`` names as PDF to ``out``.

    Returns the number of pages.
    """
    styles = make_styles(fonts or get_fonts())
    scope = data.scope
    furniture = PageFurniture(
        header_left=data.campaign.name,
        header_right=f"{DOC_KIND}（{scope}）",
        footer_left=data.campaign.document_no,
        generated_at=data.generated_at,
    )

    def make(target: str | IO[bytes]) -> int:
        doc = ReportDocTemplate(
            target,
            styles=styles,
            furniture=furniture,
            landscape_pages=True,
            title=f"{data.campaign.name} {DOC_KIND}（{scope}）",
            author=data.campaign.issuer,
        )
        photos = (
            photo
            for district in data.districts
            for site in district.sites
            for finding in site.findings
            for photo in finding.photos
        )
        with PhotoCache(photos) as cache:
            return doc.build_from(_story(data, styles, cache, doc.width, doc.height))

    return build_pdf(out, make)


def _story(
    data: CampaignProblemList, styles: Styles, cache: PhotoCache, width: float, height: float
) -> Iterator[list[Flowable]]:
    scope = data.scope
    title = [
        Paragraph(markup(data.campaign.name), styles.title),
        Paragraph(f"{DOC_KIND}（{markup(scope)}）", styles.doc_kind),
    ]
    # The document number heads the line of what the list covers: one line less above
    # the summary, so that the first problems can start on page 1.
    filters = f"{markup(data.campaign.document_no)}　范围：{markup(scope)}"
    if data.statuses:
        filters += "　问题状态：" + "、".join(STATUS_LABELS[s] for s in data.statuses)
    if data.campaign.issuer:
        filters += f"　编制单位：{markup(data.campaign.issuer)}"
    title.append(Paragraph(filters, styles.scope))
    counts = [district_counts(district) for district in data.districts]
    yield title + [
        Paragraph("一、汇总情况", styles.h1),
        Paragraph(
            scope_count_line(markup(scope), add_counts(counts), filtered=bool(data.statuses)),
            styles.body,
        ),
        _summary_table(data.districts, counts, styles, width),
        Paragraph(
            "注：按本清单所列问题统计，已作废问题不计入；整改率为已销号问题占发现问题的比例。",
            ParagraphStyle("summary_note", parent=styles.note, alignment=TA_CENTER),
        ),
    ]
    today = local_today(data.generated_at)
    details = Paragraph("二、问题明细", styles.h1)
    if not data.districts:
        yield [details, Paragraph("无符合条件的问题。", styles.body)]
    for number, (district, count) in enumerate(zip(data.districts, counts, strict=True), 1):
        heading = (
            f"（{cn_number(number)}）{markup(district.district)}"
            f"（检查场所{count.sites}家，发现问题{count.findings}项）"
        )
        # The first district follows the summary on page 1; each further one starts a
        # page, so a district's pages can be handed on by themselves.
        headings = ([details] if number == 1 else []) + [Paragraph(heading, styles.h2)]
        if number > 1:
            yield [PageBreak()]
        if not district.sites:
            yield [KeepTogether([*headings, Paragraph("本区域无符合条件的问题。", styles.body)])]
        for site_number, site in enumerate(district.sites, 1):
            lead = headings if site_number == 1 else []
            yield _site_section(site_number, site, lead, styles, cache, width, height, today)


def _site_section(
    number: int,
    entry: SiteFindings,
    lead: list[Flowable],
    styles: Styles,
    cache: PhotoCache,
    width: float,
    height: float,
    today: date,
) -> list[Flowable]:
    site = entry.site
    details = [
        f"统一社会信用代码：{markup(site.credit_code, empty='无')}",
        f"地址：{markup(site.address)}",
        f"联系人：{markup(contact_text(site))}",
    ]
    if site.site_type:
        details.insert(0, f"场所类型：{markup(site.site_type)}")
    visits = [
        f"检查时间：{visits_text(entry.visits)}",
        f"检查人员：{markup(inspectors_text(entry.visits))}",
        count_line(entry.findings),
    ]
    # Sites are set apart by space above their heading, which a page's top swallows (a
    # space after the last site would start a page of its own when the last row ends a
    # page); under the district's headings the site needs none.
    space = 0 if lead else styles.h3.spaceBefore + 4 * mm
    h3 = ParagraphStyle("h3_site", parent=styles.h3, spaceBefore=space)
    headings = [
        *lead,
        Paragraph(f"{number}．{markup(site.name)}", h3),
        Paragraph("　".join(details), styles.meta),
        Paragraph("　".join(visits), styles.meta),
    ]
    table = problem_table(
        entry.findings, styles, cache, width=width, max_height=height, today=today
    )
    # Headings alone at the foot of a page would read as a site without problems.
    return [RoomFor(headings, table), *headings, table]


def _summary_table(
    districts: Sequence[DistrictFindings],
    counts: list[Counts],
    styles: Styles,
    width: float,
) -> Table:
    head, cell, num = styles.cell_head, styles.cell_center, styles.cell_center

    def row(first: str, name: str, c: Counts, font: str | None = None) -> list[Paragraph]:
        values = [first, name, c.sites, c.findings, c.general, c.key, c.rectified]
        texts = [str(v) for v in values] + [fmt_rate(c.rate)]
        if font:
            texts = [f'<font name="{font}">{t}</font>' for t in texts]
        return [CellParagraph(t, cell if i < 2 else num) for i, t in enumerate(texts)]

    rows = [[CellParagraph(name, head) for name, _ in SUMMARY_COLUMNS]]
    for number, (district, count) in enumerate(zip(districts, counts, strict=True), 1):
        rows.append(row(str(number), markup(district.district), count))
    rows.append(row("", "合计", add_counts(counts), font=styles.fonts.heading))
    total = sum(w for _, w in SUMMARY_COLUMNS)
    table = Table(
        rows,
        colWidths=[width * 0.85 * w / total for _, w in SUMMARY_COLUMNS],
        repeatRows=1,
        hAlign="CENTER",
    )
    table.setStyle(
        TableStyle(
            [
                *base_table_commands(styles),
                ("GRID", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
                ("BACKGROUND", (0, -1), (-1, -1), HEAD_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table
