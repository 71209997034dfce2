"""Bad input, one table: each request is refused with its 4xx in the contract's body and
leaves the database (row counts of every table) and the media folder as they were."""

import hashlib
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from inspect_app.extensions import db
from tests.conftest import PHOTOS
from tests.helpers import assert_error

MEGABYTE_TEXT = "问" * (2**20 // 3)  # 1 MiB in UTF-8
INSPECTION = "/api/v1/inspections/4b0c8a9e-2f3d-4d8e-9a51-6f1e0b7c2d10"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png_bomb(side: int = 20_000) -> bytes:
    """A 1-bit PNG of side × side white pixels: a few kB on the wire, 400 MP decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def inspection(ctx, **overrides) -> dict:
    plain = ctx["checklist"]["plain"]
    data = {
        "campaign": ctx["checklist"]["campaign"],
        "checklist_version": ctx["checklist"]["version"],
        "site_id": ctx["site"],
        "started_at": "2025-05-12T09:30:00+08:00",
        "finished_at": "2025-05-12T10:05:00+08:00",
        "location": {"lat": 36.4167, "lon": 94.9033},
        "answers": [
            {"item_code": plain[0], "result": "fail", "note": ""},
            {"item_code": plain[1], "result": "pass", "note": ""},
        ],
        "findings": [
            {
                "id": "0f6a1d2e-8c4b-4e7a-b1d3-5a9e2c7f4b60",
                "item_code": plain[0],
                "description": "未取得《成品油零售经营批准证书》擅自销售柴油",
                "severity": "key",
                "deadline": "2025-06-12",
                "photos": [],
            }
        ],
        "final": True,
    }
    data.update(overrides)
    return data


def finding(ctx, **overrides) -> dict:
    return inspection(ctx, findings=[{**inspection(ctx)["findings"][0], **overrides}])


def new_site(**overrides) -> dict:
    return {"name": "格尔木河东砂石场", "site_type": "砂石场", "district": "东城区", **overrides}


@dataclass
class Bad:
    """One bad request: what is sent, and the status, code and field it must be refused with."""

    method: str
    path: Any  # str, or ctx -> str
    status: int
    code: str
    json: Any = None  # value, or ctx -> value
    data: Any = None  # raw body bytes, or ctx -> bytes
    headers: dict = field(default_factory=dict)
    field: str | None = None  # a path in error.fields (validation errors)


def _value(value, ctx):
    return value(ctx) if callable(value) else value


def jpeg(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


TRUNCATED = jpeg("jolla.jpg")[: len(jpeg("jolla.jpg")) // 2]
RENAMED_PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BOMB = png_bomb()
SQL = "东城区' OR '1'='1' --"

CASES = {
    # Malformed JSON and wrong types
    "malformed JSON": Bad(
        "PUT", INSPECTION, 400, "bad_request", data=b'{"campaign": "refined-oil-2025",'
    ),
    "JSON that is not UTF-8": Bad(
        "POST", "/api/v1/sites", 400, "bad_request", data=b'{"name": "\xff"}'
    ),
    "a list instead of an object": Bad("POST", "/api/v1/sites", 422, "validation_error", json=[1]),
    "site_id as text": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: inspection(c, site_id="东城"),
        field="site_id",
    ),
    "final as a list": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: inspection(c, final=[True]),
        field="final",
    ),
    "answers as an object": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: inspection(c, answers={}),
        field="answers",
    ),
    "site_id beyond 64 bits": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: inspection(c, site_id=2**70),
        field="site_id",
    ),
    "checklist_version beyond 64 bits": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: inspection(c, checklist_version=2**70),
        field="checklist_version",
    ),
    "site id beyond 64 bits in the path": Bad("GET", f"/api/v1/sites/{2**70}", 404, "not_found"),
    "site id beyond 32 bits in the path": Bad(
        "GET", f"/api/v1/sites/{2**31}/enforcements", 404, "not_found"
    ),
    "a sync cursor beyond 32 bits": Bad(
        "GET", f"/api/v1/sync?since={2**31}", 422, "validation_error", field="since"
    ),
    "a number for a body": Bad("POST", "/api/v1/sites", 422, "validation_error", json=5),
    "a filter given twice": Bad(
        "GET",
        "/api/v1/findings?district=东城区&district=西城区",
        422,
        "validation_error",
        field="district",
    ),
    "a misspelt filter": Bad(
        "GET", "/api/v1/findings?distrcit=东城区", 422, "validation_error", field="distrcit"
    ),
    # Unknown fields
    "unknown top-level field": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: inspection(c, inspector="x"),
        field="inspector",
    ),
    "unknown field in a finding": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: finding(c, status="closed"),
        field="findings[0].status",
    ),
    "unknown field on a site": Bad(
        "POST", "/api/v1/sites", 422, "validation_error", json=new_site(id=1), field="id"
    ),
    # Strings of a megabyte
    "a megabyte of description": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: finding(c, description=MEGABYTE_TEXT),
        field="findings[0].description",
    ),
    "a megabyte of site name": Bad(
        "POST",
        "/api/v1/sites",
        422,
        "validation_error",
        json=new_site(name=MEGABYTE_TEXT),
        field="name",
    ),
    "a body over the JSON limit": Bad(
        "POST",
        "/api/v1/sites",
        413,
        "payload_too_large",
        json=new_site(address=MEGABYTE_TEXT * 3),
    ),
    # Zero-width and mixed-width Chinese text
    "a site name of zero-width characters": Bad(
        "POST",
        "/api/v1/sites",
        422,
        "validation_error",
        json=new_site(name="\u200b\u200c\u200d\ufeff"),
        field="name",
    ),
    "an existing site's name with a zero-width space": Bad(
        "POST",
        "/api/v1/sites",
        409,
        "conflict",
        json=new_site(name="昆仑路1号\u200b加油站"),
    ),
    "an existing site's name in full-width digits": Bad(
        "POST",
        "/api/v1/sites",
        409,
        "conflict",
        json=new_site(name="昆仑路１号加油站"),
    ),
    "a full-width credit code with a wrong check character": Bad(
        "POST",
        "/api/v1/sites",
        422,
        "validation_error",
        json=new_site(credit_code="９１６３２８０１ＭＡ７５Ｑ７Ｌ８Ｘ１Ａ"),
        field="credit_code",
    ),
    # NUL: PostgreSQL cannot store or compare it, SQLite would store it
    "NUL in a site name": Bad(
        "POST",
        "/api/v1/sites",
        422,
        "validation_error",
        json=new_site(name="加油\x00站"),
        field="name",
    ),
    "NUL in a finding's photo list": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: finding(c, photos=["\x00"]),
        field="findings[0].photos[0]",
    ),
    "NUL in a filter": Bad(
        "GET", "/api/v1/findings?campaign=refined%00", 422, "validation_error", field="campaign"
    ),
    "NUL in a campaign code": Bad(
        "GET", "/api/v1/campaigns/refined%00/checklist", 404, "not_found"
    ),
    # Dates and times
    "a start time without offset": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: inspection(c, started_at="2025-05-12T09:30:00"),
        field="started_at",
    ),
    "a finish before the start": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: inspection(c, finished_at="2025-05-12T08:00:00+08:00"),
        field="finished_at",
    ),
    "a deadline before the inspection": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: finding(c, deadline="2025-05-01"),
        field="findings[0].deadline",
    ),
    "a deadline that is not a date": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: finding(c, deadline="下个月"),
        field="findings[0].deadline",
    ),
    # Coordinates outside China
    "an inspection in Europe": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: inspection(c, location={"lat": 43.47, "lon": 11.88}),
        field="location.lon",
    ),
    "lat and lon swapped": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: inspection(c, location={"lat": 94.9, "lon": 36.4}),
        field="location.lat",
    ),
    "a site in the southern hemisphere": Bad(
        "POST",
        "/api/v1/sites",
        422,
        "validation_error",
        json=new_site(lat=-36.4, lon=94.9),
        field="lat",
    ),
    # References that do not belong
    "an item code of another campaign": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: finding(c, item_code="HC-01"),
        field="findings[0].item_code",
    ),
    "a photo name that is a path": Bad(
        "PUT",
        INSPECTION,
        422,
        "validation_error",
        json=lambda c: finding(c, photos=["../../media/originals/x"]),
        field="findings[0].photos[0]",
    ),
    # Photos
    "a photo that is a renamed PDF": Bad(
        "PUT",
        f"/api/v1/photos/{sha(RENAMED_PDF)}",
        415,
        "unsupported_media_type",
        data=RENAMED_PDF,
        headers={"Content-Type": "image/jpeg"},
    ),
    "a truncated JPEG": Bad(
        "PUT",
        f"/api/v1/photos/{sha(TRUNCATED)}",
        415,
        "unsupported_media_type",
        data=TRUNCATED,
        headers={"Content-Type": "image/jpeg"},
    ),
    "a decompression bomb": Bad(
        "PUT",
        f"/api/v1/photos/{sha(BOMB)}",
        413,
        "payload_too_large",
        data=BOMB,
        headers={"Content-Type": "image/png"},
    ),
    "a path-traversal photo name": Bad(
        "PUT",
        "/api/v1/photos/..%2F..%2F..%2Fetc%2Fpasswd",
        404,
        "not_found",
        data=jpeg("Canon_40D.jpg"),
        headers={"Content-Type": "image/jpeg"},
    ),
    "a dotted photo name without slashes": Bad(
        "PUT",
        "/api/v1/photos/....%5C....%5Cinstance%5Csecret_key",
        400,
        "bad_request",
        data=jpeg("Canon_40D.jpg"),
        headers={"Content-Type": "image/jpeg"},
    ),
    "a photo whose bytes differ from its name": Bad(
        "PUT",
        f"/api/v1/photos/{sha(b'another photo')}",
        400,
        "bad_request",
        data=jpeg("Canon_40D.jpg"),
        headers={"Content-Type": "image/jpeg"},
    ),
    # SQL in a filter
    "SQL in the district filter of findings": Bad(
        "GET", f"/api/v1/findings?district={SQL}", 422, "validation_error", field="district"
    ),
    "SQL in the district filter of sites": Bad(
        "GET", f"/api/v1/sites?district={SQL}", 422, "validation_error", field="district"
    ),
    "SQL in the site_id filter": Bad(
        "GET", "/api/v1/findings?site_id=1%20OR%201=1", 422, "validation_error", field="site_id"
    ),
    "SQL in the sync cursor": Bad(
        "GET",
        "/api/v1/sync?since=0;DROP%20TABLE%20sites",
        422,
        "validation_error",
        field="since",
    ),
}


def snapshot(app, media_dir) -> tuple[dict, list]:
    with app.app_context():
        rows = {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
        db.session.remove()
    files = sorted(p.relative_to(media_dir).as_posix() for p in media_dir.rglob("*") if p.is_file())
    return rows, files


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_and_changes_nothing(
    app, client, make_user, make_site, login, checklist, media_dir, case
):
    make_user("east", "inspector", ["东城区"])
    headers = login("east")
    make_site(name="昆仑路1号加油站", credit_code="91632801MA75Q7L8X4")
    ctx = {"checklist": checklist, "site": make_site()}
    before = snapshot(app, media_dir)

    body = _value(case.data, ctx)
    if body is not None and not case.headers:
        case.headers = {"Content-Type": "application/json"}
    response = client.open(
        _value(case.path, ctx),
        method=case.method,
        json=_value(case.json, ctx),
        data=body,
        headers={**headers, **case.headers},
    )

    error = assert_error(response, case.status, case.code)
    if case.field:
        assert case.field in error["fields"], error
    assert snapshot(app, media_dir) == before
