"""CJK fonts for the reports: find a TrueType font on the machine and register it.

Every report needs Chinese glyphs. reportlab's ``TTFont`` embeds only the glyphs a
document uses (a subset), so the PDF shows the same on any phone and ``pdftotext`` gives
the Chinese back through the font's ToUnicode map.

Where fonts come from, first match wins:

1. ``INSPECT_PDF_FONT``: a TrueType font (``.ttf``) or collection (``.ttc``), used for
   body and headings alike. ``path#N`` picks face N of a collection. A value that does not
   load raises ``FontError``: a font someone configured must not be silently replaced.
2. Known files under the usual font folders: a Song/Ming face for body text (AR PL UMing
   from Debian's ``fonts-arphic-uming``, …) and a Hei face for headings (WenQuanYi Zen Hei
   from ``fonts-wqy-zenhei``, …). With only one of the two, it serves for both. Fonts with
   PostScript (CFF) outlines, such as the OpenType Noto/Source Han CJK files, cannot be
   embedded by reportlab and are skipped.
3. Fallback: reportlab's built-in CID font ``STSong-Light``. It is **not embedded**: the
   PDF only names the font, and the reader substitutes a Chinese font of its own. Text is
   still real text, but how it looks depends on the reader, a reader without CJK fonts
   shows nothing useful, and ``pdffonts`` reports ``emb no``. Install
   ``fonts-arphic-uming`` and ``fonts-wqy-zenhei`` to avoid it.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

log = logging.getLogger(__name__)

ENV_VAR = "INSPECT_PDF_FONT"
FALLBACK_FONT = "STSong-Light"

# (file name, face index in a collection), best first.
SONG_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("uming.ttc", 0),  # AR PL UMing CN
    ("gbsn00lp.ttf", 0),  # AR PL SungtiL GB
    ("simsun.ttc", 0),  # Windows SimSun
    ("Songti.ttc", 0),  # macOS
)
HEI_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("wqy-zenhei.ttc", 0),  # WenQuanYi Zen Hei
    ("wqy-microhei.ttc", 0),  # WenQuanYi Micro Hei
    ("NotoSansSC-Regular.ttf", 0),  # a TrueType-outline build, when someone installed one
    ("SourceHanSansSC-Regular.ttf", 0),
    ("DroidSansFallbackFull.ttf", 0),
    ("simhei.ttf", 0),  # Windows SimHei
    ("msyh.ttc", 0),  # Windows Microsoft YaHei
)
FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)

BODY_NAME = "InspectSong"
HEADING_NAME = "InspectHei"


class FontError(RuntimeError):
    """The configured font (``INSPECT_PDF_FONT``) cannot be used."""


@dataclass(frozen=True, slots=True)
class FontSet:
    """Registered reportlab font names for a document."""

    body: str
    heading: str
    embedded: bool  # False for the STSong-Light fallback
    body_source: str  # file#face, or the CID font name
    heading_source: str


_lock = threading.Lock()
_cache: dict[str | None, FontSet] = {}


def get_fonts() -> FontSet:
    """The fonts to use, registered with reportlab; looked up once per process per
    value of ``INSPECT_PDF_FONT``."""
    configured = os.environ.get(ENV_VAR) or None
    with _lock:
        fonts = _cache.get(configured)
        if fonts is None:
            fonts = _resolve(configured)
            _cache[configured] = fonts
        return fonts


def fallback_fonts() -> FontSet:
    """The non-embedded STSong-Light fallback, registered (used when no font is found)."""
    if FALLBACK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FontSet(FALLBACK_FONT, FALLBACK_FONT, False, FALLBACK_FONT, FALLBACK_FONT)


def _resolve(configured: str | None) -> FontSet:
    if configured:
        path, _, face = configured.partition("#")
        try:
            index = int(face) if face else 0
        except ValueError:
            raise FontError(f"{ENV_VAR}={configured!r}: face after '#' must be a number") from None
        # A distinct name per configured value, so a changed setting never swaps the font
        # under a document that is still being built.
        name = _register(f"InspectCustom{len(_cache)}", Path(path).expanduser(), index)
        if name is None:
            raise FontError(f"{ENV_VAR}={configured!r} is not a loadable TrueType font")
        source = f"{path}#{index}"
        return FontSet(name, name, True, source, source)

    found = _index_font_files()
    body = _first_loadable(BODY_NAME, SONG_CANDIDATES, found)
    heading = _first_loadable(HEADING_NAME, HEI_CANDIDATES, found)
    if body is None and heading is None:
        log.warning("no CJK TrueType font found; using %s, which is not embedded", FALLBACK_FONT)
        return fallback_fonts()
    body = body or heading
    heading = heading or body
    assert body is not None and heading is not None
    return FontSet(body[0], heading[0], True, body[1], heading[1])


def _index_font_files() -> dict[str, Path]:
    """Font file name -> first path found under the usual font folders."""
    wanted = {name for name, _ in SONG_CANDIDATES + HEI_CANDIDATES}
    found: dict[str, Path] = {}
    for folder in FONT_DIRS:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for file_name in files:
                if file_name in wanted and file_name not in found:
                    found[file_name] = Path(dirpath, file_name)
    return found


def _first_loadable(
    name: str, candidates: tuple[tuple[str, int], ...], found: dict[str, Path]
) -> tuple[str, str] | None:
    for file_name, index in candidates:
        path = found.get(file_name)
        if path is not None and _register(name, path, index):
            return name, f"{path}#{index}"
    return None


def _register(name: str, path: Path, index: int) -> str | None:
    """Register ``path`` (face ``index``) as ``name``; None if it cannot be embedded."""
    try:
        font = TTFont(name, str(path), subfontIndex=index)
    except (TTFError, OSError, ValueError, KeyError) as exc:
        # CFF-outline OpenType fonts land here ("postscript outlines are not supported").
        log.info("font %s#%d not usable: %s", path, index, exc)
        return None
    pdfmetrics.registerFont(font)
    return name
