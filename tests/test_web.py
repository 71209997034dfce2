"""The dashboard (/dashboard) through Flask's test client, on SQLite and PostgreSQL.

The browser tests (test_web_e2e.py) drive the same pages in Chromium; these check
what needs the database behind the page: the session and its cookie, CSRF, scope,
the figures against the statistics service, the review rules, the downloads, and
the number of SQL statements per page.

Data (today is the real date; every deadline below lies in 2025, so open = overdue):

    site  district     finding  item  status          deadline    department
    A     东城区        a1       T-01  open            2025-06-12  商务局
                       a2       T-02  closed
                       a3       T-03  pending_review  2025-06-19  市场监管局
    B     西城区        b1       T-03  rectifying      2025-06-01  市场监管局
                       b2       T-01  pending_review  2025-06-30  商务局
    C     郭勒木德镇    c1       T-02  open            2025-06-05  应急管理局
"""

import hashlib
import io
import re
import subprocess
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from inspect_app.auth.models import ApiToken, User
from inspect_app.extensions import db
from inspect_app.findings.models import Finding, RectificationEvent
from tests.conftest import PHOTOS
from tests.factories import CAMPAIGN, CAMPAIGN_NAME, Factory
from tests.helpers import sql_statements

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client, url="/dashboard/login") -> str:
    return CSRF.search(client.get(url).text).group(1)


def web_login(client, username, password="password123"):
    token = csrf_of(client)
    return client.post(
        "/dashboard/login",
        data={"csrf_token": token, "username": username, "password": password},
    )


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def data(factory, make_user):
    office = make_user("office", "office", [])
    make_user("lead", "team_lead", ["东城区", "西城区"])
    make_user("rural", "team_lead", ["郭勒木德镇"])
    make_user("east", "inspector", ["东城区"])
    a = factory.site("A 加油站", "东城区")
    b = factory.site("B 油库", "西城区", "油库")
    c = factory.site("C 加油站", "郭勒木德镇")
    ia, ib, ic = (factory.inspection(s, office) for s in (a, b, c))
    f = factory.finding
    return {
        "sites": {"A": a, "B": b, "C": c},
        "a1": f(ia, item="T-01", status="open", deadline=date(2025, 6, 12)),
        "a2": f(ia, item="T-02", status="closed"),
        "a3": f(ia, item="T-03", status="pending_review", deadline=date(2025, 6, 19)),
        "b1": f(ib, item="T-03", status="rectifying", deadline=date(2025, 6, 1)),
        "b2": f(ib, item="T-01", status="pending_review", deadline=date(2025, 6, 30)),
        "c1": f(ic, item="T-02", status="open", deadline=date(2025, 6, 5)),
    }


def status_of(app, finding_id):
    with app.app_context():
        return db.session.get(Finding, finding_id).status


# ---------------------------------------------------------------------------
# Session, cookie, CSRF


@pytest.mark.parametrize(
    "url",
    ["/dashboard/", f"/dashboard/campaigns/{CAMPAIGN}", "/dashboard/sites/1", "/dashboard/jobs/x"],
)
def test_pages_send_a_visitor_to_the_login_and_back(client, data, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login?next=")
    assert web_login(client, "lead").status_code == 302
    page = client.get(response.headers["Location"])
    assert 'name="next" value="' + url in page.text


def test_login_issues_a_protected_session_cookie_and_lands_on_the_overview(client, data):
    response = web_login(client, "lead")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("inspect_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain HTTP; production sets it
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert CAMPAIGN_NAME in page.text and "lead 姓名" in page.text
    assert page.headers["Cache-Control"] == "private, no-store"


def test_the_cookie_is_secure_in_production(database_url, media_dir):
    from inspect_app import create_app
    from tests.conftest import _config

    config = _config(database_url, media_dir)
    config.update(ENV="production", SECRET_KEY="x" * 40, SESSION_COOKIE_SECURE=True)
    app = create_app(config)
    client = app.test_client()
    response = client.get("/dashboard/login")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    with app.app_context():
        db.engine.dispose()


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(app, client, data):
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"username": "lead", "password": "password123"})
    assert response.status_code == 400 and "页面已过期" in response.text
    assert client.get("/dashboard/").status_code == 302  # not logged in
    web_login(client, "lead")
    review = client.post(
        f"/dashboard/findings/{data['a3']}/review",
        data={"action": "approve", "csrf_token": "forged"},
    )
    assert review.status_code == 400
    assert status_of(app, data["a3"]) == "pending_review"


def test_a_wrong_password_is_told_and_brakes_like_the_api(client, data):
    for _ in range(5):
        response = web_login(client, "lead", "wrong-password")
        assert response.status_code == 401
        assert 'role="alert"' in response.text and "用户名或密码错误" in response.text
    response = web_login(client, "lead", "password123")
    assert response.status_code == 429 and "登录失败次数过多" in response.text
    assert int(response.headers["Retry-After"]) > 0


def test_an_inspector_is_sent_to_the_phone_app_with_no_token_left(app, client, data):
    response = web_login(client, "east")
    assert response.status_code == 403 and "检查员请使用手机应用" in response.text
    with app.app_context():
        east = db.session.scalar(select(User.id).where(User.username == "east"))
        assert db.session.scalar(select(ApiToken).where(ApiToken.user_id == east)) is None
    assert client.get("/dashboard/").status_code == 302


def test_logout_revokes_the_session_even_for_a_copied_cookie(app, client, data):
    web_login(client, "lead")
    stolen = client.get_cookie("inspect_session").value
    token = csrf_of(client, "/dashboard/")
    response = client.post("/dashboard/logout", data={"csrf_token": token})
    assert response.headers["Location"] == "/dashboard/login"
    other = app.test_client()
    other.set_cookie("inspect_session", stolen)
    assert other.get("/dashboard/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ApiToken.revoked_at)) is not None


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/api/v1/sync", "/\\evil.example"]
)
def test_after_login_only_dashboard_pages_are_followed(client, data, target):
    token = csrf_of(client)
    response = client.post(
        "/dashboard/login",
        data={"csrf_token": token, "username": "lead", "password": "password123", "next": target},
    )
    assert response.headers["Location"] == "/dashboard/"


# ---------------------------------------------------------------------------
# Figures, scope, lists


def test_overview_and_campaign_page_agree_with_the_statistics_api(client, login, data):
    api = client.get(
        f"/api/v1/campaigns/{CAMPAIGN}/stats?group_by=district", headers=login("lead")
    ).get_json()
    web_login(client, "lead")
    page = client.get("/dashboard/").text
    card = page[page.index(CAMPAIGN_NAME) :]
    total = api["total"]
    assert (total["findings"], total["rectified"], total["overdue"]) == (5, 1, 4)
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", card)[:5])
    assert figures["发现问题"] == "5" and figures["已整改"] == "1"
    assert figures["整改率"] == "20.0%" and figures["逾期"] == "4"

    campaign = client.get(f"/dashboard/campaigns/{CAMPAIGN}").text
    bars = [
        re.sub(r"<[^>]+>", "", label)
        for label in re.findall(r'class="bar-label">(.*?)</text>', campaign)
    ]
    assert bars[:2] == ["东城区", "西城区"] and "郭勒木德镇" not in campaign
    assert "东城区 33% (1/3)" in campaign  # the chart's text alternative


def test_the_district_filter_narrows_the_figures_and_refuses_foreign_districts(client, data):
    web_login(client, "lead")
    page = client.get(f"/dashboard/campaigns/{CAMPAIGN}?district=西城区").text
    assert "仅看 西城区" in page
    assert re.search(r"<dt>发现问题</dt><dd>2</dd>", page)
    foreign = client.get(f"/dashboard/campaigns/{CAMPAIGN}?district=郭勒木德镇")
    assert foreign.status_code == 403 and "不在您的辖区" in foreign.text
    assert client.get("/dashboard/campaigns/no-such").status_code == 404


def test_weekly_trend_counts_by_beijing_week(app, factory, data):
    """A finding at 20:00 UTC on a Sunday is Monday morning in Golmud: the next week."""
    from inspect_app.web import queries

    with app.app_context():
        sunday_night = datetime(2025, 6, 15, 20, 0, tzinfo=UTC)  # Mon 16 June 04:00 in Golmud
        finding = db.session.get(Finding, data["a2"])
        finding.found_at = datetime(2025, 6, 10, 1, 0, tzinfo=UTC)
        finding.closed_at = sunday_night
        for other in ("a1", "a3", "b1", "b2", "c1"):
            db.session.get(Finding, data[other]).found_at = sunday_night
        db.session.commit()
        office = db.session.scalar(select(User).where(User.username == "office"))
        campaign_id = factory.campaign()
        points = queries.weekly_trend(office, campaign_id)
    assert [(p.monday, p.found, p.closed) for p in points] == [
        (date(2025, 6, 9), 1, 0),
        (date(2025, 6, 16), 5, 1),
    ]


def test_overdue_list_sorts_filters_and_keeps_to_the_districts(client, data):
    web_login(client, "lead")
    base = f"/dashboard/campaigns/{CAMPAIGN}/overdue"
    page = client.get(f"{base}?sort=deadline&order=asc").text
    deadlines = re.findall(r'data-label="整改时限">([^<]+)<', page)
    assert deadlines == ["2025-06-01", "2025-06-12", "2025-06-19", "2025-06-30"]
    assert "C 加油站" not in page and "共 4 条逾期问题" in page
    most_days = client.get(base).text  # default: most days overdue first
    assert re.findall(r'data-label="整改时限">([^<]+)<', most_days)[0] == "2025-06-01"
    filtered = client.get(f"{base}?district=东城区&department=市场监管局&severity=general").text
    assert re.findall(r'data-label="站点"><a href="/dashboard/findings/(\d+)"', filtered) == [
        str(data["a3"])
    ]
    link = client.get(f"/dashboard/findings/{data['a3']}")
    assert link.headers["Location"] == f"/dashboard/sites/{data['sites']['A']}#finding-{data['a3']}"
    assert client.get(f"{base}?district=东城区&severity=key").text.count("没有逾期问题") == 1


def test_sites_are_found_by_name_in_the_districts_most_overdue_first(client, factory, data):
    factory.site("100%_加油站", "东城区")
    web_login(client, "lead")
    listed = client.get("/dashboard/sites").text
    names = re.findall(r'data-label="站点"><a href="/dashboard/sites/\d+">([^<]+)</a>', listed)
    # A and B: 2 overdue each (then by name); the new site has none; C is not theirs.
    assert names == ["A 加油站", "B 油库", "100%_加油站"]
    assert "C 加油站" not in listed
    found = client.get("/dashboard/sites?q=油库").text
    assert "B 油库" in found and "A 加油站" not in found
    # % and _ are letters to the search, not wildcards.
    assert "A 加油站" not in client.get("/dashboard/sites?q=%25_").text
    assert "100%_加油站" in client.get("/dashboard/sites?q=%25_").text
    assert "没有找到站点" in client.get("/dashboard/sites?q=不存在").text
    # NUL is refused by the one input rule (tests/test_input_rules.py), with a page.
    assert client.get("/dashboard/sites?q=%00").status_code == 422


def test_a_site_outside_the_districts_is_not_found(client, data):
    web_login(client, "lead")
    page = client.get(f"/dashboard/sites/{data['sites']['C']}")
    assert page.status_code == 404 and "站点不存在" in page.text
    assert client.get(f"/dashboard/findings/{data['c1']}").status_code == 404


# ---------------------------------------------------------------------------
# Review: the API's rules


def review(client, finding_id, action, note=""):
    site_page = client.get(f"/dashboard/findings/{finding_id}", follow_redirects=True)
    token = CSRF.search(site_page.text).group(1)
    return client.post(
        f"/dashboard/findings/{finding_id}/review",
        data={"csrf_token": token, "action": action, "note": note},
        follow_redirects=True,
    )


def test_a_team_lead_approves_and_rejects_with_a_note(app, client, data):
    web_login(client, "lead")
    approved = review(client, data["a3"], "approve")
    assert approved.status_code == 200 and "已通过复查，问题已销号" in approved.text
    assert status_of(app, data["a3"]) == "closed"

    refused = review(client, data["b2"], "reject")
    assert 'role="alert"' in refused.text and "需填写复查意见" in refused.text
    assert status_of(app, data["b2"]) == "pending_review"
    rejected = review(client, data["b2"], "reject", "灭火器仍未配齐")
    assert "已退回整改" in rejected.text and "灭火器仍未配齐" in rejected.text
    assert status_of(app, data["b2"]) == "rectifying"
    with app.app_context():
        last = db.session.scalars(
            select(RectificationEvent)
            .where(RectificationEvent.finding_id == data["b2"])
            .order_by(RectificationEvent.id.desc())
        ).first()
        assert (last.action, last.note, last.from_status) == (
            "reject",
            "灭火器仍未配齐",
            "pending_review",
        )

    again = review(client, data["a3"], "approve")
    assert "当前状态为「已销号」" in again.text


def article_of(page: str, finding_id: int) -> str:
    """The <article> of one finding on a site page."""
    start = page.index(f'<article id="finding-{finding_id}"')
    return page[start : page.index("</article>", start)]


def test_a_review_answers_next_to_its_finding_not_at_the_top(client, data):
    web_login(client, "lead")
    page = client.get(f"/dashboard/findings/{data['a3']}", follow_redirects=True).text
    token = CSRF.search(page).group(1)
    sent = client.post(
        f"/dashboard/findings/{data['a3']}/review",
        data={"csrf_token": token, "action": "reject", "note": "   "},
    )
    # Back to the finding's review, not to the top of the page.
    assert sent.headers["Location"].endswith(f"#finding-{data['a3']}-notice")
    page = client.get(sent.headers["Location"]).text
    top = page[: page.index("<h1>")]
    assert "复查意见" not in top and 'role="alert"' not in top
    article = article_of(page, data["a3"])
    alert = re.search(
        r'<p id="([^"]+)" class="flash flash-alert" role="alert"[^>]*>([^<]+)', article
    )
    assert alert and "需填写复查意见" in alert.group(2)
    # The redirect's anchor is the message itself, focusable: the browser focuses it.
    assert alert.group(1) == f"finding-{data['a3']}-notice" and 'tabindex="-1"' in alert.group(0)
    textarea = re.search(r"<textarea[^>]*>", article).group(0)
    assert 'aria-invalid="true"' in textarea and f'aria-describedby="{alert.group(1)}"' in textarea
    # Shown once: a reload shows the finding without it.
    assert 'role="alert"' not in client.get(f"/dashboard/sites/{data['sites']['A']}").text

    # The confirmation too is given where the review was made, and the filter is kept.
    approved = client.post(
        f"/dashboard/findings/{data['a3']}/review",
        data={"csrf_token": token, "action": "approve", "campaign": CAMPAIGN},
    )
    assert f"campaign={CAMPAIGN}" in approved.headers["Location"]
    page = client.get(approved.headers["Location"]).text
    assert 'role="status"' not in page[: page.index("<h1>")]
    assert "已通过复查，问题已销号" in article_of(page, data["a3"])


def test_a_refused_review_keeps_the_note_typed(client, data):
    web_login(client, "lead")
    review(client, data["a3"], "approve")
    page = review(client, data["a3"], "reject", "灭火器仍未配齐").text
    article = article_of(page, data["a3"])
    assert "当前状态为「已销号」" in article and 'role="alert"' in article
    assert "需填写" not in article


def test_the_history_gives_when_it_was_found_and_when_it_was_uploaded(app, client, data):
    """Found on 12 May 2025 at 09:30 (the factory's inspection), synced a day later."""
    with app.app_context():
        record = db.session.scalar(
            select(RectificationEvent).where(
                RectificationEvent.finding_id == data["a1"], RectificationEvent.action == "record"
            )
        )
        assert record.received_at == record.at  # written without a receipt: one time
        record.received_at = datetime(2025, 5, 13, 4, 40, tzinfo=UTC)  # 12:40 in Golmud
        db.session.commit()
    web_login(client, "lead")
    page = client.get(f"/dashboard/sites/{data['sites']['A']}").text
    first = re.search(r'<ol class="history">\s*<li>(.*?)</li>', article_of(page, data["a1"]), re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", first.group(1))).strip()
    assert text.startswith("2025-05-12 09:30 现场发现"), text
    assert "上传时间 2025-05-13 12:40" in text, text


def test_an_event_received_when_it_happened_shows_one_time(app, client, data):
    web_login(client, "lead")
    review(client, data["b2"], "reject", "灭火器仍未配齐")
    page = client.get(f"/dashboard/sites/{data['sites']['B']}").text
    last = re.findall(r"<li>(.*?)</li>", article_of(page, data["b2"]), re.S)[-1]
    assert "驳回" in last and "上传时间" not in last


def test_department_names_are_wrapped_in_the_chart_never_cut(client, factory, data):
    with factory.app.app_context():
        office = db.session.scalar(select(User.id).where(User.username == "office"))
    inspection = factory.inspection(data["sites"]["A"], office)
    long_name = "市工业信息化和科技局"
    factory.finding(inspection, department=long_name)
    web_login(client, "lead")
    page = client.get(f"/dashboard/campaigns/{CAMPAIGN}").text
    labels = [
        re.findall(r"<tspan[^>]*>([^<]*)</tspan>", label)
        for label in re.findall(r'class="bar-label">(.*?)</text>', page)
    ]
    assert [long_name[:5], long_name[5:]] in labels, labels
    assert "…" not in "".join(line for label in labels for line in label)


def test_an_unknown_address_keeps_the_navigation_for_a_logged_in_user(client, data):
    visitor = client.get("/dashboard/no-such-page")
    assert visitor.status_code == 404 and "返回登录" in visitor.text
    assert 'aria-label="主导航"' not in visitor.text
    web_login(client, "lead")
    for url in ("/dashboard/no-such-page", "/dashboard/sites/99999999999"):
        page = client.get(url)
        assert page.status_code == 404, url
        nav = page.text[page.text.index('<nav aria-label="主导航">') :]
        assert ">总览</a>" in nav and ">退出</button>" in nav and "lead 姓名" in nav
        assert '<a href="/dashboard/">返回首页（整改总览）</a>' in page.text
        assert "返回登录" not in page.text


def test_the_favicon_is_served_where_browsers_look_for_it(client, data):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "Set-Cookie" not in icon.headers
    icon.close()
    page = client.get("/dashboard/login").text
    links = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert "/favicon.ico" in links
    for href in links:
        response = client.get(href)
        assert response.status_code == 200 and response.mimetype.startswith("image/"), href
        response.close()


def test_review_forms_appear_only_on_findings_awaiting_review(client, data):
    web_login(client, "lead")
    page = client.get(f"/dashboard/sites/{data['sites']['A']}").text
    assert page.count('name="action" value="approve"') == 1
    assert f'action="/dashboard/findings/{data["a3"]}/review"' in page


# ---------------------------------------------------------------------------
# Photos and downloads


def test_photos_are_shown_to_those_who_may_see_the_finding(app, client, login, data, factory):
    photo = (PHOTOS / "Canon_40D.jpg").read_bytes()
    sha = hashlib.sha256(photo).hexdigest()
    east = login("east")
    put = client.put(
        f"/api/v1/photos/{sha}", data=photo, headers={**east, "Content-Type": "image/jpeg"}
    )
    assert put.status_code == 201
    with app.app_context():
        office = db.session.scalar(select(User.id).where(User.username == "office"))
    inspection = factory.inspection(data["sites"]["A"], office)
    finding = factory.finding(inspection, status="closed", photos=(sha,))
    client.delete("/api/v1/auth/token", headers=east)

    web_login(client, "lead")
    page = client.get(f"/dashboard/sites/{data['sites']['A']}").text
    assert f'src="/dashboard/photos/{sha}?variant=thumb"' in page
    thumb = client.get(f"/dashboard/photos/{sha}?variant=thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    thumb.close()
    report = client.get(f"/dashboard/photos/{sha}?variant=report")
    assert report.status_code == 200
    report.close()
    assert client.get(f"/dashboard/photos/{sha}?variant=original").status_code == 404
    assert finding

    rural = app.test_client()
    web_login(rural, "rural")
    assert rural.get(f"/dashboard/photos/{sha}?variant=thumb").status_code == 404


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "download.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def download(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.data
    response.close()
    return data


def test_downloads_carry_the_page_filters(client, data, tmp_path):
    web_login(client, "lead")
    site = download(
        client, f"/dashboard/sites/{data['sites']['A']}/problem-list.pdf?campaign={CAMPAIGN}"
    )
    assert site.startswith(b"%PDF")
    text = pdf_text(site, tmp_path)
    assert "A 加油站" in text and "问题清单" in text

    west = download(client, f"/dashboard/campaigns/{CAMPAIGN}/problem-list.pdf?district=西城区")
    text = pdf_text(west, tmp_path)
    assert "B 油库" in text and "A 加油站" not in text
    report = download(client, f"/dashboard/campaigns/{CAMPAIGN}/rectification-report.pdf")
    assert report.startswith(b"%PDF") and "整改" in pdf_text(report, tmp_path)

    sheet = download(
        client, f"/dashboard/campaigns/{CAMPAIGN}/findings.xlsx?overdue=true&district=东城区"
    )
    rows = list(load_workbook(io.BytesIO(sheet)).active.iter_rows(values_only=True))
    body = [r for r in rows if r and any(isinstance(v, str) and "A 加油站" in v for v in r)]
    assert len(body) == 2  # a1 and a3: overdue in 东城区; a2 is closed
    stats = download(client, f"/dashboard/campaigns/{CAMPAIGN}/stats.xlsx?group_by=department")
    assert load_workbook(io.BytesIO(stats)).active.title == "整改情况统计"


def test_a_large_campaign_document_goes_to_the_background(app, client, data):
    app.config["REPORT_SYNC_MAX_FINDINGS"] = 2
    web_login(client, "lead")
    response = client.get(f"/dashboard/campaigns/{CAMPAIGN}/problem-list.pdf")
    assert response.status_code == 302 and response.headers["Location"].startswith(
        "/dashboard/jobs/"
    )
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "报表" in page.text


# ---------------------------------------------------------------------------
# SQL statements per page: a handful, whatever the number of sites


PAGES = [
    "/dashboard/",
    f"/dashboard/campaigns/{CAMPAIGN}",
    f"/dashboard/campaigns/{CAMPAIGN}/overdue",
    f"/dashboard/campaigns/{CAMPAIGN}/overdue?sort=site&district=东城区",
    "/dashboard/sites/{A}",
    "/dashboard/sites",
    "/dashboard/sites?q=站点",
]


def test_no_page_issues_more_than_a_handful_of_queries(app, client, data, factory):
    def statements(url):
        with sql_statements(app) as seen:
            response = client.get(url.format(A=data["sites"]["A"]))
            assert response.status_code == 200
        return [s for s in seen if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]

    web_login(client, "office")
    before = {url: len(statements(url)) for url in PAGES}
    with app.app_context():
        office = db.session.scalar(select(User.id).where(User.username == "office"))
    for n in range(40):
        site = factory.site(f"新增站点{n}", "东城区" if n % 2 else "西城区")
        inspection = factory.inspection(site, office)
        factory.finding(inspection, status="pending_review", photos=(f"{n:064x}",))
    for _ in range(10):
        factory.finding(factory.inspection(data["sites"]["A"], office), status="pending_review")
    after = {url: len(statements(url)) for url in PAGES}
    assert after == before
    assert max(after.values()) <= 8, after


@pytest.mark.parametrize(
    "url, status, text",
    [
        ("/dashboard/no-such-page", 404, "未找到"),
        (
            f"/dashboard/campaigns/{CAMPAIGN}/overdue?severity=urgent",
            422,
            "问题等级只能是一般或重点",
        ),
        (f"/dashboard/campaigns/{CAMPAIGN}/problem-list.pdf?status=lost", 422, "状态筛选有误"),
        ("/dashboard/photos/abc?variant=thumb", 404, "照片不存在"),
        ("/dashboard/jobs/no-such-job", 404, "报表任务不存在"),
        ("/dashboard/sites/99999999999", 404, "站点不存在"),
    ],
)
def test_bad_addresses_answer_a_page_in_chinese(client, data, url, status, text):
    web_login(client, "lead")
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html" and text in response.text
    assert "<h1>" in response.text and 'lang="zh-CN"' in response.text


def test_a_get_on_a_form_address_is_a_page_too(client, data):
    web_login(client, "lead")
    response = client.get(f"/dashboard/findings/{data['a3']}/review")
    assert response.status_code == 405 and response.mimetype == "text/html"
