"""The office's draft workflow in a real headless Chromium (issue 15, "Done when").

A notice PDF made from a shared notice text (reportlab, the reports' CJK font) is
uploaded through the dashboard, two items are edited, one is deleted, the difference
from the running version is confirmed and the draft published; then the phone API
serves the new version under a new ETag and /sync announces it. Each new page passes
the accessibility check of tests/support/a11y.py, can be used with the keyboard, and is
screenshotted into build/screenshots/ on a desktop and a phone screen.
"""

import json
import re
import urllib.error
import urllib.request

import pytest

from tests.conftest import SHARED
from tests.support.a11y import assert_accessible, format_problems, keyboard_walk
from tests.support.browser import DEVICES, DemoSite, log_in, shot
from tests.support.notice_pdf import notice_pdf

CODE = "placer-gold-2024"
PHONE_USER = "insp_plateau"  # 唐古拉山镇、乌图美仁乡: where placer gold is dug


@pytest.fixture(scope="module")
def demo(chromium, tmp_path_factory):
    site = DemoSite(tmp_path_factory.mktemp("drafts"))
    # Each worker would otherwise keep a checklist's current version for 5 s (a phone's
    # "is mine current?" answer may be that old); the test reads it right after publishing.
    site.server.env["INSPECT_AUTH_CACHE_SECONDS"] = "0"
    site.start()
    yield site
    site.stop()


def phone_get(demo, path: str, headers: dict | None = None):
    """GET as the inspector's phone: (status, headers, JSON body or None)."""
    demo.api(PHONE_USER, "/api/v1/campaigns")  # logs in once; DemoSite keeps the token
    request = urllib.request.Request(
        f"{demo.base}{path}",
        headers={"Authorization": f"Bearer {demo._tokens[PHONE_USER]}", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, None


def office_page(chromium, demo, device="desktop"):
    context = chromium.new_context(base_url=demo.base, locale="zh-CN", **DEVICES[device])
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: r.status >= 500 and errors.append(f"{r.status} {r.url}"),
    )
    response = log_in(page, demo.base, "office")
    assert response.status == 302
    return context, page, errors


def follow(page, control) -> None:
    """Click a link or a submit button and wait until the page it leads to has loaded."""
    with page.expect_navigation():
        control.click()
    page.wait_for_load_state()


def check_page(page, name: str) -> None:
    assert_accessible(page)
    walk = keyboard_walk(page)
    assert not walk["unreachable"], format_problems(
        [
            {"rule": "unreachable", "message": "Tab never gets here", "element": e}
            for e in walk["unreachable"]
        ]
    )
    assert not walk["noIndicator"], format_problems(
        [
            {"rule": "focus", "message": "no visible focus", "element": e}
            for e in walk["noIndicator"]
        ]
    )
    shot(page, name)


def test_upload_edit_delete_publish_and_the_phone_gets_the_new_version(chromium, demo, tmp_path):
    status, headers, before = phone_get(demo, f"/api/v1/campaigns/{CODE}/checklist")
    assert status == 200 and before["version"] == 1
    old_etag = headers["ETag"]
    cursor = phone_get(demo, "/api/v1/sync")[2]["next_cursor"]
    pdf = notice_pdf(
        (SHARED / "campaigns" / f"{CODE}.txt").read_text(encoding="utf-8"), tmp_path / "通知.pdf"
    )

    context, page, errors = office_page(chromium, demo)
    page.goto("/dashboard/")
    follow(page, page.get_by_role("link", name="检查清单"))
    assert page.url.endswith("/dashboard/drafts")
    check_page(page, "drafts-upload-desktop")
    page.fill("#campaign", CODE)
    page.set_input_files("#notice", str(pdf))
    follow(page, page.get_by_role("button", name="生成草稿"))
    assert re.search(r"/dashboard/drafts/\d+$", page.url), page.url
    assert "已生成草稿" in page.locator(".flash").inner_text()
    items = page.locator("li.draft-item")
    count = items.count()
    assert count >= 4
    # Each item shows its notice clause beside it.
    first_basis = items.nth(0).locator("blockquote.basis").inner_text()
    assert first_basis[:10] in (SHARED / "campaigns" / f"{CODE}.txt").read_text(
        encoding="utf-8"
    ).replace("\n", "")
    check_page(page, "draft-desktop")
    codes = [items.nth(k).locator("h3 .code").inner_text() for k in range(count)]

    # Edit two items: the first one's question, the second one's lead and severity.
    first = items.nth(0)
    first.locator("textarea[name=text]").fill("现场是否仍有采金设备或新近开挖的痕迹？")
    first.locator("input[type=checkbox][name=photo_required]").check()
    follow(page, first.get_by_role("button", name=f"保存 {codes[0]}"))
    assert f"已保存 {codes[0]}" in page.locator(".flash").inner_text()
    second = page.locator("li.draft-item").nth(1)
    second.locator("input[name=lead_department]").fill("市公安局")
    second.locator("select[name=default_severity]").select_option("key")
    follow(page, second.get_by_role("button", name=f"保存 {codes[1]}"))
    assert (
        page.locator("li.draft-item").nth(1).locator("input[name=lead_department]").input_value()
        == "市公安局"
    )

    # A directive is no question: the page says so and keeps the old text.
    third = page.locator("li.draft-item").nth(2)
    old_third = third.locator("textarea[name=text]").input_value()
    third.locator("textarea[name=text]").fill("加强巡查")
    follow(page, third.get_by_role("button", name=f"保存 {codes[2]}"))
    assert "？" in page.locator(".flash-alert").inner_text()
    assert (
        page.locator("li.draft-item").nth(2).locator("textarea[name=text]").input_value()
        == old_third
    )

    # Delete one.
    follow(
        page, page.locator("li.draft-item").nth(2).get_by_role("button", name=f"删除 {codes[2]}")
    )
    assert page.locator("li.draft-item").count() == count - 1
    assert codes[2] not in page.locator("ol.draft-items").inner_text()

    # Before publishing: the difference from the running version 1.
    follow(page, page.get_by_role("link", name="查看差异并发布"))
    assert "正在使用第 1 版" in page.locator("main").inner_text()
    check_page(page, "draft-publish-desktop")
    follow(page, page.get_by_role("button", name="确认发布为第 2 版"))
    assert "已发布第 2 版" in page.locator(".flash").inner_text()
    assert not errors, errors

    # Phones: a new version under a new ETag, announced by the sync feed.
    status, headers, after = phone_get(
        demo, f"/api/v1/campaigns/{CODE}/checklist", {"If-None-Match": old_etag}
    )
    assert status == 200
    assert headers["ETag"] != old_etag
    assert after["version"] == 2
    by_code = {i["code"]: i for i in after["items"]}
    assert by_code[codes[0]]["text"] == "现场是否仍有采金设备或新近开挖的痕迹？"
    assert by_code[codes[0]]["photo_required"] is True
    assert by_code[codes[1]]["lead_department"] == "市公安局"
    assert by_code[codes[1]]["default_severity"] == "key"
    assert codes[2] not in by_code
    assert len(after["items"]) == count - 1
    assert (
        phone_get(demo, f"/api/v1/campaigns/{CODE}/checklist", {"If-None-Match": headers["ETag"]})[
            0
        ]
        == 304
    )
    feed = phone_get(demo, f"/api/v1/sync?since={cursor}")[2]
    assert (CODE, 2) in [(c["campaign"], c["version"]) for c in feed["changes"]["checklists"]]

    # The published draft is a record now: no edit forms, the YAML still downloads.
    page.goto(page.url.split("#")[0])
    assert page.locator("li.draft-item form").count() == 0
    with page.expect_download() as info:
        page.get_by_role("link", name="下载当前第 2 版 YAML").click()
    assert info.value.suggested_filename == f"{CODE}-v2.yaml"
    context.close()


def test_the_draft_pages_fit_a_phone(chromium, demo, tmp_path):
    pdf = notice_pdf(
        (SHARED / "campaigns" / "sand-gravel-2024.txt").read_text(encoding="utf-8"),
        tmp_path / "n.pdf",
    )
    context, page, errors = office_page(chromium, demo, "phone")
    page.goto("/dashboard/drafts")
    page.fill("#campaign", "sand-gravel-2024")
    page.set_input_files("#notice", str(pdf))
    follow(page, page.get_by_role("button", name="生成草稿"))
    assert re.search(r"/dashboard/drafts/\d+$", page.url), page.url
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the draft page scrolls sideways on a phone: {width}px"
    assert_accessible(page)
    shot(page, "draft-phone")
    follow(page, page.get_by_role("link", name="查看差异并发布"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    shot(page, "draft-publish-phone")
    assert not errors, errors
    context.close()


def test_a_team_lead_cannot_reach_the_drafts(chromium, demo):
    context = chromium.new_context(base_url=demo.base, locale="zh-CN")
    page = context.new_page()
    log_in(page, demo.base, "lead_city")
    assert page.get_by_role("link", name="检查清单").count() == 0
    response = page.goto("/dashboard/drafts")
    assert response.status == 403
    assert "专项办" in page.locator("main").inner_text()
    context.close()
