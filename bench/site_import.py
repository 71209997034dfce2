"""Benchmark: importing the site registry from a 5,000-row spreadsheet.

Makes a real-shaped XLSX (a merged title, headers in a ledger's order, 经纬度 over two
sub-columns, an extra column) of N rows (default 5,000) and times, on a fresh SQLite
database (and PostgreSQL on 127.0.0.1:5432 when reachable):

- the baseline: openpyxl just loading the same workbook and reading every cell;
- the dry run: POST /api/v1/sites/import?dry_run=true through the Flask test client
  (upload, parse, every row checked against the registry, the JSON report);
- the import: the same with dry_run=false (every site inserted in one transaction);
- the re-import of the same file (every row unchanged, nothing written).

Reported as rows per second and as a ratio to the baseline (the machines are shared and
noisy; the ratio is what compares runs).

    .venv/bin/python bench/site_import.py
    .venv/bin/python bench/site_import.py --rows 20000 --backends sqlite
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import openpyxl  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from inspect_app import create_app, migrate  # noqa: E402
from inspect_app.auth.services import create_user  # noqa: E402
from inspect_app.domain import DISTRICTS  # noqa: E402
from inspect_app.extensions import db  # noqa: E402
from inspect_app.sites.credit_code import check_character  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-password-123"


def workbook(rows: int) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["格尔木市站点台账"])
    sheet.append(
        [
            "序号",
            "所属区域",
            "统一社会信用代码",
            "名称",
            "经纬度",
            None,
            "类型",
            "地址",
            "联系电话",
            "负责人",
            "备注",
        ]
    )
    sheet.append([None, None, None, None, "纬度", "经度"])
    for n in range(1, rows + 1):
        first17 = f"91632801MA{n:07d}"
        sheet.append(
            [
                n,
                DISTRICTS[n % len(DISTRICTS)],
                first17 + check_character(first17),
                f"格尔木市第{n}号站点",
                36.4 + (n % 100) / 1000,
                94.9 + (n % 100) / 1000,
                "加油站",
                f"格尔木市昆仑路 {n} 号",
                13909790000 + n,
                "张三",
                "",
            ]
        )
    for cells in ("A1:K1", "E2:F2", "A2:A3", "B2:B3", "C2:C3", "D2:D3"):
        sheet.merge_cells(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def baseline(data: bytes) -> float:
    started = time.perf_counter()
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    cells = sum(1 for row in book.active.iter_rows(values_only=True) for _ in row)
    assert cells
    return time.perf_counter() - started


def timed_upload(client, headers, data: bytes, dry_run: bool) -> tuple[float, dict]:
    started = time.perf_counter()
    answer = client.post(
        f"/api/v1/sites/import?dry_run={'true' if dry_run else 'false'}",
        data={"file": (io.BytesIO(data), "台账.xlsx")},
        headers=headers,
        content_type="multipart/form-data",
    )
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return elapsed, answer.get_json()["summary"]


def run(url: str, data: bytes, rows: int, media: Path) -> dict:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MEDIA_DIR": str(media), "TESTING": True})
    with app.app_context():
        migrate.upgrade(db.engine)
        create_user("bench_office", "office", PASSWORD)
        db.session.commit()
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"username": "bench_office", "password": PASSWORD}
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    results = {}
    for label, dry_run, want in (
        ("dry run", True, "create"),
        ("import", False, "create"),
        ("re-import", False, "unchanged"),
    ):
        elapsed, summary = timed_upload(client, headers, data, dry_run)
        assert summary[want] == rows, summary
        results[label] = elapsed
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    data = workbook(args.rows)
    base = min(baseline(data) for _ in range(3))
    print(f"{args.rows} rows, {len(data) / 1024:.0f} KiB")
    print(f"baseline (openpyxl reads every cell): {base:.2f} s, {args.rows / base:,.0f} rows/s")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.sqlite3"
                drop = None
            else:
                name = f"bench_import_{uuid.uuid4().hex[:8]}"
                admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
                try:
                    with admin.connect() as connection:
                        connection.execute(text(f'CREATE DATABASE "{name}"'))
                except Exception as exc:  # noqa: BLE001 - an absent server skips the backend
                    print(f"{backend}: skipped ({str(exc).splitlines()[0]})")
                    continue
                url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
                drop = (admin, name)
            try:
                results = run(url, data, args.rows, Path(tmp) / f"media-{backend}")
            finally:
                if drop:
                    with drop[0].connect() as connection:
                        connection.execute(
                            text(f'DROP DATABASE IF EXISTS "{drop[1]}" WITH (FORCE)')
                        )
            for label, elapsed in results.items():
                print(
                    f"{backend:10} {label:9}: {elapsed:.2f} s, {args.rows / elapsed:,.0f} rows/s, "
                    f"{elapsed / base:.2f}x the baseline"
                )


if __name__ == "__main__":
    main()
