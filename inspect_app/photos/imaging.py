"""Check uploaded photos by their content and derive the JPEG variants the app shows.

Called by the photo route right after :meth:`storage.MediaStore.receive` stored an original:
``process(store, sha256)`` decides from the bytes (never the name or ``Content-Type``)
whether the file is a JPEG, PNG or HEIC photo, refuses anything else, corrupt files and
decompression bombs, reads when and where the photo was taken from its EXIF, and writes three
upright, EXIF-free baseline JPEGs through the store: ``report`` (about 1600 px on the long
side: 1600, or anything from 1400 to 1700 that the decoder gives directly), ``thumb``
(about 320 px, made from the report) and ``print`` (fitted into 260x195 px, the printed box
of a PDF at 200 dpi, made from the report; PDFs embed it as it is).

Decisions worth knowing:

* Pixel limits, checked on the size in the header before anything is decoded: at most
  :data:`MAX_PIXELS` (50 MP) declared, whatever the format, and at most
  :data:`MAX_DECODED_PIXELS` (25 MP) that the decoder really holds at once
  (:func:`decoded_pixels`). A JPEG is decoded reduced (a 50 MP photo holds 3 MP), so a
  50 MP camera JPEG passes; PNG and HEIC are decoded at full size, so the
  second limit is theirs: a 24 MP HEIC (6000x4000, the largest common phone setting)
  passes, a 49 MP PNG of 190 KB, which cost 600 MB of memory, is refused.
  bench/photo_ingest.py measures the peak memory of each case. The format plugin is chosen
  by the magic bytes and instantiated directly instead of going through ``Image.open``;
  that also skips Pillow's own global bomb check, whose warning is process-wide state we
  would otherwise have to toggle from request threads. Our check is stricter than Pillow's.
* JPEGs are decoded by libjpeg-turbo (simplejpeg) straight at one of its M/8 scales
  (:func:`_jpeg_eighths`): the one that lands between 1400 and 1700 px if there is one (no
  resampling at all: 8 MP at 4/8, 12 MP at 3/8, 27 MP at 2/8), else the smallest that still
  covers 1600 px (20 MP at 3/8: 2052x1368, then resized). No JPEG is ever fully decoded.
  Pixels land as RGBX in a buffer each thread keeps from one photo to the next, which
  Pillow wraps without copying; Pillow does the rest (orientation, resizing, encoding).
  CMYK/YCCK JPEGs and files libjpeg-turbo warns about go through Pillow's ``draft`` at
  1/2, 1/4 or 1/8 as before (:func:`_reduction`). bench/photo_ingest.py times all variants
  against the floor of any decode of the same file (libjpeg-turbo at 1/8).
* HEIC cannot be decoded at a reduced size: libheif decodes it fully and it is shrunk by
  an integer factor strip by strip, so that Pillow never holds a full-size copy next to libheif's
  buffer (a 12 MP HEIC peaks at about 70 MB above the process's baseline, all of it inside
  libheif's decoder). PNG is decoded at full size.
* A JPEG that Pillow decodes without an error is accepted even if libjpeg had to fill in
  damaged data (``shared/photos/corrupted.jpg`` decodes with a grey strip at the bottom): for
  an inspector a slightly damaged photo of a violation is better than none, and the original
  is kept byte for byte. A file that stops early (truncated upload) is rejected.
* Taken-at time: EXIF ``DateTimeOriginal`` (falling back to ``DateTimeDigitized``), with
  ``OffsetTimeOriginal``/``OffsetTimeDigitized`` if present; without an offset the camera
  clock is taken to be Asia/Shanghai local time, which is what phones in Golmud show.
  ``DateTime`` (0x0132) is not used: editors rewrite it. A time outside
  :data:`PLAUSIBLE_TAKEN_SINCE` .. now + :data:`TAKEN_AT_FUTURE_SLACK` (a camera whose clock
  was never set says 0001-01-01 or 9999-12-31) is dropped and the photo kept: a wrong
  time is worse than none, and it must never stop an upload.
* GPS: decimal degrees, negative for S/W. A missing reference counts as N/E; 0,0 (written
  by some phones without a fix) and out-of-range values count as no position.
* Orientation: EXIF orientations 1-8 for JPEG and PNG. For HEIC libheif already applies the
  container's rotation/mirroring and pillow-heif resets the EXIF tag, so nothing more is done.
* Colour: an embedded ICC profile (e.g. Display P3 from iPhones, CMYK from scanners) is
  converted to sRGB, so the variants need no profile; transparency is flattened onto white.
"""

from __future__ import annotations

import io
import math
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import numpy as np
import pillow_heif
import simplejpeg
from PIL import ExifTags, Image, ImageCms, ImageFile, JpegImagePlugin, PngImagePlugin
from pillow_heif import HeifImageFile, register_heif_opener

from .storage import MediaStore

# So that Image.open elsewhere in the app (and in tests) can read HEIC too.
register_heif_opener()

MAX_PIXELS = 50_000_000
MAX_DECODED_PIXELS = 25_000_000
# EXIF times before this are camera clocks that were never set (no phone photo of ours is
# older); after now + the slack they are clocks set wrong (the slack covers time zones).
PLAUSIBLE_TAKEN_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
TAKEN_AT_FUTURE_SLACK = timedelta(days=1)
VARIANT_LONG_SIDE = {"report": 1600, "thumb": 320}
# "About 1600 px": a report whose long side comes out of the decoder in this range is kept as
# decoded (e.g. 1632 from an 8 MP photo at 1/2 scale, 1500 from 27 MP at 1/4). Resampling by
# a few per cent would cost a full resize pass and only soften the picture.
REPORT_KEEP_RANGE = (1400, 1700)
REPORT_QUALITY = 85
# Baseline, not progressive: libjpeg needs optimised Huffman tables and several scans for a
# progressive file, which made encoding the report 5x slower (23 ms instead of 4.7 ms for
# 1600x1200, the largest single step after decoding) for a file only 5% smaller. Browsers
# draw a baseline JPEG top-down as it arrives, lists show the 320 px thumb, and the PDF
# embeds it either way.
REPORT_PROGRESSIVE = False
THUMB_QUALITY = 80
# The copy a PDF embeds byte for byte: reports/photos.py prints a photo in a 33 x 24.75 mm
# box at 200 dpi (``reports.photos.print_pixels()``, tests/test_imaging.py holds the two
# equal), so it is made here once instead of at every render. Fitted into the box both
# ways: a portrait photo is 146x195.
PRINT_BOX = (260, 195)
PRINT_QUALITY = 78
# Pillow's BILINEAR widens its kernel when shrinking (antialiased, not point sampling). For
# the small step left after DCT scaling (2000 -> 1600 for 12 MP) it is slightly softer than
# LANCZOS at half the time. BOX is 25% faster but shows moire on fine regular patterns
# (fences, corrugated roofs, grilles), and NEAREST more so; resizing is still the largest
# step after decoding (bench/photo_ingest.py).
REPORT_RESAMPLE = Image.Resampling.BILINEAR

JPEG = "image/jpeg"
PNG = "image/png"
HEIC = "image/heic"

_SNIFF_BYTES = 64
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_GENERIC_HEIF_BRANDS = {b"mif1", b"msf1"}
_OPENERS: dict[str, type[ImageFile.ImageFile]] = {
    JPEG: JpegImagePlugin.JpegImageFile,
    PNG: PngImagePlugin.PngImageFile,
    HEIC: HeifImageFile,
}
# EXIF orientation -> the transpose that makes the picture upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_DATETIME_RE = re.compile(r"(\d{4})[:-](\d\d)[:-](\d\d)[ T](\d\d):(\d\d):(\d\d)")
_EXIF_OFFSET_RE = re.compile(r"([+-])(\d\d):?(\d\d)")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_JPEG_DRAFT_FACTORS = (1, 2, 4, 8)  # the DCT scales Image.draft offers
_HEIC_STRIP_BYTES = 4 * 2**20
_FORMAT_NAMES = {JPEG: "JPEG ", PNG: "PNG ", HEIC: "HEIC "}
_DIGITS_RE = re.compile(r"[0-9]+")


def _shanghai() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Shanghai")
    except (ImportError, LookupError):
        # No tz database on the host: China has kept UTC+8 without DST since 1991.
        return timezone(timedelta(hours=8), "Asia/Shanghai")


SHANGHAI = _shanghai()


class ImageRejected(Exception):
    """The upload is not a photo we can use. ``message`` (also ``str(exc)``) is Chinese for
    the inspector; ``code`` is the API contract's error code."""

    code = "unsupported_media_type"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotAnImage(ImageRejected):
    """Not a JPEG, PNG or HEIC by its content, or damaged so that it cannot be decoded."""


class ImageTooLarge(ImageRejected):
    """More pixels than :data:`MAX_PIXELS`, or than :data:`MAX_DECODED_PIXELS` to decode (a
    decompression bomb, or a panorama too big)."""

    code = "payload_too_large"

    def __init__(
        self,
        width: int | None = None,
        height: int | None = None,
        limit: int = MAX_PIXELS,
        kind: str = "",
    ) -> None:
        self.width = width  # None when the decoder ran out of memory before telling
        self.height = height
        self.limit = limit
        dimensions = f"（{width}×{height} 像素）" if width and height else ""
        super().__init__(
            f"{kind}照片尺寸过大{dimensions}，超过 {limit // 1_000_000} 百万像素的上限"
        )


_MSG_NOT_A_PHOTO = "文件内容不是照片：只接受 JPEG、PNG 或 HEIC（苹果手机）格式"
_MSG_DAMAGED = "照片文件已损坏或不完整，无法读取，请重新上传"


@dataclass(frozen=True)
class PhotoInfo:
    width: int  # of the original, after applying the EXIF orientation
    height: int
    content_type: str  # image/jpeg, image/png or image/heic, from the content
    taken_at: datetime | None  # timezone-aware
    lat: float | None
    lon: float | None


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes, or ``None`` if not one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[4:8] == b"ftyp":
        # ISO-BMFF 'ftyp' box: major brand, minor version, then compatible brands.
        end = min(int.from_bytes(head[:4], "big"), len(head))
        major = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
        if major in _HEVC_BRANDS:
            return HEIC
        if major in _GENERIC_HEIF_BRANDS and compatible & _HEVC_BRANDS:
            return HEIC
    return None


def process(store: MediaStore, sha256: str) -> PhotoInfo:
    """Check the stored original of ``sha256`` and write its ``report`` and ``thumb``
    variants. Raises :class:`NotAnImage` or :class:`ImageTooLarge`; the caller then removes
    the upload (``store.remove``) and answers 415 or 413."""
    info, variants = render(store.path(sha256))
    for variant, data in variants.items():
        store.write_variant(sha256, variant, data)
    return info


def render(source: str | os.PathLike[str]) -> tuple[PhotoInfo, dict[str, bytes]]:
    """What :func:`process` does, without the store: the photo's info and the JPEG bytes of
    each variant."""
    with open(source, "rb") as fp:
        content_type, im = _open_checked(fp)
        with im:
            width, height = im.size
            pixels = _decode_jpeg(fp, im) if content_type == JPEG else None
            if pixels is None:
                with _decoding():
                    pixels = _decode(im, fp, content_type)
            orientation, taken_at, lat, lon = _metadata(im, content_type)
            variants = _variants(pixels, im.info.get("icc_profile"), orientation)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return PhotoInfo(width, height, content_type, taken_at, lat, lon), variants


def read_info(source: str | os.PathLike[str]) -> PhotoInfo:
    """The info of an already accepted original, without writing variants (for answering a
    repeated upload). JPEG and HEIC pixels are not decoded; PNG keeps EXIF after the pixels,
    so a PNG is."""
    with open(source, "rb") as fp:
        content_type, im = _open_checked(fp, verify=False)
        with im:
            width, height = im.size
            orientation, taken_at, lat, lon = _metadata(im, content_type)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return PhotoInfo(width, height, content_type, taken_at, lat, lon)


# -- opening and checking ------------------------------------------------------------------


def _open_checked(fp: io.BufferedReader, *, verify: bool = True) -> tuple[str, ImageFile.ImageFile]:
    """Sniff, open with the matching plugin, check the pixel count before any decoding and,
    with ``verify``, run ``Image.verify`` on a first instance and return a fresh one (a
    verified image cannot be used further)."""
    content_type = sniff(fp.read(_SNIFF_BYTES))
    if content_type is None:
        raise NotAnImage(_MSG_NOT_A_PHOTO)
    with _decoding():
        im = _open_plugin(fp, content_type)
        if verify:
            with im:
                im.verify()
            im = _open_plugin(fp, content_type)
    return content_type, im


def _open_plugin(fp: io.BufferedReader, content_type: str) -> ImageFile.ImageFile:
    fp.seek(0)
    im = _OPENERS[content_type](fp)
    width, height = im.size
    # Not im.close() before raising: that would close the caller's file; nothing is decoded.
    check_pixels(content_type, width, height)
    return im


def check_pixels(content_type: str, width: int, height: int) -> None:
    """Raise :class:`ImageTooLarge` for a photo of this size that we do not decode."""
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(width, height)
    if decoded_pixels(content_type, (width, height)) > MAX_DECODED_PIXELS:
        raise ImageTooLarge(width, height, MAX_DECODED_PIXELS, _FORMAT_NAMES[content_type])


def decoded_pixels(content_type: str, size: tuple[int, int]) -> int:
    """How many pixels the decoder holds at once for a photo of ``size`` (see :func:`_decode`):
    a JPEG's at its ``draft`` scale, a PNG's or HEIC's all of them."""
    width, height = size
    if content_type == JPEG:
        # The larger of libjpeg-turbo's M/8 scale and Pillow's draft (the fallback).
        eighths = _jpeg_eighths(size)
        factor = _reduction(size, _JPEG_DRAFT_FACTORS)
        by_turbo = _scaled(width, eighths) * _scaled(height, eighths)
        return max(by_turbo, -(-width // factor) * -(-height // factor))
    return width * height


@contextmanager
def _decoding() -> Iterator[None]:
    """Turn whatever Pillow or libheif raise on a bad file into our rejections. Only wraps
    opening and decoding: failures after that are bugs and must surface as such."""
    try:
        yield
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError) as exc:
        # Our own size check comes first, so this is a second line of defence only.
        raise ImageTooLarge() from exc
    except Exception as exc:  # SyntaxError, OSError("truncated"), ValueError, struct.error...
        raise NotAnImage(_MSG_DAMAGED) from exc


# -- metadata --------------------------------------------------------------------------


def _metadata(
    im: Image.Image, content_type: str
) -> tuple[int, datetime | None, float | None, float | None]:
    """Orientation, time taken, latitude and longitude; damaged EXIF means none of them
    rather than a rejected photo."""
    try:
        exif = im.getexif()
    except Exception:
        return 1, None, None, None
    orientation = 1
    if content_type != HEIC:
        value = exif.get(ExifTags.Base.Orientation)
        if isinstance(value, int) and value in _UPRIGHT:
            orientation = value
    try:
        taken_at = _taken_at(exif.get_ifd(ExifTags.IFD.Exif))
    except Exception:
        taken_at = None
    try:
        lat, lon = _position(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except Exception:
        lat = lon = None
    return orientation, taken_at, lat, lon


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ")


def _taken_at(ifd: dict[int, object]) -> datetime | None:
    for stamp_tag, offset_tag, subsec_tag in (
        (
            ExifTags.Base.DateTimeOriginal,
            ExifTags.Base.OffsetTimeOriginal,
            ExifTags.Base.SubsecTimeOriginal,
        ),
        (
            ExifTags.Base.DateTimeDigitized,
            ExifTags.Base.OffsetTimeDigitized,
            ExifTags.Base.SubsecTimeDigitized,
        ),
    ):
        stamp = _EXIF_DATETIME_RE.match(_text(ifd.get(stamp_tag)) or "")
        if not stamp:
            continue
        subsec = _text(ifd.get(subsec_tag)) or ""
        micro = int((subsec + "000000")[:6]) if _DIGITS_RE.fullmatch(subsec) else 0
        try:
            naive = datetime(*(int(part) for part in stamp.groups()), micro)
        except ValueError:  # "0000:00:00 00:00:00" from cameras with no clock set
            continue
        taken_at = _plausible(naive, _offset(_text(ifd.get(offset_tag))) or SHANGHAI)
        if taken_at is not None:
            return taken_at
    return None


def _plausible(naive: datetime, zone: tzinfo) -> datetime | None:
    """``naive`` in ``zone`` if it lies in the window a photo of ours can have been taken in.

    Checked on the year first: 0001-01-01 at +08:00 or 9999-12-31 at -14:00 has no UTC
    equivalent that ``datetime`` can hold, and turning it into one raises OverflowError."""
    if not PLAUSIBLE_TAKEN_SINCE.year <= naive.year < 9999:
        return None
    taken_at = naive.replace(tzinfo=zone)
    latest = datetime.now(UTC) + TAKEN_AT_FUTURE_SLACK
    if not PLAUSIBLE_TAKEN_SINCE <= taken_at.astimezone(UTC) <= latest:
        return None
    return taken_at


def _offset(text: str | None) -> tzinfo | None:
    match = _EXIF_OFFSET_RE.fullmatch(text or "")
    if not match:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):
        return None
    return timezone(-delta if sign == "-" else delta)


def _position(gps: dict[int, object]) -> tuple[float | None, float | None]:
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), 90)
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), 180)
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None, None
    return lat, lon


def _degrees(dms: object, ref: object, limit: float) -> float | None:
    if not isinstance(dms, tuple) or not 1 <= len(dms) <= 3:
        return None
    value = 0.0
    for part, scale in zip(dms, (1, 60, 3600), strict=False):
        number = float(part)  # IFDRational; 0/0 comes out as NaN
        if not math.isfinite(number) or number < 0:
            return None
        value += number / scale
    if (_text(ref) or "").upper()[:1] in ("S", "W"):
        value = -value
    if abs(value) > limit:
        return None
    return round(value, 7)


# -- pixels ----------------------------------------------------------------------------


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """``size`` scaled down (never up) so that its longer side is ``long_side``."""
    width, height = size
    scale = long_side / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fit_box(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled down (never up) to fit inside ``box``."""
    width, height = size
    scale = min(box[0] / width, box[1] / height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _reduction(size: tuple[int, int], factors: Iterable[int]) -> int:
    """The factor (one of ``factors``) to shrink an image of ``size`` by while decoding: the
    one that lands nearest to the report size within :data:`REPORT_KEEP_RANGE`, so that no
    resampling is needed, else the largest that still covers the report size."""
    target = VARIANT_LONG_SIDE["report"]
    low, high = REPORT_KEEP_RANGE
    reduced = {factor: -(-max(size) // factor) for factor in factors}  # rounded up, as decoded
    landing = [factor for factor, side in reduced.items() if low <= side <= high]
    if landing:
        return min(landing, key=lambda factor: abs(reduced[factor] - target))
    return max((factor for factor, side in reduced.items() if side >= target), default=1)


def _scaled(side: int, eighths: int) -> int:
    """A side decoded at ``eighths``/8 by libjpeg-turbo (rounded up, as it does)."""
    return -(-side * eighths // 8)


def _jpeg_eighths(size: tuple[int, int]) -> int:
    """The M/8 scale (M in 1..8) to decode a JPEG of ``size`` at with libjpeg-turbo: like
    :func:`_reduction`, the one that lands nearest to the report size within
    :data:`REPORT_KEEP_RANGE` (12 MP, 4032x3024, at 3/8: 1512x1134, no resize), else the
    smallest that still covers it (20 MP, 5472x3648, at 3/8: 2052x1368, then resized)."""
    target = VARIANT_LONG_SIDE["report"]
    low, high = REPORT_KEEP_RANGE
    sides = {m: _scaled(max(size), m) for m in range(1, 9)}
    landing = [m for m, side in sides.items() if low <= side <= high]
    if landing:
        return min(landing, key=lambda m: (abs(sides[m] - target), m))
    return min((m for m, side in sides.items() if side >= target), default=8)


# Each thread decodes into its own buffer, kept from one photo to the next: a 12 MP photo's
# 3/8 scale is 6.8 MB that would otherwise be fresh memory (page faults) for every upload.
# Buffers larger than this are not kept.
_KEEP_BUFFER_BYTES = 24 * 2**20
_buffers = threading.local()


def _decode_buffer(size: int) -> np.ndarray:
    buffer = getattr(_buffers, "array", None)
    if buffer is not None and buffer.size >= size:
        return buffer
    buffer = np.empty(size, np.uint8)
    if size <= _KEEP_BUFFER_BYTES:
        _buffers.array = buffer
    return buffer


def _decode_jpeg(fp: io.BufferedReader, im: ImageFile.ImageFile) -> Image.Image | None:
    """The pixels of a JPEG decoded by libjpeg-turbo (simplejpeg) straight at the M/8 scale
    of :func:`_jpeg_eighths`, as an ``RGBX`` image over the thread's reused buffer (Pillow
    shares that memory rather than copying it). ``None`` for what this path does not take
    (CMYK/YCCK, or any error or warning of libjpeg-turbo, damaged data included): Pillow then
    decodes it as before (:func:`_decode`), with its own handling of damaged files."""
    if im.mode not in ("RGB", "L"):
        return None
    fp.seek(0)
    data = fp.read()
    eighths = _jpeg_eighths(im.size)
    width, height = (_scaled(side, eighths) for side in im.size)
    try:
        buffer = _decode_buffer(width * height * 4)
        pixels = simplejpeg.decode_jpeg(
            data, "RGBX", min_height=height, min_width=width, buffer=buffer, strict=True
        )
    except (ValueError, MemoryError):
        return None
    if pixels.shape[:2] != (height, width):  # not the scale asked for: should not happen
        return None
    return Image.frombuffer("RGBX", (width, height), pixels, "raw", "RGBX", 0, 1)


def _decode(im: ImageFile.ImageFile, fp: io.BufferedReader, content_type: str) -> Image.Image:
    """The pixels, decoded at a fraction of the original size where the format allows it
    (see :func:`_reduction`)."""
    if content_type == HEIC:
        return _decode_heic(fp)
    if content_type == JPEG:
        # libjpeg scales by 1/2, 1/4 or 1/8 in the DCT while decoding, which costs less
        # than decoding fully, and a 12 MP photo never takes 48 MB.
        factor = _reduction(im.size, _JPEG_DRAFT_FACTORS)
        if factor > 1:
            im.draft("RGB", (max(1, im.width // factor), max(1, im.height // factor)))
    im.load()
    return im


def _decode_heic(fp: io.BufferedReader) -> Image.Image:
    """libheif cannot decode at a reduced size, so decode fully and shrink by an integer
    factor (``Image.reduce``, a box average) strip by strip: Pillow never holds a full-size
    copy next to libheif's buffer (a 12 MP photo would otherwise peak at 85 MB for the two)."""
    heif = pillow_heif.open_heif(fp, convert_hdr_to_8bit=True)
    (width, height), mode, stride = heif.size, heif.mode, heif.stride
    data = memoryview(heif.data)  # decodes; libheif has applied rotation and mirroring
    factor = _reduction((width, height), range(1, max(width, height) // REPORT_KEEP_RANGE[0] + 1))
    if factor == 1:
        return Image.frombytes(mode, (width, height), data, "raw", mode, stride)
    reduced = Image.new(mode, (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, _HEIC_STRIP_BYTES // (stride * factor))
    for top in range(0, height, rows):
        count = min(rows, height - top)
        chunk = data[top * stride : (top + count) * stride]
        strip = Image.frombytes(mode, (width, count), chunk, "raw", mode, stride)
        # Each strip is a whole number of factor rows: the result is reduce() of the whole.
        reduced.paste(strip.reduce(factor), (0, top // factor))
    return reduced


def _variants(im: Image.Image, icc: bytes | None, orientation: int) -> dict[str, bytes]:
    """The encoded variants of the decoded pixels ``im``."""
    if im.mode not in ("RGB", "RGBX", "L", "CMYK"):
        im = _flatten(im)
    report = im
    if max(im.size) > REPORT_KEEP_RANGE[1]:
        report = im.resize(_fit(im.size, VARIANT_LONG_SIDE["report"]), REPORT_RESAMPLE)
    report = _to_srgb(report, icc)
    if orientation in _UPRIGHT:
        # After resizing: transposing the smaller image is cheaper.
        report = report.transpose(_UPRIGHT[orientation])
    # The two small ones from one box average of the report by a whole factor (4 from 1500
    # to 375, 5 from 1600 to 320), then each filtered down to its size: a quarter of the time
    # of a full BICUBIC pass each, no visible loss at 320 px.
    thumb_size = _fit(report.size, VARIANT_LONG_SIDE["thumb"])
    print_size = _fit_box(report.size, PRINT_BOX)
    factor = max(1, min(report.width // thumb_size[0], report.height // thumb_size[1]))
    small = report.reduce(factor) if factor > 1 else report
    # The whole report in the reduced image's coordinates: reduce() rounds its size up.
    whole = (0, 0, report.width / factor, report.height / factor)
    thumb = small.resize(thumb_size, Image.Resampling.BICUBIC, box=whole)
    printed = small.resize(print_size, Image.Resampling.BICUBIC, box=whole)
    return {
        "report": _encode(report, quality=REPORT_QUALITY, progressive=REPORT_PROGRESSIVE),
        "thumb": _encode(thumb, quality=THUMB_QUALITY, progressive=False),
        "print": _encode(printed, quality=PRINT_QUALITY, progressive=False),
    }


def _flatten(im: Image.Image) -> Image.Image:
    """Any other mode to RGB: transparency onto white, 16-bit grey scaled rather than
    clipped (``convert`` would turn everything above 255 white)."""
    if im.mode.startswith("I"):
        return im.convert("I").point(lambda v: v / 256).convert("L").convert("RGB")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if "A" in im.mode or "a" in im.mode or "transparency" in im.info:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """``im`` in sRGB, as ``RGB`` or ``RGBX`` (which JPEG encodes as RGB, so it is kept)."""
    if icc:
        if im.mode == "RGBX":
            im = im.convert("RGB")
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if not ImageCms.getProfileDescription(profile).strip().startswith("sRGB"):
                return ImageCms.profileToProfile(im, profile, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or mismatched profile: plain conversion below is still fine
    return im if im.mode in ("RGB", "RGBX") else im.convert("RGB")


def _encode(im: Image.Image, *, quality: int, progressive: bool) -> bytes:
    buffer = io.BytesIO()
    # No exif= and no icc_profile=: the variants carry no metadata (GPS stays private).
    im.save(buffer, "JPEG", quality=quality, progressive=progressive)
    return buffer.getvalue()
