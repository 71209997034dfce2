"""Look at a rendered PDF with the standard command-line tools (qpdf, poppler-utils).

For tests (of this package and of the web endpoints that serve its PDFs) and for
``bench/reports.py``: what a reader's software makes of the file, not what reportlab
meant to write. Each function raises ``PdfCheckError`` with the tool's output when the
tool fails, and ``FileNotFoundError`` when the tool is not installed.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

StrPath = str | os.PathLike[str]


class PdfCheckError(AssertionError):
    """A tool rejected the PDF."""


@dataclass(frozen=True, slots=True)
class PdfFont:
    name: str  # e.g. AAAAAA+UMingCN-0 (subset prefix included)
    type: str  # e.g. TrueType, CID Type 0C
    embedded: bool
    subset: bool
    unicode_map: bool  # has a ToUnicode map: text can be extracted


@dataclass(frozen=True, slots=True)
class PdfImage:
    page: int
    width: int
    height: int
    encoding: str  # jpeg, image, …


def _run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PdfCheckError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def qpdf_check(path: StrPath) -> str:
    """Run ``qpdf --check``; returns its report, raises if it finds errors or warnings."""
    # qpdf exits 0 when clean, 2 on errors and 3 on warnings.
    return _run("qpdf", "--check", os.fspath(path))


def text(
    path: StrPath,
    *,
    first: int | None = None,
    last: int | None = None,
    mode: Literal["raw", "reading", "layout"] = "raw",
    crop: tuple[float, float, float, float] | None = None,
) -> str:
    """The text ``pdftotext`` extracts (UTF-8), of all pages or of ``first``..``last``.

    ``raw`` keeps the order of the content stream: each table cell comes out whole,
    where ``reading`` (pdftotext's default) interleaves the lines of neighbouring cells;
    ``layout`` keeps a table row on one line. ``crop`` is (x, y, width, height) in points
    from the top left of each page.
    """
    command = ["pdftotext", "-enc", "UTF-8"]
    if mode != "reading":
        command.append(f"-{mode}")
    if first is not None:
        command += ["-f", str(first)]
    if last is not None:
        command += ["-l", str(last)]
    if crop is not None:
        x, y, w, h = (str(round(v)) for v in crop)
        command += ["-x", x, "-y", y, "-W", w, "-H", h]
    return _run(*command, os.fspath(path), "-")


def layout_text(path: StrPath) -> str:
    """Text with ``-layout``, which keeps a table row on one line."""
    return text(path, mode="layout")


def page_count(path: StrPath) -> int:
    match = re.search(r"^Pages:\s+(\d+)$", _run("pdfinfo", os.fspath(path)), re.MULTILINE)
    if match is None:
        raise PdfCheckError(f"pdfinfo reported no page count for {path}")
    return int(match.group(1))


def fonts(path: StrPath) -> list[PdfFont]:
    """Fonts as ``pdffonts`` lists them."""
    lines = _run("pdffonts", os.fspath(path)).splitlines()
    # The dashed second line gives the column widths; names may contain spaces.
    columns = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[1])]
    result = []
    for line in lines[2:]:
        cells = [line[start:end].strip() for start, end in columns]
        result.append(
            PdfFont(
                name=cells[0],
                type=cells[1],
                embedded=cells[3] == "yes",
                subset=cells[4] == "yes",
                unicode_map=cells[5] == "yes",
            )
        )
    return result


def images(path: StrPath) -> list[PdfImage]:
    """Images placed on the pages, as ``pdfimages -list`` reports them."""
    result = []
    for line in _run("pdfimages", "-list", os.fspath(path)).splitlines()[2:]:
        cells = line.split()
        result.append(PdfImage(int(cells[0]), int(cells[3]), int(cells[4]), cells[8]))
    return result


def jpeg_streams(path: StrPath, workdir: StrPath) -> list[bytes]:
    """The data of every ``/DCTDecode`` image stream of the PDF, as stored in the file
    (``pdfimages -j`` writes those streams out unchanged), in the order of the pages."""
    prefix = os.path.join(os.fspath(workdir), "img")
    _run("pdfimages", "-j", os.fspath(path), prefix)
    names = sorted(n for n in os.listdir(workdir) if n.startswith("img-") and n.endswith(".jpg"))
    return [Path(workdir, name).read_bytes() for name in names]


def squeeze(value: str) -> str:
    """Text without any whitespace: pdftotext breaks lines where the PDF wrapped them."""
    return re.sub(r"\s+", "", value)


def write_first_page_png(path: StrPath, out_prefix: StrPath, *, dpi: int = 80) -> Path:
    """Render page 1 to ``{out_prefix}.png`` with pdftoppm; returns the PNG's path."""
    _run(
        "pdftoppm",
        "-png",
        "-r",
        str(dpi),
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        os.fspath(path),
        os.fspath(out_prefix),
    )
    return Path(f"{os.fspath(out_prefix)}.png")


@dataclass(frozen=True, slots=True)
class TextLine:
    page: int  # from 1
    text: str  # the line's words joined by single spaces
    x0: float  # points from the left and the top of the page
    y0: float
    x1: float
    y1: float


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def lines(path: StrPath) -> list[TextLine]:
    """Every line of text as it is drawn, with its box, from ``pdftotext -bbox``.

    pdftotext's own line finding joins the lines of neighbouring table cells that share a
    baseline; here words are read in the order they are drawn and one line ends where the
    next word is not beside it on the same baseline: a gap wider than a space (half the
    font size) starts another line, as between two cells (at least twice the cell
    padding apart).
    """
    from html import unescape

    result: list[TextLine] = []
    pages = _run("pdftotext", "-bbox", "-enc", "UTF-8", os.fspath(path), "-").split("<page ")
    for number, page in enumerate(pages[1:], start=1):
        current: list[tuple[float, float, float, float, str]] = []
        for match in _WORD.finditer(page):
            x0, y0, x1, y1 = (float(v) for v in match.groups()[:4])
            word = (x0, y0, x1, y1, unescape(match.group(5)))
            if current:
                px0, py0, px1, py1, _ = current[-1]
                size = min(y1 - y0, py1 - py0)
                beside = abs(y1 - py1) < size * 0.3 and 0 <= x0 - px1 < size * 0.6
                if not beside:
                    result.append(_line(number, current))
                    current = []
            current.append(word)
        if current:
            result.append(_line(number, current))
    return result


def _line(page: int, words: list[tuple[float, float, float, float, str]]) -> TextLine:
    return TextLine(
        page,
        " ".join(w[4] for w in words),
        min(w[0] for w in words),
        min(w[1] for w in words),
        max(w[2] for w in words),
        max(w[3] for w in words),
    )
