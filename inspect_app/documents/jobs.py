"""Background jobs for large documents: in-process threads by default, RQ on Redis if set.

A request for a big campaign document answers 202 with a job; the phone or browser
polls ``GET /jobs/{id}`` and downloads the file when it is done. The job's state is a
database row, so whichever app server answers the poll knows it. Without
``INSPECT_REDIS_URL`` a small thread pool in each app process does the work; with it,
jobs go to an RQ queue served by ``inspect-app worker`` on any machine.
"""

import hashlib
import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select

from inspect_app.auth.models import User
from inspect_app.db_types import utcnow
from inspect_app.documents.models import ReportJob
from inspect_app.errors import NotFound
from inspect_app.extensions import db

log = logging.getLogger(__name__)
QUEUE = "inspect-reports"


def in_background(user: User, kind: str, params: dict) -> bool:
    """Whether a campaign document is too large to make within the request (202 + job)."""
    from inspect_app.documents.gather import count_findings

    limit = current_app.config["REPORT_SYNC_MAX_FINDINGS"]
    if kind == "rectification_report":
        # No photos in this report: it stays quick up to many more findings.
        return count_findings(user, params["campaign"], params["district"]) > 20 * limit
    size = count_findings(user, params["campaign"], params["district"], params["statuses"])
    return size > limit


def scope_of(user: User) -> str:
    return f"{user.role}:{','.join(sorted(user.districts or []))}"


def job_key(kind: str, params: dict, user: User) -> str:
    text = json.dumps([kind, params, scope_of(user)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def output_path(app: Flask, job_id: str) -> Path:
    return Path(app.config["MEDIA_DIR"]) / "reports" / f"{job_id}.pdf"


def submit(user: User, kind: str, params: dict) -> tuple[ReportJob, bool]:
    """The running job for this document and scope, or a new one; returns (job, new).

    The row is committed before the work is handed over, so the worker finds it.
    """
    key = job_key(kind, params, user)
    running = db.session.scalar(
        select(ReportJob)
        .where(ReportJob.key == key, ReportJob.status.in_(("queued", "running")))
        .order_by(ReportJob.created_at.desc())
        .limit(1)
    )
    if running is not None:
        return running, False
    job = ReportJob(
        id=str(uuid.uuid4()),
        key=key,
        kind=kind,
        params=params,
        user_id=user.id,
        scope=scope_of(user),
        status="queued",
    )
    db.session.add(job)
    db.session.commit()
    _dispatch(current_app._get_current_object(), job.id)
    return job, True


def _dispatch(app: Flask, job_id: str) -> None:
    runner = app.config.get("REPORT_JOB_RUNNER", "auto")
    if runner == "manual":  # tests drive execute() themselves
        return
    if app.config.get("REDIS_URL"):
        from redis import Redis
        from rq import Queue

        queue = Queue(
            app.config.get("REPORT_QUEUE", QUEUE),
            connection=Redis.from_url(app.config["REDIS_URL"]),
        )
        queue.enqueue(run_in_worker, job_id, job_timeout=3600, result_ttl=0)
        return
    pool = app.extensions.get("inspect_report_pool")
    if pool is None:
        # Two threads: reportlab holds the GIL most of the time, more would only queue.
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="report")
        app.extensions["inspect_report_pool"] = pool
    pool.submit(_run_with_app, app, job_id)


def _run_with_app(app: Flask, job_id: str) -> None:
    with app.app_context():
        try:
            execute(job_id)
        finally:
            db.session.remove()


def run_in_worker(job_id: str) -> None:
    """Entry point of an RQ job: builds the app from the worker's environment."""
    from inspect_app import create_app

    app = current_app._get_current_object() if _has_app() else create_app()
    _run_with_app(app, job_id)


def _has_app() -> bool:
    from flask import has_app_context

    return has_app_context()


def execute(job_id: str) -> None:
    """Make the document of a job; records success or failure on the job row."""
    from inspect_app.documents import render

    job = db.session.get(ReportJob, job_id)
    if job is None or job.status not in ("queued", "running"):
        return
    job.status = "running"
    db.session.commit()
    app = current_app._get_current_object()
    try:
        user = db.session.get(User, job.user_id)
        pages = render.render_kind(job.kind, job.params, user, output_path(app, job.id))
    except Exception as exc:  # noqa: BLE001 - any failure is recorded for the poller
        db.session.rollback()
        log.exception("report job %s failed", job_id)
        job = db.session.get(ReportJob, job_id)
        job.status = "failed"
        job.error = getattr(exc, "message", None) or "报表生成失败，请稍后重试"
        job.finished_at = utcnow()
        db.session.commit()
        return
    job.status = "done"
    job.pages = pages
    job.finished_at = utcnow()
    db.session.commit()


def visible_job(user: User, job_id: str) -> ReportJob:
    job = db.session.get(ReportJob, job_id)
    if job is None or (job.user_id != user.id and job.scope != scope_of(user)):
        raise NotFound("报表任务不存在")
    return job


def job_view(job: ReportJob) -> dict:
    base = f"/api/v1/jobs/{job.id}"
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "pages": job.pages,
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "url": base,
        "download_url": f"{base}/file" if job.status == "done" else None,
    }
