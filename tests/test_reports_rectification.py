"""整改情况报告 (reports.rectification)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from reports import (
    EnforcementFigures,
    RateRow,
    RectificationReport,
    RectificationTotals,
    pdfcheck,
    render_rectification_report,
    samples,
)


@pytest.fixture(scope="module")
def report() -> RectificationReport:
    return samples.rectification_report()


@pytest.fixture(scope="module")
def report_pdf(report: RectificationReport, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rectification") / "report.pdf"
    assert render_rectification_report(report, path) == pdfcheck.page_count(path)
    return path


def test_passes_qpdf_check_with_fonts_embedded(report_pdf: Path) -> None:
    pdfcheck.qpdf_check(report_pdf)
    fonts = pdfcheck.fonts(report_pdf)
    # The charts draw their labels in the same embedded font: no Helvetica sneaks in.
    assert fonts and all(f.embedded and f.unicode_map for f in fonts), fonts


def test_totals_in_words_and_in_the_table(report: RectificationReport, report_pdf: Path) -> None:
    text = pdfcheck.text(report_pdf)
    flat = pdfcheck.squeeze(text)
    t = report.totals
    assert (
        f"截至2025年5月31日，全市共检查场所{t.sites_inspected}家，发现问题{t.findings}项，"
        f"其中一般问题{t.general}项、重点问题{t.key}项；已整改销号{t.rectified}项，整改率77.4%；"
        f"逾期未整改{t.overdue}项。依法采取执法措施62起，其中行政处罚5起、罚款125,000元。"
    ) in flat
    layout = pdfcheck.layout_text(report_pdf)
    assert re.search(r"126\s+195\s+134\s+61\s+151\s+77\.4%\s+14\s+62", layout), layout
    assert "整改情况报告" in flat and "格政办发〔2025〕30号" in flat
    pages = pdfcheck.page_count(report_pdf)
    assert f"第 1 页 共 {pages} 页" in text


def test_rates_by_district_and_department(report: RectificationReport, report_pdf: Path) -> None:
    layout = pdfcheck.layout_text(report_pdf)
    flat = pdfcheck.squeeze(pdfcheck.text(report_pdf))
    for row in [*report.by_district, *report.by_department]:
        # once as a chart label, once in the table
        assert flat.count(row.name) >= 2, row.name
    assert re.search(r"东城区\s+48\s+40\s+83\.3%\s+2", layout)
    assert re.search(r"市交通运输局\s+0\s+0\s+—\s+0", layout)  # no findings: no rate
    assert "无问题" in flat  # the chart's label for that bar
    assert "100.0%" in flat


def test_overdue_list_counts_days_to_the_report_date(
    report: RectificationReport, report_pdf: Path
) -> None:
    layout = pdfcheck.layout_text(report_pdf)
    flat = pdfcheck.squeeze(pdfcheck.text(report_pdf))  # wrapped cells read whole here
    assert "四、逾期未整改问题（6项）" in flat
    for row in report.overdue:
        assert pdfcheck.squeeze(row.site_name) in flat
        days = (date(2025, 5, 31) - row.deadline).days
        assert re.search(rf"{row.deadline:%Y-%m-%d}\s+{days}\s", layout), row
    # longest overdue first
    first = layout.index("2025-05-01")
    assert all(first < layout.index(f"2025-05-0{d}") for d in range(2, 7))


def test_enforcement_figures(report_pdf: Path) -> None:
    layout = pdfcheck.layout_text(report_pdf)
    for label, count in (
        ("责令限期整改", 42),
        ("责令停产停业整顿", 6),
        ("取缔", 3),
        ("行政处罚", 5),
        ("吊销证照", 1),
        ("移交公安机关", 2),
        ("移交司法机关", 1),
        ("纳入黑名单", 2),
        ("合计", 62),
    ):
        assert re.search(rf"{label}\s+{count}\b", layout), label
    assert "罚款125,000元" in layout


def test_fine_with_fen_and_nothing_overdue(report: RectificationReport, tmp_path: Path) -> None:
    from decimal import Decimal

    data = replace(
        report,
        overdue=[],
        enforcement=EnforcementFigures(fine_cases=1, fine_total_yuan=Decimal("2500.50")),
        scope="东城区",
        remarks=["本报告数据来源于专项整治检查系统。"],
    )
    path = tmp_path / "east.pdf"
    render_rectification_report(data, path)
    flat = pdfcheck.squeeze(pdfcheck.text(path))
    assert "罚款2,500.50元" in flat
    assert "无逾期未整改问题" in flat
    assert "整改情况报告（东城区）" in flat
    assert "本报告数据来源于专项整治检查系统。" in flat


def test_many_departments_are_charted_over_several_drawings(
    report: RectificationReport, tmp_path: Path
) -> None:
    departments = [
        RateRow(name=f"部门{n:02d}", findings=10, rectified=n % 11, overdue=n % 3)
        for n in range(75)
    ]
    path = tmp_path / "departments.pdf"
    pages = render_rectification_report(replace(report, by_department=departments), path)
    pdfcheck.qpdf_check(path)
    flat = pdfcheck.squeeze(pdfcheck.text(path))
    assert all(flat.count(f"部门{n:02d}") >= 2 for n in range(75))
    assert pages >= 4


def test_totals_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(ValueError, match="general"):
        RectificationTotals(sites_inspected=1, findings=3, general=1, key=1, rectified=0, overdue=0)
    with pytest.raises(ValueError, match="rectified"):
        RateRow(name="东城区", findings=1, rectified=2)
