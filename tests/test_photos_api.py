"""PUT/HEAD/GET /photos/{sha256} over the test client, with real camera and phone photos."""

import hashlib
import io

import pytest
from PIL import Image

from tests.conftest import PHOTOS
from tests.helpers import assert_error


@pytest.fixture
def east(make_user, login):
    make_user("east", "inspector", ["东城区"])
    return login("east")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def put(client, headers, data, *, name=None, content_type="image/jpeg", extra=None):
    return client.put(
        f"/api/v1/photos/{name or sha(data)}",
        data=data,
        headers={**headers, "Content-Type": content_type, **(extra or {})},
    )


def test_upload_reads_time_and_gps_and_makes_variants(client, east):
    data = (PHOTOS / "DSCN0010.jpg").read_bytes()
    response = put(client, east, data)
    assert response.status_code == 201, response.get_json()
    photo = response.get_json()
    assert photo["sha256"] == sha(data)
    assert photo["lat"] == pytest.approx(43.4674, abs=1e-3)
    assert photo["lon"] == pytest.approx(11.8851, abs=1e-3)
    assert photo["taken_at"].startswith("2008-10-22")
    thumb = client.get(photo["thumbnail_url"], headers=east)
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 400
    report = client.get(photo["url"], headers=east)
    assert max(Image.open(io.BytesIO(report.data)).size) <= 1600
    original = client.get(photo["original_url"], headers=east)
    assert original.data == data
    for r in (thumb, report, original):
        r.close()


def test_portrait_photo_comes_back_upright(client, east):
    data = (PHOTOS / "portrait_6.jpg").read_bytes()
    photo = put(client, east, data).get_json()
    assert photo["height"] > photo["width"]
    for url in (photo["url"], photo["thumbnail_url"]):
        response = client.get(url, headers=east)
        width, height = Image.open(io.BytesIO(response.data)).size
        response.close()
        assert height > width


def test_second_upload_is_200_and_idempotent(client, east, media_dir):
    data = (PHOTOS / "Canon_40D.jpg").read_bytes()
    assert put(client, east, data).status_code == 201
    before = files_under(media_dir)
    again = put(client, east, data)
    assert again.status_code == 200
    assert files_under(media_dir) == before


def test_hash_mismatch_is_400_and_leaves_nothing(client, east, media_dir):
    data = (PHOTOS / "Canon_40D.jpg").read_bytes()
    response = put(client, east, data, name="0" * 64)
    assert_error(response, 400, "bad_request")
    assert [f for f in files_under(media_dir) if f.startswith("originals/")] == []


@pytest.mark.parametrize(
    "payload, content_type",
    [
        (b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "image/jpeg"),  # renamed PDF
        (b"GIF89a" + b"\x00" * 64, "image/jpeg"),
        (b"just some text pretending to be a photo", "image/png"),
    ],
)
def test_not_an_image_is_415_by_content(client, east, media_dir, payload, content_type):
    response = put(client, east, payload, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert [
        f for f in files_under(media_dir) if f.startswith(("originals/", "report/", "thumb/"))
    ] == []


def test_truncated_jpeg_is_rejected(client, east, media_dir):
    data = (PHOTOS / "jolla.jpg").read_bytes()
    half = data[: len(data) // 2]
    response = put(client, east, half)
    assert response.status_code == 415
    assert [f for f in files_under(media_dir) if f.startswith("originals/")] == []


def test_wrong_content_type_header_is_415(client, east):
    data = (PHOTOS / "Canon_40D.jpg").read_bytes()
    assert_error(
        put(client, east, data, content_type="application/pdf"), 415, "unsupported_media_type"
    )


def test_too_large_is_413(app, client, east):
    app.config["MAX_PHOTO_BYTES"] = 1000
    data = (PHOTOS / "Canon_40D.jpg").read_bytes()
    assert_error(put(client, east, data), 413, "payload_too_large")


def test_bad_hash_in_path_is_400(client, east):
    assert_error(put(client, east, b"x", name="ABC"), 400, "bad_request")


def test_resumable_upload_continues_from_the_held_byte(client, east):
    data = (PHOTOS / "jolla.jpg").read_bytes()
    name = sha(data)
    head = client.head(f"/api/v1/photos/{name}", headers=east)
    assert head.status_code == 404
    cut = len(data) // 3
    first = put(
        client,
        east,
        data[:cut],
        name=name,
        extra={"Content-Range": f"bytes 0-{cut - 1}/{len(data)}"},
    )
    # a part sent on purpose is no error: kept, and the answer says where to go on
    assert first.status_code == 204 and first.data == b""
    assert first.headers["Upload-Offset"] == str(cut)
    assert first.headers["Upload-Complete"] == "?0"
    head = client.head(f"/api/v1/photos/{name}", headers=east)
    assert head.status_code == 200
    held = int(head.headers["Upload-Offset"])
    assert held == cut and head.headers["Upload-Complete"] == "?0"
    wrong = put(
        client,
        east,
        data[held + 5 :],
        name=name,
        extra={"Content-Range": f"bytes {held + 5}-{len(data) - 1}/{len(data)}"},
    )
    assert_error(wrong, 409, "conflict")
    assert wrong.headers["Upload-Offset"] == str(held)
    rest = put(
        client,
        east,
        data[held:],
        name=name,
        extra={"Content-Range": f"bytes {held}-{len(data) - 1}/{len(data)}"},
    )
    assert rest.status_code == 201, rest.get_json()
    head = client.head(f"/api/v1/photos/{name}", headers=east)
    assert head.headers["Upload-Complete"] == "?1"
    original = client.get(f"/api/v1/photos/{name}?variant=original", headers=east)
    assert original.data == data
    original.close()


def test_photos_of_other_districts_are_404(client, east, make_user, login):
    data = (PHOTOS / "Canon_40D.jpg").read_bytes()
    put(client, east, data)
    make_user("west", "inspector", ["西城区"])
    response = client.get(f"/api/v1/photos/{sha(data)}?variant=thumb", headers=login("west"))
    assert_error(response, 404, "not_found")


def test_spec_documents_the_partial_upload_answer(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    put_photo = spec["paths"]["/api/v1/photos/{sha256}"]["put"]
    partial = put_photo["responses"]["204"]
    assert {"Upload-Offset", "Upload-Complete"} <= set(partial["headers"])
    assert "incomplete_upload" not in client.get("/api/v1/openapi.json").get_data(as_text=True)
