"""问题清单 of one site (reports.site_list), checked with qpdf and poppler's tools."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4, landscape

from reports import (
    FindingRow,
    InspectionVisit,
    PhotoRef,
    SiteProblemList,
    pdfcheck,
    render_site_problem_list,
    samples,
)
from reports.layout import LANDSCAPE_MARGINS
from reports.tables import problem_column_widths

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "photos"
REAL_PHOTOS = [
    PHOTOS / name
    for name in ("jolla.jpg", "DSCN0010.jpg", "landscape_6.jpg", "portrait_6.jpg", "Canon_40D.jpg")
]


@pytest.fixture(scope="module")
def site_list() -> SiteProblemList:
    assert all(p.is_file() for p in REAL_PHOTOS), f"test photos missing under {PHOTOS}"
    return samples.site_problem_list(REAL_PHOTOS)


@pytest.fixture(scope="module")
def site_pdf(site_list: SiteProblemList, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site") / "site-problem-list.pdf"
    pages = render_site_problem_list(site_list, path)
    assert pages == pdfcheck.page_count(path)
    return path


def finding(description: str, **changes: object) -> FindingRow:
    base = FindingRow(
        item_code="RO-02",
        item_text="储油设施是否符合安全要求",
        description=description,
        clause="三（一）",
        basis="负责对成品油的生产、经营、储存企业开展安全生产执法检查。",
        severity="general",
        requirement="限期整改",
        deadline=date(2025, 5, 19),
        responsible_unit="市应急管理局",
        status="open",
    )
    return replace(base, **changes)


def test_passes_qpdf_check_with_fonts_embedded(site_pdf: Path) -> None:
    pdfcheck.qpdf_check(site_pdf)
    fonts = pdfcheck.fonts(site_pdf)
    assert fonts, "the PDF names no font"
    assert all(f.embedded and f.subset and f.unicode_map for f in fonts), fonts
    names = " ".join(f.name for f in fonts)
    assert "UMing" in names and "WenQuanYi" in names  # Song body, Hei headings


def test_text_has_everything_the_owner_needs(site_list: SiteProblemList, site_pdf: Path) -> None:
    text = pdfcheck.text(site_pdf)
    flat = pdfcheck.squeeze(text)
    site = site_list.site
    for expected in (
        site_list.campaign.name,
        "问题清单",
        "格政办发〔2025〕30号",
        site.name,
        site.credit_code,
        site.address,
        site.district,
        "刘建国",
        "张伟",
        "王强",
        "2025-05-1209:30—10:05",
        "检查人员（签字）",
        "被检查单位负责人（签字）",
        "共发现问题5项，其中一般问题3项、重点问题2项",
    ):
        assert pdfcheck.squeeze(str(expected)) in flat, expected
    for row in site_list.findings:
        assert pdfcheck.squeeze(row.description) in flat
        assert pdfcheck.squeeze(row.requirement) in flat
    for label in ("待整改", "整改中", "待复查", "已销号", "立行立改", "重大隐患", "二（三）"):
        assert label in flat, label
    pages = pdfcheck.page_count(site_pdf)
    assert f"第 1 页 共 {pages} 页" in text
    assert "生成时间：2025-05-12 10:05" in text


def test_photos_are_embedded_small_with_capture_times(
    site_list: SiteProblemList, site_pdf: Path
) -> None:
    images = pdfcheck.images(site_pdf)
    distinct_files = {p.path for f in site_list.findings for p in f.photos}
    assert len(images) == sum(len(f.photos) for f in site_list.findings)
    assert len({(i.width, i.height) for i in images}) <= len(distinct_files)
    # Shown in a 33 mm box at 200 dpi: nothing near the 3264 px of jolla.jpg is embedded.
    assert max(max(i.width, i.height) for i in images) <= 272
    assert all(i.encoding == "jpeg" for i in images)
    flat = pdfcheck.squeeze(pdfcheck.text(site_pdf))
    assert "图1-62025-05-1209:40" in flat  # the sixth photo of finding 1, its capture time


def test_generation_time_is_shown_in_shanghai_time(tmp_path: Path) -> None:
    data = samples.site_problem_list([], findings=1)
    data = replace(data, generated_at=datetime(2025, 5, 12, 2, 5, tzinfo=UTC))
    render_site_problem_list(data, tmp_path / "out.pdf")
    assert "生成时间：2025-05-12 10:05" in pdfcheck.text(tmp_path / "out.pdf")


def test_overdue_deadline_is_marked_with_days(tmp_path: Path) -> None:
    data = samples.site_problem_list([], findings=1)
    late = finding("防火堤破损未修复", deadline=date(2025, 5, 2), status="rectifying")
    render_site_problem_list(replace(data, findings=[late]), tmp_path / "out.pdf")
    assert "逾期 10 天" in pdfcheck.text(tmp_path / "out.pdf")


def test_very_long_description_wraps_across_pages_and_is_complete(tmp_path: Path) -> None:
    sentences = [f"【{n:03d}】油罐区东侧防火堤多处破损，围堰内积存油污未清理。" for n in range(200)]
    description = "".join(sentences)
    assert len(description) > 5000
    data = samples.site_problem_list(REAL_PHOTOS[:2], findings=3)
    rows = list(data.findings)
    rows[1] = replace(rows[1], description=description)
    path = tmp_path / "long.pdf"
    pages = render_site_problem_list(replace(data, findings=rows), path)

    pdfcheck.qpdf_check(path)
    assert pages >= 4  # the one row runs over several pages instead of off the page
    # Read the 问题描述 column alone, page after page, without headers and footers.
    page_w, page_h = landscape(A4)
    left, right, top, bottom = LANDSCAPE_MARGINS
    widths = problem_column_widths(page_w - left - right, with_photos=True)
    x0, x1 = left + sum(widths[:2]), left + sum(widths[:3])
    crop = (x0 + 1, top, x1 - x0 - 2, page_h - top - bottom)
    column = pdfcheck.squeeze(pdfcheck.text(path, crop=crop)).replace("问题描述", "")
    assert description in column
    assert column.count("围堰内积存油污未清理") == 200
    for n in range(1, pages + 1):
        assert f"第 {n} 页 共 {pages} 页" in pdfcheck.text(path, first=n, last=n)


def test_many_findings_number_every_page_with_the_total(tmp_path: Path) -> None:
    data = samples.site_problem_list([], findings=120)
    path = tmp_path / "many.pdf"
    pages = render_site_problem_list(data, path)
    assert pages == pdfcheck.page_count(path) > 5
    for n in range(1, pages + 1):
        assert f"第 {n} 页 共 {pages} 页" in pdfcheck.text(path, first=n, last=n)
    flat = pdfcheck.squeeze(pdfcheck.text(path))
    assert all(pdfcheck.squeeze(f.description) in flat for f in data.findings)


def test_missing_and_damaged_photos_print_a_placeholder(tmp_path: Path) -> None:
    taken = datetime(2025, 5, 12, 9, 40, tzinfo=UTC)
    photos = [
        PhotoRef(path=tmp_path / "gone.jpg", taken_at=taken),
        PhotoRef(path=tmp_path / "not-a-photo.jpg", taken_at=None),
        PhotoRef(path=PHOTOS / "corrupted.jpg", taken_at=taken),
    ]
    (tmp_path / "not-a-photo.jpg").write_bytes(b"this is not a JPEG")
    data = samples.site_problem_list([], findings=1)
    rows = [finding("现场配备的灭火器已过期", photos=photos)]
    path = tmp_path / "out.pdf"
    render_site_problem_list(replace(data, findings=rows), path)
    pdfcheck.qpdf_check(path)
    flat = pdfcheck.squeeze(pdfcheck.text(path))
    assert "照片文件缺失" in flat
    assert "照片无法读取" in flat
    assert "拍摄时间不详" in flat
    assert "图1-32025-05-1217:40" in flat


def test_markup_in_user_text_prints_as_typed(tmp_path: Path) -> None:
    data = samples.site_problem_list([], findings=1)
    rows = [finding("标牌写着 <b>禁止烟火</b> & “严禁”\n第二行")]
    path = tmp_path / "out.pdf"
    render_site_problem_list(replace(data, findings=rows), path)
    text = pdfcheck.text(path)
    assert "<b>禁止烟火</b> & “严禁”" in text
    assert "第二行" in text


def test_site_without_findings_says_so(tmp_path: Path) -> None:
    data = replace(samples.site_problem_list([], findings=1), findings=[])
    path = tmp_path / "out.pdf"
    assert render_site_problem_list(data, path) == 1
    assert "本次检查未发现问题" in pdfcheck.text(path)


def test_writes_to_a_binary_file_object(site_list: SiteProblemList) -> None:
    buffer = io.BytesIO()
    pages = render_site_problem_list(site_list, buffer)
    assert buffer.getvalue().startswith(b"%PDF-")
    assert pages >= 1


def test_a_failed_render_leaves_no_file_behind(tmp_path: Path, monkeypatch) -> None:
    import reports.site_list

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(reports.site_list, "_story", broken)
    with pytest.raises(RuntimeError):
        render_site_problem_list(samples.site_problem_list([]), tmp_path / "out.pdf")
    assert list(tmp_path.iterdir()) == []


def test_renders_in_parallel_threads(tmp_path: Path) -> None:
    data = samples.site_problem_list(REAL_PHOTOS, findings=8)
    errors: list[BaseException] = []

    def render(n: int) -> None:
        try:
            render_site_problem_list(data, tmp_path / f"{n}.pdf")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=render, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    texts = {pdfcheck.text(tmp_path / f"{n}.pdf") for n in range(3)}
    assert len(texts) == 1


def test_several_visits_list_every_inspector_once(tmp_path: Path) -> None:
    data = samples.site_problem_list([], findings=1)
    visits = [
        InspectionVisit(
            started_at=datetime(2025, 5, 20, 6, 0, tzinfo=UTC),
            inspectors=["张伟", "马海"],
        ),
        InspectionVisit(
            started_at=datetime(2025, 5, 12, 1, 30, tzinfo=UTC),
            finished_at=datetime(2025, 5, 12, 2, 5, tzinfo=UTC),
            inspectors=["张伟", "李娜"],
        ),
    ]
    path = tmp_path / "out.pdf"
    render_site_problem_list(replace(data, visits=visits), path)
    flat = pdfcheck.squeeze(pdfcheck.text(path))
    assert "2025-05-1209:30—10:05；2025-05-2014:00" in flat
    assert "张伟、马海、李娜" in flat


def test_reports_imports_nothing_from_flask_or_sqlalchemy() -> None:
    code = (
        "import reports, reports.pdfcheck, reports.samples, sys; "
        "bad = sorted(m for m in sys.modules if m.startswith(('flask', 'sqlalchemy'))); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
