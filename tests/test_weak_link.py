"""A week of offline work synced over a link that cuts requests and answers part-way.

50 inspections and 200 photos from one phone, through a proxy that breaks every
distinct request once (half the body sent, or the answer cut after the server did
the work). Everything arrives, each record once, and broken photo uploads resume
from the byte the server holds instead of starting over.
"""

import hashlib
import io
import uuid

from PIL import Image, ImageDraw
from sqlalchemy import create_engine, func, select

from inspect_app.findings.models import Finding, FindingPhoto
from inspect_app.inspections.models import Inspection
from inspect_app.photos.models import Photo
from tests.conftest import PHOTOS
from tests.support.flaky import FlakyProxy
from tests.support.phone import Phone
from tests.support.server import Server

INSPECTIONS = 50
PHOTOS_PER_INSPECTION = 4


def week_of_photos(count: int) -> dict[str, bytes]:
    """Distinct real-looking JPEGs: a real photo, stamped with its number."""
    base = Image.open(PHOTOS / "jolla.jpg").convert("RGB")
    base.thumbnail((800, 800))
    photos = {}
    for n in range(count):
        image = base.copy()
        ImageDraw.Draw(image).text((10 + n % 50, 10 + n // 50 * 12), f"#{n}", fill=(255, 255, 0))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        data = buffer.getvalue()
        photos[hashlib.sha256(data).hexdigest()] = data
    return photos


def test_a_week_of_offline_work_syncs_completely_once(
    database_url, media_dir, tmp_path, make_user, make_site, checklist
):
    make_user("week", "inspector", ["东城区"])
    sites = [make_site(name=f"国道沿线加油点{i}") for i in range(10)]
    photos = week_of_photos(INSPECTIONS * PHOTOS_PER_INSPECTION)
    shas = list(photos)
    plain = checklist["plain"]
    inspections = []
    for n in range(INSPECTIONS):
        mine = shas[n * PHOTOS_PER_INSPECTION : (n + 1) * PHOTOS_PER_INSPECTION]
        inspections.append(
            (
                str(uuid.uuid4()),
                {
                    "campaign": checklist["campaign"],
                    "checklist_version": checklist["version"],
                    "site_id": sites[n % len(sites)],
                    "started_at": f"2025-05-{12 + n // 10:02d}T{8 + n % 10:02d}:00:00+08:00",
                    "answers": [
                        {"item_code": plain[0], "result": "fail"},
                        {"item_code": plain[1], "result": "fail"},
                    ],
                    "findings": [
                        {
                            "id": str(uuid.uuid4()),
                            "item_code": plain[k],
                            "description": f"第{n}次检查问题{k}",
                            "photos": mine[2 * k : 2 * k + 2],
                        }
                        for k in range(2)
                    ],
                    "final": True,
                },
            )
        )

    with (
        Server(database_url, media_dir, tmp_path / "instance") as server,
        FlakyProxy(server.port) as proxy,
    ):
        phone = Phone(f"http://127.0.0.1:{proxy.port}", attempts=10)
        phone.login("week", "password123")
        for key, body in inspections:
            phone.put_inspection(key, body)
        for sha, data in photos.items():
            phone.upload_photo(sha, data)
        final = [phone.put_inspection(key, body) for key, body in inspections]
    assert all(r["status"] == "complete" for r in final)
    assert proxy.cuts["request"] > 100 and proxy.cuts["response"] > 100
    # A cut-off photo body is kept and resumed, not sent again from byte 0.
    assert phone.resumed_uploads >= 50

    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = lambda model: connection.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Inspection) == INSPECTIONS
        assert count(Finding) == 2 * INSPECTIONS
        assert count(FindingPhoto) == len(photos)
        assert count(Photo) == len(photos)
    engine.dispose()
    originals = {p.name: p for p in (media_dir / "originals").rglob("*") if p.is_file()}
    assert set(originals) == set(photos)
    assert all(hashlib.sha256(p.read_bytes()).hexdigest() == name for name, p in originals.items())
