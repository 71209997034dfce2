"""Who may see a photo, and name it: knowing a photo's SHA-256 is no right to it.

Two inspectors of different districts (east, west) and a team lead of the east. A photo is
seen by its uploader, by anyone who uploaded the same bytes, by the office and by users in
whose districts a finding or an event names it; naming one in a finding or an event needs
that right already (or a photo not uploaded yet). Every answer with a photo's time and
place (PUT, HEAD, GET) follows the same rule.
"""

import hashlib
import http.client
import io
import json
import sqlite3
import uuid
import zlib
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import func, select

from inspect_app.extensions import db
from inspect_app.photos import imaging, services
from inspect_app.photos.models import Photo, PhotoHolder
from inspect_app.photos.storage import MediaStore
from tests.conftest import PHOTOS
from tests.helpers import assert_error
from tests.support.phone import Phone
from tests.support.server import Server
from tests.test_imaging import png_with_header

PHOTO = (PHOTOS / "DSCN0010.jpg").read_bytes()  # has GPS and a time
SHA = hashlib.sha256(PHOTO).hexdigest()


@pytest.fixture
def people(make_user, login):
    make_user("east", "inspector", ["东城区"])
    make_user("west", "inspector", ["西城区"])
    make_user("lead", "team_lead", ["东城区"])
    make_user("office", "office", [])
    return {name: login(name) for name in ("east", "west", "lead", "office")}


@pytest.fixture
def sites(make_site):
    return {
        "east": make_site("东城昆仑路加油站", "东城区"),
        "west": make_site("西城柴达木路加油站", "西城区"),
    }


def put_photo(client, headers, data=PHOTO, *, name=SHA, extra=None):
    return client.put(
        f"/api/v1/photos/{name}",
        data=data,
        headers={**headers, "Content-Type": "image/jpeg", **(extra or {})},
    )


def inspection(checklist, site, photos, *, final=False):
    code = checklist["plain"][0]
    return {
        "campaign": checklist["campaign"],
        "checklist_version": checklist["version"],
        "site_id": site,
        "started_at": "2025-05-12T09:30:00+08:00",
        "answers": [{"item_code": code, "result": "fail", "note": ""}],
        "findings": [
            {
                "id": str(uuid.uuid4()),
                "item_code": code,
                "description": "储油罐区未设置防火堤",
                "photos": photos,
            }
        ],
        "final": final,
    }


def put_inspection(client, headers, body):
    return client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=body, headers=headers)


def finding_of(client, headers, checklist, site):
    response = put_inspection(client, headers, inspection(checklist, site, [], final=True))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["findings"][0]["id"]


def can_get(client, headers, name=SHA) -> int:
    statuses = set()
    for variant in ("thumb", "original"):
        response = client.get(f"/api/v1/photos/{name}?variant={variant}", headers=headers)
        statuses.add(response.status_code)
        response.close()
    assert len(statuses) == 1, statuses
    return statuses.pop()


# -- item 4: a name with a trailing newline is no name -------------------------------------


def test_photo_name_with_a_trailing_newline_is_422_in_a_finding_and_an_event(
    client, people, sites, checklist
):
    for name in (SHA + "\n", SHA + "\r\n", " " + SHA, SHA.upper()):
        body = inspection(checklist, sites["east"], [name])
        error = assert_error(put_inspection(client, people["east"], body), 422, "validation_error")
        assert error["fields"] == {"findings[0].photos[0]": ["应为 64 位小写十六进制 SHA-256"]}
    finding = finding_of(client, people["east"], checklist, sites["east"])
    response = client.post(
        f"/api/v1/findings/{finding}/events",
        json={"action": "submit", "note": "已整改", "photos": [SHA + "\n"]},
        headers=people["east"],
    )
    error = assert_error(response, 422, "validation_error")
    assert error["fields"] == {"photos[0]": ["应为 64 位小写十六进制 SHA-256"]}


# -- item 5 (a): a replayed PUT proves the bytes, or gets nothing -----------------------------


def test_replay_without_the_bytes_is_400_and_tells_nothing(client, people):
    assert put_photo(client, people["east"]).status_code == 201
    for body in (b"", PHOTO[:-1], PHOTO[:1000] + bytes(len(PHOTO) - 1000)):
        response = put_photo(client, people["west"], body)
        error = assert_error(response, 400, "bad_request")
        assert "lat" not in response.get_json() and "SHA-256" in error["message"]
    assert can_get(client, people["west"]) == 404
    head = client.head(f"/api/v1/photos/{SHA}", headers=people["west"])
    assert head.status_code == 404 and "Upload-Offset" not in head.headers


def test_resuming_the_last_byte_of_someone_elses_photo_proves_nothing(client, people):
    assert put_photo(client, people["east"]).status_code == 201
    last = len(PHOTO) - 1
    response = put_photo(
        client,
        people["west"],
        PHOTO[last:],  # b"\xd9": every JPEG ends so
        extra={"Content-Range": f"bytes {last}-{last}/{len(PHOTO)}"},
    )
    assert_error(response, 409, "conflict")
    assert response.headers["Upload-Offset"] == "0"
    assert can_get(client, people["west"]) == 404
    # The uploader's own phone resuming after a lost answer gets its photo back.
    again = put_photo(
        client,
        people["east"],
        PHOTO[last:],
        extra={"Content-Range": f"bytes {last}-{last}/{len(PHOTO)}"},
    )
    assert again.status_code == 200 and again.get_json()["sha256"] == SHA


def test_uploading_the_same_bytes_proves_possession(app, client, people):
    assert put_photo(client, people["east"]).status_code == 201
    response = put_photo(client, people["west"])
    assert response.status_code == 200
    assert response.get_json()["lat"] is not None
    assert can_get(client, people["west"]) == 200
    head = client.head(f"/api/v1/photos/{SHA}", headers=people["west"])
    assert head.headers["Upload-Complete"] == "?1"
    assert head.headers["Upload-Offset"] == str(len(PHOTO))
    with app.app_context():
        holders = db.session.scalars(select(PhotoHolder.user_id).where(PhotoHolder.sha256 == SHA))
        assert len(list(holders)) == 2
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 1


# -- item 5 (b, c): naming a photo needs a right to it ---------------------------------------


def test_naming_someone_elses_photo_in_a_draft_is_422_and_grants_nothing(
    app, client, people, sites, checklist
):
    assert put_photo(client, people["east"]).status_code == 201
    body = inspection(checklist, sites["west"], [SHA])
    error = assert_error(put_inspection(client, people["west"], body), 422, "validation_error")
    assert error["fields"] == {"findings[0].photos": ["照片不存在或无权使用；请先上传照片"]}
    assert can_get(client, people["west"]) == 404
    # A phone that really has the photo uploads it, and then may name it.
    assert put_photo(client, people["west"]).status_code == 200
    response = put_inspection(client, people["west"], body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["missing_photos"] == []


def test_naming_someone_elses_photo_in_an_event_is_422(client, people, sites, checklist):
    assert put_photo(client, people["east"]).status_code == 201
    finding = finding_of(client, people["west"], checklist, sites["west"])
    response = client.post(
        f"/api/v1/findings/{finding}/events",
        json={"action": "submit", "note": "已整改", "photos": [SHA]},
        headers=people["west"],
    )
    error = assert_error(response, 422, "validation_error")
    assert error["fields"] == {"photos": ["照片不存在或无权使用；请先上传照片"]}
    assert can_get(client, people["west"]) == 404
    detail = client.get(f"/api/v1/findings/{finding}", headers=people["west"]).get_json()
    assert detail["status"] == "open"


def test_a_photo_not_uploaded_yet_may_be_named_and_comes_later(client, people, sites, checklist):
    body = inspection(checklist, sites["west"], [SHA], final=True)
    response = put_inspection(client, people["west"], body)
    assert response.status_code == 201
    assert response.get_json()["missing_photos"] == [SHA]
    assert put_photo(client, people["west"]).status_code == 201


def test_who_sees_a_photo_named_in_a_finding(client, people, sites, checklist):
    assert put_photo(client, people["east"]).status_code == 201
    assert can_get(client, people["lead"]) == 404  # uploaded, not yet in any record
    body = inspection(checklist, sites["east"], [SHA], final=True)
    assert put_inspection(client, people["east"], body).status_code == 201
    assert can_get(client, people["lead"]) == 200  # the east's finding names it
    assert can_get(client, people["office"]) == 200
    assert can_get(client, people["west"]) == 404
    # The team lead may name it in an event of the east, having a right to it.
    finding = finding_of(client, people["lead"], checklist, sites["east"])
    response = client.post(
        f"/api/v1/findings/{finding}/events",
        json={"action": "submit", "note": "已整改", "photos": [SHA]},
        headers=people["lead"],
    )
    assert response.status_code == 200, response.get_json()


# -- item 3: implausible EXIF times, and a store that agrees with the database ------------------


def jpeg_with_exif_time(stamp: str) -> bytes:
    with Image.open(PHOTOS / "DSCN0010.jpg") as src:
        exif = src.getexif()
        exif.get_ifd(0x8769)[0x9003] = stamp  # DateTimeOriginal
        exif.get_ifd(0x8769)[0x9004] = stamp  # DateTimeDigitized
        buffer = io.BytesIO()
        src.save(buffer, "JPEG", exif=exif.tobytes(), quality=70)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "stamp", ["0001:01:01 00:00:00", "9999:12:31 23:59:59", "1970:01:01 00:00:00"]
)
def test_photo_with_an_implausible_exif_time_is_kept_without_it(client, people, stamp):
    data = jpeg_with_exif_time(stamp)
    name = hashlib.sha256(data).hexdigest()
    response = put_photo(client, people["east"], data, name=name)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["taken_at"] is None
    assert response.get_json()["lat"] is not None  # the rest of the EXIF is kept
    assert can_get(client, people["east"], name) == 200
    head = client.head(f"/api/v1/photos/{name}", headers=people["east"])
    assert head.headers["Upload-Complete"] == "?1"


def test_failure_after_the_original_is_stored_leaves_no_original(
    app, client, people, media_dir, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug after the original was installed")

    monkeypatch.setattr(services, "_insert", broken)
    assert_error(put_photo(client, people["east"]), 500, "internal_error")
    assert not MediaStore(media_dir).has_original(SHA)
    assert client.head(f"/api/v1/photos/{SHA}", headers=people["east"]).status_code == 404
    monkeypatch.undo()
    assert put_photo(client, people["east"]).status_code == 201
    assert can_get(client, people["east"]) == 200


def test_original_without_its_row_is_not_complete_and_the_next_put_records_it(
    app, client, people, media_dir
):
    # What a crash between installing the original and the commit leaves.
    MediaStore(media_dir).receive(SHA, io.BytesIO(PHOTO), max_bytes=len(PHOTO))
    head = client.head(f"/api/v1/photos/{SHA}", headers=people["east"])
    assert head.status_code == 404  # not "complete": the phone sends it again
    response = put_photo(client, people["east"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["taken_at"].startswith("2008-10-22")
    assert can_get(client, people["east"]) == 200
    head = client.head(f"/api/v1/photos/{SHA}", headers=people["east"])
    assert head.headers["Upload-Complete"] == "?1"


# -- item 13: decoded pixels are capped by what decoding costs ---------------------------------


def test_png_of_49_megapixels_is_413_and_leaves_nothing(client, people, media_dir):
    data = png_with_header(7000, 7000, zlib.compress(bytes(7000 // 8 + 1) * 7000, 9))
    assert len(data) < 200_000
    name = hashlib.sha256(data).hexdigest()
    response = put_photo(client, people["east"], data, name=name)
    error = assert_error(response, 413, "payload_too_large")
    assert "7000×7000" in error["message"]
    assert [p for p in media_dir.rglob("*") if p.is_file() and name in p.name] == []


# -- item 5: a replay keeps the phone's connection usable ------------------------------------


def test_replays_on_one_kept_alive_connection_all_get_answers(
    database_url, media_dir, tmp_path, make_user
):
    make_user("east", "inspector", ["东城区"])
    data = (PHOTOS / "jolla.jpg").read_bytes()  # larger than the socket buffers
    name = hashlib.sha256(data).hexdigest()
    with Server(database_url, media_dir, tmp_path / "instance", workers=1) as server:
        phone = Phone(server.base)
        phone.login("east", "password123")
        assert phone.upload_photo(name, data) == 201
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        auth = {"Authorization": f"Bearer {phone.token}", "Content-Type": "image/jpeg"}
        try:
            for body, expected in [(data, 200), (b"", 400), (data[:-1], 400)] * 5:
                connection.request("PUT", f"/api/v1/photos/{name}", body=body, headers=auth)
                response = connection.getresponse()
                answer = json.loads(response.read())
                assert response.status == expected, answer
                assert (answer.get("sha256") == name) is (expected == 200)
                # The next request on the same connection finds it open.
                connection.request("GET", "/api/v1/health")
                health = connection.getresponse()
                health.read()
                assert health.status == 200
        finally:
            connection.close()


# -- item 1: no write lock while a photo is decoded ---------------------------------------------


# SQLite alone: PostgreSQL has row locks, SQLite's write lock is one for the whole file.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_photo_is_processed_before_the_write_lock_is_taken(app, make_user, media_dir, monkeypatch):
    """On SQLite the first statement of a writing request takes the write lock; another
    user's write must get through while this photo is decoded and resized."""
    user = SimpleNamespace(id=make_user("east", "inspector", ["东城区"]), role="inspector")
    other_writes = []
    real_process = imaging.process

    def process_while_someone_writes(store, sha256):
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if the lock is held
            other.execute("UPDATE users SET display_name = display_name WHERE id = ?", (user.id,))
            other.execute("COMMIT")
            other_writes.append("written")
        finally:
            other.close()
        return real_process(store, sha256)

    monkeypatch.setattr(imaging, "process", process_while_someone_writes)
    store = MediaStore(media_dir)
    received = store.receive(SHA, io.BytesIO(PHOTO), max_bytes=len(PHOTO))
    with app.test_request_context(f"/api/v1/photos/{SHA}", method="PUT"):
        photo, created = services.record_photo(store, received, user, whole=True)
        assert created and photo.sha256 == SHA
        db.session.commit()
    assert other_writes == ["written"]
