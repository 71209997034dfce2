"""问题清单 of one site: what the team lead hands the site's owner after an inspection.

Landscape A4: title block, the site's particulars and inspection(s), a count of the
problems, the problem table with each finding's photos beside it, and signature lines
for the inspectors and the site's representative on the page of the last row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from .data import SiteProblemList
from .fonts import FontSet, get_fonts
from .layout import (
    OutTarget,
    PageFurniture,
    ReportDocTemplate,
    Styles,
    build_pdf,
    local_today,
    make_styles,
    markup,
)
from .linebreak import Paragraph
from .photos import PhotoCache
from .summary import count_line
from .tables import problem_table, signature_table, site_details_table

DOC_KIND = "问题清单"


def render_site_problem_list(
    data: SiteProblemList, out: OutTarget, *, fonts: FontSet | None = None
) -> int:
    """Write the 问题清单 of one site as PDF to ``out`` (a path or a binary file object).

    Returns the number of pages.
    """
    styles = make_styles(fonts or get_fonts())
    furniture = PageFurniture(
        header_left=data.campaign.name,
        header_right=f"{DOC_KIND} · {data.site.name}",
        footer_left=data.campaign.document_no,
        generated_at=data.generated_at,
    )

    def make(target: str | IO[bytes]) -> int:
        doc = ReportDocTemplate(
            target,
            styles=styles,
            furniture=furniture,
            landscape_pages=True,
            title=f"{data.site.name} {DOC_KIND}",
            author=data.inspecting_unit or data.campaign.issuer,
        )
        photos = (photo for finding in data.findings for photo in finding.photos)
        with PhotoCache(photos) as cache:
            return doc.build_from(_story(data, styles, cache, doc.width, doc.height))

    return build_pdf(out, make)


def _story(
    data: SiteProblemList, styles: Styles, cache: PhotoCache, width: float, height: float
) -> Iterator[list[Flowable]]:
    yield [
        Paragraph(markup(data.campaign.name), styles.title),
        Paragraph(DOC_KIND, styles.doc_kind),
        Paragraph(markup(data.campaign.document_no), styles.doc_no),
        Spacer(0, 3 * mm),
        site_details_table(data.site, data.visits, styles, width=width),
        Spacer(0, 4 * mm),
        Paragraph(count_line(data.findings), styles.meta),
    ]
    signatures = signature_table(
        styles, width=width, inspecting_unit=data.inspecting_unit, site_name=data.site.name
    )
    if not data.findings:
        yield [Paragraph("本次检查未发现问题。", styles.body), Spacer(0, 6 * mm), signatures]
        return
    # The signatures close the list: they are drawn on the page of its last row.
    table = problem_table(
        data.findings,
        styles,
        cache,
        width=width,
        max_height=height,
        today=local_today(data.generated_at),
        tail=signatures,
        tail_gap=6 * mm,
    )
    yield [table]
