"""Font lookup of the reports (reports.fonts): configured font, found fonts, fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports import FontError, get_fonts, pdfcheck, render_site_problem_list, samples
from reports.fonts import ENV_VAR, FALLBACK_FONT, fallback_fonts

ZEN_HEI = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def test_finds_song_for_body_and_hei_for_headings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    fonts = get_fonts()
    assert fonts.embedded
    assert "uming" in fonts.body_source.lower()
    assert "wqy-zenhei" in fonts.heading_source.lower()


def test_configured_font_is_used_for_everything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if not ZEN_HEI.is_file():
        pytest.skip("fonts-wqy-zenhei is not installed")
    monkeypatch.setenv(ENV_VAR, f"{ZEN_HEI}#0")
    fonts = get_fonts()
    assert fonts.body == fonts.heading
    assert fonts.body_source == f"{ZEN_HEI}#0"
    path = tmp_path / "out.pdf"
    render_site_problem_list(samples.site_problem_list([], findings=2), path, fonts=fonts)
    names = {f.name.split("+")[-1] for f in pdfcheck.fonts(path)}
    assert names == {"WenQuanYiZenHei-0"}


@pytest.mark.parametrize("value", ["/nonexistent/font.ttf", f"{ZEN_HEI}#x", "/etc/hostname"])
def test_a_configured_font_that_does_not_load_is_an_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ENV_VAR, value)
    with pytest.raises(FontError, match=ENV_VAR):
        get_fonts()


def test_fallback_cid_font_still_renders_but_is_not_embedded(tmp_path: Path) -> None:
    path = tmp_path / "fallback.pdf"
    data = samples.site_problem_list([], findings=2)
    render_site_problem_list(data, path, fonts=fallback_fonts())
    pdfcheck.qpdf_check(path)
    fonts = pdfcheck.fonts(path)
    assert {f.name for f in fonts} == {FALLBACK_FONT}
    assert not any(f.embedded for f in fonts)
