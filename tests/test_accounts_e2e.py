"""Accounts and the site import in a real headless Chromium (issue 17).

One ``inspect-app serve`` on the demo data; the office creates a user through the form
and reads the temporary password once, the new user is made to choose their own password
at first login; the office uploads a spreadsheet made by openpyxl, reads the dry run row
by row and imports it. Every page passes the accessibility check of tests/support/a11y.py
and is screenshotted into build/screenshots/.
"""

import io
import json

import openpyxl
import pytest

from tests.support.a11y import format_problems, keyboard_walk
from tests.support.browser import DEVICES, DemoSite, checked, log_in
from tests.test_site_import import code, wrong_check

OFFICE = "office"


@pytest.fixture(scope="module")
def demo(chromium, tmp_path_factory):
    site = DemoSite(tmp_path_factory.mktemp("accounts")).start()
    yield site
    site.stop()


def test_office_creates_a_user_who_then_chooses_a_password(page, demo):
    username = f"zhao_{page.device}"
    assert log_in(page, demo.base, OFFICE).status == 302
    page.goto("/dashboard/users")
    checked(page, "users")
    page.get_by_role("link", name="新建账号").click()
    checked(page, "user-new")
    page.fill("#username", username)
    page.fill("#display_name", "赵检查")
    page.select_option("#role", "inspector")
    page.get_by_label("乌图美仁乡").check()
    page.fill("#phone", "139 0979 5678")
    page.get_by_role("button", name="创建账号").click()
    password = page.locator("#temporary-password").inner_text().strip()
    assert len(password) == 12
    checked(page, "user-created")
    stored = demo.query(
        "SELECT role, districts, phone, must_change_password FROM users WHERE username = ?",
        username,
    )
    role, districts, phone, must_change = stored[0]
    assert (role, json.loads(districts), phone, must_change) == (
        "inspector",
        ["乌图美仁乡"],
        "139 0979 5678",
        1,
    )
    # Shown once: the account's page does not hold it.
    page.get_by_role("link", name="查看该账号").click()
    assert password not in page.content()
    checked(page, "user")
    # The list shows the new user with their state.
    page.goto("/dashboard/users")
    row = page.locator("tr", has=page.get_by_role("link", name=username))
    assert "待修改初始密码" in row.inner_text()

    # Make them a team lead (the dashboard is for leads), then they log in with it.
    page.goto(
        f"/dashboard/users/{demo.query('SELECT id FROM users WHERE username = ?', username)[0][0]}"
    )
    page.select_option("#role", "team_lead")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("status").first.inner_text() == "已保存"
    page.get_by_role("button", name="退出", exact=True).click()
    log_in(page, demo.base, username, password)
    page.goto("/dashboard/")
    assert page.url.endswith("/dashboard/password")  # no page before a password of one's own
    checked(page, "password")
    page.fill("#current_password", password)
    page.fill("#new_password", "zhao-own-password")
    page.fill("#new_password_again", "zhao-own-password")
    page.get_by_role("button", name="修改密码").click()
    assert page.url.endswith("/dashboard/")
    assert demo.query("SELECT must_change_password FROM users WHERE username = ?", username) == [
        (0,)
    ]


def ledger_file(tmp_path, prefix: str, number: int) -> str:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["格尔木市再生资源回收站点台账"])
    sheet.append(["所属区域", "名称", "类型", "统一社会信用代码", "经纬度", "备注"])
    sheet.merge_cells("A1:F1")
    sheet.append(
        ["大格勒乡", f"{prefix}回收站甲", "再生资源回收站点", code(number), "36.43,95.70", ""]
    )
    sheet.append([None, None, None, None, None, None])
    sheet.append(
        ["大格勒乡", f"{prefix}回收站乙", "再生资源回收站点", wrong_check(number + 1), "", ""]
    )
    sheet.append(["火星区", f"{prefix}回收站丙", "再生资源回收站点", "", "", ""])
    path = tmp_path / f"{prefix}.xlsx"
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    return str(path)


def test_office_previews_and_imports_a_spreadsheet(page, demo, tmp_path):
    prefix = f"导入{page.device}"
    path = ledger_file(tmp_path, prefix, 900 if page.device == "desktop" else 910)
    before = demo.query("SELECT COUNT(*) FROM sites")[0][0]
    assert log_in(page, demo.base, OFFICE).status == 302
    page.goto("/dashboard/sites/import")
    checked(page, "site-import")
    page.set_input_files("#file", path)
    page.get_by_role("button", name="预览").click()
    summary = page.locator("#summary").inner_text()
    assert "共 3 行" in summary and "将新增 1" in summary and "不导入 2" in summary
    table = page.get_by_role("table").inner_text()
    assert "校验位不正确" in table and "未知的所属区域「火星区」" in table
    checked(page, "site-import-dry-run")
    assert demo.query("SELECT COUNT(*) FROM sites")[0][0] == before  # a dry run writes nothing
    page.get_by_role("button", name="确认导入（新增 1，更新 0）").click()
    assert "已导入" in page.get_by_role("heading", level=2).first.inner_text()
    checked(page, "site-import-done")
    assert demo.query("SELECT COUNT(*) FROM sites")[0][0] == before + 1
    assert demo.query("SELECT district, lat FROM sites WHERE name = ?", f"{prefix}回收站甲") == [
        ("大格勒乡", 36.43)
    ]
    # The same file again: nothing to import.
    page.goto("/dashboard/sites/import")
    page.set_input_files("#file", path)
    page.get_by_role("button", name="预览").click()
    assert "无变化 1" in page.locator("#summary").inner_text()
    assert page.get_by_role("button", name="确认导入（新增 0，更新 0）").is_disabled()


@pytest.mark.parametrize(
    "url", ["/dashboard/users", "/dashboard/users/new", "/dashboard/sites/import"]
)
def test_pages_work_with_the_keyboard(chromium, demo, url):
    context = chromium.new_context(base_url=demo.base, locale="zh-CN", **DEVICES["desktop"])
    page = context.new_page()
    log_in(page, demo.base, OFFICE)
    page.goto(url)
    result = keyboard_walk(page)
    problems = [
        {"rule": "unreachable", "message": "Tab never gets here", "element": e}
        for e in result["unreachable"]
    ] + [
        {"rule": "focus", "message": "no visible focus indicator", "element": e}
        for e in result["noIndicator"]
    ]
    assert result["reached"] > 0 and not problems, format_problems(problems)
    context.close()
