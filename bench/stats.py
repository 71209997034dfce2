"""Benchmark: GET /campaigns/{code}/stats against the raw grouped SQL behind it.

Fills a database with N findings (default 1,000,000) over 5 campaigns and 9 districts
(20,000 sites, one inspection per 4 findings, one enforcement per 50), then times, for
each grouping, the endpoint through the Flask test client (login token, campaign
look-up, the grouped statement, the enforcement figures, JSON) against the same
grouped statement written by hand and run straight on the driver. Goal: the endpoint
at most 1.5x the raw query. Both are run on SQLite (a file in a temporary folder) and
on PostgreSQL (a database made on 127.0.0.1:5432 as the ``postgres`` user and dropped
at the end), with the schema as migrated (which has the indexes proposed here).

Measured with bench/measure.py: per grouping, interleaved blocks of the raw statement
and the endpoint, wall time and CPU (this process + the PostgreSQL backends) per
request, endpoint / raw min / median / max over rounds. PostgreSQL's CPU includes its
parallel workers (``postgres_cpu``): a million findings are scanned by the backend and
two workers, which do about two thirds of the statement's CPU.

``--explain`` prints, on PostgreSQL, EXPLAIN (ANALYZE, BUFFERS) of a grouping's two
statements as they run once psycopg has prepared them (after five runs on a
connection) and PostgreSQL has moved to a generic plan (``plan_cache_mode =
force_generic_plan``, shown on one run).

Rows go in by bulk: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

    .venv/bin/python bench/stats.py                      # the full run, 1,000,000 findings
    .venv/bin/python bench/stats.py --findings 100000    # a quicker one
    .venv/bin/python bench/stats.py --backends sqlite    # one backend
    .venv/bin/python bench/stats.py --backends postgresql --explain district
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from inspect_app import create_app, migrate  # noqa: E402
from inspect_app.domain import DISTRICTS, SITE_TYPES  # noqa: E402

sys.path.append(str(Path(__file__).resolve().parent))  # after ROOT: bench/reports.py
from measure import Meter, fmt_spread, interleave, postgres_cpu, ratios  # noqa: E402

GOAL = 1.5
CAMPAIGNS = ("hazchem-b", "refined-oil-b", "recycling-b", "sand-gravel-b", "placer-gold-b")
DEPARTMENTS = ("商务局", "应急管理局", "市场监管局", "公安局", "自然资源局", "生态环境局", None)
STATUSES = (  # (status, weight): most are rectified by the time the office looks
    ("open", 12),
    ("rectifying", 10),
    ("pending_review", 5),
    ("closed", 68),
    ("voided", 5),
)
KINDS = ("order_rectify", "suspend", "ban", "fine", "revoke_licence", "refer_police", "blacklist")
SITES = 20_000
FINDINGS_PER_INSPECTION = 4
FINDINGS_PER_ENFORCEMENT = 50
PASSWORD = "bench-password-123"

# Indexes proposed for the statistics: name → (table, columns[, partial WHERE]).
# ix_findings_stats covers every column the grouped statement reads, campaign first and
# district next, so a campaign's findings are read from the index alone (SQLite: a
# covering index; PostgreSQL: an index-only scan), already in district order;
# ix_inspections_campaign_site does the same for the count of sites inspected;
# ix_findings_voided (partial) lists a campaign's voided findings, which the enforcement
# figures leave out. Made with IF NOT EXISTS: once the migration has them, both phases
# below measure the same schema.
PROPOSED_INDEXES = {
    "ix_findings_stats": (
        "findings",
        (
            "campaign_id",
            "district",
            "status",
            "deadline",
            "severity",
            "major_hazard",
            "responsible_department",
            "site_id",
        ),
    ),
    "ix_inspections_campaign_site": ("inspections", ("campaign_id", "site_id")),
    # Partial: only voided findings, for the enforcement figures that leave them out.
    "ix_findings_voided": ("findings", ("campaign_id", "id"), "status = 'voided'"),
}

# The one grouped statement behind an answer, written by hand (see stats_statement in
# inspect_app/stats/services.py): findings per group, sites per group, measures per kind.
RAW_SQL = """
SELECT 'f' AS part, {key} AS key, 0 AS sites,
       count(*),
       count(*) FILTER (WHERE f.status = 'closed'),
       count(*) FILTER (WHERE f.status IN ('open', 'rectifying', 'pending_review')),
       count(*) FILTER (WHERE f.status IN ('open', 'rectifying', 'pending_review')
                          AND f.deadline < {{today}}),
       count(*) FILTER (WHERE f.severity = 'key'),
       count(*) FILTER (WHERE f.major_hazard IS {{true}})
FROM findings f {join}
WHERE f.campaign_id = {{campaign}} AND f.status <> 'voided' {finding_scope}
GROUP BY {key}
UNION ALL
SELECT 's', {site_key}, count(DISTINCT i.site_id), 0, 0, 0, 0, 0, 0
FROM inspections i JOIN sites s ON s.id = i.site_id
WHERE i.campaign_id = {{campaign}} {site_scope}
GROUP BY {site_key}
UNION ALL
SELECT 'e', e.kind, 0, count(*), count(DISTINCT e.site_id), coalesce(sum(e.fine_yuan), 0), 0, 0, 0
FROM enforcements e {measure_join}
WHERE e.campaign_id = {{campaign}}
  AND (e.finding_id IS NULL OR e.finding_id NOT IN (
       SELECT id FROM findings WHERE campaign_id = {{campaign}} AND status = 'voided'))
  {measure_scope}
GROUP BY e.kind
"""
GROUPINGS = {
    "district": ("f.district", "", "s.district"),
    "department": ("f.responsible_department", "", "s.district"),
    "site_type": ("s2.site_type", "JOIN sites s2 ON s2.id = f.site_id", "s.site_type"),
    "severity": ("f.severity", "", "s.district"),
}


def raw_sql(group_by: str, districts: tuple[str, ...] | None = None) -> str:
    """The statement for a grouping, for the office (all) or a list of districts."""
    key, join, site_key = GROUPINGS[group_by]
    listed = ", ".join(f"'{d}'" for d in districts or ())
    return RAW_SQL.format(
        key=key,
        join=join,
        site_key=site_key,
        finding_scope=f"AND f.district IN ({listed})" if districts else "",
        site_scope=f"AND s.district IN ({listed})" if districts else "",
        measure_join="JOIN sites s3 ON s3.id = e.site_id" if districts else "",
        measure_scope=f"AND s3.district IN ({listed})" if districts else "",
    )


def log(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------
# Databases


class SqliteDatabase:
    name = "sqlite"

    def __init__(self, folder: Path):
        self.path = folder / "bench.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def connect(self):
        connection = sqlite3.connect(self.path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        return connection

    def copy(self, connection, table: str, columns: tuple[str, ...], rows) -> None:
        marks = ", ".join("?" * len(columns))
        connection.execute("BEGIN")
        connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            (tuple(_sqlite_value(v) for v in row) for row in rows),
        )
        connection.execute("COMMIT")

    def analyze(self, connection) -> None:
        connection.execute("ANALYZE")

    def raw(self, connection, sql: str, campaign_id: int, today) -> list:
        sql = sql.format(campaign="?", today="?", true="1")
        params = _raw_params(sql, campaign_id, today.isoformat(), "?")
        return connection.execute(sql, params).fetchall()

    def size_mb(self, _connection) -> float:
        return self.path.stat().st_size / 1e6

    def drop(self) -> None:
        pass


class PostgresDatabase:
    name = "postgresql"

    def __init__(self, admin_url: str):
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.dbname = f"inspect_bench_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.dbname}"'))
        self.url = self.admin.url.set(database=self.dbname).render_as_string(hide_password=False)

    def connect(self):
        import psycopg

        dsn = self.url.replace("postgresql+psycopg://", "postgresql://")
        return psycopg.connect(dsn, autocommit=True)

    def copy(self, connection, table: str, columns: tuple[str, ...], rows) -> None:
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(
                        [json.dumps(v) if isinstance(v, list | dict) else v for v in row]
                    )
            # COPY gives explicit ids: move the sequence past them.
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )

    def analyze(self, connection) -> None:
        # What autovacuum would have done on a live database: statistics and the
        # visibility map (index-only scans need it).
        connection.execute("VACUUM ANALYZE")

    def raw(self, connection, sql: str, campaign_id: int, today) -> list:
        sql = sql.format(campaign="%s", today="%s", true="TRUE")
        params = _raw_params(sql, campaign_id, today, "%s")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def size_mb(self, connection) -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0] / 1e6

    def drop(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)'))
        self.admin.dispose()


def _raw_params(sql: str, campaign_id: int, today, mark: str) -> tuple:
    """Parameters in order of appearance: the findings half, then the sites half."""
    params = []
    position = 0
    while True:
        position = sql.find(mark, position)
        if position < 0:
            break
        # The only placeholders are the campaign id and today's date.
        before = sql[:position].rstrip()
        params.append(today if before.endswith("<") else campaign_id)
        position += len(mark)
    return tuple(params)


def _sqlite_value(value):
    # The formats SQLAlchemy's SQLite dialect writes (UTCDateTime stores naive UTC).
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


# ---------------------------------------------------------------------------
# Filling


def prepare(app) -> dict:
    """Campaigns (through the service that loads checklists) and two users."""
    from inspect_app.auth.services import create_user
    from inspect_app.campaigns.services import publish_checklist
    from inspect_app.extensions import db

    with app.app_context():
        migrate.upgrade(db.engine)
        ids = {}
        for code in CAMPAIGNS:
            data = {
                "campaign": {
                    "code": code,
                    "name": f"基准测试 {code}",
                    "document_no": "基准〔2025〕1号",
                },
                "items": [
                    {
                        "code": f"B-{n:02d}",
                        "section": "一",
                        "text": "检查项",
                        "basis": "依据",
                        "clause": "一",
                        "lead_department": DEPARTMENTS[n % len(DEPARTMENTS)],
                        "site_types": list(SITE_TYPES),
                    }
                    for n in range(10)
                ],
            }
            publish_checklist(data, uuid.uuid4().hex)
        office = create_user("office", "office", PASSWORD, [])
        create_user("lead", "team_lead", PASSWORD, list(DISTRICTS[:3]))
        db.session.commit()
        from sqlalchemy import select

        from inspect_app.campaigns.models import Campaign, ChecklistVersion

        for code, campaign_id, version_id in db.session.execute(
            select(Campaign.code, Campaign.id, ChecklistVersion.id).join(
                ChecklistVersion, ChecklistVersion.campaign_id == Campaign.id
            )
        ):
            ids[code] = (campaign_id, version_id)
        office_id = office.id
        db.session.remove()
        db.engine.dispose()
    return {"campaigns": ids, "office_id": office_id}


def fill(database, connection, findings: int, context: dict, seed: int = 2025) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    campaigns = [context["campaigns"][code] for code in CAMPAIGNS]
    office_id = context["office_id"]

    site_district = [DISTRICTS[i % len(DISTRICTS)] for i in range(SITES)]
    site_rows = (
        (
            i + 1,
            f"基准站点{i + 1}",
            SITE_TYPES[(i // len(DISTRICTS)) % len(SITE_TYPES)],
            "",
            site_district[i],
            [],
            "",
            "",
            now,
            now,
            i + 1,
        )
        for i in range(SITES)
    )
    database.copy(
        connection,
        "sites",
        (
            "id",
            "name",
            "site_type",
            "address",
            "district",
            "licences",
            "contact_name",
            "contact_phone",
            "created_at",
            "updated_at",
            "sync_seq",
        ),
        site_rows,
    )

    inspections = max(1, findings // FINDINGS_PER_INSPECTION)
    inspection_site = [rng.randrange(SITES) + 1 for _ in range(inspections)]
    inspection_campaign = [campaigns[i % len(campaigns)] for i in range(inspections)]
    started = [now - timedelta(days=rng.randrange(1, 200)) for _ in range(inspections)]
    database.copy(
        connection,
        "inspections",
        (
            "id",
            "uuid",
            "campaign_id",
            "checklist_version_id",
            "site_id",
            "inspector_id",
            "started_at",
            "final",
            "body_digest",
            "created_at",
            "updated_at",
        ),
        (
            (
                i + 1,
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                inspection_campaign[i][0],
                inspection_campaign[i][1],
                inspection_site[i],
                office_id,
                started[i],
                True,
                "0" * 64,
                started[i],
                started[i],
            )
            for i in range(inspections)
        ),
    )

    status_names = [s for s, _ in STATUSES]
    status_weights = [w for _, w in STATUSES]

    def finding_rows():
        for i in range(findings):
            inspection = i % inspections
            site = inspection_site[inspection]
            campaign_id, _version = inspection_campaign[inspection]
            status = rng.choices(status_names, status_weights)[0]
            found_at = started[inspection]
            deadline = found_at.date() + timedelta(days=rng.choice((7, 7, 7, 30)))
            yield (
                i + 1,
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                inspection + 1,
                campaign_id,
                site,
                site_district[site - 1],
                "未按规定设置消防器材",
                "key" if rng.random() < 0.2 else "general",
                rng.random() < 0.02,
                "",
                deadline,
                status == "closed" and rng.random() < 0.3,
                status,
                DEPARTMENTS[rng.randrange(len(DEPARTMENTS))],
                found_at,
                found_at + timedelta(days=5) if status == "closed" else None,
                found_at,
                found_at,
                i + 1,
                1,
            )

    database.copy(
        connection,
        "findings",
        (
            "id",
            "uuid",
            "inspection_id",
            "campaign_id",
            "site_id",
            "district",
            "description",
            "severity",
            "major_hazard",
            "requirement",
            "deadline",
            "fixed_on_spot",
            "status",
            "responsible_department",
            "found_at",
            "closed_at",
            "created_at",
            "updated_at",
            "sync_seq",
            "version",
        ),
        finding_rows(),
    )

    enforcements = max(1, findings // FINDINGS_PER_ENFORCEMENT)

    def enforcement_rows():
        for i in range(enforcements):
            finding = rng.randrange(findings)
            inspection = finding % inspections
            kind = rng.choice(KINDS)
            yield (
                i + 1,
                inspection_campaign[inspection][0],
                inspection_site[inspection],
                finding + 1 if rng.random() < 0.7 else None,
                kind,
                rng.randrange(1, 200) * 500 if kind == "fine" else None,
                "",
                office_id,
                now,
            )

    database.copy(
        connection,
        "enforcements",
        (
            "id",
            "campaign_id",
            "site_id",
            "finding_id",
            "kind",
            "fine_yuan",
            "note",
            "actor_id",
            "at",
        ),
        enforcement_rows(),
    )


def create_indexes(database, connection) -> None:
    for name, (table, columns, *where) in PROPOSED_INDEXES.items():
        condition = f" WHERE {where[0]}" if where else ""
        connection.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)}){condition}"
        )
    database.analyze(connection)


# ---------------------------------------------------------------------------
# Measuring


def repeated(func, answers: list):
    """A block for bench/measure.py: ``func`` over and over for about ``seconds``."""

    def block(seconds: float) -> int:
        done, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            answers.append(func())
            done += 1
        del answers[:-1]
        return done

    return block


def meters(database) -> dict:
    """CPU clocks: this process (the endpoint runs in it, through the test client) and,
    on PostgreSQL, the backends of the bench database and their parallel workers
    (where both statements run)."""
    clocks = {"app": Meter.this_process()}
    if database.name == "postgresql":
        url = database.admin.url.render_as_string(hide_password=False)
        clocks["db"] = Meter(postgres_cpu(url, database.dbname))
    return clocks


def explain(database, connection, app, group_by: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the raw statement and of the endpoint's (the office's),
    each prepared and planned generically, as they run after psycopg has prepared them."""
    from psycopg import sql as pgsql

    from inspect_app.auth.models import User
    from inspect_app.extensions import db
    from inspect_app.sites.services import today_shanghai
    from inspect_app.stats.services import stats_statement

    code = CAMPAIGNS[1]
    campaign_id = _campaign_id(database, connection, code)
    today = today_shanghai()
    raw = raw_sql(group_by).format(campaign="%s", today="%s", true="TRUE")
    with app.app_context():
        office = db.session.scalars(db.select(User).filter_by(username="office")).one()
        compiled = stats_statement(office, campaign_id, group_by, today).compile(
            db.engine, compile_kwargs={"render_postcompile": True}
        )
        db.session.remove()
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    endpoint = re.sub(r"%\((\w+)\)s", number, compiled.string)
    endpoint_args = [compiled.params[name] for name in names]
    counter = iter(range(1, 100))
    raw_numbered = re.sub(r"%s", lambda _m: f"${next(counter)}", raw)
    raw_args = _raw_params(raw, campaign_id, today, "%s")
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        for name, label, statement, args in (
            ("raw", "raw statement", raw_numbered, raw_args),
            ("endpoint", "endpoint's statement", endpoint, endpoint_args),
        ):
            cursor.execute(f"PREPARE bench_{name} AS {statement}")
            values = pgsql.SQL(", ").join(map(pgsql.Literal, args)).as_string(cursor)
            cursor.execute(f"EXECUTE bench_{name}({values})")  # warm
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, VERBOSE) EXECUTE bench_{name}({values})")
            log(f"  -- {label}, group_by={group_by}, generic plan:")
            for (line,) in cursor.fetchall():
                log(f"  {line}")
            cursor.execute(f"DEALLOCATE bench_{name}")
        cursor.execute("RESET plan_cache_mode")


def measure(database, connection, app, rounds: int, seconds: float) -> list[dict]:
    """Per grouping, the endpoint and the raw statement in interleaved blocks."""
    from inspect_app.sites.services import today_shanghai

    client = app.test_client()
    tokens = {}
    for username in ("office", "lead"):
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        tokens[username] = {"Authorization": f"Bearer {response.get_json()['token']}"}
    code = CAMPAIGNS[1]
    campaign_id = _campaign_id(database, connection, code)
    cases = [(group_by, "office", raw_sql(group_by)) for group_by in GROUPINGS]
    # A team lead's district grouping: the same statement with the district filter.
    cases.append(("district", "lead", raw_sql("district", DISTRICTS[:3])))
    clocks = meters(database)
    results = []
    for group_by, who, sql in cases:

        def endpoint(group_by=group_by, who=who):
            response = client.get(
                f"/api/v1/campaigns/{code}/stats?group_by={group_by}", headers=tokens[who]
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            return response.get_json()

        def raw(sql=sql):
            return database.raw(connection, sql, campaign_id, today_shanghai())

        raw_rows, answers = [], []
        measured = interleave(
            {"raw": repeated(raw, raw_rows), "endpoint": repeated(endpoint, answers)},
            rounds=rounds,
            seconds=seconds,
            meters=clocks,
            warmup=min(seconds, 1.0),
        )
        _check(raw_rows[-1], answers[-1])
        results.append(
            {"group_by": group_by, "scope": "team_lead" if who == "lead" else "office"}
            | {"measured": measured}
        )
    return results


def _campaign_id(database, connection, code: str) -> int:
    mark = "?" if database.name == "sqlite" else "%s"
    sql = f"SELECT id FROM campaigns WHERE code = {mark}"
    if database.name == "sqlite":
        return connection.execute(sql, (code,)).fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute(sql, (code,))
        return cursor.fetchone()[0]


def _check(raw_rows, answer: dict) -> None:
    """The endpoint's total agrees with the raw statement's rows."""
    findings = sum(r[3] for r in raw_rows if r[0] == "f")
    rectified = sum(r[4] for r in raw_rows if r[0] == "f")
    overdue = sum(r[6] for r in raw_rows if r[0] == "f")
    sites = sum(r[2] for r in raw_rows if r[0] == "s")
    fines = sum(int(r[5]) for r in raw_rows if r[0] == "e" and r[1] == "fine")
    total = answer["total"]
    got = (
        total["findings"],
        total["rectified"],
        total["overdue"],
        total["sites_inspected"],
        answer["figures"]["fines_yuan"],
    )
    expected = (findings, rectified, overdue, sites, fines)
    assert got == expected, (got, expected)


def report(backend: str, label: str, results: list[dict]) -> bool:
    """Endpoint / raw, round by round: wall time and CPU (app + db) per request."""
    ok = True
    log(f"  {label}:  {results[0]['measured'].load_before}")
    log(
        f"    {'group_by':<12}{'scope':<11}{'raw ms':>9}{'endpoint ms':>13}"
        f"{'time ratio min / med / max':>30}{'CPU ratio min / med / max':>30}"
    )
    for r in results:
        m = r["measured"]
        by_rate, by_cpu = ratios(m, "endpoint", "raw")
        by_time = [1 / x for x in by_rate]
        by_cpu_cost = [1 / x for x in by_cpu]
        met = statistics.median(by_time) <= GOAL and statistics.median(by_cpu_cost) <= GOAL
        ok &= met
        raw_ms = statistics.median(1000 / b.rate for b in m.phases["raw"])
        api_ms = statistics.median(1000 / b.rate for b in m.phases["endpoint"])
        log(
            f"    {r['group_by']:<12}{r['scope']:<11}{raw_ms:>9.1f}{api_ms:>13.1f}"
            f"{fmt_spread(by_time):>30}{fmt_spread(by_cpu_cost):>30} {'ok' if met else 'OVER'}"
        )
    log(f"  {results[-1]['measured'].load_after}")
    return ok


def run(
    database, findings: int, rounds: int, seconds: float, media: Path, explain_group: str | None
) -> bool:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database.url,
            "MEDIA_DIR": str(media),
            "SECRET_KEY": uuid.uuid4().hex,
            "TESTING": True,
        }
    )
    log(f"== {database.name}: {findings:,} findings over {len(CAMPAIGNS)} campaigns")
    context = prepare(app)
    connection = database.connect()
    start = time.perf_counter()
    fill(database, connection, findings, context)
    database.analyze(connection)
    log(
        f"  filled in {time.perf_counter() - start:.1f} s, "
        f"database {database.size_mb(connection):.0f} MB"
    )
    # The migration has the proposed indexes (IF NOT EXISTS: nothing to do then).
    create_indexes(database, connection)
    if explain_group and database.name == "postgresql":
        explain(database, connection, app, explain_group)
    ok_after = report(
        database.name,
        "schema as migrated",
        measure(database, connection, app, rounds, seconds),
    )
    connection.close()
    from inspect_app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return ok_after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per grouping")
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds per block")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--explain", choices=tuple(GROUPINGS), help="on PostgreSQL, print both plans first"
    )
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "INSPECT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="inspect-bench-") as folder:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                database = SqliteDatabase(Path(folder))
            elif backend == "postgresql":
                database = PostgresDatabase(args.pg_admin_url)
            else:
                parser.error(f"unknown backend {backend}")
            try:
                ok &= run(
                    database,
                    args.findings,
                    args.rounds,
                    args.seconds,
                    Path(folder) / "media",
                    args.explain,
                )
            finally:
                database.drop()
    log("goal met" if ok else f"goal NOT met (endpoint > {GOAL}x the raw query somewhere)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
