"""The escalation job (`inspect-app escalate`) and its webhook deliveries.

``escalate`` makes the due steps in one transaction and commits, then sends what is
due to the office's webhooks, outside any transaction: a slow receiver holds no lock.
Each delivery is claimed before it is sent (a conditional UPDATE on its attempt
count, committed), so two overlapping runs never send the same attempt twice. A failed
attempt is retried after ``WEBHOOK_BACKOFF_SECONDS`` × 2^(attempt-1), at most an hour,
up to ``WEBHOOK_ATTEMPTS`` attempts; every attempt is logged on the delivery.

Each request is signed: ``X-Inspect-Signature: sha256=<hex>``, the HMAC-SHA256 with the
webhook's secret of ``<X-Inspect-Timestamp>.<body>``; ``X-Inspect-Delivery`` and
``X-Inspect-Event`` let a receiver drop a repeat.
"""

import hashlib
import hmac
import logging
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select, update

from inspect_app.db_types import utcnow
from inspect_app.escalation import services
from inspect_app.escalation.models import Webhook, WebhookDelivery
from inspect_app.extensions import db

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def escalate(config: dict, *, now: datetime | None = None) -> dict:
    """One run: the due steps (committed), then the due webhook deliveries."""
    now = now or utcnow()
    try:
        counts = services.run(config["ESCALATION_STEPS"], now=now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    counts["delivered"], counts["failed"] = deliver_due(config, now=now)
    return counts


def _backoff(config: dict, attempts: int) -> timedelta:
    seconds = config["WEBHOOK_BACKOFF_SECONDS"] * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


def deliver_due(config: dict, *, now: datetime | None = None) -> tuple[int, int]:
    """Send every pending delivery whose time has come; (accepted, failed attempts)."""
    now = now or utcnow()
    due = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id)
    ).all()
    db.session.commit()
    accepted = failed = 0
    for delivery_id, attempts in due:
        # Claimed by moving the attempt count on; a run that read the same count loses.
        hold = now + timedelta(seconds=config["WEBHOOK_TIMEOUT_SECONDS"] * 2 + 5)
        claimed = db.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.attempts == attempts,
                WebhookDelivery.status == "pending",
            )
            .values(attempts=attempts + 1, next_attempt_at=hold)
        ).rowcount
        if not claimed:
            db.session.rollback()
            continue
        delivery, hook = db.session.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id == delivery_id)
        ).one()
        payload, url, secret, event_id = delivery.payload, hook.url, hook.secret, delivery.event_id
        db.session.commit()
        status_code, error = _send(config, url, secret, delivery_id, event_id, payload)
        entry = {"at": utcnow().isoformat(), "status_code": status_code, "error": error}
        delivery = db.session.get(WebhookDelivery, delivery_id)
        delivery.log = [*delivery.log, entry]
        if error is None:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
                "delivered",
                utcnow(),
                None,
            )
            accepted += 1
        else:
            failed += 1
            if delivery.attempts >= config["WEBHOOK_ATTEMPTS"]:
                delivery.status, delivery.next_attempt_at = "failed", None
            else:
                delivery.next_attempt_at = now + _backoff(config, delivery.attempts)
        db.session.commit()
    return accepted, failed


def _send(config, url, secret, delivery_id, event_id, payload) -> tuple[int | None, str | None]:
    """POST the payload; (HTTP status, None) when accepted (2xx), else why not."""
    body = payload.encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "inspect-app-webhook/1",
            "X-Inspect-Timestamp": timestamp,
            "X-Inspect-Signature": signature(secret, timestamp, body),
            "X-Inspect-Delivery": str(delivery_id),
            "X-Inspect-Event": str(event_id),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=config["WEBHOOK_TIMEOUT_SECONDS"]) as answer:
            return answer.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, str(reason)[:300]


def start_periodic(app: Flask) -> threading.Thread:
    """Run ``escalate`` every ``ESCALATION_INTERVAL_SECONDS`` beside the Redis worker.

    Every worker may run it: overlapping runs make each step once all the same.
    """

    def loop() -> None:
        while True:
            with app.app_context():
                try:
                    escalate(app.config)
                except Exception:  # noqa: BLE001 - the next minute tries again
                    log.exception("escalation run failed")
                finally:
                    db.session.remove()
            time.sleep(app.config["ESCALATION_INTERVAL_SECONDS"])

    thread = threading.Thread(target=loop, name="inspect-escalation", daemon=True)
    thread.start()
    return thread
