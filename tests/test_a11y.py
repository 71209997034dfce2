"""The accessibility checker of the dashboard tests (tests/support/a11y.py) on small pages.

A checker that passes everything proves nothing: each rule is shown to catch its fault
and to accept the right markup.
"""

import pytest

from tests.support.a11y import audit, keyboard_walk
from tests.support.browser import running_chromium


@pytest.fixture(scope="module")
def page():
    with running_chromium() as browser:
        context = browser.new_context(viewport={"width": 800, "height": 600})
        yield context.new_page()
        context.close()


def rules_of(page, body: str, lang: str = "zh-CN", style: str = "") -> list[str]:
    page.set_content(
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>t</title><style>{style}</style></head><body>{body}</body></html>"
    )
    return [p["rule"] for p in audit(page)]


GOOD = """
<header><a href="/">格尔木专项整治</a></header>
<main>
  <h1>整改总览</h1>
  <h2>成品油</h2><h3>东城区</h3><h2>危化品</h2>
  <form><label for="u">用户名</label><input id="u" name="u">
    <label>密码 <input type="password" name="p"></label>
    <input aria-label="搜索" name="q">
    <span id="d-label">区域</span><select aria-labelledby="d-label"><option>东城区</option></select>
    <input type="hidden" name="csrf_token" value="x">
    <button type="submit">登录</button></form>
  <a href="/x"><img src="data:," alt="现场照片"></a>
  <svg role="img" aria-label="按区域整改率" width="10" height="10"></svg>
  <p style="color:#767676">#767676 on white: 4.54:1</p>
  <p style="color:#949494;font-size:24px">large grey text: 3.03:1 is enough</p>
</main>
"""


def test_good_page_passes(page):
    assert rules_of(page, GOOD) == []


def test_wrong_or_missing_lang(page):
    assert rules_of(page, "<main><h1>x</h1></main>", lang="en") == ["lang"]


@pytest.mark.parametrize(
    "control",
    [
        '<input id="x" name="x">',
        '<label for="other">用户名</label><input id="x" name="x">',
        '<select name="d"><option>东城区</option></select>',
        '<textarea name="note"></textarea>',
        '<input aria-labelledby="nowhere" name="x">',
    ],
)
def test_missing_label_is_reported(page, control):
    assert rules_of(page, f"<main><h1>x</h1>{control}</main>") == ["label"]


def test_hidden_inputs_and_buttons_need_no_label(page):
    body = '<main><h1>x</h1><input type="hidden" name="t"><input type="submit" value="筛选"></main>'
    assert rules_of(page, body) == []


def test_img_without_alt(page):
    assert rules_of(page, '<main><h1>x</h1><img src="data:,"></main>') == ["img-alt"]


@pytest.mark.parametrize(
    "headings",
    [
        "<h2>a</h2>",  # no h1
        "<h1>a</h1><h1>b</h1>",  # two
        "<h2>a</h2><h1>b</h1>",  # first is not the h1
        "<h1>a</h1><h3>b</h3>",  # h2 skipped
    ],
)
def test_heading_faults(page, headings):
    assert "headings" in rules_of(page, f"<main>{headings}</main>")


def test_headings_may_go_back_up(page):
    assert rules_of(page, "<main><h1>a</h1><h2>b</h2><h3>c</h3><h2>d</h2></main>") == []


@pytest.mark.parametrize(
    "markup",
    [
        '<p style="color:#999">#999 on white: 2.85:1</p>',
        '<div style="background:#333"><p style="color:#555">dark on dark</p></div>',
        '<p style="color:#949494;font-size:20px">not large enough for 3:1</p>',
        '<p style="color:rgba(0,0,0,0.3)">faint black</p>',
        '<p style="color:#000;opacity:0.3">faded by opacity</p>',
        '<p style="color:#fff;background:rgba(255,255,255,0.5)">white on half-white</p>',
        '<input aria-label="q" style="color:#aaa">',
    ],
)
def test_poor_contrast_is_reported(page, markup):
    assert rules_of(page, f"<main><h1>x</h1>{markup}</main>") == ["contrast"]


def test_contrast_against_coloured_ancestor(page):
    good = '<div style="background:#1d4ed8"><p style="color:#fff">white on blue</p></div>'
    assert rules_of(page, f"<main><h1>x</h1>{good}</main>") == []
    bold = '<p style="color:#949494;font-size:19px;font-weight:700">bold 19px: large</p>'
    assert rules_of(page, f"<main><h1>x</h1>{bold}</main>") == []


def test_hidden_text_is_not_judged(page):
    body = (
        '<main><h1>x</h1><p style="display:none;color:#eee">hidden</p>'
        '<span style="position:absolute;width:1px;height:1px;overflow:hidden;'
        'clip:rect(0 0 0 0);color:#eee">screen readers only</span></main>'
    )
    assert rules_of(page, body) == []


@pytest.mark.parametrize(
    "markup",
    [
        '<a href="/x"></a>',
        '<a href="/x"><img src="data:," alt=""></a>',
        "<button></button>",
        '<button><svg width="8" height="8"></svg></button>',
        '<svg role="img" width="8" height="8"></svg>',
    ],
)
def test_nameless_links_and_buttons(page, markup):
    assert rules_of(page, f"<main><h1>x</h1>{markup}</main>") == ["name"]


def test_names_from_alt_label_and_title(page):
    body = (
        '<main><h1>x</h1><a href="/a"><img src="data:," alt="照片"></a>'
        '<button aria-label="关闭">×</button><a href="/b" title="帮助">?</a>'
        '<svg role="img" width="8" height="8"><title>趋势</title></svg></main>'
    )
    assert rules_of(page, body) == []


def test_keyboard_walk_finds_unreachable_and_invisible_focus(page):
    page.set_content(
        '<!doctype html><html lang="zh-CN"><head><style>'
        ".bare:focus { outline: none; }"
        ".ring:focus { outline: 3px solid #1d4ed8; }"
        "</style></head><body><main><h1>x</h1>"
        '<a class="ring" href="#a">一</a>'
        '<a class="bare" href="#b">二</a>'
        '<a href="#c" tabindex="-1">三</a>'
        '<button class="ring">四</button>'
        '<div tabindex="0" style="display:none">hidden</div>'
        "</main></body></html>"
    )
    result = keyboard_walk(page)
    assert result["reached"] == 3
    assert len(result["noIndicator"]) == 1 and "二" in result["noIndicator"][0]
    # A visible link taken out of the Tab order is a link a keyboard user cannot follow.
    assert len(result["unreachable"]) == 1 and "三" in result["unreachable"][0]


def test_keyboard_walk_reports_a_trap_free_page_without_problems(page):
    page.set_content(
        '<!doctype html><html lang="zh-CN"><body><main><h1>x</h1>'
        '<label for="s">区域</label><select id="s"><option>东城区</option></select>'
        '<input type="radio" name="r" id="r1"><label for="r1">一</label>'
        '<input type="radio" name="r" id="r2"><label for="r2">二</label>'
        "<button>筛选</button></main></body></html>"
    )
    result = keyboard_walk(page)
    assert result == {"reached": 3, "unreachable": [], "noIndicator": []}


@pytest.mark.parametrize(
    "markup",
    [
        # A department name cut off by an ellipsis, by hidden overflow, or running out.
        '<p style="width:90px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis">'
        "市工业信息化和科技局</p>",
        '<div style="width:90px;white-space:nowrap;overflow:hidden">市工业信息化和科技局</div>',
        '<p style="width:90px;white-space:nowrap">市工业信息化和科技局</p>',
        # A search box too narrow for its example, a value, a chosen option.
        '<input aria-label="站点名称" placeholder="例如：江源路加油站" style="width:90px">',
        '<input aria-label="站点名称" value="格尔木市昆仑路加油站" style="width:90px">',
        '<select aria-label="责任单位" style="width:120px">'
        "<option>市工业信息化和科技局</option></select>",
    ],
)
def test_clipped_text_is_reported(page, markup):
    assert rules_of(page, f"<main><h1>x</h1>{markup}</main>") == ["clipped"]


def test_text_that_wraps_or_fits_is_not_clipped(page):
    body = (
        '<main><h1>x</h1><p style="width:90px">市工业信息化和科技局</p>'
        '<input aria-label="站点名称" placeholder="例如：江源路加油站" style="width:100%">'
        '<select aria-label="区域" style="width:200px"><option>东城区</option></select>'
        "<p><span>行内文字</span> 不计宽度</p></main>"
    )
    assert rules_of(page, body) == []
