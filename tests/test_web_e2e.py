"""The campaign office's dashboard in a real headless Chromium (issue 8).

One gunicorn server on a fresh SQLite database with the demo data serves the whole
module; Debian's /usr/bin/chromium drives it through login, the overview, a campaign,
the overdue list, a site, a review and the downloads, on a desktop (1280x800) and a
phone (390x844) screen. Figures on the pages are checked against the API's statistics
and the database; every page is screenshotted into build/screenshots/, passes the
accessibility check of tests/support/a11y.py and can be used with the keyboard.
"""

import re
import time
from urllib.parse import parse_qs, quote, urlsplit

import openpyxl
import pytest

from tests.support.a11y import assert_accessible, format_problems, keyboard_walk
from tests.support.browser import (
    DEMO_PASSWORD,
    DEVICES,
    DemoSite,
    log_in,
    pdf_text,
    shot,
)

LEAD = "lead_city"
LEAD_NAME = "李建国"
LEAD_DISTRICTS = ("东城区", "西城区", "昆仑经济技术开发区", "陆港园区")


# ---------------------------------------------------------------------------
# Fixtures: one browser, one server, one login per user for the module


@pytest.fixture(scope="module")
def demo(chromium, tmp_path_factory):
    site = DemoSite(tmp_path_factory.mktemp("dashboard")).start()
    yield site
    site.stop()


@pytest.fixture(scope="module")
def sessions(chromium, demo):
    """Cookies of a logged-in session per user, made once through the login form."""
    states = {}

    def state(username: str) -> dict:
        if username not in states:
            context = chromium.new_context(base_url=demo.base)
            page = context.new_page()
            response = log_in(page, demo.base, username)
            assert response.status == 302, f"login of {username}: {response.status}"
            states[username] = context.storage_state()
            context.close()
        return states[username]

    return state


class Browse:
    """Opens pages as a user on a device; notes sub-resources (CSS, images) that failed."""

    def __init__(self, chromium, demo, sessions):
        self.chromium, self.demo, self.sessions = chromium, demo, sessions
        self.contexts = []
        self.failed: dict[int, list[str]] = {}

    def open(self, user: str | None = LEAD, device: str = "desktop"):
        context = self.chromium.new_context(
            base_url=self.demo.base,
            storage_state=self.sessions(user) if user else None,
            locale="zh-CN",
            accept_downloads=True,
            **DEVICES[device],
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        failed = self.failed.setdefault(id(page), [])
        page.on(
            "response",
            lambda r: (
                r.status >= 400
                and r.request.resource_type in ("stylesheet", "image", "script", "font")
                and failed.append(f"{r.status} {r.url}")
            ),
        )
        page.on("pageerror", lambda error: failed.append(f"script error: {error}"))
        return page

    def broken(self, page) -> list[str]:
        return self.failed.get(id(page), [])

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def browse(chromium, demo, sessions):
    b = Browse(chromium, demo, sessions)
    yield b
    b.close()


@pytest.fixture(scope="module")
def targets(demo):
    """What the tests visit, read from the database before anything changes it.

    A campaign and site of lead_city's districts with pending findings and photos (the
    page the checks and screenshots look at), and further pending findings on other
    sites for the reviews, one each.
    """
    places = ",".join("?" * len(LEAD_DISTRICTS))
    sites = demo.query(
        f"""SELECT f.site_id, c.code, s.name,
                   SUM(f.status = 'pending_review') AS pending,
                   COUNT(DISTINCT fp.sha256) AS photos
            FROM findings f JOIN campaigns c ON c.id = f.campaign_id
            JOIN sites s ON s.id = f.site_id
            LEFT JOIN finding_photos fp ON fp.finding_id = f.id
            WHERE f.district IN ({places})
            GROUP BY f.site_id, c.code
            HAVING pending > 0 AND photos > 0
            ORDER BY pending DESC, photos DESC, f.site_id""",
        *LEAD_DISTRICTS,
    )
    assert sites, "the demo data has no pending finding with photos in lead_city's districts"
    site_id, code, site_name = sites[0][:3]
    pending = demo.query(
        f"""SELECT f.id, f.site_id, c.code FROM findings f
            JOIN campaigns c ON c.id = f.campaign_id
            WHERE f.status = 'pending_review' AND f.district IN ({places}) AND f.site_id != ?
            ORDER BY f.id""",
        *LEAD_DISTRICTS,
        site_id,
    )
    assert len(pending) >= 5, pending
    campaign_name, document_no = demo.query(
        "SELECT name, document_no FROM campaigns WHERE code = ?", code
    )[0]
    rural = demo.query(
        f"""SELECT f.site_id FROM findings f
            WHERE f.status = 'pending_review' AND f.district NOT IN ({places})
            ORDER BY f.id LIMIT 1""",
        *LEAD_DISTRICTS,
    )[0][0]
    return {
        "code": code,
        "campaign_name": campaign_name,
        "document_no": document_no,
        "site_id": site_id,
        "site_name": site_name,
        "pending": pending,  # (finding id, site id, campaign code), reviewed one per test
        "rural_site": rural,
    }


PAGES = ("login", "overview", "campaign", "overdue", "sites", "site")


def url_of(name: str, targets: dict) -> str:
    code, site = targets["code"], targets["site_id"]
    return {
        "login": "/dashboard/login",
        "overview": "/dashboard/",
        "campaign": f"/dashboard/campaigns/{code}",
        "overdue": f"/dashboard/campaigns/{code}/overdue",
        "sites": "/dashboard/sites",
        "site": f"/dashboard/sites/{site}?campaign={code}",
    }[name]


def expect(locator):
    """Playwright's waiting assertions (imported late: without playwright the module skips)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def figures(dl) -> dict[str, str]:
    """A <dl> of figures as {dt text: dd text}."""
    return dl.evaluate(
        """dl => Object.fromEntries([...dl.querySelectorAll('dt')].map(
            dt => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()]))"""
    )


def percent(rate) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def finding_status(demo, finding_id: int) -> str:
    return demo.query("SELECT status FROM findings WHERE id = ?", finding_id)[0][0]


def history_count(demo, finding_id: int) -> int:
    sql = "SELECT COUNT(*) FROM rectification_events WHERE finding_id = ?"
    return demo.query(sql, finding_id)[0][0]


# ---------------------------------------------------------------------------
# 1. Login


def test_login_with_the_keyboard_lands_on_the_overview(browse, demo):
    page = browse.open(user=None)
    page.goto("/dashboard/login")
    assert page.locator("h1").count() == 1
    for _ in range(10):  # Tab until the username field has focus (it may have it already)
        if page.evaluate("document.activeElement.id") == "username":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type(LEAD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/dashboard/"
    assert page.locator("main h1").inner_text() == "整改总览"
    assert LEAD_NAME in page.locator("header").inner_text()
    cards = page.locator("section.campaign-card")
    assert cards.count() >= 1
    for i in range(cards.count()):
        shown = figures(cards.nth(i).locator("dl"))
        assert {"发现问题", "已整改", "整改率", "逾期"} <= set(shown), shown
        assert shown["发现问题"].isdigit() and shown["逾期"].isdigit(), shown


def test_wrong_password_shows_the_alert(browse):
    page = browse.open(user=None)
    response = log_in(page, "", "office", "not-the-password")
    assert response.status == 401
    assert urlsplit(page.url).path == "/dashboard/login"
    assert "用户名或密码错误" in page.get_by_role("alert").inner_text()
    assert page.locator("#password").input_value() == ""
    shot(page, "desktop-login-failed")


def test_inspector_is_sent_to_the_phone_app(browse):
    page = browse.open(user=None)
    response = log_in(page, "", "insp_east")
    assert response.status == 403
    text = page.locator("main").inner_text()
    assert "组长" in text and "专项办" in text and "手机应用" in text, text
    assert_accessible(page)
    # No session was started: the dashboard still asks for a login.
    page.goto("/dashboard/")
    assert urlsplit(page.url).path == "/dashboard/login"


def test_pages_ask_for_a_login_and_come_back_after_it(browse, targets):
    page = browse.open(user=None)
    wanted = f"/dashboard/campaigns/{targets['code']}/overdue"
    page.goto(wanted)
    parts = urlsplit(page.url)
    assert parts.path == "/dashboard/login"
    assert parse_qs(parts.query).get("next", [""])[0].startswith(wanted)
    page.fill("#username", "lead_rural")
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    assert urlsplit(page.url).path == wanted
    assert "逾期问题" in page.locator("main h1").inner_text()


def test_login_does_not_send_users_to_another_site(browse):
    page = browse.open(user=None)
    page.goto("/dashboard/login?next=https://evil.example/phish")
    page.fill("#username", "lead_rural")
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    parts = urlsplit(page.url)
    assert parts.netloc != "evil.example" and parts.path == "/dashboard/", page.url


# ---------------------------------------------------------------------------
# 2. Overview and campaign page


def test_overview_figures_match_the_statistics(browse, demo):
    page = browse.open()
    page.goto("/dashboard/")
    cards = page.locator("section.campaign-card")
    codes = set()
    for i in range(cards.count()):
        card = cards.nth(i)
        link = card.locator("h2 a")
        code = link.get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
        codes.add(code)
        total = demo.api(LEAD, f"/api/v1/campaigns/{code}/stats")["total"]
        shown = figures(card.locator("dl"))
        assert int(shown["发现问题"]) == total["findings"], (code, shown, total)
        assert int(shown["已整改"]) == total["rectified"], (code, shown, total)
        assert int(shown["逾期"]) == total["overdue"], (code, shown, total)
        expected = percent(total["rectification_rate"])
        if expected is not None:
            assert float(shown["整改率"].rstrip("%")) == pytest.approx(expected, abs=0.05)
    assert codes == {code for (code,) in demo.query("SELECT code FROM campaigns")}


def test_campaign_page_charts_and_district_filter(browse, demo, targets):
    page = browse.open()
    page.goto("/dashboard/")
    page.locator("section.campaign-card h2 a", has_text=targets["campaign_name"]).click()
    assert urlsplit(page.url).path == f"/dashboard/campaigns/{targets['code']}"
    assert page.locator("main h1").inner_text() == targets["campaign_name"]

    charts = page.evaluate(
        """() => [...document.querySelectorAll('figure svg[role="img"]')].map(svg => ({
            name: svg.getAttribute('aria-label') || (svg.getAttribute('aria-labelledby') || '')
                .split(/\\s+/).map(id => document.getElementById(id))
                .filter(Boolean).map(el => el.textContent).join(' '),
            bars: [...svg.querySelectorAll('g > title')].map(t => t.textContent.split('：')[0]),
            shapes: svg.querySelectorAll('rect').length,
        }))"""
    )
    by_name = {c["name"].split("：")[0]: c for c in charts}
    assert {"按区域整改率", "按责任单位整改率", "每周发现与销号"} <= set(by_name), charts
    assert all(c["shapes"] > 0 for c in by_name.values()), charts

    stats = demo.api(LEAD, f"/api/v1/campaigns/{targets['code']}/stats?group_by=district")
    assert by_name["按区域整改率"]["bars"] == [row["label"] for row in stats["rows"]]
    assert set(by_name["按区域整改率"]["bars"]) <= set(LEAD_DISTRICTS)

    whole = figures(page.locator("main dl").first)
    assert int(whole["发现问题"]) == stats["total"]["findings"]
    row = max(stats["rows"], key=lambda r: r["findings"])
    assert row["findings"] < stats["total"]["findings"], "one district only: filter untestable"

    page.select_option("#district", row["key"])
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    assert parse_qs(urlsplit(page.url).query)["district"] == [row["key"]]
    narrowed = figures(page.locator("main dl").first)
    assert int(narrowed["发现问题"]) == row["findings"]
    assert int(narrowed["已整改"]) == row["rectified"]
    assert page.locator("#district").input_value() == row["key"]
    pdf_link = page.locator("#downloads a", has_text="问题清单 PDF").get_attribute("href")
    assert f"district={quote(row['key'])}" in pdf_link, pdf_link


# ---------------------------------------------------------------------------
# 3. Overdue list


def column_texts(page, sort_key: str) -> list[str]:
    """The cells of the column whose header sorts by ``sort_key``."""
    return page.evaluate(
        """key => {
            const headers = [...document.querySelectorAll('table thead th')];
            const index = headers.findIndex(th => th.querySelector(`a[href*="sort=${key}"]`));
            if (index < 0) return null;
            return [...document.querySelectorAll('table tbody tr')]
                .map(tr => tr.children[index].textContent.trim());
        }""",
        sort_key,
    )


def test_overdue_list_sorts_filters_and_leads_to_the_finding(browse, demo, targets):
    page = browse.open()
    page.goto(f"/dashboard/campaigns/{targets['code']}")
    expected = int(figures(page.locator("main dl").first)["逾期"])
    page.locator("main a", has_text="逾期问题").first.click()
    assert urlsplit(page.url).path == f"/dashboard/campaigns/{targets['code']}/overdue"
    assert "逾期问题" in page.locator("main h1").inner_text()
    assert page.locator("table caption").count() == 1
    assert f"共 {expected} 条" in page.locator("main").inner_text()

    page.locator("thead a[href*='sort=deadline']").click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["sort"] == ["deadline"] and query["order"] == ["asc"], page.url
    deadlines = column_texts(page, "deadline")
    assert deadlines and deadlines == sorted(deadlines), deadlines
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in deadlines), deadlines

    page.locator("thead a[href*='sort=deadline']").click()  # again: the other way
    assert parse_qs(urlsplit(page.url).query)["order"] == ["desc"]
    descending = column_texts(page, "deadline")
    assert descending == sorted(descending, reverse=True) and descending[0] >= deadlines[-1]

    districts = column_texts(page, "district")
    district = sorted(set(districts))[0]
    page.select_option("#district", district)
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    shown = column_texts(page, "district")
    assert shown and set(shown) == {district}, shown
    assert parse_qs(urlsplit(page.url).query)["sort"] == ["deadline"]  # the order stays

    page.select_option("#severity", "key")
    label = page.locator("#severity option:checked").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    assert set(column_texts(page, "severity") or [label]) == {label}
    assert set(column_texts(page, "district") or [district]) == {district}

    page.goto(f"/dashboard/campaigns/{targets['code']}/overdue?district={quote(district)}")
    link = page.locator("tbody tr a[href*='/dashboard/findings/']").first
    finding_id = int(link.get_attribute("href").rstrip("/").rsplit("/", 1)[-1])
    site_name = link.inner_text().strip()
    link.click()
    page.wait_for_load_state()
    parts = urlsplit(page.url)
    assert re.fullmatch(r"/dashboard/sites/\d+", parts.path), page.url
    assert parts.fragment == f"finding-{finding_id}"
    assert page.locator("main h1").inner_text() == site_name
    article = page.locator(f"article#finding-{finding_id}")
    assert article.is_visible()
    # Scrolled to, its top is at the top of the window: within a pixel, as layouts with
    # fractional heights (wrapped lines, scaled fonts) put it a subpixel above.
    assert article.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.top > -1 && r.top < innerHeight; }"
    ), "the finding is not scrolled into view"


def test_overdue_filter_with_nothing_overdue_says_so(browse, demo):
    page = browse.open()
    overdue = set(
        demo.query(
            """SELECT c.code, s.district FROM findings f JOIN sites s ON s.id = f.site_id
               JOIN campaigns c ON c.id = f.campaign_id
               WHERE f.status IN ('open', 'rectifying', 'pending_review')
                 AND f.deadline < date('now', '+8 hours')"""
        )
    )
    codes = [code for (code,) in demo.query("SELECT code FROM campaigns ORDER BY code")]
    quiet = [(c, d) for c in codes for d in LEAD_DISTRICTS if (c, d) not in overdue]
    # The demo holds finished campaigns whose findings are all closed: one is always quiet.
    assert quiet, "the demo data has no campaign and district without overdue findings"
    code, district = quiet[0]
    page.goto(f"/dashboard/campaigns/{code}/overdue?district={quote(district)}")
    assert "没有逾期问题" in page.locator("main").inner_text()
    assert page.locator("tbody tr").count() == 0


# ---------------------------------------------------------------------------
# 4. Reviewing a reported rectification


def open_site(browse, finding, device="desktop", user=LEAD):
    finding_id, site_id, code = finding
    page = browse.open(user=user, device=device)
    page.goto(f"/dashboard/sites/{site_id}?campaign={code}")
    article = page.locator(f"article#finding-{finding_id}")
    assert "待复查" in article.inner_text()
    # Let the photos around the form finish loading before it is sent: a thumbnail
    # answered after the review would put back a session cookie without the flash
    # message (a page defect pinned down by
    # test_photos_and_stylesheet_leave_the_session_cookie_alone); here the review is tested.
    article.locator("form").scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    return page, article


def test_team_lead_approves_a_pending_finding(browse, demo, targets):
    finding = targets["pending"][0]
    page, article = open_site(browse, finding)
    before = article.locator("ol.history > li").count()
    assert before == history_count(demo, finding[0])
    with page.expect_navigation():
        article.get_by_role("button", name="通过复查并销号").click()
    # The confirmation is carried by the session cookie (a flash message).
    expect(page.get_by_role("status")).to_contain_text("销号")
    article = page.locator(f"article#finding-{finding[0]}")
    assert "已销号" in article.inner_text()
    entries = article.locator("ol.history > li")
    assert entries.count() == before + 1
    assert LEAD_NAME in entries.last.inner_text()
    assert article.locator("form").count() == 0, "a closed finding still offers a review"
    assert finding_status(demo, finding[0]) == "closed"
    shot(page, "desktop-site-approved")


def test_team_lead_rejects_with_a_note_on_the_phone(browse, demo, targets):
    finding = targets["pending"][1]
    page, article = open_site(browse, finding, device="phone")
    before = article.locator("ol.history > li").count()
    note = "灭火器仍未配齐，请三日内补齐后重新报送"
    article.get_by_label("复查意见").fill(note)
    with page.expect_navigation():
        article.get_by_role("button", name="退回整改").tap()
    expect(page.get_by_role("status")).to_contain_text("退回")
    article = page.locator(f"article#finding-{finding[0]}")
    assert "整改中" in article.inner_text()
    entries = article.locator("ol.history > li")
    assert entries.count() == before + 1
    assert note in entries.last.inner_text()
    assert finding_status(demo, finding[0]) == "rectifying"
    shot(page, "phone-site-rejected")


def test_reject_without_a_note_is_refused_and_changes_nothing(browse, demo, targets):
    finding = targets["pending"][2]
    events = history_count(demo, finding[0])
    page, article = open_site(browse, finding)
    with page.expect_navigation():
        article.get_by_role("button", name="退回整改").click()
    expect(page.get_by_role("alert")).to_contain_text("复查意见")
    article = page.locator(f"article#finding-{finding[0]}")
    assert "待复查" in article.inner_text()
    assert finding_status(demo, finding[0]) == "pending_review"
    assert history_count(demo, finding[0]) == events


def test_second_review_from_a_stale_page_changes_nothing(browse, demo, targets):
    """Two people (or two tabs) on the same pending finding: the second one is told."""
    finding = targets["pending"][4]
    first, first_article = open_site(browse, finding)
    second, second_article = open_site(browse, finding, user="office")
    with first.expect_navigation():
        first_article.get_by_role("button", name="通过复查并销号").click()
    events = history_count(demo, finding[0])
    second_article.get_by_label("复查意见").fill("整改不到位")
    with second.expect_navigation():
        second_article.get_by_role("button", name="退回整改").click()
    expect(second.get_by_role("alert")).to_be_visible()
    assert "已销号" in second.locator(f"article#finding-{finding[0]}").inner_text()
    assert finding_status(demo, finding[0]) == "closed"
    assert history_count(demo, finding[0]) == events


def test_photos_and_stylesheet_leave_the_session_cookie_alone(browse, targets):
    """Only pages may write the session cookie.

    The flash message that confirms a review lives in the session cookie. When photo and
    stylesheet responses re-send the cookie too, a thumbnail of the page the review was
    sent from, answered after the review, puts back the cookie without the message, and
    the user is not told the finding was closed (seen as an intermittent failure of
    test_team_lead_approves_a_pending_finding).
    """
    page = browse.open()
    page.goto(url_of("site", targets))
    photo = page.locator("article.finding img").first.get_attribute("src")
    for path in (photo, "/dashboard/static/style.css"):
        response = page.request.get(path)
        assert response.ok, path
        assert "set-cookie" not in response.headers, f"{path} sets the session cookie"


def test_review_without_the_csrf_token_is_refused(browse, demo, targets):
    finding = targets["pending"][3]
    page, _article = open_site(browse, finding)
    response = page.request.post(
        f"/dashboard/findings/{finding[0]}/review",
        form={"action": "approve", "note": ""},
        max_redirects=0,
    )
    assert response.status == 400
    assert finding_status(demo, finding[0]) == "pending_review"
    tokens = page.locator("form input[type=hidden][name=csrf_token]")
    assert tokens.count() == page.locator("form[method=post]").count() > 0
    assert all(tokens.nth(i).get_attribute("value") for i in range(tokens.count()))


def test_team_lead_does_not_see_other_districts_sites(browse, targets):
    page = browse.open()
    response = page.goto(f"/dashboard/sites/{targets['rural_site']}")
    assert response.status in (403, 404)
    assert page.locator("form.review, textarea[name=note]").count() == 0
    office = browse.open(user="office")
    office.goto(f"/dashboard/sites/{targets['rural_site']}")
    assert office.get_by_role("button", name="通过复查并销号").count() >= 1


# ---------------------------------------------------------------------------
# 5. Photos and downloads


def test_site_photos_load_and_open_large(browse, targets):
    page = browse.open()
    page.goto(url_of("site", targets))
    images = page.locator("article.finding a > img")
    assert images.count() > 0
    for i in range(images.count()):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        src = image.get_attribute("src")
        assert re.fullmatch(r"/dashboard/photos/[0-9a-f]{64}\?variant=thumb", src), src
        assert (image.get_attribute("alt") or "").strip()
        loaded = "img => img.complete && img.naturalWidth > 0"
        page.wait_for_function(loaded, arg=image.element_handle())
    link = images.first.locator("xpath=..")
    href = link.get_attribute("href")
    assert href == images.first.get_attribute("src").replace("thumb", "report")
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "image/jpeg"
    assert response.body()[:3] == b"\xff\xd8\xff"
    # Without a session the photo is not handed out.
    stranger = browse.open(user=None)
    refused = stranger.request.get(href, max_redirects=0)
    assert refused.status in (302, 303, 401, 403, 404), refused.status
    assert not refused.headers.get("content-type", "").startswith("image/")


def download(page, link, tmp_path, timeout: float = 90):
    """Click a download link and save the file.

    A big document is made in the background: the link then leads to a job page that
    refreshes itself until its 下载 PDF link appears; that is followed as a user would.
    """
    downloads = []
    page.on("download", lambda d: downloads.append(d))
    link.click()
    deadline = time.monotonic() + timeout
    clicked = False
    while not downloads:
        assert time.monotonic() < deadline, f"no download from {page.url}"
        if not clicked and "/dashboard/jobs/" in page.url:
            ready = page.get_by_role("link", name="下载 PDF")
            if ready.count():
                ready.click()
                clicked = True
        page.wait_for_timeout(200)
    saved = tmp_path / downloads[0].suggested_filename
    downloads[0].save_as(saved)
    return saved


def test_site_problem_list_pdf(browse, targets, tmp_path):
    page = browse.open()
    page.goto(url_of("site", targets))
    link = page.locator(
        f"a[href*='/dashboard/sites/{targets['site_id']}/problem-list.pdf?campaign="
        f"{targets['code']}']"
    )
    assert link.first.inner_text().strip() == "下载问题清单 PDF"
    path = download(page, link.first, tmp_path)
    assert path.suffix == ".pdf" and path.read_bytes()[:5] == b"%PDF-"
    text = pdf_text(path)
    assert targets["site_name"] in text.replace(" ", "")


@pytest.mark.parametrize(
    "label, magic, expect",
    [
        ("问题清单 PDF", b"%PDF-", "campaign"),
        ("整改情况报告 PDF", b"%PDF-", "campaign"),
        ("统计表 Excel", b"PK", "sheet"),
        ("问题清单 Excel", b"PK", "sheet"),
    ],
)
def test_campaign_downloads_for_one_district(browse, demo, targets, tmp_path, label, magic, expect):
    page = browse.open()
    page.goto(f"/dashboard/campaigns/{targets['code']}?district={quote(LEAD_DISTRICTS[0])}")
    link = page.locator("#downloads a", has_text=label).first
    path = download(page, link, tmp_path)
    data = path.read_bytes()
    assert data.startswith(magic), (label, data[:20])
    if expect == "campaign":
        text = pdf_text(path).replace(" ", "")
        # Documents are titled by the campaign, without the notice's 的工作方案.
        title = re.sub(r"的?(工作|实施)方案$", "", targets["campaign_name"])
        assert title in text.replace("\n", ""), text[:300]
        assert targets["document_no"] in text
        other = [d for d in LEAD_DISTRICTS[1:] if d in text]
        assert LEAD_DISTRICTS[0] in text and not other, f"not only {LEAD_DISTRICTS[0]}: {other}"
    else:
        book = openpyxl.load_workbook(path, read_only=True)
        strings = " ".join(
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
        book.close()
        assert targets["campaign_name"] in strings, label


# ---------------------------------------------------------------------------
# 6, 7. Every page: phone layout, accessibility, keyboard, screenshots


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("name", PAGES)
def test_page_is_accessible_and_fits_the_screen(browse, targets, name, device):
    page = browse.open(user=None if name == "login" else LEAD, device=device)
    response = page.goto(url_of(name, targets))
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    for image in page.locator("img").all():
        image.scroll_into_view_if_needed()  # lazy photos: load them for the screenshot
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, f"{device}-{name}")
    if device == "phone":
        shot(page, f"phone-{name}-screen", full_page=False)  # what the phone shows first
    assert not browse.broken(page), browse.broken(page)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    if name != "login":
        header = page.locator("header")
        assert header.get_by_role("link", name="总览").count() == 1
        assert header.get_by_role("button", name="退出").count() == 1
    assert_accessible(page)
    if device == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > 391)
                .filter(el => !el.closest('.skip'))
                .slice(0, 5).map(el => el.outerHTML.slice(0, 100))"""
        )
        assert width <= 390, f"{page.url}: {width}px wide on a 390px phone: {wide}"


@pytest.mark.parametrize("name", PAGES)
def test_page_works_with_the_keyboard(browse, targets, name):
    page = browse.open(user=None if name == "login" else LEAD)
    page.goto(url_of(name, targets))
    result = keyboard_walk(page)
    assert result["reached"] > 0
    assert not result["unreachable"], format_problems(
        [
            {"rule": "unreachable", "message": "Tab never gets here", "element": e}
            for e in result["unreachable"]
        ]
    )
    assert not result["noIndicator"], format_problems(
        [
            {"rule": "focus", "message": "no visible focus indicator", "element": e}
            for e in result["noIndicator"]
        ]
    )


# ---------------------------------------------------------------------------
# 8. Logout and the session cookie


def test_session_cookie_and_logout(browse, demo):
    page = browse.open(user=None)
    assert log_in(page, demo.base, "office").status == 302
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies.get("inspect_session")
    assert session is not None, list(cookies)
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("inspect_session") == -1

    with page.expect_navigation():
        page.locator("header").get_by_role("button", name="退出").click()
    assert urlsplit(page.url).path == "/dashboard/login"
    expect(page.get_by_role("status")).to_contain_text("退出")
    page.goto("/dashboard/")
    assert urlsplit(page.url).path == "/dashboard/login"
    # The old cookie, replayed, opens nothing either: logging out revoked it.
    replay = browse.open(user=None)
    replay.context.add_cookies([session])
    replay.goto(f"{demo.base}/dashboard/")
    assert urlsplit(replay.url).path == "/dashboard/login"


# ---------------------------------------------------------------------------
# 9. On data made with the test factories (issue 13): a server on the test's database


FACTORY_LEAD = "lead"
LONG_DEPARTMENT = "市工业信息化和科技局"


@pytest.fixture
def made(app, make_user, tmp_path, database_url, media_dir):
    """``inspect-app serve`` on this test's database, holding a site whose finding to review
    comes after several others (far down the page), and a department with a long name."""
    from tests.factories import Factory
    from tests.support.server import Server

    factory = Factory(app)
    lead = make_user(FACTORY_LEAD, "team_lead", ["东城区"])
    site = factory.site("格尔木市昆仑路加油站", "东城区")
    inspection = factory.inspection(site, lead)
    for item in ("T-01", "T-02", "T-03", "T-01", "T-02"):
        factory.finding(inspection, item=item, department=LONG_DEPARTMENT)
    pending = factory.finding(inspection, item="T-03", status="pending_review")
    server = Server(database_url, media_dir, tmp_path / "instance").start()
    yield {"base": server.base, "site": site, "pending": pending}
    server.stop()


def open_as_lead(chromium, base: str, width: int = 390):
    context = chromium.new_context(
        base_url=base,
        locale="zh-CN",
        viewport={"width": width, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    assert log_in(page, base, FACTORY_LEAD, "password123").status == 302
    return context, page


def box(locator) -> dict:
    return locator.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, vh: innerHeight}; }"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_reject_without_a_note_is_told_beside_the_finding(chromium, made):
    context, page = open_as_lead(chromium, made["base"])
    try:
        page.goto(f"/dashboard/sites/{made['site']}")
        article = page.locator(f"article#finding-{made['pending']}")
        article.get_by_role("button", name="退回整改").scroll_into_view_if_needed()
        with page.expect_navigation():
            article.get_by_role("button", name="退回整改").tap()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("复查意见")
        article = page.locator(f"article#finding-{made['pending']}")
        shown, around, heading = box(alert), box(article), box(article.locator("h3"))
        # Inside the finding's card, below its title, on the screen the user looks at.
        assert around["top"] <= heading["top"] < shown["top"] < around["bottom"], (shown, around)
        assert 0 <= shown["top"] and shown["bottom"] <= shown["vh"], shown
        # Far from the top of the page, where it used to be.
        assert page.evaluate("window.scrollY") > 400
        assert page.locator("main > .flash").count() == 0
        # Focus is on it (a screen reader reads it); the note box is marked and linked to it.
        expect(alert).to_be_focused()
        note = article.get_by_label("复查意见")
        assert note.get_attribute("aria-invalid") == "true"
        assert note.get_attribute("aria-describedby") == alert.get_attribute("id")
        assert "待复查" in article.inner_text()
        shot(page, "phone-reject-without-note", full_page=False)
        assert_accessible(page)
    finally:
        context.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", [360, 390, 414])
def test_no_text_is_cut_off_on_a_phone(chromium, made, width):
    from tests.factories import CAMPAIGN

    context, page = open_as_lead(chromium, made["base"], width)
    try:
        campaign = f"/dashboard/campaigns/{CAMPAIGN}"
        pages = {
            "campaign": campaign,
            "overdue": f"{campaign}/overdue?department={quote(LONG_DEPARTMENT)}",
            "sites": "/dashboard/sites",
            "site": f"/dashboard/sites/{made['site']}",
            "not-found": "/dashboard/no-such-page",
        }
        for name, url in pages.items():
            page.goto(url)
            shot(page, f"phone{width}-{name}")
            assert_accessible(page)  # with the rule "clipped"
        # The 404 of a logged-in user keeps the navigation and leads home.
        header = page.locator("header")
        assert header.get_by_role("link", name="总览").count() == 1
        assert header.get_by_role("button", name="退出").count() == 1
        page.get_by_role("link", name="返回首页（整改总览）").click()
        assert page.locator("main h1").inner_text() == "整改总览"

        # Chart labels are whole names, every line inside the chart.
        page.goto(pages["campaign"])
        labels = page.evaluate(
            """() => [...document.querySelectorAll('text.bar-label')].map(t => {
                const b = t.getBBox(), view = t.ownerSVGElement.viewBox.baseVal;
                return {text: t.textContent, inside: b.x >= 0 && b.y >= 0
                    && b.x + b.width <= view.width && b.y + b.height <= view.height};
            })"""
        )
        assert {"text": LONG_DEPARTMENT, "inside": True} in labels, labels
        assert all(label["inside"] and "…" not in label["text"] for label in labels), labels
        # The search box's example is whole.
        page.goto(pages["sites"])
        placeholder = page.locator("#q")
        assert placeholder.evaluate(
            """el => { const c = document.createElement('canvas').getContext('2d');
                const s = getComputedStyle(el); c.font = `${s.fontSize} ${s.fontFamily}`;
                return c.measureText(el.placeholder).width
                    <= el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); }"""
        )
    finally:
        context.close()
