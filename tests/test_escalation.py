"""Escalation (督办): reminders before and after a deadline, 挂牌督办, each step once however
many runs overlap, and signed webhooks retried until the receiver takes them."""

import hashlib
import hmac
import json
import os
import subprocess
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from inspect_app.audit.models import AuditLog
from inspect_app.config import ConfigError, escalation_steps
from inspect_app.db_types import utcnow
from inspect_app.domain import today_shanghai
from inspect_app.escalation import webhooks
from inspect_app.escalation.models import Reminder, WebhookDelivery
from inspect_app.extensions import db
from inspect_app.findings.models import RectificationEvent
from tests.factories import Factory
from tests.support.server import BIN

STEPS = ("remind", "escalate", "supervise")


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def world(factory, make_user, login):
    ids = {
        "insp": make_user("insp", "inspector", ["东城区"]),
        "lead": make_user("lead", "team_lead", ["东城区"]),
        "lead_west": make_user("lead_west", "team_lead", ["西城区"]),
        "office": make_user("office", "office", []),
    }
    site = factory.site("昆仑路加油站", "东城区")
    inspection = factory.inspection(site, ids["insp"])
    return {"ids": ids, "inspection": inspection, "h": {n: login(n) for n in ids}}


def due(factory, world, days_from_today: int, status: str = "open") -> int:
    deadline = today_shanghai() + timedelta(days=days_from_today)
    return factory.finding(world["inspection"], status=status, deadline=deadline)


def steps_of(app) -> list[tuple[int, str]]:
    with app.app_context():
        return sorted(
            db.session.execute(
                select(RectificationEvent.finding_id, RectificationEvent.action).where(
                    RectificationEvent.action.in_(STEPS)
                )
            ).all()
        )


def run(app, **kwargs) -> dict:
    with app.app_context():
        try:
            return webhooks.escalate(app.config, **kwargs)
        finally:
            db.session.remove()


def test_each_step_reaches_its_people_on_its_day(app, client, factory, world):
    soon = due(factory, world, 2)  # within 3 days: remind the inspector
    later = due(factory, world, 5)  # not yet
    passed = due(factory, world, -1)  # first day past: the team lead
    long_past = due(factory, world, -20)  # and after 15 days the office, 挂牌督办
    waiting = due(factory, world, 1, status="pending_review")  # the lead's to review
    closed = due(factory, world, -20, status="closed")  # nothing

    counts = run(app)
    assert (counts["remind"], counts["escalate"], counts["supervise"]) == (1, 2, 1)
    assert steps_of(app) == sorted(
        [(soon, "remind"), (passed, "escalate"), (long_past, "escalate"), (long_past, "supervise")]
    )
    assert later not in dict(steps_of(app)) and closed not in dict(steps_of(app))
    assert waiting not in dict(steps_of(app))

    def reminders(who):
        answer = client.get("/api/v1/reminders", headers=world["h"][who])
        assert answer.status_code == 200
        return {(r["finding_id"], r["step"]) for r in answer.get_json()["items"]}

    assert reminders("insp") == {(soon, "remind")}
    assert reminders("lead") == {(passed, "escalate"), (long_past, "escalate")}
    assert reminders("lead_west") == set()
    assert reminders("office") == {(long_past, "supervise")}

    detail = client.get(f"/api/v1/findings/{long_past}", headers=world["h"]["office"]).get_json()
    assert detail["supervised"] is True
    assert detail["events"][-1]["action"] == "supervise"
    assert detail["events"][-1]["actor"]["display_name"] == "系统"
    assert "挂牌督办" in detail["events"][-1]["note"]
    assert (
        client.get(f"/api/v1/findings/{passed}", headers=world["h"]["office"]).get_json()[
            "supervised"
        ]
        is False
    )

    # The phone learns of its reminders through the feed.
    feed = client.get("/api/v1/sync", headers=world["h"]["insp"]).get_json()
    assert [(r["finding_id"], r["step"]) for r in feed["changes"]["reminders"]] == [
        (soon, "remind")
    ]
    assert "还剩 2 天" in feed["changes"]["reminders"][0]["message"]

    # A second run finds nothing left to do.
    assert run(app) == {"remind": 0, "escalate": 0, "supervise": 0, "delivered": 0, "failed": 0}
    assert len(steps_of(app)) == 4


def test_an_extended_deadline_starts_the_steps_again(app, client, factory, world):
    finding = due(factory, world, -2)
    run(app)
    extended = client.post(
        f"/api/v1/findings/{finding}/events",
        json={"action": "extend", "note": "设备到货延迟", "deadline": today_shanghai().isoformat()},
        headers=world["h"]["lead"],
    )
    assert extended.status_code == 200, extended.get_json()
    run(app)
    assert steps_of(app) == [(finding, "escalate"), (finding, "remind")]


def test_steps_and_days_are_settings(app, factory, world):
    app.config["ESCALATION_STEPS"] = "escalate:3"
    due(factory, world, -2)
    far = due(factory, world, -3)
    assert run(app)["escalate"] == 1
    assert steps_of(app) == [(far, "escalate")]
    assert escalation_steps("supervise:10, remind:-1") == [("remind", -1), ("supervise", 10)]
    for bad in ("remind", "remind:x", "nudge:1", "remind:-400"):
        with pytest.raises(ConfigError):
            escalation_steps(bad)


def many_due(factory, world, n: int) -> None:
    for k in range(n):
        due(factory, world, [2, -1, -16][k % 3])


def assert_each_step_once(app, n: int) -> None:
    events = steps_of(app)
    assert len(events) == len(set(events))
    per_kind = {step: sum(1 for _, a in events if a == step) for step in STEPS}
    # remind: n/3 findings; escalate: both past groups; supervise: the 16-day group.
    assert per_kind == {"remind": n // 3, "escalate": 2 * n // 3, "supervise": n // 3}
    with app.app_context():
        reminders = db.session.execute(select(Reminder.event_id, Reminder.user_id)).all()
    assert len(reminders) == len(set(reminders)) == len(events)  # one person told per step


def test_two_runs_at_once_make_each_step_exactly_once(app, factory, world):
    n = 30
    many_due(factory, world, n)
    start = threading.Barrier(2)
    results, errors = [], []

    def one_run():
        try:
            with app.app_context():
                start.wait()
                results.append(webhooks.escalate(app.config))
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sum(r["remind"] + r["escalate"] + r["supervise"] for r in results) == 4 * n // 3
    assert_each_step_once(app, n)


def test_two_escalate_commands_at_once(app, database_url, media_dir, tmp_path, factory, world):
    n = 12
    many_due(factory, world, n)
    env = {
        "INSPECT_DATABASE_URL": database_url,
        "INSPECT_MEDIA_DIR": str(media_dir),
        "INSPECT_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")}, **env}
    processes = [
        subprocess.Popen(
            [str(BIN), "escalate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert all("临期提醒" in out.decode() for out, _ in outputs)
    assert_each_step_once(app, n)


# ---------------------------------------------------------------------------
# Webhooks


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers 500 to the first two attempts of each
    event, then 200; it keeps every request it got."""

    def __init__(self, secret: str):
        self.secret = secret
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    event = self.headers["X-Inspect-Event"]
                    tries = sum(1 for r in receiver.requests if r["event"] == event)
                    status = 500 if tries < 2 else 200
                    receiver.requests.append(
                        {
                            "event": event,
                            "status": status,
                            "body": body,
                            "timestamp": self.headers["X-Inspect-Timestamp"],
                            "signature": self.headers["X-Inspect-Signature"],
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/robot/send?key=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def accepted(self) -> list[dict]:
        return [r for r in self.requests if r["status"] == 200]

    def valid(self, request: dict) -> bool:
        expected = hmac.new(
            self.secret.encode(),
            request["timestamp"].encode() + b"." + request["body"],
            hashlib.sha256,
        ).hexdigest()
        return hmac.compare_digest(request["signature"], f"sha256={expected}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver("a-shared-secret-of-the-office-2025")
    yield r
    r.close()


def test_a_receiver_that_fails_twice_gets_each_event_once_signed(
    app, client, factory, world, receiver
):
    made = client.post(
        "/api/v1/webhooks",
        json={"name": "专项办企业微信群", "url": receiver.url, "secret": receiver.secret},
        headers=world["h"]["office"],
    )
    assert made.status_code == 201, made.get_json()
    assert "secret" not in made.get_json()
    soon, past = due(factory, world, 1), due(factory, world, -1)

    t0 = utcnow()
    first = run(app, now=t0)
    assert (first["delivered"], first["failed"]) == (0, 2)
    assert run(app, now=t0 + timedelta(seconds=10))["failed"] == 0  # backing off (30 s)
    assert run(app, now=t0 + timedelta(seconds=31))["failed"] == 2
    assert run(app, now=t0 + timedelta(seconds=60))["failed"] == 0  # now 60 s
    third = run(app, now=t0 + timedelta(seconds=92))
    assert (third["delivered"], third["failed"]) == (2, 0)
    assert run(app, now=t0 + timedelta(hours=5)) == {
        "remind": 0,
        "escalate": 0,
        "supervise": 0,
        "delivered": 0,
        "failed": 0,
    }

    accepted = receiver.accepted()
    assert len(accepted) == 2
    assert len({r["event"] for r in accepted}) == 2  # each event once
    assert len(receiver.requests) == 6
    assert all(receiver.valid(r) for r in receiver.requests)
    payloads = [json.loads(r["body"]) for r in accepted]
    assert {(p["finding"]["id"], p["event"]["step"]) for p in payloads} == {
        (soon, "remind"),
        (past, "escalate"),
    }
    assert all(p["msgtype"] == "text" and "昆仑路加油站" in p["text"]["content"] for p in payloads)
    tampered = {**accepted[0], "body": accepted[0]["body"].replace(b"}", b" }", 1)}
    assert not receiver.valid(tampered)

    log = client.get(
        f"/api/v1/webhooks/{made.get_json()['id']}/deliveries", headers=world["h"]["office"]
    ).get_json()["items"]
    assert [(d["status"], d["attempts"]) for d in log] == [("delivered", 3), ("delivered", 3)]
    assert [[a["status_code"] for a in d["log"]] for d in log] == [[500, 500, 200]] * 2


def test_two_runs_at_once_send_each_attempt_once(app, client, factory, world, receiver):
    client.post(
        "/api/v1/webhooks",
        json={"name": "钉钉机器人", "url": receiver.url, "secret": receiver.secret},
        headers=world["h"]["office"],
    )
    for _ in range(6):
        due(factory, world, -1)
    start = threading.Barrier(2)
    t0 = utcnow()

    def one_run(at):
        with app.app_context():
            start.wait()
            webhooks.escalate(app.config, now=at)
            db.session.remove()

    for at in (t0, t0 + timedelta(seconds=31), t0 + timedelta(seconds=92)):
        threads = [threading.Thread(target=one_run, args=(at,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert len(receiver.requests) == 18  # 6 events × 3 attempts, none twice
    assert sorted(r["event"] for r in receiver.accepted()) == sorted(
        {r["event"] for r in receiver.requests}
    )
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == "delivered")
            )
            == 6
        )


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("insp", {"name": "群", "url": "https://example.org/hook", "secret": "s" * 20}, 403),
        ("lead", {"name": "群", "url": "https://example.org/hook", "secret": "s" * 20}, 403),
        ("office", {"name": "群", "url": "ftp://example.org/hook", "secret": "s" * 20}, 422),
        ("office", {"name": "群", "url": "https://example.org/hook", "secret": "short"}, 422),
        ("office", {"name": "群", "url": "https://example.org/hook", "secret": "s" * 20}, 201),
    ],
)
def test_who_may_configure_webhooks(client, world, who, body, status):
    answer = client.post("/api/v1/webhooks", json=body, headers=world["h"][who])
    assert answer.status_code == status, answer.get_json()
    listed = client.get("/api/v1/webhooks", headers=world["h"][who])
    assert listed.status_code == (200 if who == "office" else 403)


def test_the_database_refuses_a_second_event_of_a_step(app, factory, world):
    """The guarantee under the job's own care: a unique index, on both databases."""
    finding = due(factory, world, -1)
    run(app)
    with app.app_context():
        first = db.session.scalar(
            select(RectificationEvent).where(RectificationEvent.action == "escalate")
        )
        db.session.add(
            RectificationEvent(
                finding_id=finding,
                action="escalate",
                from_status="open",
                to_status="open",
                actor_id=None,
                deadline=first.deadline,
                photos=[],
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_disabled_webhook_gets_nothing_new_and_keeps_its_log(app, client, factory, world):
    made = client.post(
        "/api/v1/webhooks",
        json={"name": "群", "url": "http://127.0.0.1:9/none", "secret": "s" * 20},
        headers=world["h"]["office"],
    ).get_json()
    due(factory, world, -1)
    run(app)
    gone = client.delete(f"/api/v1/webhooks/{made['id']}", headers=world["h"]["office"])
    assert gone.status_code == 204
    due(factory, world, -2)
    run(app)
    log = client.get(
        f"/api/v1/webhooks/{made['id']}/deliveries", headers=world["h"]["office"]
    ).get_json()["items"]
    assert len(log) == 1 and log[0]["attempts"] == 1 and log[0]["log"][0]["status_code"] is None
    assert client.delete("/api/v1/webhooks/999", headers=world["h"]["office"]).status_code == 404
    with app.app_context():
        actions = db.session.scalars(
            select(AuditLog.action).where(AuditLog.object_type == "webhook")
        ).all()
    assert sorted(actions) == ["webhook.create", "webhook.disable"]


def test_the_redis_worker_runs_the_escalation_job(
    app, database_url, media_dir, tmp_path, factory, world
):
    redis_url = os.environ.get("INSPECT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(redis_url).ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis not reachable at {redis_url}: {exc}")
        pytest.skip(f"Redis not reachable at {redis_url}")
    finding = due(factory, world, -1)
    queue = f"inspect-test-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")},
        "INSPECT_DATABASE_URL": database_url,
        "INSPECT_MEDIA_DIR": str(media_dir),
        "INSPECT_INSTANCE_DIR": str(tmp_path / "instance"),
        "INSPECT_REDIS_URL": redis_url,
        "INSPECT_REPORT_QUEUE": queue,
        "INSPECT_ESCALATION_INTERVAL_SECONDS": "1",
    }
    errors = tmp_path / "worker.log"
    with open(errors, "wb") as log:
        worker = subprocess.Popen([str(BIN), "worker"], env=env, stdout=log, stderr=log)
    try:
        for _ in range(600):  # until the worker's first run has committed
            if steps_of(app):
                break
            assert worker.poll() is None, errors.read_text()
            time.sleep(0.1)
        assert steps_of(app) == [(finding, "escalate")]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        redis.Redis.from_url(redis_url).delete(f"rq:queue:{queue}")
