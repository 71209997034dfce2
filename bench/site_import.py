"""Benchmark: importing the site registry from a 5,000-row spreadsheet.

Makes a real-shaped XLSX (a merged title, headers in a ledger's order, 经纬度 over two
sub-columns, an extra column) of N rows (default 5,000) and measures, on SQLite (a file
in a temporary folder) and on PostgreSQL (a database made on 127.0.0.1:5432 as the
``postgres`` user and dropped at the end):

- the baseline: openpyxl just loading the same workbook and reading every cell;
- the dry run: POST /api/v1/sites/import?dry_run=true through the Flask test client
  (upload, parse, every row checked against an empty registry, the JSON report);
- the import: the same with dry_run=false (every site inserted in one transaction);
- the re-import of the same file (every row unchanged, nothing written).

Measured with bench/measure.py, in rounds: each round starts on a fresh, empty
database (made unmeasured) and runs the baseline and the three uploads, one block
each. The uploads depend on each other (the re-import needs the import, the dry run an
empty registry), so they keep their order and the baseline turns around them: first in
even rounds, last in odd ones. Every ratio is taken within its round, by wall time and
by CPU (this process, where both openpyxl and the app run, plus the PostgreSQL
backends of the bench database), and printed as min / median / max over the rounds.
One unmeasured round first warms imports and caches.

    .venv/bin/python bench/site_import.py
    .venv/bin/python bench/site_import.py --rows 20000 --backends sqlite --rounds 3
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
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

sys.path.append(str(Path(__file__).resolve().parent))  # after ROOT
from measure import Meter, fmt_spread, interleave, postgres_backends, print_cost_ratio  # noqa: E402

PG_ADMIN = os.environ.get(
    "INSPECT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "bench-password-123"
BASELINE = "openpyxl reads"
# (phase, dry_run, the summary count that must equal the rows): in the order they depend on.
UPLOADS = (
    ("dry run", True, "create"),
    ("import", False, "create"),
    ("re-import", False, "unchanged"),
)


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


def read_every_cell(data: bytes) -> int:
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    cells = sum(1 for row in book.active.iter_rows(values_only=True) for _ in row)
    assert cells
    return 1


class Sqlite:
    name = "sqlite"

    def __init__(self, folder: Path):
        self.path = folder / "bench.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def wipe(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def meters(self) -> dict[str, Meter]:
        return {"app": Meter.this_process()}

    def drop(self) -> None:
        self.wipe()


class Postgres:
    """One database name for the whole run (the backends' meter finds them by it),
    dropped and made anew for each round."""

    name = "postgresql"

    def __init__(self, admin_url: str):
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.dbname = f"bench_import_{uuid.uuid4().hex[:8]}"
        self.url = self.admin.url.set(database=self.dbname).render_as_string(hide_password=False)
        self.admin_url = admin_url

    def wipe(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{self.dbname}"'))

    def meters(self) -> dict[str, Meter]:
        return {
            "app": Meter.this_process(),
            "db": Meter.pids(postgres_backends(self.admin_url, self.dbname)),
        }

    def drop(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)'))
        self.admin.dispose()


class Registry:
    """The app on a fresh, empty database, logged in as the office (made anew each round)."""

    def __init__(self, backend, media: Path):
        self.backend = backend
        self.media = media
        self.app = None

    def fresh(self, _round: int = 0) -> None:
        self.close()
        self.backend.wipe()
        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.backend.url,
                "MEDIA_DIR": str(self.media),
                "SECRET_KEY": uuid.uuid4().hex,
                "TESTING": True,
            }
        )
        with self.app.app_context():
            migrate.upgrade(db.engine)
            create_user("bench_office", "office", PASSWORD)
            db.session.commit()
        self.client = self.app.test_client()
        token = self.client.post(
            "/api/v1/auth/token", json={"username": "bench_office", "password": PASSWORD}
        ).get_json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def upload(self, data: bytes, dry_run: bool) -> dict:
        answer = self.client.post(
            f"/api/v1/sites/import?dry_run={'true' if dry_run else 'false'}",
            data={"file": (io.BytesIO(data), "台账.xlsx")},
            headers=self.headers,
            content_type="multipart/form-data",
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        return answer.get_json()["summary"]

    def close(self) -> None:
        if self.app is not None:
            with self.app.app_context():
                db.session.remove()
                db.engine.dispose()
            self.app = None


def measure(backend, data: bytes, rows: int, rounds: int, media: Path):
    registry = Registry(backend, media)

    def uploading(dry_run: bool, want: str):
        def block(_seconds: float) -> int:
            summary = registry.upload(data, dry_run)
            assert summary[want] == rows, summary
            return 1

        return block

    phases = {BASELINE: lambda _seconds: read_every_cell(data)}
    phases |= {name: uploading(dry_run, want) for name, dry_run, want in UPLOADS}
    uploads = [name for name, _, _ in UPLOADS]
    registry.fresh()  # for the warm-up round, which runs the phases in this order
    try:
        return interleave(
            phases,
            rounds=rounds,
            seconds=0,  # one operation a block
            meters=backend.meters(),
            warmup=1,
            order=lambda r: [BASELINE, *uploads] if r % 2 == 0 else [*uploads, BASELINE],
            before_round=registry.fresh,
        )
    finally:
        registry.close()


def report(name: str, results, rows: int) -> None:
    print(f"== {name}")
    print(f"  {results.load_before}  (before)")
    print(
        f"  {'phase':<16}{'wall s min / med / max':>26}{'CPU s min / med / max':>26}"
        f"{'of it db':>10}{'rows/s (median)':>17}"
    )
    for phase, blocks in results.phases.items():
        walls = [b.wall for b in blocks]
        cpus = [sum(b.cpu.values()) for b in blocks]
        db_cpu = statistics.median(b.cpu.get("db", 0.0) for b in blocks)
        print(
            f"  {phase:<16}{fmt_spread(walls):>26}{fmt_spread(cpus):>26}"
            f"{db_cpu:>10.2f}{rows / statistics.median(walls):>17,.0f}"
        )
    for phase, _, _ in UPLOADS:
        print_cost_ratio(results, phase, BASELINE, label=f"{phase} / {BASELINE}")
    print(f"  {results.load_after}  (after)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    data = workbook(args.rows)
    print(
        f"{args.rows} rows, {len(data) / 1024:.0f} KiB; {args.rounds} rounds a backend, "
        f"each on a fresh database"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.backends.split(","):
            if name == "sqlite":
                backend = Sqlite(Path(tmp))
            elif name == "postgresql":
                backend = Postgres(PG_ADMIN)
                try:
                    backend.wipe()
                except Exception as exc:  # noqa: BLE001 - an absent server skips the backend
                    print(f"{name}: skipped ({str(exc).splitlines()[0]})")
                    continue
            else:
                parser.error(f"unknown backend {name}")
            started = time.perf_counter()
            try:
                media = Path(tmp) / f"media-{name}"
                results = measure(backend, data, args.rows, args.rounds, media)
            finally:
                backend.drop()
            report(name, results, args.rows)
            print(f"  ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
