"""Every document names the area it covers, and every download is named in both forms.

A team lead of 郭勒木德镇 and 唐古拉山镇 gets documents titled and summed up for those
two districts (never 全市), with the counts the database holds for them; the office
gets 全市 and the city's counts; a district filter outside the caller's districts is
403. File names: an ASCII ``filename=`` and a Chinese ``filename*=UTF-8''`` for every
kind of download, background jobs included.
"""

import io
import re
from datetime import datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from inspect_app.domain import DISTRICTS
from reports import pdfcheck
from tests.factories import CAMPAIGN, CAMPAIGN_NAME, Factory
from tests.helpers import assert_error
from tests.test_documents import poll
from tests.test_web import web_login

LEAD_DISTRICTS = ("郭勒木德镇", "唐古拉山镇")
LEAD_SCOPE = "郭勒木德镇、唐古拉山镇"
LEAD_SLUG = "guolemude-tanggulashan"
OUTSIDE = "东城区"


@pytest.fixture
def world(app, make_user, login):
    """Sites in the lead's two districts and in 东城区; one site inspected with no finding."""
    factory = Factory(app)
    office = make_user("office", "office", [])
    make_user("lead", "team_lead", list(LEAD_DISTRICTS))
    sites = {}
    for name, district, statuses in [
        ("郭勒木德镇察尔汗路加油站", "郭勒木德镇", ["open", "closed", "rectifying"]),
        ("郭勒木德镇昆仑南路加油站", "郭勒木德镇", ["open"]),
        ("唐古拉山镇沱沱河加油站", "唐古拉山镇", ["closed", "open"]),
        ("唐古拉山镇雁石坪加油站", "唐古拉山镇", []),  # inspected, nothing found
        ("东城区柴达木路加油站", OUTSIDE, ["open", "open", "closed", "rectifying"]),
        ("东城区八一路加油站", OUTSIDE, ["open"]),
    ]:
        site = factory.site(name, district)
        inspection = factory.inspection(site, office)
        for n, status in enumerate(statuses):
            factory.finding(inspection, status=status, item=f"T-0{n % 3 + 1}")
        sites[name] = site
    # One finding entered in error: counted nowhere.
    factory.finding(factory.inspection(sites["唐古拉山镇沱沱河加油站"], office), status="voided")
    return {"office": login("office"), "lead": login("lead"), "sites": sites}


def db_counts(app, districts) -> tuple[int, int]:
    """(sites inspected, findings not voided) of the test campaign in ``districts``."""
    from inspect_app.campaigns.models import Campaign
    from inspect_app.extensions import db
    from inspect_app.findings.models import Finding
    from inspect_app.inspections.models import Inspection
    from inspect_app.sites.models import Site

    with app.app_context():
        campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.code == CAMPAIGN))
        sites = db.session.scalar(
            select(func.count(func.distinct(Inspection.site_id)))
            .join(Site, Site.id == Inspection.site_id)
            .where(Inspection.campaign_id == campaign_id, Site.district.in_(districts))
        )
        findings = db.session.scalar(
            select(func.count()).where(
                Finding.campaign_id == campaign_id,
                Finding.status != "voided",
                Finding.district.in_(districts),
            )
        )
    return sites, findings


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def disposition(header: str) -> dict[str, str]:
    """The parameters of a Content-Disposition header, filename* decoded (RFC 5987)."""
    kind, *params = [part.strip() for part in header.split(";")]
    assert kind == "attachment"
    found = {}
    for param in params:
        key, _, value = param.partition("=")
        if key == "filename*":
            charset, _, encoded = value.partition("''")
            assert charset == "UTF-8"
            found[key] = unquote(encoded, encoding="utf-8", errors="strict")
        else:
            assert value.startswith('"') and value.endswith('"'), value
            found[key] = value[1:-1]
    return found


def download(client, url, headers=None):
    """GET a download; returns (its two names, the body)."""
    response = client.get(url, headers=headers or {})
    try:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        body = response.get_data()
        names = disposition(response.headers["Content-Disposition"])
    finally:
        response.close()
    ascii_name = names["filename"]
    assert ascii_name.isascii() and re.fullmatch(r"[a-z0-9][a-z0-9.-]+", ascii_name), ascii_name
    return names["filename"], names["filename*"], body


def pdf_text(tmp_path, body, name="doc.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(body)
    return pdfcheck.squeeze(pdfcheck.text(path))


def test_team_lead_documents_name_their_districts_and_counts(app, client, world, tmp_path):
    sites, findings = db_counts(app, LEAD_DISTRICTS)
    assert (sites, findings) == (4, 6)  # the data is what the test says it is
    base = f"/api/v1/campaigns/{CAMPAIGN}"

    _a, _c, body = download(client, f"{base}/problem-list.pdf", world["lead"])
    text = pdf_text(tmp_path, body, "list.pdf")
    assert f"问题清单（{LEAD_SCOPE}）" in text
    assert f"{LEAD_SCOPE}共检查场所{sites}家，发现问题{findings}项" in text
    assert "全市" not in text and "东城区" not in text

    _a, _c, body = download(client, f"{base}/rectification-report.pdf", world["lead"])
    text = pdf_text(tmp_path, body, "report.pdf")
    assert f"整改情况报告（{LEAD_SCOPE}）" in text
    assert f"{LEAD_SCOPE}共检查场所{sites}家，发现问题{findings}项" in text
    assert "全市" not in text

    _a, _c, body = download(client, f"{base}/stats.xlsx", world["lead"])
    wb = load_workbook(io.BytesIO(body))
    title, subtitle = wb["整改情况统计"]["A1"].value, wb["整改情况统计"]["A2"].value
    assert f"（{LEAD_SCOPE}，按区域）" in title and f"范围：{LEAD_SCOPE}" in subtitle
    figures = {row[0]: row[1] for row in wb["主要指标"].iter_rows(min_row=4, values_only=True)}
    assert (figures["检查点位数"], figures["发现问题数"]) == (sites, findings)
    assert "全市" not in title + subtitle

    _a, _c, body = download(client, f"{base}/findings.xlsx", world["lead"])
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet["A1"].value == f"{CAMPAIGN_NAME}问题清单（{LEAD_SCOPE}）"
    assert sheet.max_row - 3 == findings  # title, subtitle, headers, then one row each


def test_one_district_filter_names_that_district(app, client, world, tmp_path):
    sites, findings = db_counts(app, ["唐古拉山镇"])
    url = f"/api/v1/campaigns/{CAMPAIGN}/rectification-report.pdf?district=唐古拉山镇"
    ascii_name, chinese, body = download(client, url, world["lead"])
    text = pdf_text(tmp_path, body)
    assert "整改情况报告（唐古拉山镇）" in text
    assert f"唐古拉山镇共检查场所{sites}家，发现问题{findings}项" in text
    assert "郭勒木德镇共检查" not in text
    assert ascii_name == f"rectification-report-{CAMPAIGN}-tanggulashan-{today()}.pdf"
    assert chinese.endswith(f"整改情况报告（唐古拉山镇）-{today()}.pdf")


def test_office_documents_say_the_city_with_city_counts(app, client, world, tmp_path):
    sites, findings = db_counts(app, DISTRICTS)
    assert (sites, findings) == (6, 11)
    base = f"/api/v1/campaigns/{CAMPAIGN}"
    for url, kind in [
        (f"{base}/problem-list.pdf", "问题清单"),
        (f"{base}/rectification-report.pdf", "整改情况报告"),
    ]:
        ascii_name, chinese, body = download(client, url, world["office"])
        text = pdf_text(tmp_path, body)
        assert f"{kind}（全市）" in text
        assert f"全市共检查场所{sites}家，发现问题{findings}项" in text
        assert "-city-" in ascii_name and f"{kind}（全市）" in chinese
    _a, _c, body = download(client, f"{base}/stats.xlsx", world["office"])
    assert "（全市，按区域）" in load_workbook(io.BytesIO(body)).active["A1"].value


def test_scope_is_the_city_only_when_it_is_every_district():
    from inspect_app.auth.models import User
    from inspect_app.scope import scope_label, scope_name

    assert scope_name(DISTRICTS) == "全市"
    assert scope_name(DISTRICTS[:-1]) == "、".join(DISTRICTS[:-1])
    assert scope_label(User(role="team_lead", districts=list(DISTRICTS))) == "全市"
    # The caller's districts in the city's order, whatever order they were given in.
    assert scope_label(User(role="team_lead", districts=["唐古拉山镇", "郭勒木德镇"])) == LEAD_SCOPE


def test_every_district_has_an_ascii_name():
    from inspect_app.documents.names import DISTRICT_SLUGS

    assert set(DISTRICT_SLUGS) == set(DISTRICTS)
    assert all(re.fullmatch(r"[a-z-]+", slug) for slug in DISTRICT_SLUGS.values())


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/campaigns/{code}/problem-list.pdf?district={d}",
        "/api/v1/campaigns/{code}/rectification-report.pdf?district={d}",
        "/api/v1/campaigns/{code}/findings.xlsx?district={d}",
    ],
)
def test_a_district_outside_the_callers_is_403(client, world, path):
    response = client.get(path.format(code=CAMPAIGN, d=OUTSIDE), headers=world["lead"])
    error = assert_error(response, 403, "forbidden")
    assert OUTSIDE in error["message"]


def test_dashboard_refuses_foreign_districts_and_names_the_scope(client, world):
    web_login(client, "lead")
    for path in [
        f"/dashboard/campaigns/{CAMPAIGN}",
        f"/dashboard/campaigns/{CAMPAIGN}/problem-list.pdf",
        f"/dashboard/campaigns/{CAMPAIGN}/rectification-report.pdf",
        f"/dashboard/campaigns/{CAMPAIGN}/stats.xlsx",
        f"/dashboard/campaigns/{CAMPAIGN}/findings.xlsx",
    ]:
        response = client.get(f"{path}?district={OUTSIDE}")
        assert response.status_code == 403, path
        assert "不在您的辖区" in response.get_data(as_text=True)
    # The line under the heading says whose figures these are (a campaign's own name
    # may hold 全市: 2025年全市再生资源回收行业联合整治).
    # A district the city does not have is bad input, for the office too.
    web_login(client, "office")
    unknown = client.get(f"/dashboard/campaigns/{CAMPAIGN}/findings.xlsx?district=火星")
    assert unknown.status_code == 422
    web_login(client, "lead")
    overview = client.get("/dashboard/").get_data(as_text=True)
    assert re.search(rf'<p class="muted">{LEAD_SCOPE}，数据截至', overview)
    page = client.get(f"/dashboard/campaigns/{CAMPAIGN}").get_data(as_text=True)
    assert f"范围：{LEAD_SCOPE} · 数据截至" in page


def test_every_download_is_named_in_ascii_and_chinese(client, world):
    day = today()
    site = world["sites"]["郭勒木德镇察尔汗路加油站"]
    base = f"/api/v1/campaigns/{CAMPAIGN}"
    expected = [
        (
            f"/api/v1/sites/{site}/problem-list.pdf?campaign={CAMPAIGN}",
            f"problem-list-site-{site}-{day}.pdf",
            f"问题清单-郭勒木德镇察尔汗路加油站-{day}.pdf",
        ),
        (
            f"{base}/problem-list.pdf",
            f"problem-list-{CAMPAIGN}-{LEAD_SLUG}-{day}.pdf",
            f"{CAMPAIGN_NAME}问题清单（{LEAD_SCOPE}）-{day}.pdf",
        ),
        (
            f"{base}/rectification-report.pdf",
            f"rectification-report-{CAMPAIGN}-{LEAD_SLUG}-{day}.pdf",
            f"{CAMPAIGN_NAME}整改情况报告（{LEAD_SCOPE}）-{day}.pdf",
        ),
        (
            f"{base}/stats.xlsx?group_by=department",
            f"stats-{CAMPAIGN}-{LEAD_SLUG}-by-department-{day}.xlsx",
            f"{CAMPAIGN_NAME}整改情况统计表（{LEAD_SCOPE}，按责任单位）-{day}.xlsx",
        ),
        (
            f"{base}/findings.xlsx",
            f"problem-list-{CAMPAIGN}-{LEAD_SLUG}-{day}.xlsx",
            f"{CAMPAIGN_NAME}问题清单（{LEAD_SCOPE}）-{day}.xlsx",
        ),
    ]
    for url, ascii_name, chinese in expected:
        assert download(client, url, world["lead"])[:2] == (ascii_name, chinese), url
    # The dashboard's downloads are the same documents with the same names.
    web_login(client, "lead")
    dashboard = download(client, f"/dashboard/campaigns/{CAMPAIGN}/problem-list.pdf")
    assert dashboard[:2] == expected[1][1:]


def test_background_job_results_have_the_documents_names(app, client, world, tmp_path):
    app.config["REPORT_SYNC_MAX_FINDINGS"] = 0
    day = today()
    site = world["sites"]["唐古拉山镇沱沱河加油站"]
    for url, ascii_name, chinese in [
        (
            f"/api/v1/campaigns/{CAMPAIGN}/problem-list.pdf?district=郭勒木德镇",
            f"problem-list-{CAMPAIGN}-guolemude-{day}.pdf",
            f"{CAMPAIGN_NAME}问题清单（郭勒木德镇）-{day}.pdf",
        ),
        (
            f"/api/v1/sites/{site}/problem-list.pdf?campaign={CAMPAIGN}",
            f"problem-list-site-{site}-{day}.pdf",
            f"问题清单-唐古拉山镇沱沱河加油站-{day}.pdf",
        ),
    ]:
        response = client.get(url, headers=world["lead"])
        assert response.status_code == 202, url
        job = poll(client, world["lead"], response.get_json()["url"])
        assert job["status"] == "done", job
        got_ascii, got_chinese, body = download(client, job["download_url"], world["lead"])
        assert (got_ascii, got_chinese) == (ascii_name, chinese)
        assert "问题清单" in pdf_text(tmp_path, body)
