"""问题清单 of a campaign or a district (reports.campaign_list)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from reports import (
    CampaignProblemList,
    DistrictFindings,
    SiteFindings,
    pdfcheck,
    render_campaign_problem_list,
    samples,
)

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "photos"
REAL_PHOTOS = [PHOTOS / name for name in ("DSCN0010.jpg", "DSCN0021.jpg", "landscape_1.jpg")]


@pytest.fixture(scope="module")
def campaign_list() -> CampaignProblemList:
    assert all(p.is_file() for p in REAL_PHOTOS), f"test photos missing under {PHOTOS}"
    return samples.campaign_problem_list(REAL_PHOTOS, findings=45, per_site=4)


@pytest.fixture(scope="module")
def campaign_pdf(campaign_list: CampaignProblemList, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("campaign") / "campaign.pdf"
    pages = render_campaign_problem_list(campaign_list, path)
    assert pages == pdfcheck.page_count(path)
    return path


def all_findings(data: CampaignProblemList):
    return [f for d in data.districts for s in d.sites for f in s.findings]


def test_passes_qpdf_check_with_fonts_embedded(campaign_pdf: Path) -> None:
    pdfcheck.qpdf_check(campaign_pdf)
    fonts = pdfcheck.fonts(campaign_pdf)
    assert fonts and all(f.embedded and f.unicode_map for f in fonts), fonts


def test_every_finding_and_site_is_in_the_text(
    campaign_list: CampaignProblemList, campaign_pdf: Path
) -> None:
    text = pdfcheck.text(campaign_pdf)
    flat = pdfcheck.squeeze(text)
    assert "问题清单（全市）" in flat
    assert "格政办发〔2025〕30号" in flat
    for district in campaign_list.districts:
        assert district.district in flat
        for entry in district.sites:
            assert pdfcheck.squeeze(entry.site.name) in flat
    descriptions = [f.description for f in all_findings(campaign_list)]
    assert len(descriptions) == 45
    for description in descriptions:
        assert pdfcheck.squeeze(description) in flat, description
    pages = pdfcheck.page_count(campaign_pdf)
    assert f"第 1 页 共 {pages} 页" in text


def test_summary_rows_and_total_match_the_listed_findings(
    campaign_list: CampaignProblemList, campaign_pdf: Path
) -> None:
    page_one = pdfcheck.layout_text(campaign_pdf).split("\f")[0]
    rows = all_findings(campaign_list)
    counted = [f for f in rows if f.status != "voided"]
    general = sum(f.severity == "general" for f in counted)
    closed = sum(f.status == "closed" for f in counted)
    sites = sum((d.sites_inspected or 0) for d in campaign_list.districts)
    rate = f"{closed / len(counted) * 100:.1f}%"
    total = rf"合计\s+{sites}\s+{len(counted)}\s+{general}\s+{len(counted) - general}"
    total += rf"\s+{closed}\s+{re.escape(rate)}"
    assert re.search(total, page_one), page_one
    east = campaign_list.districts[0]
    east_rows = [f for s in east.sites for f in s.findings if f.status != "voided"]
    assert re.search(rf"1\s+东城区\s+{east.sites_inspected}\s+{len(east_rows)}\s", page_one)
    assert any(f.status == "voided" for f in rows)  # so the exclusion above is exercised


def test_photos_sit_beside_their_findings_with_numbered_captions(
    campaign_list: CampaignProblemList, campaign_pdf: Path
) -> None:
    images = pdfcheck.images(campaign_pdf)
    assert len(images) == len(all_findings(campaign_list))
    flat = pdfcheck.squeeze(pdfcheck.text(campaign_pdf))
    assert "现场照片（拍摄时间）" in flat  # the photo column
    assert "图4-12025-05-" in flat  # the first photo of a site's fourth finding, its time


def test_one_district_with_status_filter(tmp_path: Path) -> None:
    data = samples.campaign_problem_list(REAL_PHOTOS, findings=6, per_site=3, district="西城区")
    data = replace(data, statuses=("open", "rectifying"))
    path = tmp_path / "west.pdf"
    render_campaign_problem_list(data, path)
    flat = pdfcheck.squeeze(pdfcheck.text(path))
    assert "问题清单（西城区）" in flat
    assert "问题状态：待整改、整改中" in flat
    assert "东城区" not in flat


def test_empty_list_still_renders(tmp_path: Path) -> None:
    data = replace(samples.campaign_problem_list([], findings=1), districts=[])
    path = tmp_path / "empty.pdf"
    render_campaign_problem_list(data, path)
    pdfcheck.qpdf_check(path)
    assert "无符合条件的问题" in pdfcheck.text(path)


def test_large_list_numbers_every_page(tmp_path: Path) -> None:
    data = samples.campaign_problem_list([], findings=400, per_site=25)
    path = tmp_path / "large.pdf"
    pages = render_campaign_problem_list(data, path)
    assert pages == pdfcheck.page_count(path) > 20
    for n in (1, pages // 2, pages):
        assert f"第 {n} 页 共 {pages} 页" in pdfcheck.text(path, first=n, last=n)
    flat = pdfcheck.squeeze(pdfcheck.text(path))
    for n in range(400):
        assert f"（第{n + 1}号）" in flat


def test_site_filed_under_the_wrong_district_is_refused() -> None:
    data = samples.campaign_problem_list([], findings=4, per_site=4)
    site = data.districts[0].sites[0]
    with pytest.raises(ValueError, match="not in '西城区'"):
        DistrictFindings(district="西城区", sites=[SiteFindings(site=site.site, findings=[])])


def test_many_photos_are_copied_in_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reports.photos

    monkeypatch.setattr(reports.photos, "PROCESS_POOL_MIN_PHOTOS", 2)
    photos = [*REAL_PHOTOS, tmp_path / "missing.jpg"]
    data = samples.campaign_problem_list(photos, findings=8, per_site=4)
    path = tmp_path / "processes.pdf"
    render_campaign_problem_list(data, path)
    pdfcheck.qpdf_check(path)
    images = pdfcheck.images(path)
    assert len(images) == 6  # two of the eight photos are the missing file
    assert max(max(i.width, i.height) for i in images) <= 272
    assert pdfcheck.squeeze(pdfcheck.text(path)).count("照片文件缺失") == 2
