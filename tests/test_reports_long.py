"""Long text and long tables in every document: all of it printed, page after page.

A description of thousands of short lines is cut into rows between its lines, and a
table of thousands of rows is laid out a page at a time (``reports.tables``); both used
to cost time quadratic in their length, which ``bench/reports.py --long-text`` measures.
Here: nothing is lost or printed twice, and each page carries its header row.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from reports import (
    pdfcheck,
    render_campaign_problem_list,
    render_rectification_report,
    render_site_problem_list,
    samples,
)

LINES = 2000


def many_lines(count: int = LINES) -> str:
    return "\n".join(f"第{n:04d}行油罐区防火堤破损" for n in range(1, count + 1))


def assert_every_line_once(path: Path, count: int = LINES) -> None:
    numbers = re.findall(r"第(\d{4})行油罐区防火堤破损", pdfcheck.text(path))
    assert [int(n) for n in numbers] == list(range(1, count + 1))


def assert_header_on_every_page(path: Path, pages: int, header: str) -> None:
    for n in range(1, pages + 1):
        page = pdfcheck.squeeze(pdfcheck.text(path, first=n, last=n))
        assert header in page, f"page {n} has no header row"
        assert f"第{n}页共{pages}页" in page


def test_site_list_prints_every_line_of_a_2000_line_description(tmp_path: Path) -> None:
    data = samples.site_problem_list([], findings=3)
    rows = list(data.findings)
    rows[1] = replace(rows[1], description=many_lines())
    path = tmp_path / "site.pdf"
    pages = render_site_problem_list(replace(data, findings=rows), path)

    pdfcheck.qpdf_check(path)
    assert pages == pdfcheck.page_count(path) > 20
    assert_every_line_once(path)
    assert_header_on_every_page(path, pages, "序号检查项问题描述")
    flat = pdfcheck.squeeze(pdfcheck.text(path))
    # the findings around the long one, and the signature lines after the table
    assert pdfcheck.squeeze(rows[0].description) in flat
    assert pdfcheck.squeeze(rows[2].description) in flat
    assert "被检查单位负责人（签字）" in flat


def test_site_list_of_thousands_of_findings_numbers_each_once(tmp_path: Path) -> None:
    data = samples.site_problem_list([], findings=1500)
    path = tmp_path / "many.pdf"
    pages = render_site_problem_list(data, path)

    assert pages == pdfcheck.page_count(path) > 100
    # 第1501号 would be a finding printed twice, a missing one leaves a gap
    numbers = re.findall(r"（第(\d+)号）", pdfcheck.squeeze(pdfcheck.text(path)))
    assert [int(n) for n in numbers] == list(range(1, 1501))
    assert_header_on_every_page(path, pages, "序号检查项问题描述")


def test_campaign_list_prints_every_line_of_a_long_description(tmp_path: Path) -> None:
    data = samples.campaign_problem_list([], findings=6, per_site=3, district="东城区")
    site = data.districts[0].sites[0]
    rows = list(site.findings)
    rows[0] = replace(rows[0], description=many_lines())
    sites = [replace(site, findings=rows), *data.districts[0].sites[1:]]
    data = replace(data, districts=[replace(data.districts[0], sites=sites)])
    path = tmp_path / "campaign.pdf"
    pages = render_campaign_problem_list(data, path)

    pdfcheck.qpdf_check(path)
    assert pages > 20
    assert_every_line_once(path)
    flat = pdfcheck.squeeze(pdfcheck.text(path))
    assert all(pdfcheck.squeeze(f.description) in flat for f in rows[1:])


def test_rectification_report_prints_long_and_many_overdue_findings(tmp_path: Path) -> None:
    data = samples.rectification_report()
    first = replace(data.overdue[0], description=many_lines())
    extra = [
        replace(data.overdue[1], site_name=f"格尔木测试加油站（{n}号）") for n in range(1, 1201)
    ]
    path = tmp_path / "rectification.pdf"
    pages = render_rectification_report(replace(data, overdue=[first, *extra]), path)

    pdfcheck.qpdf_check(path)
    assert pages == pdfcheck.page_count(path) > 40
    assert_every_line_once(path)
    sites = re.findall(r"格尔木测试加油站（(\d+)号）", pdfcheck.squeeze(pdfcheck.text(path)))
    assert sorted(int(n) for n in sites) == list(range(1, 1201))
