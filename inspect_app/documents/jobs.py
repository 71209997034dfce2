"""Background jobs for large documents: in-process threads by default, RQ on Redis if set.

A request for a big document answers 202 with a job; the phone or browser polls
``GET /jobs/{id}`` and downloads the file when it is done. The job's state is a
database row, so whichever app server answers the poll knows it. Without
``INSPECT_REDIS_URL`` a small thread pool in each app process does the work; with it,
jobs go to an RQ queue served by ``inspect-app worker`` on any machine.

Leases: a job is held by whoever claimed it only until ``lease_until``. A running job's
worker renews the lease every few seconds (a heartbeat thread, in the pool and in the
RQ worker alike); a queued job's lease is the time a worker has to pick it up. A
process that dies mid-job (killed, out of memory, machine gone) stops renewing, and
the next look at the job (an identical request, ``GET /jobs/{id}``, a worker starting
or taking a job) hands it out again, up to ``REPORT_JOB_ATTEMPTS`` times in all, then
marks it failed with a message for the user. Every change of hands is a conditional
UPDATE on the job's ``token``, so two pollers never revive a job twice and a worker
that lost its lease cannot overwrite the new attempt's result.
"""

import hashlib
import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue
from sqlalchemy import or_, select, update

from inspect_app.auth.models import User
from inspect_app.db_types import utcnow
from inspect_app.documents import gather, render
from inspect_app.documents.models import ReportJob
from inspect_app.documents.names import DownloadName
from inspect_app.domain import TIMEZONE
from inspect_app.errors import NotFound
from inspect_app.extensions import db

log = logging.getLogger(__name__)
QUEUE = "inspect-reports"
ACTIVE = ("queued", "running")
GAVE_UP = "报表生成中断：处理报表的进程已停止，已重试 {attempts} 次仍未完成，请稍后重新生成"
FAILED = "报表生成失败，请稍后重试"


def in_background(user: User, kind: str, params: dict) -> bool:
    """Whether a document is too large to make within the request (202 + job)."""
    limit = current_app.config["REPORT_SYNC_MAX_FINDINGS"]
    if kind == "site_problem_list":
        size = gather.count_findings(user, params["campaign"], site_id=params["site_id"])
        return size > limit
    if kind == "rectification_report":
        # No photos in this report: it stays quick up to many more findings.
        return count_findings(user, params) > 20 * limit
    return count_findings(user, params) > limit


def count_findings(user: User, params: dict) -> int:
    return gather.count_findings(
        user, params["campaign"], params.get("district"), params.get("statuses") or ()
    )


def scope_of(user: User) -> str:
    return f"{user.role}:{','.join(sorted(user.districts or []))}"


def scope_user(job: ReportJob) -> User:
    """A transient User with the role and districts the job was made for."""
    role, _, districts = job.scope.partition(":")
    return User(role=role, districts=[d for d in districts.split(",") if d])


def download_name(job: ReportJob) -> DownloadName:
    """The finished file's name: the document's own, dated the day it was asked for."""
    on = _aware(job.created_at).astimezone(ZoneInfo(TIMEZONE)).date()
    return render.document_name(job.kind, dict(job.params), scope_user(job), on)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def job_key(kind: str, params: dict, user: User) -> str:
    text = json.dumps([kind, params, scope_of(user)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def output_path(app: Flask, job_id: str) -> Path:
    return Path(app.config["MEDIA_DIR"]) / "reports" / f"{job_id}.pdf"


def _lease(app: Flask) -> timedelta:
    return timedelta(seconds=app.config["REPORT_JOB_LEASE_SECONDS"])


def _pickup(app: Flask) -> timedelta:
    return timedelta(seconds=app.config["REPORT_JOB_PICKUP_SECONDS"])


def submit(user: User, kind: str, params: dict) -> tuple[ReportJob, bool]:
    """The live job for this document and scope, or a new one; returns (job, new).

    A job whose worker is gone is handed out again (or failed) first, so an identical
    request never gets a dead job back. The row is committed before the work is
    handed over, so the worker finds it.
    """
    key = job_key(kind, params, user)
    live = db.session.scalar(
        select(ReportJob)
        .where(ReportJob.key == key, ReportJob.status.in_(ACTIVE))
        .order_by(ReportJob.created_at.desc())
        .limit(1)
    )
    if live is not None:
        live = revive(live)
        if live.status in ACTIVE:
            return live, False
    app = current_app._get_current_object()
    job = ReportJob(
        id=str(uuid.uuid4()),
        key=key,
        kind=kind,
        params=params,
        user_id=user.id,
        scope=scope_of(user),
        status="queued",
        attempts=1,
        token=uuid.uuid4().hex,
        lease_until=utcnow() + _pickup(app),
    )
    db.session.add(job)
    db.session.commit()
    _dispatch(app, job.id)
    return job, True


def revive(job: ReportJob) -> ReportJob:
    """``job`` itself if its lease holds; else queued anew, or failed after the last try.

    Commits what it changes (the caller is a poll or a request about to hand work on).
    """
    now = utcnow()
    if job.status not in ACTIVE or (job.lease_until is not None and job.lease_until > now):
        return job
    app = current_app._get_current_object()
    # End the reading transaction first: the write below then starts one of its own and
    # waits for the write lock, where a read upgraded to a write could fail on SQLite.
    db.session.commit()
    last_try = job.attempts >= app.config["REPORT_JOB_ATTEMPTS"]
    values: dict = {"token": uuid.uuid4().hex}
    if last_try:
        values |= {"status": "failed", "finished_at": now, "lease_until": None}
        values["error"] = GAVE_UP.format(attempts=job.attempts)
    else:
        values |= {"status": "queued", "lease_until": now + _pickup(app)}
        values["attempts"] = ReportJob.attempts + 1
    won = db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == job.id, _same_token(job.token))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(job)
    if won and not last_try:
        log.warning("report job %s: its worker is gone, attempt %s", job.id, job.attempts)
        _dispatch(app, job.id)
    return job


def _same_token(token: str | None):  # noqa: ANN202 - a SQL condition
    # Jobs from before leases have no token; NULL = NULL is not true in SQL.
    return ReportJob.token.is_(None) if token is None else ReportJob.token == token


def _run_out(now: datetime):  # noqa: ANN202 - a SQL condition
    return or_(ReportJob.lease_until.is_(None), ReportJob.lease_until < now)


def revive_stale() -> int:
    """Hand out again (or fail) every job whose lease ran out; returns how many."""
    stale = db.session.scalars(
        select(ReportJob).where(ReportJob.status.in_(ACTIVE), _run_out(utcnow()))
    ).all()
    for job in stale:
        revive(job)
    return len(stale)


def _dispatch(app: Flask, job_id: str) -> None:
    runner = app.config.get("REPORT_JOB_RUNNER", "auto")
    if runner == "manual":  # tests drive execute() themselves
        return
    if app.config.get("REDIS_URL"):
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
    """Entry point of an RQ job; ``inspect-app worker`` runs it inside its app context."""
    if not has_app_context():
        raise RuntimeError("report jobs run inside `inspect-app worker` (an app context)")
    try:
        revive_stale()  # jobs whose worker died are queued again, not left running
        execute(job_id)
    finally:
        db.session.remove()


def _claim(app: Flask, job_id: str) -> str | None:
    """Take a queued job (or a running one whose lease ran out); returns our token."""
    token = uuid.uuid4().hex
    now = utcnow()
    expired = (ReportJob.status == "running") & _run_out(now)
    won = db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id, or_(ReportJob.status == "queued", expired))
        .values(status="running", token=token, lease_until=now + _lease(app))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return token if won else None


def _finish(job_id: str, token: str, **values) -> bool:
    """Record the outcome, unless the job changed hands meanwhile (our lease ran out)."""
    won = db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id, ReportJob.token == token, ReportJob.status == "running")
        .values(finished_at=utcnow(), lease_until=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(won)


class Heartbeat:
    """Renews a running job's lease from a thread of its own until stopped.

    It writes through its own short transactions on the engine, never the render's
    session, and stops by itself once the job is no longer ours.
    """

    def __init__(self, app: Flask, job_id: str, token: str) -> None:
        self.app, self.job_id, self.token = app, job_id, token
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job_id[:8]}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        lease = _lease(self.app)
        every = max(lease.total_seconds() / 4, 0.05)
        with self.app.app_context():
            while not self._stop.wait(every):
                try:
                    if not self.renew(utcnow() + lease):
                        return
                except Exception:  # noqa: BLE001 - a missed beat is retried at the next
                    log.exception("report job %s: lease not renewed", self.job_id)

    def renew(self, until: datetime) -> bool:
        with db.engine.begin() as connection:
            return bool(
                connection.execute(
                    update(ReportJob)
                    .where(
                        ReportJob.id == self.job_id,
                        ReportJob.token == self.token,
                        ReportJob.status == "running",
                    )
                    .values(lease_until=until)
                ).rowcount
            )


def execute(job_id: str) -> None:
    """Make the document of a job; records success or failure on the job row.

    The data is read in one short transaction, which ends before drawing starts: on
    SQLite a transaction held open through a long render would keep every writer out.
    """
    app = current_app._get_current_object()
    token = _claim(app, job_id)
    if token is None:  # done, failed, or someone else holds a live lease
        return
    with Heartbeat(app, job_id, token):
        try:
            job = db.session.get(ReportJob, job_id)
            kind, params = job.kind, dict(job.params)
            data = render.gather_kind(kind, params, db.session.get(User, job.user_id))
            db.session.rollback()  # nothing was written: just end the read transaction
            pages = render.draw(kind, data, output_path(app, job_id))
        except Exception as exc:  # noqa: BLE001 - any failure is recorded for the poller
            db.session.rollback()
            log.exception("report job %s failed", job_id)
            error = getattr(exc, "message", None) or FAILED
            _finish(job_id, token, status="failed", error=error)
            return
    if not _finish(job_id, token, status="done", pages=pages):
        log.warning("report job %s: finished after its lease ran out; result left", job_id)


def visible_job(user: User, job_id: str) -> ReportJob:
    """The job if ``user`` may see it, revived first if its worker is gone."""
    job = db.session.get(ReportJob, job_id)
    if job is None or (job.user_id != user.id and job.scope != scope_of(user)):
        raise NotFound("报表任务不存在")
    return revive(job)


def job_view(job: ReportJob) -> dict:
    base = f"/api/v1/jobs/{job.id}"
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "pages": job.pages,
        "error": job.error,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "url": base,
        "download_url": f"{base}/file" if job.status == "done" else None,
    }
