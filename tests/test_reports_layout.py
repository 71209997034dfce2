"""How the reports use paper and break lines, read back from the PDFs (pdftotext -bbox).

Page counts of a site's 问题清单, the signature lines on the page of the last row, no
heading alone at the foot of a page, the campaign list's problems starting on page 1,
and Chinese line breaking (禁则) in every document.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph as ReportlabParagraph

from reports import (
    pdfcheck,
    render_campaign_problem_list,
    render_rectification_report,
    render_site_problem_list,
    samples,
)
from reports.fonts import get_fonts
from reports.layout import LANDSCAPE_MARGINS
from reports.linebreak import CLOSING, OPENING, Paragraph

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "photos"
REAL_PHOTOS = [
    PHOTOS / name
    for name in ("jolla.jpg", "DSCN0010.jpg", "landscape_6.jpg", "portrait_6.jpg", "Canon_40D.jpg")
]
# Official text full of brackets, quotes and punctuation, so that line ends fall on them.
PUNCTUATED = (
    "依据《危险化学品安全管理条例》（国务院令第591号）第二十条、《成品油市场管理办法》"
    "第十五条，经营单位应当“证照齐全、台账完整”；现场发现：储罐区【东侧】防火堤破损，"
    "灭火器过期（3具）、静电接地缺失……责令限期整改！"
)


@pytest.fixture(scope="module")
def photos() -> list[Path]:
    assert all(p.is_file() for p in REAL_PHOTOS), f"test photos missing under {PHOTOS}"
    return REAL_PHOTOS


def site_pdf(tmp_path: Path, photos: list[Path], findings: int, **changes) -> Path:
    data = samples.site_problem_list(photos, findings=findings)
    if changes:
        data = replace(data, **changes)
    path = tmp_path / f"site-{findings}.pdf"
    pages = render_site_problem_list(data, path)
    assert pages == pdfcheck.page_count(path)
    return path


def page_of(path: Path, needle: str) -> int:
    """The page whose text (whitespace removed) holds ``needle``; it must be one."""
    pages = pdfcheck.text(path).split("\f")
    found = [n for n, text in enumerate(pages, 1) if needle in pdfcheck.squeeze(text)]
    assert len(found) == 1, (needle, found)
    return found[0]


def test_three_findings_with_photos_fit_two_pages(tmp_path: Path, photos) -> None:
    # Before: three pages, the signatures alone on the last.
    path = site_pdf(tmp_path, photos, 3)
    assert pdfcheck.page_count(path) <= 2


def test_fourteen_findings_with_photos_take_at_most_four_pages(tmp_path: Path, photos) -> None:
    # Before: eight pages, two findings to a page and page 1 a third empty.
    path = site_pdf(tmp_path, photos, 14)
    assert pdfcheck.page_count(path) <= 4
    # Page 1 is used: under the site's particulars the first finding (six photos, three
    # lines of them) reaches into the last third of the page.
    assert page_of(path, "（第1号）") == 1
    _page_w, page_h = landscape(A4)
    footer = page_h - LANDSCAPE_MARGINS[3]
    lowest = max(line.y1 for line in pdfcheck.lines(path) if line.page == 1 and line.y1 < footer)
    assert lowest > page_h * 2 / 3


@pytest.mark.parametrize("findings", [1, 3, 5, 9, 14])
def test_signatures_are_on_the_page_of_the_last_row_and_below_it(
    tmp_path: Path, photos, findings: int
) -> None:
    path = site_pdf(tmp_path, photos, findings)
    lines = pdfcheck.lines(path)
    signature = [line for line in lines if "检查人员（签字）" in line.text]
    # The last row's number in the 序号 column.
    number_column = LANDSCAPE_MARGINS[0] + 9 * mm
    last_row = [line for line in lines if line.text == str(findings) and line.x1 < number_column]
    assert len(signature) == 1 and len(last_row) == 1, (signature, last_row)
    assert signature[0].page == last_row[0].page == pdfcheck.page_count(path)
    assert signature[0].y0 > last_row[0].y1


def test_signatures_go_on_with_the_last_row_where_they_do_not_fit_under_it(
    tmp_path: Path, photos
) -> None:
    """Findings of growing length until the signatures no longer fit on page 1 under
    the last row: then that row goes on to page 2 with them, never the signatures
    alone."""
    for findings in range(2, 9):
        path = site_pdf(tmp_path, photos, findings)
        if pdfcheck.page_count(path) == 2:
            break
    else:
        pytest.fail("no list of up to 8 findings ran to a second page")
    last = page_of(path, f"（第{findings}号）")
    assert last == page_of(path, "检查人员（签字）") == 2
    assert page_of(path, f"（第{findings - 1}号）") == 1


def test_a_row_taller_than_the_page_left_moves_on_whole(tmp_path: Path, photos) -> None:
    """A finding of half a page that does not fit under the others goes to the next
    page in one piece instead of being cut in two."""
    data = samples.site_problem_list(photos, findings=4)
    rows = list(data.findings)
    long_text = "油罐区东侧防火堤多处破损，围堰内积存油污未清理。" * 20  # about half a page
    rows[3] = replace(rows[3], description=long_text + "（第4号）")
    path = tmp_path / "tall.pdf"
    render_site_problem_list(replace(data, findings=rows), path)
    holding = [
        n
        for n in range(1, pdfcheck.page_count(path) + 1)
        if "油罐区东侧防火堤" in pdfcheck.squeeze(pdfcheck.text(path, first=n, last=n))
    ]
    assert holding == [page_of(path, "（第4号）")], holding


def test_campaign_list_starts_its_problems_on_page_one(tmp_path: Path, photos) -> None:
    data = samples.campaign_problem_list(photos[:3], findings=40)
    assert len(data.districts) == 9  # a summary of nine districts and their total
    path = tmp_path / "campaign.pdf"
    render_campaign_problem_list(data, path)
    first_site = data.districts[0].sites[0]
    assert page_of(path, "二、问题明细") == 1
    assert page_of(path, pdfcheck.squeeze(first_site.site.name)) == 1
    assert page_of(path, pdfcheck.squeeze(first_site.findings[0].description)) == 1


def test_campaign_list_never_leaves_a_site_heading_alone(tmp_path: Path, photos) -> None:
    """Every site's heading is on the page of its first finding; the sizes vary so
    that headings fall at every height of a page."""
    data = samples.campaign_problem_list(photos[:3], findings=90, per_site=3, district="东城区")
    sites = [
        replace(
            entry,
            findings=[
                replace(f, description=f.description + "检查" * (n % 5) * 30)
                for f in entry.findings
            ],
        )
        for n, entry in enumerate(data.districts[0].sites)
    ]
    data = replace(data, districts=[replace(data.districts[0], sites=sites)])
    path = tmp_path / "east.pdf"
    render_campaign_problem_list(data, path)
    pages = pdfcheck.page_count(path)
    assert pages > 5
    # No page holds only the running header and footer (as when a space after the last
    # site spilled onto a page of its own).
    _page_w, page_h = landscape(A4)
    top, bottom = LANDSCAPE_MARGINS[2], page_h - LANDSCAPE_MARGINS[3]
    used = {line.page for line in pdfcheck.lines(path) if top <= line.y0 and line.y1 <= bottom}
    assert used == set(range(1, pages + 1))
    for number, entry in enumerate(sites, 1):
        heading = page_of(path, pdfcheck.squeeze(f"{number}．{entry.site.name}"))
        first = pdfcheck.squeeze(entry.findings[0].description)[:40]
        assert heading == page_of(path, first), entry.site.name


def line_texts(para: ReportlabParagraph) -> list[str]:
    if para.blPara.kind == 0:  # reportlab's own single-fragment lines: (space, [text])
        return ["".join(words) for _, words in para.blPara.lines]
    return ["".join(word.text for word in line.words) for line in para.blPara.lines]


def test_reportlab_alone_breaks_these_lines_badly_ours_never() -> None:
    """At many column widths reportlab's CJK wrapping ends lines with 《（“ and starts
    them with ，。》 in the sample text (so the document check below can fail); ours
    does neither, keeps every character, and keeps every line within the width."""
    style = ParagraphStyle("t", fontName=get_fonts().body, fontSize=8.5, leading=11.5)
    style.wordWrap = "CJK"
    faults = {ReportlabParagraph: 0, Paragraph: 0}
    for width in range(60, 200, 3):
        for cls in faults:
            para = cls(PUNCTUATED, style)
            para.wrap(width, 1e6)
            texts = line_texts(para)
            assert "".join(texts) == PUNCTUATED
            faults[cls] += sum(t[0] in CLOSING or t[-1] in OPENING for t in texts if t)
            if cls is Paragraph:
                assert all(line.currentWidth <= width + 1e-6 for line in para.blPara.lines)
    assert faults[ReportlabParagraph] > 10
    assert faults[Paragraph] == 0


def punctuation_faults(path: Path) -> list[tuple[int, str]]:
    return [
        (line.page, line.text)
        for line in pdfcheck.lines(path)
        if line.text[0] in CLOSING or line.text[-1] in OPENING
    ]


def test_no_line_in_any_document_starts_or_ends_against_the_rules(tmp_path: Path, photos) -> None:
    site = samples.site_problem_list(photos, findings=6)
    rows = [
        # Shifted by a few characters each, so that line ends fall elsewhere.
        replace(f, description="某" * n + PUNCTUATED, requirement="限期" * n + PUNCTUATED)
        for n, f in enumerate(site.findings)
    ]
    site = replace(site, findings=rows)
    campaign = samples.campaign_problem_list(photos[:3], findings=30)
    report = samples.rectification_report()
    report = replace(
        report,
        overdue=[
            replace(o, description="某" * n + PUNCTUATED) for n, o in enumerate(report.overdue)
        ],
        remarks=[PUNCTUATED * 3],
    )
    documents = {
        "site.pdf": lambda p: render_site_problem_list(site, p),
        "campaign.pdf": lambda p: render_campaign_problem_list(campaign, p),
        "report.pdf": lambda p: render_rectification_report(report, p),
    }
    lines = 0
    for name, render in documents.items():
        path = tmp_path / name
        render(path)
        lines += len(pdfcheck.lines(path))
        assert punctuation_faults(path) == [], name
    assert lines > 500  # the check read the documents, not an empty extraction
