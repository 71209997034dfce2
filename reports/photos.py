"""Finding photos on the page: print-size JPEGs embedded as they are, in an unbreakable grid.

On paper a photo is a 33 mm box (:data:`PHOTO_BOX`), 260x195 pixels at 200 dpi
(:func:`print_pixels`). The photo store makes a ``print`` variant of that size when a photo
arrives (``inspect_app.photos.imaging``), so a PDF embeds each photo's JPEG bytes as they
are: reportlab copies a JPEG file into the PDF as a ``/DCTDecode`` stream without decoding
it. Nothing is decoded at render time, which used to be nearly all of a big 问题清单's
time (a 1,600 px report photo decoded and re-encoded per finding).

``PhotoCache`` decides per photo (``PhotoRef``):

* ``path`` is an upright JPEG that fits the box: embedded as it is (only its header read);
* ``path`` is missing and ``source`` (the ``report`` variant) is there: a photo stored
  before print variants existed. The copy is made from ``source`` and stored at ``path``
  (written beside it and renamed into place), so it is made once; where ``path`` cannot be
  written it goes to the render's temporary folder;
* ``path`` is some other image (larger, rotated by EXIF, PNG): copied down to the print
  size in the temporary folder (callers other than the app, e.g. tests and samples).

Copies are made ahead of the layout by a pool of workers: threads for a few photos, and
processes for many (``PROCESS_POOL_MIN_PHOTOS``). Pillow releases the GIL while it
decodes, but between those calls it needs the GIL back, and the layout running in the
main thread holds it nearly all the time, so threads mostly wait; processes do not. They
are started with ``forkserver`` (``spawn`` where that is missing), never plain ``fork``,
which is unsafe in a threaded web server. A report whose photos all have their print
variant starts no worker at all.

``PhotoGrid`` is a finding's photos, two to a line, with the time each was taken
underneath: the content of the problem table's photo column. It never splits, so a
photo and its caption always land on the same page.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import secrets
import tempfile
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import (
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from .data import PhotoRef
from .layout import GREY, LIGHT_GREY, fmt_datetime

log = logging.getLogger(__name__)

# A photo is printed in a 33 mm box, two to a line beside its finding; 200 dpi keeps
# the detail an inspector photographed (a number plate, a label) readable there.
DPI = 200
JPEG_QUALITY = 78
PHOTO_BOX = (33 * mm, 24.75 * mm)  # 4:3, the shape of most phone photos
PER_LINE = 2
CAPTION_SIZE = 7
CAPTION_GAP = 2
GUTTER = 2 * mm
LINE_GAP = 2.5 * mm
PLACEHOLDER_FILL = colors.HexColor("#EFEFEF")
# Below this many photos to copy, starting worker processes costs more than it saves.
PROCESS_POOL_MIN_PHOTOS = 150
_ORIENTATION = 0x0112


def print_pixels(box: tuple[float, float] = PHOTO_BOX) -> tuple[int, int]:
    """The pixels of ``box`` (points) at :data:`DPI`: what a print copy fits into."""
    return round(box[0] / 72 * DPI), round(box[1] / 72 * DPI)


@dataclass(frozen=True, slots=True)
class Thumb:
    """A print-size JPEG ready to embed, or the reason there is none."""

    path: str | None
    width: int = 0
    height: int = 0
    problem: str | None = None  # 照片文件缺失 / 照片无法读取


class PhotoCache:
    """The print-size JPEG of each of ``photos``; copies that must be made are made by
    background workers.

    Use as a context manager: entering starts the copies, the temporary folder goes away
    on exit (reportlab has read every file into the document by the time the build
    returns). A photo not announced up front is looked at when first asked for.
    """

    def __init__(
        self,
        photos: Iterable[PhotoRef] = (),
        *,
        box: tuple[float, float] = PHOTO_BOX,
        workers: int | None = None,
    ) -> None:
        self._announced = list({os.fspath(p.path): p for p in photos}.values())
        self._px = print_pixels(box)
        self._workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._jobs: dict[str, Future[Thumb]] = {}
        self._collected: set[str] = set()
        self._lock = threading.Lock()
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._pool: Executor | None = None
        self.copied = 0  # photos that had to be decoded (for tests and benchmarks)

    def __enter__(self) -> PhotoCache:
        self._dir = tempfile.TemporaryDirectory(prefix="inspect-report-")
        ready = {}
        for photo in self._announced:
            thumb = _embeddable(photo.path, self._px)
            if thumb is not None:
                ready[os.fspath(photo.path)] = thumb
        to_copy = len(self._announced) - len(ready)
        if to_copy >= PROCESS_POOL_MIN_PHOTOS:
            methods = multiprocessing.get_all_start_methods()
            method = "forkserver" if "forkserver" in methods else "spawn"
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context(method)
            )
        elif to_copy:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="report-photo")
        for photo in self._announced:
            key = os.fspath(photo.path)
            if key in ready:
                job: Future[Thumb] = Future()
                job.set_result(ready[key])
                self._jobs[key] = job
            else:
                self._submit(photo)
        self._collected = set(ready)
        self._release_pool_if_done()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._dir is not None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._dir.cleanup()
        self._jobs.clear()

    def get(self, photo: PhotoRef) -> Thumb:
        """The print copy of ``photo``, waiting for it if it is still being made."""
        try:
            thumb = self._submit(photo).result()
        except BrokenExecutor:
            # A worker process died (killed for memory, or a program that re-runs its
            # unguarded main module in every child): make the copy here instead.
            log.warning("photo workers failed; copying the remaining photos in-process")
            with self._lock:
                if self._pool is not None:
                    self._pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = None
                self._jobs = {k: j for k, j in self._jobs.items() if _succeeded(j)}
            thumb = self._submit(photo).result()
        with self._lock:
            self._collected.add(os.fspath(photo.path))
        self._release_pool_if_done()
        return thumb

    def _release_pool_if_done(self) -> None:
        with self._lock:
            if self._pool is not None and len(self._collected) >= len(self._announced):
                # Every announced photo is in the document: let the workers go now rather
                # than keep their memory through reportlab's final write of the file.
                self._pool.shutdown(wait=False)
                self._pool = None

    def _submit(self, photo: PhotoRef) -> Future[Thumb]:
        key = os.fspath(photo.path)
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                assert self._dir is not None, "use 'with PhotoCache()'"
                ready = _embeddable(photo.path, self._px)
                job = Future()
                if ready is not None:  # not announced, but a print variant
                    job.set_result(ready)
                    self._jobs[key] = job
                    return job
                self.copied += 1
                spare = os.path.join(self._dir.name, f"{len(self._jobs)}.jpg")
                if photo.path.exists() or photo.source is None:
                    args = (photo.path, spare, self._px, None)
                else:  # stored before print variants: make it from the report, keep it
                    args = (photo.source, spare, self._px, photo.path)
                if self._pool is None:  # a photo nobody announced, after the workers left
                    job.set_result(_make_copy(*args))
                else:
                    job = self._pool.submit(_make_copy, *args)
                self._jobs[key] = job
            return job


def _succeeded(job: Future[Thumb]) -> bool:
    return job.done() and not job.cancelled() and job.exception() is None


def _embeddable(path: Path, size: tuple[int, int]) -> Thumb | None:
    """``path`` as it is, if it is an upright RGB or grey JPEG that fits ``size``: only its
    header is read (:func:`_jpeg_header`), and Pillow's EXIF reading only for a file that
    has EXIF (a print variant has none)."""
    header = _jpeg_header(path)
    if header is None:
        return None
    width, height, components, has_exif = header
    if components not in (1, 3) or width > size[0] or height > size[1]:
        return None
    if has_exif:
        try:
            with Image.open(path) as image:
                if image.getexif().get(_ORIENTATION, 1) != 1:
                    return None
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            return None
    return Thumb(os.fspath(path), width, height)


# Start-of-frame markers of baseline, extended, progressive and lossless JPEGs (not DHT,
# JPG or DAC, which share the range).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_HEADER_BYTES = 64 * 1024


def _jpeg_header(path: Path) -> tuple[int, int, int, bool] | None:
    """(width, height, colour components, has an EXIF segment) from a JPEG's markers, or
    ``None`` if the file is missing, not a JPEG, or its frame header is not within the
    first 64 KB. Reading the markers is a few microseconds; Pillow's open was a tenth of a
    millisecond a photo, 2,000 times in a big list."""
    try:
        with open(path, "rb") as fp:
            head = fp.read(_HEADER_BYTES)
    except OSError:
        return None
    if not head.startswith(b"\xff\xd8"):
        return None
    has_exif = False
    at = 2
    while at + 4 <= len(head):
        if head[at] != 0xFF:
            return None
        marker = head[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        length = int.from_bytes(head[at + 2 : at + 4], "big")
        if marker in _SOF:
            segment = head[at + 4 : at + 2 + length]
            if len(segment) < 6:
                return None
            height = int.from_bytes(segment[1:3], "big")
            width = int.from_bytes(segment[3:5], "big")
            if not width or not height:
                return None
            return width, height, segment[5], has_exif
        if marker == 0xE1 and head[at + 4 : at + 10] == b"Exif\x00\x00":
            has_exif = True
        if marker == 0xDA or length < 2:  # scan data before any frame header
            return None
        at += 2 + length
    return None


def _make_copy(source: Path, spare: str, size: tuple[int, int], keep_at: Path | None) -> Thumb:
    """Runs in a worker: a copy of ``source`` fitting ``size`` pixels, stored at ``keep_at``
    (the photo's print variant) if given and writable, else at ``spare``."""
    if not source.is_file():
        log.warning("report photo missing: %s", source)
        return Thumb(None, problem="照片文件缺失")
    target = spare
    if keep_at is not None:
        try:
            keep_at.parent.mkdir(parents=True, exist_ok=True)
            target = f"{keep_at}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
            with open(target, "xb"):
                pass
        except OSError as exc:
            log.warning("print copy not stored at %s: %s", keep_at, exc)
            target, keep_at = spare, None
    try:
        thumb = _write_copy(source, target, size)
        if keep_at is not None:
            if thumb.path is None:
                os.unlink(target)
            else:
                # Same content whoever renames last; a crash leaves only the .tmp file.
                os.replace(target, keep_at)
                thumb = Thumb(os.fspath(keep_at), thumb.width, thumb.height)
        return thumb
    except BaseException:
        if keep_at is not None:
            with suppress(OSError):
                os.unlink(target)
        raise


def _write_copy(source: Path, target: str, size: tuple[int, int]) -> Thumb:
    """Write a copy of ``source`` fitting ``size`` pixels to ``target``."""
    try:
        with Image.open(source) as image:
            # Orientation 5–8 swaps width and height, so ask draft for the longer side
            # both ways; draft only ever picks a scale at least that large.
            longest = max(size)
            image.draft("RGB", (longest, longest))
            upright = ImageOps.exif_transpose(image)
            if upright.mode != "RGB":
                upright = upright.convert("RGB")
            scale = min(size[0] / upright.width, size[1] / upright.height, 1.0)
            fitted = (max(1, round(upright.width * scale)), max(1, round(upright.height * scale)))
            if fitted != upright.size:
                # After draft the copy is at most about twice the target, where bilinear
                # (antialiased in Pillow) looks as good as Lanczos at a third of the cost.
                upright = upright.resize(fitted, Image.Resampling.BILINEAR)
            with open(target, "wb") as out:
                upright.save(out, "JPEG", quality=JPEG_QUALITY)
            return Thumb(target, upright.width, upright.height)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        # A damaged upload must not cost the site its whole problem list.
        log.warning("report photo unreadable: %s: %s", source, exc)
        return Thumb(None, problem="照片无法读取")


class PhotoGrid(Flowable):
    """A finding's photos in lines of ``per_line``, each in a fixed box with its caption
    (label and capture time) underneath: the content of the problem table's photo cell.

    It never splits (a photo is never cut across pages); a grid taller than a page is
    cut between its lines with ``cut`` into grids that continue in further table rows.
    """

    def __init__(
        self,
        photos: Sequence[PhotoRef],
        cache: PhotoCache,
        font: str,
        labels: Sequence[str],
        *,
        per_line: int = PER_LINE,
        box: tuple[float, float] = PHOTO_BOX,
    ) -> None:
        super().__init__()
        self.photos = list(photos)
        self.labels = list(labels)
        self.cache = cache
        self.font = font
        self.per_line = per_line
        self.box = box
        lines = -(-len(self.photos) // per_line)
        self.width = grid_width(per_line, box)
        self.height = lines * self.line_height(box) - (LINE_GAP if lines else 0)

    @staticmethod
    def line_height(box: tuple[float, float] = PHOTO_BOX) -> float:
        """One line of photos with its captions, and the gap below it."""
        return box[1] + CAPTION_GAP + CAPTION_SIZE * 1.3 + LINE_GAP

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        return []

    def cut(self, height: float) -> list[PhotoGrid]:
        """This grid as grids of whole lines, each at most ``height`` tall (one line at
        least)."""
        lines = max(1, int((height + LINE_GAP) // self.line_height(self.box)))
        step = lines * self.per_line
        return [
            PhotoGrid(
                self.photos[i : i + step],
                self.cache,
                self.font,
                self.labels[i : i + step],
                per_line=self.per_line,
                box=self.box,
            )
            for i in range(0, len(self.photos), step)
        ]

    def draw(self) -> None:
        canv = self.canv
        box_w, box_h = self.box
        pitch = self.line_height(self.box)
        for index, photo in enumerate(self.photos):
            line, column = divmod(index, self.per_line)
            x = column * (box_w + GUTTER)
            # Captions sit under their photos; the first line at the top of the cell.
            base = self.height - line * pitch - box_h
            caption_y = base - CAPTION_GAP - CAPTION_SIZE * 1.3 + 1.5
            thumb = self.cache.get(photo)
            canv.saveState()
            canv.setLineWidth(0.4)
            canv.setStrokeColor(LIGHT_GREY)
            if thumb.path is not None:
                scale = min(box_w / thumb.width, box_h / thumb.height)
                w, h = thumb.width * scale, thumb.height * scale
                canv.drawImage(thumb.path, x + (box_w - w) / 2, base + (box_h - h) / 2, w, h)
                canv.rect(x + (box_w - w) / 2, base + (box_h - h) / 2, w, h)
            else:
                canv.setFillColor(PLACEHOLDER_FILL)
                canv.rect(x, base, box_w, box_h, fill=1)
                canv.setFillColor(GREY)
                canv.setFont(self.font, 8)
                canv.drawCentredString(x + box_w / 2, base + box_h / 2 - 3, thumb.problem or "")
            canv.setFillColor(GREY)
            canv.setFont(self.font, CAPTION_SIZE)
            caption = _caption(photo, self.labels[index], self.font, box_w)
            canv.drawCentredString(x + box_w / 2, caption_y, caption)
            canv.restoreState()


def grid_width(per_line: int = PER_LINE, box: tuple[float, float] = PHOTO_BOX) -> float:
    return per_line * box[0] + (per_line - 1) * GUTTER


def _caption(photo: PhotoRef, label: str, font: str, width: float) -> str:
    """The longest caption that fits the box: 图3-1 拍摄于 2025-05-12 09:35, without
    拍摄于 when that is too long."""
    when = fmt_datetime(photo.taken_at) if photo.taken_at else None
    choices = [f"{label}  拍摄于 {when}", f"{label} {when}"] if when else []
    choices += [f"{label}  拍摄时间不详", f"{label} 时间不详"] if not when else []
    for caption in choices:
        if stringWidth(caption, font, CAPTION_SIZE) <= width:
            return caption
    return choices[-1]
