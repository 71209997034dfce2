"""Photos in PDFs are embedded from their print variant as they are, never made again.

The photo store makes the ``print`` variant (fitted into the printed box at 200 dpi) when
a photo arrives; a PDF copies its JPEG bytes into a ``/DCTDecode`` stream. A photo stored
before print variants existed still prints: its copy is made from the report variant the
first time, and stored, so that it is made once.
"""

import hashlib
import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

import reports.photos
from inspect_app.photos import imaging
from inspect_app.photos.storage import MediaStore
from reports import pdfcheck, render_site_problem_list, samples
from reports.data import PhotoRef
from tests.conftest import PHOTOS
from tests.test_documents import east, record, save, upload  # noqa: F401 - fixtures

REAL = ["iphone_6.jpg", "portrait_6.jpg", "jolla.jpg"]


def stored(store: MediaStore, name: str) -> str:
    data = (PHOTOS / name).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    store.receive(sha, io.BytesIO(data), max_bytes=len(data))
    imaging.process(store, sha)
    return sha


def site_list_with(photos: list[PhotoRef], out: Path) -> Path:
    data = samples.site_problem_list([], findings=1)
    rows = [replace(data.findings[0], photos=photos)]
    render_site_problem_list(replace(data, findings=rows), out)
    pdfcheck.qpdf_check(out)
    return out


def test_the_print_variant_is_the_size_the_pdfs_print() -> None:
    assert imaging.PRINT_BOX == reports.photos.print_pixels()
    assert imaging.PRINT_QUALITY == reports.photos.JPEG_QUALITY


def test_print_variants_of_real_photos_are_embedded_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MediaStore(tmp_path / "media")
    shas = [stored(store, name) for name in REAL]
    made: list[Path] = []
    monkeypatch.setattr(
        reports.photos, "_write_copy", lambda source, *a: made.append(source) or None
    )
    photos = [PhotoRef(path=store.path(s, "print"), source=store.path(s, "report")) for s in shas]
    pdf = site_list_with(photos, tmp_path / "out.pdf")
    assert made == []  # nothing decoded or encoded at render time
    images = pdfcheck.images(pdf)
    assert [(i.width, i.height, i.encoding) for i in images] == [
        (260, 195, "jpeg"),  # iphone_6: 3264x2448 landscape
        (146, 195, "jpeg"),  # portrait_6: orientation 6, upright and fitted by height
        (260, 195, "jpeg"),  # jolla
    ]
    streams = pdfcheck.jpeg_streams(pdf, tmp_path)
    assert streams == [store.path(s, "print").read_bytes() for s in shas]


def test_photo_stored_before_print_variants_prints_and_keeps_its_copy(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    sha = stored(store, "portrait_6.jpg")
    printed = store.path(sha, "print")
    printed.unlink()  # as uploaded before this variant existed
    photo = PhotoRef(path=printed, source=store.path(sha, "report"))

    pdf = site_list_with([photo], tmp_path / "first.pdf")
    assert printed.is_file(), "the copy is stored as the photo's print variant"
    with Image.open(printed) as image:
        assert image.size == (146, 195)  # upright: the report variant is
    (image_info,) = pdfcheck.images(pdf)
    assert (image_info.width, image_info.height, image_info.encoding) == (146, 195, "jpeg")
    (first,) = pdfcheck.jpeg_streams(pdf, tmp_path)
    assert first == printed.read_bytes()

    made_at = printed.stat().st_mtime_ns
    with reports.photos.PhotoCache([photo]) as cache:
        cache.get(photo)
        assert cache.copied == 0
    site_list_with([photo], tmp_path / "second.pdf")
    assert printed.stat().st_mtime_ns == made_at, "made once, not at every render"
    assert not list(printed.parent.glob("*.tmp"))


def test_old_photo_without_a_writable_store_still_prints(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    sha = stored(store, "jolla.jpg")
    # A print path whose folder cannot be made (a file stands where it would be).
    blocked = tmp_path / "blocked"
    blocked.write_bytes(b"")
    photo = PhotoRef(path=blocked / "x.jpg", source=store.path(sha, "report"))
    pdf = site_list_with([photo], tmp_path / "out.pdf")
    assert [(i.width, i.height) for i in pdfcheck.images(pdf)] == [(260, 195)]


def test_any_other_image_is_still_copied_down(tmp_path: Path) -> None:
    # Callers outside the app may hand over a large photo: it is copied at the print size.
    pdf = site_list_with([PhotoRef(path=PHOTOS / "landscape_6.jpg")], tmp_path / "out.pdf")
    (image,) = pdfcheck.images(pdf)
    assert max(image.width, image.height) <= 260 and image.height <= 195


def test_old_photo_prints_through_the_api(
    client,
    east,  # noqa: F811
    checklist,
    make_site,
    media_dir,
    tmp_path,
):
    site = make_site(name="格尔木昆仑路加油站")
    sha = upload(client, east, "iphone_6.jpg")
    store = MediaStore(media_dir)
    printed = store.path(sha, "print")
    assert printed.is_file(), "made at upload"
    made_at_upload = printed.read_bytes()
    printed.unlink()
    record(client, east, checklist, site, ["油罐区未设置静电接地装置"], sha)
    url = f"/api/v1/sites/{site}/problem-list.pdf?campaign={checklist['campaign']}"
    response = client.get(url, headers=east)
    assert response.status_code == 200
    pdf = save(response, tmp_path)
    assert [(i.width, i.height, i.encoding) for i in pdfcheck.images(pdf)] == [(260, 195, "jpeg")]
    assert printed.is_file()
    (stream,) = pdfcheck.jpeg_streams(pdf, tmp_path)
    assert stream == printed.read_bytes()
    with Image.open(io.BytesIO(made_at_upload)) as a, Image.open(printed) as b:
        assert a.size == b.size


def test_a_small_jpeg_is_embedded_as_it_is_only_when_upright(tmp_path: Path) -> None:
    with Image.open(PHOTOS / "landscape_1.jpg") as src:
        small = src.convert("RGB").resize((200, 150))
    plain = tmp_path / "plain.jpg"
    small.save(plain, "JPEG", quality=80)
    turned = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: must be turned, so copied
    small.save(turned, "JPEG", quality=80, exif=exif.tobytes())
    pdf = site_list_with([PhotoRef(path=plain), PhotoRef(path=turned)], tmp_path / "out.pdf")
    assert [(i.width, i.height) for i in pdfcheck.images(pdf)] == [(200, 150), (146, 195)]
    first, _second = pdfcheck.jpeg_streams(pdf, tmp_path)
    assert first == plain.read_bytes()
