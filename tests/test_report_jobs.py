"""Background document jobs: site documents too, ISO times, and a worker killed mid-job.

The worker here is a real ``inspect-app worker`` process on Redis, killed with SIGKILL
while it draws; the job must not stay ``running`` for good: it is handed out again
when its lease runs out, or failed with a message once the attempts are spent.
"""

import os
import re
import signal
import subprocess
import time
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import redis

from inspect_app.documents.models import ReportJob
from inspect_app.extensions import db
from reports import pdfcheck
from tests.helpers import assert_error
from tests.support.server import BIN
from tests.test_web import web_login

REDIS_URL = os.environ.get("INSPECT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


@pytest.fixture
def east(make_user, login):
    make_user("east", "inspector", ["东城区"])
    return login("east")


@pytest.fixture
def lead(make_user, login):
    make_user("lead", "team_lead", ["东城区", "西城区"])
    return login("lead")


def record(client, headers, checklist, site, descriptions):
    plain = checklist["plain"]
    findings = [
        {
            "id": str(uuid.uuid4()),
            "item_code": plain[i % len(plain)],
            "description": text,
            "severity": "general",
            "requirement": "限期整改",
            "photos": [],
        }
        for i, text in enumerate(descriptions)
    ]
    body = {
        "campaign": checklist["campaign"],
        "checklist_version": checklist["version"],
        "site_id": site,
        "started_at": "2025-05-12T09:30:00+08:00",
        "finished_at": "2025-05-12T10:05:00+08:00",
        "answers": [],
        "findings": findings,
        "final": True,
    }
    response = client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()


def wait_for(client, headers, url, done, timeout=120):
    """Poll the job until ``done(job)``; the timeout only guards against a hang."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url, headers=headers).get_json()
        if done(job):
            return job
        time.sleep(0.05)
    raise TimeoutError(job)


def assert_job_times(job):
    assert ISO_WITH_OFFSET.match(job["created_at"]), job["created_at"]
    if job["finished_at"] is not None:
        assert ISO_WITH_OFFSET.match(job["finished_at"]), job["finished_at"]


def test_large_site_document_is_a_job_with_iso_times(
    app, client, east, checklist, make_site, tmp_path
):
    app.config["REPORT_SYNC_MAX_FINDINGS"] = 2
    site = make_site()
    descriptions = [f"第{i}号问题：油罐区防火堤破损" for i in range(5)]
    record(client, east, checklist, site, descriptions)
    url = f"/api/v1/sites/{site}/problem-list.pdf?campaign={checklist['campaign']}"
    response = client.get(url, headers=east)

    assert response.status_code == 202
    job = response.get_json()
    assert job["kind"] == "site_problem_list" and response.headers["Location"] == job["url"]
    assert_job_times(job)
    done = wait_for(client, east, job["url"], lambda j: j["status"] in ("done", "failed"))
    assert done["status"] == "done", done
    assert_job_times(done)
    pdf = client.get(done["download_url"], headers=east)
    path = tmp_path / "site.pdf"
    path.write_bytes(pdf.data)
    pdf.close()
    text = pdfcheck.squeeze(pdfcheck.text(path))
    assert all(d in text for d in descriptions)


def test_small_site_document_still_comes_at_once(app, client, east, checklist, make_site):
    site = make_site()
    record(client, east, checklist, site, ["灭火器过期"])
    url = f"/api/v1/sites/{site}/problem-list.pdf?campaign={checklist['campaign']}"
    response = client.get(url, headers=east)
    response.close()
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_dashboard_sends_a_large_site_document_to_its_job_page(
    app, client, east, lead, checklist, make_site
):
    app.config.update(REPORT_SYNC_MAX_FINDINGS=0, REPORT_JOB_RUNNER="manual")
    site = make_site()
    record(client, east, checklist, site, ["储油设施无防雷检测报告"])
    web_login(client, "lead")
    response = client.get(
        f"/dashboard/sites/{site}/problem-list.pdf?campaign={checklist['campaign']}"
    )
    assert response.status_code == 302
    assert re.search(r"/dashboard/jobs/[0-9a-f-]{36}$", response.headers["Location"])
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "正在生成报表" in page.get_data(as_text=True)


def test_every_time_the_app_writes_itself_is_iso_8601_with_offset(app):
    golmud = timezone(timedelta(hours=8))
    with app.app_context():
        text = app.json.dumps(
            {
                "aware": datetime(2026, 12, 2, 14, 5, tzinfo=golmud),
                "naive": datetime(2026, 12, 2, 6, 5),
                "day": date(2026, 12, 2),
            }
        )
    assert '"aware": "2026-12-02T14:05:00+08:00"' in text
    assert '"naive": "2026-12-02T06:05:00+00:00"' in text
    assert '"day": "2026-12-02"' in text
    assert "GMT" not in text


# --- a worker killed mid-job ----------------------------------------------------------


@pytest.fixture
def redis_queue(app):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    queue = f"inspect-test-{uuid.uuid4().hex[:8]}"
    yield queue
    redis.Redis.from_url(REDIS_URL).delete(f"rq:queue:{queue}")


class Workers:
    """``inspect-app worker`` processes on the test's database, media and queue."""

    def __init__(self, env):
        self.env = env
        self.running: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        process = subprocess.Popen(
            [str(BIN), "worker", "--queue", self.env["INSPECT_REPORT_QUEUE"]],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.running.append(process)
        return process

    def stop_all(self):
        for process in self.running:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


@pytest.fixture
def workers(app, database_url, media_dir, tmp_path, redis_queue):
    lease = 3
    app.config.update(
        REPORT_SYNC_MAX_FINDINGS=0,
        REDIS_URL=REDIS_URL,
        REPORT_QUEUE=redis_queue,
        REPORT_JOB_LEASE_SECONDS=lease,
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")},
        "INSPECT_DATABASE_URL": database_url,
        "INSPECT_MEDIA_DIR": str(media_dir),
        "INSPECT_INSTANCE_DIR": str(tmp_path / "instance"),
        "INSPECT_REDIS_URL": REDIS_URL,
        "INSPECT_REPORT_QUEUE": redis_queue,
        "INSPECT_REPORT_JOB_LEASE_SECONDS": str(lease),
    }
    pool = Workers(env)
    yield pool
    pool.stop_all()


def heavy_campaign(client, east, checklist, make_site, findings=24):
    """Findings whose descriptions run to hundreds of lines: seconds of drawing, so the
    worker is caught mid-job."""
    lines = "\n".join(f"第{n:03d}行油罐区破损" for n in range(300))
    descriptions = [f"【{i:02d}号】\n{lines}"[:4000] for i in range(findings)]
    record(client, east, checklist, make_site(), descriptions)
    return descriptions


def kill_mid_job(client, lead, workers, url):
    worker = workers.start()
    job = client.get(url, headers=lead).get_json()
    wait_for(client, lead, job["url"], lambda j: j["status"] != "queued")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    after = client.get(job["url"], headers=lead).get_json()
    assert after["status"] == "running", "the worker was to be killed while drawing"
    # Within the lease an identical request still gets the same job.
    assert client.get(url, headers=lead).get_json()["id"] == job["id"]
    return job


def test_job_of_a_killed_worker_is_retried_and_finished(
    app, client, east, lead, checklist, make_site, workers, tmp_path
):
    descriptions = heavy_campaign(client, east, checklist, make_site)
    url = f"/api/v1/campaigns/{checklist['campaign']}/problem-list.pdf"
    job = kill_mid_job(client, lead, workers, url)

    # The poll finds the lease run out and queues the job again; a new worker takes it.
    retried = wait_for(client, lead, job["url"], lambda j: j["attempts"] == 2)
    assert retried["status"] in ("queued", "running")
    workers.start()
    done = wait_for(client, lead, job["url"], lambda j: j["status"] in ("done", "failed"))
    assert done["status"] == "done" and done["attempts"] == 2, done
    path = tmp_path / "retried.pdf"
    pdf = client.get(done["download_url"], headers=lead)
    path.write_bytes(pdf.data)
    pdf.close()
    text = pdfcheck.squeeze(pdfcheck.text(path))
    assert all(d.split("\n")[0] in text for d in descriptions)
    assert "第299行油罐区破损" in text


def test_job_of_a_killed_worker_fails_with_a_message_when_attempts_are_spent(
    app, client, east, lead, checklist, make_site, workers
):
    app.config["REPORT_JOB_ATTEMPTS"] = 1
    heavy_campaign(client, east, checklist, make_site)
    url = f"/api/v1/campaigns/{checklist['campaign']}/problem-list.pdf"
    job = kill_mid_job(client, lead, workers, url)

    failed = wait_for(client, lead, job["url"], lambda j: j["status"] != "running")
    assert failed["status"] == "failed" and "中断" in failed["error"]
    assert_job_times(failed)
    assert_error(client.get(f"{job['url']}/file", headers=lead), 409, "conflict")
    # An identical request is not handed the dead job: it starts a new one.
    again = client.get(url, headers=lead).get_json()
    assert again["id"] != job["id"] and again["status"] == "queued"


def test_a_worker_starting_queues_again_the_jobs_of_a_dead_one(
    app, client, east, lead, checklist, make_site, workers
):
    heavy_campaign(client, east, checklist, make_site, findings=6)
    url = f"/api/v1/campaigns/{checklist['campaign']}/problem-list.pdf"
    job = kill_mid_job(client, lead, workers, url)

    def row():
        with app.app_context():
            found = db.session.get(ReportJob, job["id"])
            db.session.remove()
            return found

    with app.app_context():  # the lease runs out, and nobody polls
        db.session.get(ReportJob, job["id"]).lease_until = datetime.now(UTC) - timedelta(1)
        db.session.commit()
        db.session.remove()
    workers.start()
    deadline = time.monotonic() + 120
    while row().status not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (row().status, row().attempts) == ("done", 2)
