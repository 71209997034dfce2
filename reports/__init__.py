"""PDF reports of the inspection campaigns (专项整治), rendered with reportlab.

This package turns plain data (the dataclasses of ``reports.data``) into the documents
people hand over and send upward. It imports nothing from Flask or SQLAlchemy: the web
side gathers the data and calls one renderer per document type.

Renderers — each writes to ``out``, a file path (written to a temporary file beside it
and renamed into place when complete) or a binary file object, and returns the number of
pages:

``render_site_problem_list(data: SiteProblemList, out) -> int``
    问题清单 of one site: campaign title and document number, the site's particulars,
    inspection time(s) and inspectors, the problem table (序号, 检查项, 问题描述, 依据,
    严重程度, 整改要求, 整改时限, 责任单位, 状态) with each finding's photos in a last
    column, and signature lines on the page of the last row. Landscape A4.

``render_campaign_problem_list(data: CampaignProblemList, out) -> int``
    问题清单 of a campaign or one district: a summary per district (sites, problems,
    一般/重点, 已销号, 整改率), then the problems grouped by district and site.
    Landscape A4.

``render_rectification_report(data: RectificationReport, out) -> int``
    整改情况报告: totals, bar charts of the rectification rate by district and by
    department, the overdue list with days overdue, and the enforcement figures.
    Portrait A4.

Every renderer also takes ``fonts=`` (a ``FontSet``) to override the font lookup of
``reports.fonts``; see there for how a CJK font is found and the non-embedded
STSong-Light fallback. Every page carries ``第 N 页 共 M 页`` and the generation time in
Asia/Shanghai.

Photos (``PhotoRef.path``) are embedded as they are when they are the print-size JPEG the
photo store makes at upload (the ``print`` variant): nothing is decoded at render time.
A photo stored before that variant existed has it made from ``PhotoRef.source`` the first
time it is printed, and kept; any other image is copied down to the printed size
(``reports.photos``). A missing or unreadable file prints a placeholder instead of
failing the document. When many photos need copying (``PROCESS_POOL_MIN_PHOTOS``) the
copies are made in worker processes started with ``forkserver``: as with any use of
multiprocessing, a script that renders such a report must keep its work under
``if __name__ == "__main__":`` (the ``inspect-app`` entry points and WSGI servers do).

Memory: the document is laid out one site at a time and photos are never decoded at full
size, but reportlab keeps what it has drawn (page streams, the photos' JPEG bytes, font
subsets) until it writes the file at the end, so memory grows with the size of the PDF;
``bench/reports.py`` measures the peak (214 MB for 2,000 findings with a photo each, a
27.7 MB file).

Renderers may run in several threads at once; each render has its own canvas, photo
folder and workers.

Chinese line breaking (禁则) is ``reports.linebreak``: every paragraph is its
``Paragraph``, which keeps opening brackets off a line's end and closing punctuation off
its start.

``reports.samples`` builds realistic sample documents (tests, benchmark, README images);
``reports.pdfcheck`` looks at a rendered PDF with qpdf and poppler's tools (tests).
"""

from .campaign_list import render_campaign_problem_list
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
from .fonts import FontError, FontSet, get_fonts
from .rectification import render_rectification_report
from .site_list import render_site_problem_list

__all__ = [
    "CampaignInfo",
    "CampaignProblemList",
    "DistrictFindings",
    "EnforcementFigures",
    "FindingRow",
    "FontError",
    "FontSet",
    "InspectionVisit",
    "OverdueFinding",
    "PhotoRef",
    "RateRow",
    "RectificationReport",
    "RectificationTotals",
    "SiteFindings",
    "SiteInfo",
    "SiteProblemList",
    "get_fonts",
    "render_campaign_problem_list",
    "render_rectification_report",
    "render_site_problem_list",
]
