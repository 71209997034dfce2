"""Load benchmark: request rates of the phone's hot paths against a trivial endpoint.

Starts ``inspect-app serve`` (gunicorn, as in production) on a fresh database, then
drives it with many concurrent simulated phones (asyncio, keep-alive connections)
in three phases against the same server:

- ``GET /api/v1/health``: a trivial JSON endpoint of the same app (the baseline);
- ``GET /campaigns/{code}/checklist`` with ``If-None-Match`` → 304 (a phone checking
  for a new checklist);
- ``PUT /inspections/{uuid}`` with 20 answers and 3 findings, each a new inspection.

It prints each rate and the ratios to the baseline. Goals (issue 7): the PUT at 35 %
or more of the baseline rate, the 304 at 70 % or more, and no errors.

    python bench/api_load.py [--seconds 10] [--phones 32] [--database postgresql]
"""

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "inspect-app"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--phones", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()

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
    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), "--workers", str(args.workers)],
        env={**env, "INSPECT_ACCESS_LOG": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
        # UUIDs (same length), so the client's own CPU, on the same cores as the server,
        # stays about that of the other phases instead of a json.dumps per request.
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
        request = (
            f"PUT /api/v1/inspections/{placeholders[0]} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        template = re.sub(rb"0{35}[0-3]", b"%s", request.replace(b"%", b"%%"))

        def put_inspection():
            # A new inspection with new findings every time.
            return template % tuple(str(uuid.uuid4()).encode() for _ in range(4))

        phases = [
            ("trivial GET /health", get("/api/v1/health"), 200),
            (
                "checklist 304",
                get("/api/v1/campaigns/hazchem-2025/checklist", f"If-None-Match: {etag}\r\n"),
                304,
            ),
            ("inspection PUT (20 answers, 3 findings)", put_inspection, 201),
        ]
        rates = {}
        errors = 0
        for name, make, expected in phases:
            asyncio.run(phase(port, make, 1.0, args.phones))  # warm-up
            rate, counts = asyncio.run(phase(port, make, args.seconds, args.phones))
            bad = sum(n for status, n in counts.items() if status != expected)
            errors += bad
            rates[name] = rate
            print(f"{name:<42} {rate:8.1f} req/s   statuses {counts}")
        trivial = rates["trivial GET /health"]
        r304 = rates["checklist 304"] / trivial
        rput = rates["inspection PUT (20 answers, 3 findings)"] / trivial
        print(f"\ndatabase {args.database}, {args.workers} gunicorn workers, {args.phones} phones")
        for label, ratio, goal in (("checklist 304", r304, 0.70), ("inspection PUT", rput, 0.35)):
            verdict = "met" if ratio >= goal else "NOT met"
            print(f"{label} / trivial = {ratio:.2f}  (goal >= {goal:.2f}: {verdict})")
        print(f"errors: {errors}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if pg_name:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
