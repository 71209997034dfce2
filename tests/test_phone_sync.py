"""A scripted phone syncs a day of offline work through a link that drops every request once.

Real gunicorn, real sockets, a proxy that cuts each distinct request once (half the
time before the server has the whole request, half the time after it answered):
every inspection, finding and photo must be stored exactly once.
"""

import hashlib
import uuid

from sqlalchemy import create_engine, func, select

from inspect_app.findings.models import Finding, FindingPhoto
from inspect_app.inspections.models import Inspection
from inspect_app.photos.models import Photo
from tests.conftest import PHOTOS
from tests.support.flaky import FlakyProxy
from tests.support.phone import Phone
from tests.support.server import Server

PHOTO_FILES = [
    "DSCN0010.jpg",
    "DSCN0021.jpg",
    "portrait_6.jpg",
    "jolla.jpg",
    "landscape_3.jpg",
    "Canon_40D.jpg",
]


def offline_day(checklist, site_ids):
    """Three inspections recorded without signal: answers, findings and their photos."""
    photos = {}
    for name in PHOTO_FILES:
        data = (PHOTOS / name).read_bytes()
        photos[hashlib.sha256(data).hexdigest()] = data
    shas = list(photos)
    plain = checklist["plain"]
    inspections = []
    for n, site_id in enumerate(site_ids):
        findings = [
            {
                "id": str(uuid.uuid4()),
                "item_code": plain[k],
                "description": f"第{n + 1}次检查发现的问题{k + 1}：现场未见安全警示标志",
                "severity": "general",
                "requirement": "限期设置警示标志",
                "photos": shas[2 * n : 2 * n + 2] if k == 0 else [shas[(2 * n + 2) % len(shas)]],
            }
            for k in range(2)
        ]
        inspections.append(
            (
                str(uuid.uuid4()),
                {
                    "campaign": checklist["campaign"],
                    "checklist_version": checklist["version"],
                    "site_id": site_id,
                    "started_at": f"2025-05-1{n + 2}T09:30:00+08:00",
                    "finished_at": f"2025-05-1{n + 2}T10:15:00+08:00",
                    "location": {"lat": 36.41, "lon": 94.93},
                    "answers": [
                        {"item_code": plain[0], "result": "fail", "note": ""},
                        {"item_code": plain[1], "result": "fail", "note": ""},
                        {"item_code": plain[2], "result": "pass", "note": ""},
                    ],
                    "findings": findings,
                    "final": True,
                },
            )
        )
    return inspections, photos


def test_three_offline_inspections_sync_exactly_once_through_a_dropping_link(
    database_url, media_dir, tmp_path, make_user, make_site, checklist
):
    make_user("plateau", "inspector", ["东城区"])
    sites = [make_site(name=f"昆仑路加油站{i}") for i in range(3)]
    inspections, photos = offline_day(checklist, sites)

    with Server(database_url, media_dir, tmp_path / "instance") as server:
        with FlakyProxy(server.port) as proxy:
            phone = Phone(f"http://127.0.0.1:{proxy.port}")
            phone.login("plateau", "password123")
            # Inspections first, as the app does when the signal returns; photos after.
            answers = [phone.put_inspection(key, body) for key, body in inspections]
            assert all(a["status"] == "awaiting_photos" for a in answers)
            for sha, data in photos.items():
                assert phone.upload_photo(sha, data) in (200, 201)
            final = [phone.put_inspection(key, body) for key, body in inspections]
            assert [a["status"] for a in final] == ["complete"] * 3
            assert all(a["missing_photos"] == [] for a in final)
            # The link really did drop: both kinds of cut happened, and were retried.
            assert proxy.cuts["request"] > 0 and proxy.cuts["response"] > 0
            assert phone.network_failures >= len(inspections)

    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = lambda model: connection.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Inspection) == 3
        assert count(Finding) == 6
        assert count(FindingPhoto) == 9
        assert count(Photo) == len(photos)
    engine.dispose()
    originals = [p for p in (media_dir / "originals").rglob("*") if p.is_file()]
    assert sorted(p.name for p in originals) == sorted(photos)
    for path in originals:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
    assert not [p for p in (media_dir / "partial").glob("*") if not p.name.endswith(".lock")]
