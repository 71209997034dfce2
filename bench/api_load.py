"""Load benchmark: the phone's hot paths under gunicorn, against baselines of the same app.

Builds the app on a fresh database (SQLite file or a PostgreSQL database made and
dropped here), adds one bench-only route to it, and serves it with gunicorn as
``inspect-app serve`` does (2 workers, 4 threads each). Many simulated phones
(asyncio, keep-alive connections) drive four phases:

- ``GET /api/v1/health``: a trivial JSON endpoint (no database);
- ``GET /campaigns/{code}/checklist`` with ``If-None-Match`` → 304;
- ``PUT /inspections/{uuid}`` with 20 answers and 3 findings, each a new inspection;
- ``PUT /bench/floor/{uuid}``: the floor of that PUT on this stack, a bare route of the
  same app (same before-request rules and transaction boundary) that inserts the same
  24 rows (the inspection, 20 answers, 3 findings) in one transaction with the app's
  SQLAlchemy Core statements, and nothing else: no login, no validation, no digest,
  no events, no feed position. Registered here, on the app this script builds.

The phases run interleaved (``bench/measure.py``): ``--rounds`` rounds of a block of
``--seconds`` of each, the order turning. The client is pinned to one CPU, the server to
the other (``--no-pin`` to share both), and the client's CPU is counted apart. Printed:
rate and CPU per request (gunicorn master + workers, and the PostgreSQL backends),
min / median / max over rounds, and the ratios, round by round:

- checklist 304 / trivial: goal >= 0.70 by rate and CPU;
- inspection PUT / floor: goal >= 0.70 by rate and CPU;
- SQLite: the write lock's hold (BEGIN IMMEDIATE returned → COMMIT returned) of every PUT
  and floor request, median / p95 / max, goal PUT median <= 0.4 ms; then ``--wal-seconds``
  (60) of PUTs alone, with the WAL file's size, goal < 64 MB.

    python bench/api_load.py [--database postgresql] [--rounds 5] [--seconds 3]
    python bench/api_load.py --profile /tmp/prof   # cProfile of one worker, then top 40
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
BIN = Path(sys.executable).parent / "inspect-app"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

from measure import (  # noqa: E402
    Meter,
    interleave,
    pin,
    pinned,
    postgres_backends,
    print_phases,
    print_ratio,
    split_cpus,
)


def sh(args, env, stdin=None):
    result = subprocess.run([str(BIN), *args], env=env, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{args}: {result.stderr}")
    return result.stdout


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), json.loads(response.read() or b"null")


async def phone(port, make_request, deadline, counts):
    """One phone on one keep-alive connection, sending requests until the deadline."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            writer.write(make_request())
            await writer.drain()
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            counts[status] = counts.get(status, 0) + 1
    finally:
        writer.close()


async def phase(port, make_request, seconds, phones):
    counts: dict[int, int] = {}
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(phone(port, make_request, deadline, counts) for _ in range(phones)))
    elapsed = time.perf_counter() - start
    return sum(counts.values()) / elapsed, counts


# ---------------------------------------------------------------------------
# The server: the app of ``inspect-app serve`` plus the bench-only floor route


def add_floor(app) -> None:
    """PUT /bench/floor/<uuid>: the same 24 rows as the PUT, in one transaction, no checks.

    Reads the same JSON body; the campaign, checklist version, item and user ids are
    looked up once per process (as the PUT keeps its checklist per process).
    """
    from datetime import datetime

    from flask import jsonify, request
    from sqlalchemy import insert, select

    from inspect_app.auth.models import User
    from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
    from inspect_app.db_types import utcnow
    from inspect_app.extensions import db
    from inspect_app.findings.models import Finding
    from inspect_app.inspections.models import Answer, Inspection

    inspections, answers, findings = Inspection.__table__, Answer.__table__, Finding.__table__
    insert_inspection = insert(inspections).returning(inspections.c.id)
    insert_answers, insert_findings = insert(answers), insert(findings)
    known: dict = {}

    def ids(data):
        key = (data["campaign"], data["checklist_version"])
        if key not in known:
            campaign = db.session.scalar(select(Campaign).where(Campaign.code == key[0]))
            version = db.session.scalar(
                select(ChecklistVersion).where(
                    ChecklistVersion.campaign_id == campaign.id,
                    ChecklistVersion.version == key[1],
                )
            )
            items = dict(
                db.session.execute(
                    select(ChecklistItem.code, ChecklistItem.id).where(
                        ChecklistItem.checklist_version_id == version.id
                    )
                ).all()
            )
            user = db.session.scalar(select(User.id).where(User.username == "load"))
            known[key] = (campaign.id, version.id, items, user)
        return known[key]

    def floor(uuid):
        data = json.loads(request.get_data())
        campaign_id, version_id, items, user_id = ids(data)
        connection = db.session.connection()
        now = utcnow()
        started = datetime.fromisoformat(data["started_at"])
        finished = datetime.fromisoformat(data["finished_at"])
        inspection_id = connection.execute(
            insert_inspection,
            {
                "uuid": uuid,
                "campaign_id": campaign_id,
                "checklist_version_id": version_id,
                "site_id": data["site_id"],
                "inspector_id": user_id,
                "started_at": started,
                "finished_at": finished,
                "lat": data["location"]["lat"],
                "lon": data["location"]["lon"],
                "final": data["final"],
                "body_digest": "",
                "created_at": now,
                "updated_at": now,
            },
        ).scalar()
        connection.execute(
            insert_answers,
            [
                {
                    "inspection_id": inspection_id,
                    "item_id": items[a["item_code"]],
                    "result": a["result"],
                    "note": a["note"],
                }
                for a in data["answers"]
            ],
        )
        connection.execute(
            insert_findings,
            [
                {
                    "uuid": f["id"],
                    "inspection_id": inspection_id,
                    "campaign_id": campaign_id,
                    "site_id": data["site_id"],
                    "item_id": items[f["item_code"]],
                    "district": "东城区",
                    "description": f["description"],
                    "severity": f["severity"],
                    "major_hazard": False,
                    "requirement": f["requirement"],
                    "deadline": None,
                    "fixed_on_spot": False,
                    "status": "open",
                    "responsible_department": None,
                    "found_at": started,
                    "closed_at": None,
                    "created_at": now,
                    "updated_at": now,
                    "sync_seq": 0,
                    "version": 1,
                }
                for f in data["findings"]
            ],
        )
        return jsonify({"id": inspection_id}), 201

    app.add_url_rule("/bench/floor/<uuid>", "bench_floor", floor, methods=["PUT"])


def add_lock_timer(app, folder: Path) -> None:
    """SQLite: the write lock's hold of each writing request, appended to holds-<pid>.txt.

    From BEGIN IMMEDIATE returning (the lock is ours) to COMMIT returning (it is not):
    the session's, or a COMMIT statement run on its connection before it.
    """
    from flask import has_request_context, request
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from inspect_app.extensions import db

    local = threading.local()
    files: dict[int, object] = {}

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "after_cursor_execute")
    def _begun(conn, cursor, statement, *args):
        if statement == "BEGIN IMMEDIATE":
            local.begun = time.perf_counter()
        elif statement == "COMMIT":  # committed on the connection, before the session does
            _committed(None)

    @event.listens_for(Session, "after_commit")
    def _committed(session):
        begun = getattr(local, "begun", None)
        if begun is None or not has_request_context():
            return
        hold = time.perf_counter() - begun
        local.begun = None
        kind = "floor" if request.path.startswith("/bench/") else "put"
        pid = os.getpid()
        if pid not in files:
            files[pid] = open(folder / f"holds-{pid}.txt", "a", buffering=1 << 16)  # noqa: SIM115
        out = files[pid]
        out.write(f"{kind} {hold * 1000:.4f}\n")
        local.count = getattr(local, "count", 0) + 1
        if local.count % 200 == 0:
            out.flush()


def profile_hooks(folder: Path) -> dict:
    """gunicorn hooks profiling a worker (CPU time per thread) and dumping it at exit."""
    import cProfile
    import pstats

    profiles = []
    local = threading.local()

    def post_fork(_server, worker):
        main = cProfile.Profile(time.thread_time)
        profiles.append(main)
        handle = type(worker).handle

        def profiled(self, *args, **kwargs):
            profile = getattr(local, "profile", None)
            if profile is None:
                profile = local.profile = cProfile.Profile(time.thread_time)
                profiles.append(profile)
            profile.enable()
            try:
                return handle(self, *args, **kwargs)
            finally:
                profile.disable()

        type(worker).handle = profiled
        main.enable()

    def worker_exit(_server, _worker):
        profiles[0].disable()
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        stats.dump_stats(str(folder / f"worker-{os.getpid()}.prof"))

    return {"post_fork": post_fork, "worker_exit": worker_exit}


def serve(args) -> None:
    """The server process: the app, the floor route, gunicorn (as ``inspect-app serve``)."""
    # bench/ is first on the path (this script's folder): its reports.py is not the
    # project's reports package.
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != here]
    from inspect_app import create_app
    from inspect_app.extensions import db
    from inspect_app.server import JsonErrorSyncWorker, JsonErrorThreadWorker, _Gunicorn

    app = create_app()
    add_floor(app)
    folder = Path(args.folder)
    if args.database == "sqlite":
        add_lock_timer(app, folder)
    with app.app_context():
        db.engine.dispose()  # workers fork from here
    worker = JsonErrorThreadWorker if args.threads > 1 else JsonErrorSyncWorker
    options = {
        "bind": f"127.0.0.1:{args.serve}",
        "workers": args.workers,
        "threads": args.threads,
        "worker_class": f"inspect_app.server.{worker.__name__}",
        "timeout": 120,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "preload_app": False,
        "control_socket_disable": True,
    }
    if args.profile:
        options |= profile_hooks(Path(args.profile))
    _Gunicorn(app, options).run()


# ---------------------------------------------------------------------------
# The client


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3, help="seconds per block")
    parser.add_argument("--phones", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--wal-seconds", type=float, default=60, help="SQLite: PUTs alone")
    parser.add_argument("--no-pin", action="store_true", help="client and server share CPUs")
    parser.add_argument(
        "--profile", metavar="DIR", help="profile one worker during --seconds of PUTs"
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the server process
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return

    tmp = Path(tempfile.mkdtemp(prefix="inspect-load-"))
    pg_name = None
    if args.database == "postgresql":
        from sqlalchemy import create_engine, text

        pg_name = f"inspect_load_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
    else:
        url = f"sqlite:///{tmp / 'load.sqlite3'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")},
        "INSPECT_DATABASE_URL": url,
        "INSPECT_MEDIA_DIR": str(tmp / "media"),
        "INSPECT_INSTANCE_DIR": str(tmp / "instance"),
        "PYTHONPATH": str(ROOT),
    }
    sh(["init"], env)
    sh(
        [
            "users",
            "create",
            "load",
            "--role",
            "inspector",
            "--district",
            "东城区",
            "--password-stdin",
        ],
        env,
        "password123\n",
    )
    cpus = None if args.no_pin else split_cpus()
    client_cpus, server_cpus = cpus or (None, None)
    port = free_port()
    workers = 1 if args.profile else args.workers
    command = [sys.executable, __file__, "--serve", str(port), "--folder", str(tmp)]
    command += ["--workers", str(workers), "--threads", str(args.threads)]
    command += ["--database", args.database]
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        command += ["--profile", args.profile]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, preexec_fn=pinned(server_cpus)
    )
    pin(client_cpus)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(150):
            try:
                http("GET", f"{base}/health")
                break
            except OSError:
                time.sleep(0.2)
        _, _, login = http(
            "POST", f"{base}/auth/token", {"username": "load", "password": "password123"}
        )
        auth = {"Authorization": f"Bearer {login['token']}"}
        _, _, site = http(
            "POST",
            f"{base}/sites",
            {"name": "压测化工有限公司", "site_type": "危险化学品企业", "district": "东城区"},
            auth,
        )
        _, headers, checklist = http(
            "GET", f"{base}/campaigns/hazchem-2025/checklist", headers=auth
        )
        etag = headers["ETag"]
        # Only items checked at the site's type take answers (20 of the 25 there are).
        items = [
            i
            for i in checklist["items"]
            if not i["photo_required"] and "危险化学品企业" in i["site_types"]
        ][:20]
        token = login["token"]

        def get(path, extra=""):
            raw = f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n{extra}\r\n"
            encoded = raw.encode()
            return lambda: encoded

        # The body is serialised once with placeholders; each request only puts in fresh
        # UUIDs (same length), so the client's own CPU stays about that of the other
        # phases instead of a json.dumps per request.
        placeholders = [f"{k:036d}" for k in range(4)]
        findings = [
            {
                "id": placeholders[1 + k],
                "item_code": items[k]["code"],
                "description": f"压测问题{k}：现场未见安全警示标志",
                "severity": "general",
                "requirement": "限期整改",
            }
            for k in range(3)
        ]
        body = json.dumps(
            {
                "campaign": "hazchem-2025",
                "checklist_version": checklist["version"],
                "site_id": site["id"],
                "started_at": "2025-05-12T09:30:00+08:00",
                "finished_at": "2025-05-12T10:00:00+08:00",
                "location": {"lat": 36.41, "lon": 94.93},
                "answers": [
                    {
                        "item_code": item["code"],
                        "result": "fail" if k < 3 else "pass",
                        "note": "",
                    }
                    for k, item in enumerate(items)
                ],
                "findings": findings,
                "final": True,
            },
            ensure_ascii=False,
        ).encode()

        def putter(path):
            request = (
                f"PUT {path}/{placeholders[0]} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            template = re.sub(rb"0{35}[0-3]", b"%s", request.replace(b"%", b"%%"))

            def make():
                # A new inspection with new findings every time.
                return template % tuple(str(uuid.uuid4()).encode() for _ in range(4))

            return make

        phases = {
            "trivial GET /health": (get("/api/v1/health"), 200),
            "checklist 304": (
                get("/api/v1/campaigns/hazchem-2025/checklist", f"If-None-Match: {etag}\r\n"),
                304,
            ),
            "inspection PUT": (putter("/api/v1/inspections"), 201),
            "floor PUT (24 rows, no checks)": (putter("/bench/floor"), 201),
        }
        errors: dict[str, dict] = {}

        def block(name):
            make, expected = phases[name]

            def run(seconds):
                _, counts = asyncio.run(phase(port, make, seconds, args.phones))
                bad = {s: n for s, n in counts.items() if s != expected}
                if bad:
                    errors.setdefault(name, {}).update(bad)
                return counts.get(expected, 0)

            return run

        if args.profile:
            block("inspection PUT")(1.0)
            done = block("inspection PUT")(args.seconds)
            server.terminate()
            server.wait(timeout=30)
            report_profile(Path(args.profile), done)
            return

        meters = {"app": Meter.tree(server.pid)}
        if pg_name:
            meters["db"] = Meter.pids(postgres_backends(PG_ADMIN, pg_name))
        print(
            f"database {args.database}, {args.workers} gunicorn workers x {args.threads} "
            f"threads, {args.phones} phones, {args.rounds} rounds of {args.seconds:g} s blocks; "
            + (
                f"client pinned to CPU {sorted(client_cpus)}, server to {sorted(server_cpus)}"
                if cpus
                else "client and server share the CPUs"
            )
        )
        results = interleave(
            {name: block(name) for name in phases},
            rounds=args.rounds,
            seconds=args.seconds,
            meters=meters,
            client={"client": Meter.this_process()},
        )
        print_phases(results)
        print_ratio(results, "checklist 304", "trivial GET /health", 0.70)
        print_ratio(results, "inspection PUT", "floor PUT (24 rows, no checks)", 0.70)
        print_ratio(results, "inspection PUT", "trivial GET /health", label="PUT / trivial")
        if args.database == "sqlite":
            report_holds(tmp)
            sustained_wal(tmp, block("inspection PUT"), args.wal_seconds)
        print(f"errors: {errors or 0}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if pg_name:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def report_holds(folder: Path) -> None:
    holds: dict[str, list[float]] = {}
    for path in folder.glob("holds-*.txt"):
        for line in path.read_text().splitlines():
            kind, ms = line.split()
            holds.setdefault(kind, []).append(float(ms))
    for kind in ("put", "floor"):
        values = sorted(holds.get(kind, ()))
        if not values:
            continue
        p95 = values[int(len(values) * 0.95)]
        verdict = (
            f"   goal median <= 0.40 ms: {'met' if statistics.median(values) <= 0.4 else 'NOT met'}"
            if kind == "put"
            else ""
        )
        print(
            f"  write lock held, {kind:<5} (BEGIN IMMEDIATE → COMMIT, {len(values)} requests): "
            f"median {statistics.median(values):.2f} ms, p95 {p95:.2f} ms, "
            f"max {values[-1]:.2f} ms{verdict}"
        )


def sustained_wal(folder: Path, put_block, seconds: float) -> None:
    wal = folder / "load.sqlite3-wal"
    sizes, done = [], 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        done += put_block(min(2.0, end - time.perf_counter()))
        sizes.append(wal.stat().st_size if wal.exists() else 0)
    largest = max(sizes) / 2**20
    verdict = "met" if largest < 64 else "NOT met"
    print(
        f"  WAL after {seconds:g} s of PUTs alone ({done} PUTs, {done / seconds:.0f}/s): "
        f"{sizes[-1] / 2**20:.1f} MB, largest seen {largest:.1f} MB   goal < 64 MB: {verdict}"
    )


def report_profile(folder: Path, requests: int) -> None:
    import pstats

    for _ in range(50):
        dumps = list(folder.glob("worker-*.prof"))
        if dumps:
            break
        time.sleep(0.2)
    stats = pstats.Stats(*map(str, dumps))
    print(f"{requests} PUTs; profile of the worker (CPU time per thread): {dumps[0]}")
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
