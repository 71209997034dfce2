"""Tests for photo checking and variant generation, on the real camera and phone photos in
``shared/photos`` (see SOURCES.md there) plus files made here: PNG, HEIC, a 12 MP JPEG,
decompression bombs and files that only pretend to be photos."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pillow_heif
import pytest
import simplejpeg
from PIL import (
    ExifTags,
    Image,
    ImageChops,
    ImageFile,
    ImageOps,
    ImageStat,
    TiffImagePlugin,
)

from inspect_app.photos import imaging
from inspect_app.photos.imaging import ImageTooLarge, NotAnImage, PhotoInfo
from inspect_app.photos.storage import MediaStore
from tests.conftest import IN_CI

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "photos"

# Nearest-variant mean absolute RGB difference (0-255). The same picture comes within ~6
# (landscape_2..8 carry Apple's "Generic RGB" ICC profile, which is converted to sRGB, and
# landscape_1 has none); a wrong flip or rotation is 50 or more.
SAME_PICTURE = 12


def open_variant(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        im.load()
        return im.convert("RGB")


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def render(path: Path) -> tuple[PhotoInfo, dict[str, Image.Image]]:
    info, variants = imaging.render(path)
    return info, {name: open_variant(data) for name, data in variants.items()}


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def save(image: Image.Image, path: Path, fmt: str, **params: object) -> Path:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return write(path, buffer.getvalue())


def png_with_header(width: int, height: int, idat: bytes, *, bit_depth: int = 1) -> bytes:
    """A greyscale PNG built by hand, so that it can declare any size."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data)
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def heic_encoder() -> None:
    """Skip a test that makes HEIC files where libheif cannot encode them; in CI, fail."""
    if not pillow_heif.libheif_info().get("encoders", {}).get("x265"):
        message = "this libheif build cannot encode HEIC (install libheif with x265)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def reference() -> dict[str, Image.Image]:
    return render(PHOTOS / "landscape_1.jpg")[1]


# -- orientation -----------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_back_upright(
    orientation: int, reference: dict[str, Image.Image]
) -> None:
    path = PHOTOS / f"landscape_{orientation}.jpg"
    with Image.open(path) as stored:  # make sure the sample is what it claims to be
        assert stored.getexif().get(ExifTags.Base.Orientation, 1) == orientation

    info, variants = render(path)
    assert (info.width, info.height) == (600, 450)
    assert variants["report"].size == (600, 450)  # smaller than 1600: not enlarged
    assert variants["thumb"].size == (320, 240)
    for name, image in variants.items():
        assert mean_difference(image, reference[name]) < SAME_PICTURE, name


def test_the_upright_check_would_catch_a_wrong_orientation(
    reference: dict[str, Image.Image],
) -> None:
    report = reference["report"]
    for wrong in (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180):
        assert mean_difference(report.transpose(wrong), report) > 3 * SAME_PICTURE


def test_portrait_photo_comes_back_portrait() -> None:
    path = PHOTOS / "portrait_6.jpg"
    with Image.open(path) as stored:
        assert stored.size == (600, 450)  # stored landscape, orientation 6
    info, variants = render(path)
    assert (info.width, info.height) == (450, 600)
    for image in variants.values():
        assert image.height > image.width
    assert variants["thumb"].size == (240, 320)


def with_orientation(data: bytes, orientation: int) -> bytes:
    """The same JPEG bytes with the EXIF orientation tag (IFD0 0x0112) set to
    ``orientation``: the pixels untouched, as a phone held upright would have stored them."""
    start = data.index(b"Exif\x00\x00") + 6
    order = "<" if data[start : start + 2] == b"II" else ">"
    ifd = start + struct.unpack(order + "I", data[start + 4 : start + 8])[0]
    (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    for n in range(count):
        entry = ifd + 2 + 12 * n
        if struct.unpack(order + "H", data[entry : entry + 2])[0] == 0x0112:
            value = struct.pack(order + "H", orientation)
            return data[: entry + 8] + value + data[entry + 10 :]
    raise AssertionError("no orientation tag")


@pytest.mark.parametrize(
    ("name", "orientation", "sizes"),
    [
        # (report, thumb, print) as before libjpeg-turbo's scaled decode: 8 MP at 4/8
        ("iphone_6.jpg", 1, ((1632, 1224), (320, 240), (260, 195))),
        ("iphone_6.jpg", 6, ((1224, 1632), (240, 320), (146, 195))),
        ("iphone_6.jpg", 8, ((1224, 1632), (240, 320), (146, 195))),
        ("iphone_6.jpg", 3, ((1632, 1224), (320, 240), (260, 195))),
        ("jolla.jpg", 6, ((1224, 1632), (240, 320), (146, 195))),
    ],
)
def test_real_phone_photos_come_back_upright_and_sized_as_before(
    tmp_path: Path, name: str, orientation: int, sizes: tuple
) -> None:
    original = (PHOTOS / name).read_bytes()
    path = write(tmp_path / name, with_orientation(original, orientation))
    before = imaging.read_info(PHOTOS / name)
    info, variants = render(path)
    assert [variants[v].size for v in ("report", "thumb", "print")] == list(sizes)
    assert (info.width, info.height) == ((2448, 3264) if orientation in (6, 8) else (3264, 2448))
    # Time and place are read as before (the tag patched is only the orientation).
    assert (info.taken_at, info.lat, info.lon) == (before.taken_at, before.lat, before.lon)
    # Upright: what Pillow makes of the file, fully decoded and turned by its EXIF.
    with Image.open(path) as stored:
        upright = ImageOps.exif_transpose(stored).convert("RGB")
    for variant, image in variants.items():
        expected = upright.resize(image.size, Image.Resampling.BOX)
        assert mean_difference(image, expected) < SAME_PICTURE, variant
        for wrong in (Image.Transpose.ROTATE_180, Image.Transpose.FLIP_LEFT_RIGHT):
            assert mean_difference(image.transpose(wrong), expected) > 2 * SAME_PICTURE


def test_real_heif_phone_photo_is_upright_and_sized_as_before() -> None:
    # nokia_8.3.heif: 3456x4608 portrait, decoded fully by libheif and shrunk by 3.
    info, variants = render(PHOTOS / "nokia_8.3.heif")
    assert (info.width, info.height, info.content_type) == (3456, 4608, imaging.HEIC)
    assert [variants[v].size for v in ("report", "thumb", "print")] == [
        (1152, 1536),
        (240, 320),
        (146, 195),
    ]
    with Image.open(PHOTOS / "nokia_8.3.heif") as stored:
        upright = stored.convert("RGB").resize((240, 320), Image.Resampling.BOX)
    assert mean_difference(variants["thumb"], upright) < SAME_PICTURE


# -- metadata ----------------------------------------------------------------------------


def test_dscn0010_time_and_gps() -> None:
    # Ground truth read once from the raw EXIF bytes of DSCN0010.jpg with a throwaway TIFF
    # parser (struct, not Pillow): DateTimeOriginal "2008:10:22 16:28:39", no OffsetTime*;
    # GPSLatitudeRef "N", GPSLatitude 43/1 28/1 281400000/100000000;
    # GPSLongitudeRef "E", GPSLongitude 11/1 53/1 645599999/100000000.
    lat = 43 + 28 / 60 + 2.814 / 3600  # 43.467448333...
    lon = 11 + 53 / 60 + 6.45599999 / 3600  # 11.885126666...
    info, _ = imaging.render(PHOTOS / "DSCN0010.jpg")
    assert info.content_type == "image/jpeg"
    assert (info.width, info.height) == (640, 480)
    assert info.lat == pytest.approx(lat, abs=1e-6)
    assert info.lon == pytest.approx(lon, abs=1e-6)
    # No offset in the file: read as Asia/Shanghai local time.
    assert info.taken_at == datetime(2008, 10, 22, 16, 28, 39, tzinfo=timezone(timedelta(hours=8)))
    assert info.taken_at is not None and info.taken_at.utcoffset() == timedelta(hours=8)
    assert imaging.read_info(PHOTOS / "DSCN0010.jpg") == info


def exif_jpeg(path: Path, exif: Image.Exif) -> Path:
    return save(Image.new("RGB", (64, 48), "red"), path, "JPEG", exif=exif)


def test_offset_subseconds_and_southern_western_gps(tmp_path: Path) -> None:
    rational = TiffImagePlugin.IFDRational
    exif = Image.Exif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = "2025:05:12 09:30:15"
    sub[ExifTags.Base.OffsetTimeOriginal] = "-05:00"
    sub[ExifTags.Base.SubsecTimeOriginal] = "25"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (rational(33, 1), rational(51, 1), rational(3156, 100))
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (rational(70, 1), rational(39, 1), rational(0, 1))

    info, _ = imaging.render(exif_jpeg(tmp_path / "a.jpg", exif))
    assert info.taken_at == datetime(
        2025, 5, 12, 9, 30, 15, 250_000, tzinfo=timezone(timedelta(hours=-5))
    )
    assert info.lat == pytest.approx(-(33 + 51 / 60 + 31.56 / 3600), abs=1e-6)
    assert info.lon == pytest.approx(-(70 + 39 / 60), abs=1e-6)


def test_digitized_time_is_a_fallback_and_unset_clocks_are_ignored(tmp_path: Path) -> None:
    exif = Image.Exif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = "0000:00:00 00:00:00"
    sub[ExifTags.Base.DateTimeDigitized] = "2024:12:31 23:59:59"
    info, _ = imaging.render(exif_jpeg(tmp_path / "a.jpg", exif))
    assert info.taken_at == datetime(2024, 12, 31, 15, 59, 59, tzinfo=UTC)

    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "    :  :     :  :  "
    exif[ExifTags.Base.DateTime] = "2024:01:01 10:00:00"  # edit time: deliberately not used
    info, _ = imaging.render(exif_jpeg(tmp_path / "b.jpg", exif))
    assert info.taken_at is None


@pytest.mark.parametrize(
    "stamp, offset",
    [
        ("0001:01:01 00:00:00", None),  # no UTC equivalent at +08:00
        ("9999:12:31 23:59:59", "-14:00"),  # nor this one
        ("1999:12:31 23:59:59", "+00:00"),  # before the window
        ("1970:01:01 08:00:00", None),  # a clock reset to the epoch
        ("2999:01:01 00:00:00", None),  # far in the future
    ],
)
def test_implausible_times_are_dropped_and_the_photo_kept(
    tmp_path: Path, stamp: str, offset: str | None
) -> None:
    exif = Image.Exif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = stamp
    if offset:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    info, variants = imaging.render(exif_jpeg(tmp_path / "a.jpg", exif))
    assert info.taken_at is None
    assert set(variants) == {"report", "thumb", "print"}


def test_the_window_of_plausible_times_is_inclusive_of_today(tmp_path: Path) -> None:
    now = datetime.now(imaging.SHANGHAI).replace(microsecond=0)
    for taken in (datetime(2000, 1, 1, 8, 0, 0), now.replace(tzinfo=None)):
        exif = Image.Exif()
        stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = stamp
        info, _ = imaging.render(exif_jpeg(tmp_path / "a.jpg", exif))
        assert info.taken_at == taken.replace(tzinfo=imaging.SHANGHAI)


def test_gps_without_a_fix_is_no_position(tmp_path: Path) -> None:
    rational = TiffImagePlugin.IFDRational
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (rational(0, 1), rational(0, 1), rational(0, 1))
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (rational(0, 1), rational(0, 1), rational(0, 1))
    info, _ = imaging.render(exif_jpeg(tmp_path / "a.jpg", exif))
    assert (info.lat, info.lon) == (None, None)
    # Canon_40D has a GPS IFD with only a version tag.
    info = imaging.read_info(PHOTOS / "Canon_40D.jpg")
    assert (info.lat, info.lon) == (None, None)
    assert info.taken_at == datetime(2008, 5, 30, 15, 56, 1, tzinfo=timezone(timedelta(hours=8)))


def test_variants_carry_no_exif_and_no_profile() -> None:
    _, variants = imaging.render(PHOTOS / "DSCN0010.jpg")
    for data in variants.values():
        with Image.open(io.BytesIO(data)) as im:
            assert len(im.getexif()) == 0  # in particular no GPS
            assert "icc_profile" not in im.info
    with Image.open(io.BytesIO(variants["report"])) as im:
        # Baseline on purpose: a progressive report took 5x as long to encode (imaging.py).
        assert "progressive" not in im.info and "progression" not in im.info
    # A photo tagged with a non-sRGB profile is converted, not just stripped.
    _, converted = imaging.render(PHOTOS / "landscape_2.jpg")
    with Image.open(io.BytesIO(converted["report"])) as im:
        assert "icc_profile" not in im.info


# -- sizes and draft mode ----------------------------------------------------------------


@pytest.fixture(scope="module")
def twelve_megapixels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with Image.open(PHOTOS / "jolla.jpg") as src:
        big = src.resize((4000, 3000), Image.Resampling.BILINEAR)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    return save(big, tmp_path_factory.mktemp("big") / "12mp.jpg", "JPEG", quality=90, exif=exif)


def test_twelve_megapixel_photo_is_decoded_at_three_eighths(
    twelve_megapixels: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded_shapes: list[tuple[int, ...]] = []
    original_decode = simplejpeg.decode_jpeg

    def spy(*args, **kwargs):
        pixels = original_decode(*args, **kwargs)
        decoded_shapes.append(pixels.shape)
        return pixels

    monkeypatch.setattr(simplejpeg, "decode_jpeg", spy)
    resized: list[tuple[int, int]] = []
    original_resize = Image.Image.resize
    monkeypatch.setattr(
        Image.Image,
        "resize",
        lambda im, *a, **k: resized.append(im.size) or original_resize(im, *a, **k),
    )
    info, variants = render(twelve_megapixels)
    # libjpeg-turbo at 3/8: 1500x1125 (4 bytes a pixel), about 1600 px, never 4000x3000
    assert decoded_shapes == [(1125, 1500, 4)]
    assert (info.width, info.height) == (3000, 4000)  # orientation 6: portrait
    assert variants["report"].size == (1125, 1500)  # upright, as decoded: no resize
    assert variants["thumb"].size == (240, 320)
    assert variants["print"].size == (146, 195)
    assert (1125, 1500) not in resized and (1500, 1125) not in resized


@pytest.mark.parametrize(
    ("size", "eighths", "side"),
    [
        ((4000, 3000), 3, 1500),  # kept as decoded
        ((4032, 3024), 3, 1512),  # the usual 12 MP phone photo
        ((3264, 2448), 4, 1632),  # 8 MP
        ((6000, 4500), 2, 1500),
        ((5472, 3648), 3, 2052),  # 2/8 would be 1368, too small: resized
        ((8000, 6000), 2, 2000),  # 3/8 is 3000: 2000, then resized to 1600
        ((4608, 3456), 3, 1728),  # 16 MP: resized (1728 is just over the range)
        ((1700, 1200), 8, 1700),
        ((1200, 900), 8, 1200),  # never enlarged
    ],
)
def test_turbo_scale_is_chosen_with_the_report_size(
    size: tuple[int, int], eighths: int, side: int
) -> None:
    assert imaging._jpeg_eighths(size) == eighths
    assert imaging._scaled(max(size), eighths) == side


@pytest.mark.parametrize(
    ("size", "factor"),
    [
        ((4000, 3000), 2),  # 2000 -> resized to 1600
        ((4032, 3024), 2),
        ((3264, 2448), 2),  # 1632: about 1600, kept
        ((6000, 4500), 4),  # 1500: kept; 1/2 would be 3000 and need resizing
        ((5472, 3648), 2),  # 1/4 would be 1368, too small
        ((8000, 6000), 4),  # 2000 -> 1600
        ((1700, 1200), 1),
        ((1200, 900), 1),  # never enlarged
    ],
)
def test_draft_scale_is_chosen_with_the_report_size(size: tuple[int, int], factor: int) -> None:
    assert imaging._reduction(size, (1, 2, 4, 8)) == factor


def test_extreme_panorama_is_scaled_like_any_photo(tmp_path: Path) -> None:
    path = save(Image.new("RGB", (12000, 6), "green"), tmp_path / "pano.jpg", "JPEG")
    info, variants = render(path)
    assert (info.width, info.height) == (12000, 6)
    assert 1400 <= variants["report"].width <= 1700  # "about 1600": 1500 at 1/8
    assert variants["thumb"].width == 320


def test_eight_megapixel_photo_needs_no_resampling(monkeypatch: pytest.MonkeyPatch) -> None:
    # jolla.jpg is 3264x2448: at 4/8 scale 1632x1224, which reads as about 1600 px.
    resized: list[tuple[int, int]] = []
    original_resize = Image.Image.resize

    def spy(self, size, *args, **kwargs):
        resized.append(self.size)
        return original_resize(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", spy)
    info, variants = render(PHOTOS / "jolla.jpg")
    assert (info.width, info.height) == (3264, 2448)
    assert variants["report"].size == (1632, 1224)
    assert variants["thumb"].size == (320, 240)
    assert variants["print"].size == (260, 195)
    # The report is never resampled; the thumb and the print copy come from one box average
    # of it by 5.
    assert resized == [(327, 245), (327, 245)]


def test_corrupted_sample_is_processed_without_hanging() -> None:
    # Decision: corrupted.jpg is accepted. libjpeg decodes it apart from the last rows
    # (filled grey) and Pillow reports no error; a damaged photo of a violation is better
    # than none and the original is kept as uploaded. It must not crash or hang.
    info, variants = render(PHOTOS / "corrupted.jpg")
    assert (info.width, info.height) == (3648, 2736)
    assert variants["report"].size == (1600, 1200)
    assert variants["thumb"].size == (320, 240)


# -- formats -------------------------------------------------------------------------------


def test_png_passes(tmp_path: Path, reference: dict[str, Image.Image]) -> None:
    with Image.open(PHOTOS / "landscape_1.jpg") as src:
        path = save(src, tmp_path / "photo.bin", "PNG")
    info, variants = render(path)
    assert info.content_type == "image/png"
    assert (info.width, info.height) == (600, 450)
    assert mean_difference(variants["report"], reference["report"]) < SAME_PICTURE


def test_other_modes_become_rgb_sensibly(tmp_path: Path) -> None:
    rgba = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    rgba.paste((200, 0, 0, 255), (25, 25, 75, 75))
    _, variants = render(save(rgba, tmp_path / "a.png", "PNG"))
    report = variants["report"]
    assert report.getpixel((2, 2)) == pytest.approx((255, 255, 255), abs=3)  # onto white
    assert report.getpixel((50, 50)) == pytest.approx((200, 0, 0), abs=6)

    palette = rgba.convert("P")
    palette.info["transparency"] = palette.getpixel((0, 0))
    _, variants = render(save(palette, tmp_path / "p.png", "PNG", transparency=0))
    assert variants["report"].getpixel((2, 2)) == pytest.approx((255, 255, 255), abs=3)

    grey_alpha = Image.merge("LA", (Image.new("L", (50, 50), 40), Image.new("L", (50, 50), 0)))
    _, variants = render(save(grey_alpha, tmp_path / "la.png", "PNG"))
    assert variants["report"].getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=3)

    cmyk = Image.new("CMYK", (80, 60), (0, 255, 255, 0))  # full magenta + yellow: red
    _, variants = render(save(cmyk, tmp_path / "cmyk.jpg", "JPEG", quality=95))
    assert variants["report"].mode == "RGB"
    red, green, blue = variants["report"].getpixel((40, 30))
    assert red > 200 and green < 60 and blue < 60

    grey16 = Image.linear_gradient("L").resize((64, 64)).convert("I").point(lambda v: v * 257)
    _, variants = render(save(grey16.convert("I;16"), tmp_path / "g.png", "PNG"))
    mean = ImageStat.Stat(variants["report"]).mean[0]
    assert 100 < mean < 155  # a gradient, not clipped to white


@pytest.mark.usefixtures("heic_encoder")
def test_heic_passes_and_comes_back_upright(tmp_path: Path) -> None:
    # An iPhone-like HEIC made from the phone-portrait sample: pixels stored landscape with
    # EXIF orientation 6, which pillow-heif writes as the container's rotation.
    with Image.open(PHOTOS / "portrait_6.jpg") as src:
        src.load()
        exif = src.getexif()
        path = save(src, tmp_path / "IMG_0001.jpg", "HEIF", exif=exif.tobytes(), quality=80)
    assert path.read_bytes()[4:12] == b"ftypheic"
    info, variants = render(path)
    assert info.content_type == "image/heic"
    assert (info.width, info.height) == (450, 600)
    assert variants["report"].size == (450, 600)
    assert variants["thumb"].size == (240, 320)
    upright_jpeg = render(PHOTOS / "portrait_6.jpg")[1]["report"]
    assert mean_difference(variants["report"], upright_jpeg) < SAME_PICTURE


@pytest.mark.usefixtures("heic_encoder")
def test_heic_is_shrunk_strip_by_strip_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scaled down so that a small file needs the factor 3: 600 px -> 200 px "report"; and
    # strips of 3 rows, so that the 451st row is a strip of its own.
    monkeypatch.setitem(imaging.VARIANT_LONG_SIDE, "report", 200)
    monkeypatch.setitem(imaging.VARIANT_LONG_SIDE, "thumb", 50)
    monkeypatch.setattr(imaging, "REPORT_KEEP_RANGE", (180, 220))
    monkeypatch.setattr(imaging, "_HEIC_STRIP_BYTES", 6000)
    with Image.open(PHOTOS / "landscape_1.jpg") as src:
        path = save(src.resize((600, 451)), tmp_path / "a.heic", "HEIF", quality=80)
    with open(path, "rb") as fp:
        reduced = imaging._decode_heic(fp)
    with Image.open(path) as whole:
        whole.load()
        expected = whole.reduce(3)
    assert reduced.size == (200, 151)
    assert ImageChops.difference(reduced, expected).getbbox() is None
    info, variants = render(path)
    assert (info.width, info.height) == (600, 451)
    assert variants["report"].size == (200, 151)


# -- rejections ------------------------------------------------------------------------------


def make_gif(path: Path) -> Path:
    return save(Image.new("P", (40, 30), 3), path, "GIF")


@pytest.mark.parametrize(
    "make",
    [
        lambda p: write(p, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"),
        lambda p: write(p, "检查记录：加油点无证经营\n".encode()),
        make_gif,
        lambda p: write(p, b""),
        lambda p: write(p, b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"),
    ],
    ids=["renamed-pdf", "text", "gif", "empty", "avif"],
)
def test_files_that_are_not_photos_are_rejected_by_content(tmp_path: Path, make) -> None:
    path = make(tmp_path / "photo.jpg")  # the name says JPEG; the content decides
    with pytest.raises(NotAnImage) as caught:
        imaging.render(path)
    assert caught.value.code == "unsupported_media_type"
    assert "JPEG" in caught.value.message and "照片" in caught.value.message


@pytest.mark.parametrize("source", ["jolla.jpg", "png", "heic"])
def test_truncated_files_are_rejected(
    tmp_path: Path, source: str, request: pytest.FixtureRequest
) -> None:
    if source == "heic":
        request.getfixturevalue("heic_encoder")
    if source == "jolla.jpg":
        data = (PHOTOS / "jolla.jpg").read_bytes()
    else:
        with Image.open(PHOTOS / "DSCN0010.jpg") as src:
            buffer = io.BytesIO()
            src.save(buffer, "PNG" if source == "png" else "HEIF")
        data = buffer.getvalue()
    path = write(tmp_path / "half", data[: len(data) // 2])
    with pytest.raises(NotAnImage) as caught:
        imaging.render(path)
    assert "损坏" in caught.value.message


def test_jpeg_header_followed_by_garbage_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "x.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)
    with pytest.raises(NotAnImage):
        imaging.render(path)


def test_decompression_bomb_is_rejected_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real bomb: 30000 x 30000 1-bit pixels (900 MP, ~900 MB once decoded by Pillow)
    # compressed into ~100 KB of zlib data.
    width = height = 30_000
    compressor = zlib.compressobj(9)
    rows = bytes(1 + width // 8) * 1000
    idat = b"".join(compressor.compress(rows) for _ in range(height // 1000))
    idat += compressor.flush()
    path = write(tmp_path / "bomb.png", png_with_header(width, height, idat))
    assert path.stat().st_size < 1_000_000

    # Refused on the header: not a pixel is decoded (time and memory: bench/photo_ingest.py).
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    monkeypatch.setattr(Image.Image, "verify", no_decoding)
    with pytest.raises(ImageTooLarge) as caught:
        imaging.render(path)
    assert (caught.value.width, caught.value.height) == (width, height)
    assert caught.value.code == "payload_too_large"
    assert "30000×30000" in caught.value.message


@pytest.mark.parametrize(
    "size",
    [(10_000, 6_000), (10_000, 10_000)],  # between our limit and Pillow's; Pillow would warn
)
def test_oversized_declared_images_are_rejected_without_pillow_warnings(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    # filterwarnings=error makes any DecompressionBombWarning fail this test.
    path = write(tmp_path / "big.png", png_with_header(*size, zlib.compress(b"")))
    with pytest.raises(ImageTooLarge):
        imaging.render(path)


@pytest.mark.parametrize(
    "content_type, size",
    [
        ("image/jpeg", (4000, 3000)),  # 12 MP phone photo
        ("image/jpeg", (8000, 6000)),  # 48 MP phone sensor, full resolution
        ("image/jpeg", (8660, 5773)),  # 50 MP camera: decoded at 1/4, 3 MP
        ("image/heic", (4032, 3024)),  # 12 MP iPhone
        ("image/heic", (6000, 4000)),  # 24 MP
        ("image/png", (5000, 5000)),  # 25 MP screenshot or scan
    ],
)
def test_limit_leaves_room_for_ordinary_photos(content_type: str, size: tuple[int, int]) -> None:
    imaging.check_pixels(content_type, *size)


@pytest.mark.parametrize(
    "content_type, size",
    [
        ("image/png", (7000, 7000)),  # the 190 KB PNG that cost 600 MB decoded
        ("image/heic", (7000, 7000)),  # decoded at full size like a PNG
        ("image/jpeg", (10_000, 6_000)),  # over what anyone photographs
    ],
)
def test_what_decoding_would_cost_too_much_is_refused(
    content_type: str, size: tuple[int, int]
) -> None:
    with pytest.raises(ImageTooLarge) as caught:
        imaging.check_pixels(content_type, *size)
    assert caught.value.code == "payload_too_large"
    assert f"{size[0]}×{size[1]}" in caught.value.message


def test_png_over_the_decoding_limit_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = png_with_header(7000, 7000, zlib.compress(bytes(7000 // 8 + 1) * 7000, 9))
    assert len(data) < 200_000
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda *a: pytest.fail("decoded a PNG over the limit")
    )
    with pytest.raises(ImageTooLarge) as caught:
        imaging.render(write(tmp_path / "big.png", data))
    assert caught.value.limit == imaging.MAX_DECODED_PIXELS
    assert "PNG" in caught.value.message


# -- sniffing and the store --------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe1....Exif", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", None),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", None),
        (b"GIF89a", None),
        (b"\xff\xd8", None),
        (b"", None),
    ],
)
def test_sniff(head: bytes, expected: str | None) -> None:
    assert imaging.sniff(head) == expected


def test_process_writes_both_variants_through_the_store(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    data = (PHOTOS / "portrait_6.jpg").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    store.receive(sha, io.BytesIO(data), max_bytes=10**7)
    info = imaging.process(store, sha)
    assert (info.width, info.height) == (450, 600)
    for variant, size in (("report", (450, 600)), ("thumb", (240, 320))):
        with Image.open(store.path(sha, variant)) as im:
            assert im.size == size

    bogus = write(tmp_path / "bogus", b"%PDF-1.7\n")
    bogus_sha = hashlib.sha256(bogus.read_bytes()).hexdigest()
    store.receive(bogus_sha, io.BytesIO(bogus.read_bytes()), max_bytes=10**7)
    with pytest.raises(NotAnImage):
        imaging.process(store, bogus_sha)
    assert not store.path(bogus_sha, "report").exists()
    store.remove(bogus_sha)  # what the route does on rejection
    assert store.held_bytes(bogus_sha) is None
