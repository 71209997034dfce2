"""Settings read from the environment, with safe defaults for a laptop.

Names follow ../shared/API-CONTRACT.md: INSPECT_DATABASE_URL, INSPECT_MEDIA_DIR,
INSPECT_SECRET_KEY. Production (INSPECT_ENV=production) refuses to start
without a real secret.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSPECT_INSTANCE_DIR", PROJECT_ROOT / "instance"))

# Secrets that a copied example or a forgotten default would carry.
WEAK_SECRETS = {"", "dev", "changeme", "secret", "development", "test"}


class ConfigError(Exception):
    """A setting that keeps the service from starting; its message is one clear line."""


class Config:
    ENV = os.environ.get("INSPECT_ENV", "development")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "INSPECT_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'inspect.sqlite3'}"
    )
    MEDIA_DIR = os.environ.get("INSPECT_MEDIA_DIR", str(INSTANCE_DIR / "media"))
    SECRET_KEY = os.environ.get("INSPECT_SECRET_KEY", "")
    REDIS_URL = os.environ.get("INSPECT_REDIS_URL", "")
    CHECKLISTS_DIR = os.environ.get("INSPECT_CHECKLISTS_DIR", str(PROJECT_ROOT / "checklists"))
    NOTICES_DIR = os.environ.get(
        "INSPECT_NOTICES_DIR", str(PROJECT_ROOT.parent / "shared" / "campaigns")
    )
    # Seconds a checked login (and a checklist's current version) is remembered in each
    # app process; a token revoked through another process stops working within this time.
    AUTH_CACHE_SECONDS = float(os.environ.get("INSPECT_AUTH_CACHE_SECONDS", "5"))
    # The address phones reach this server at (https://inspect.example.org): the ODK Collect
    # server URL of an app key and the OpenRosa download links start with it. Unset: the
    # address the request was made to (behind a proxy, set it).
    PUBLIC_URL = os.environ.get("INSPECT_PUBLIC_URL", "").strip().rstrip("/")
    TOKEN_HOURS = int(os.environ.get("INSPECT_TOKEN_HOURS", "72"))
    # Bodies larger than this are refused with 413 (photos are the largest: 12 MP phone
    # JPEGs are 3-8 MB, HEIC less; 25 MB leaves room for a RAW-ish camera export).
    MAX_PHOTO_BYTES = int(os.environ.get("INSPECT_MAX_PHOTO_BYTES", str(25 * 1024 * 1024)))
    MAX_JSON_BYTES = int(os.environ.get("INSPECT_MAX_JSON_BYTES", str(2 * 1024 * 1024)))
    # Documents with more findings than this are made in the background (202 + job).
    REPORT_SYNC_MAX_FINDINGS = int(os.environ.get("INSPECT_REPORT_SYNC_MAX_FINDINGS", "300"))
    REPORT_QUEUE = os.environ.get("INSPECT_REPORT_QUEUE", "inspect-reports")
    # A background job's worker renews its lease while it runs; a job whose lease ran out
    # (its worker died) is handed out again, up to REPORT_JOB_ATTEMPTS times in all. A
    # queued job has REPORT_JOB_PICKUP_SECONDS to be taken by a worker.
    REPORT_JOB_LEASE_SECONDS = float(os.environ.get("INSPECT_REPORT_JOB_LEASE_SECONDS", "60"))
    REPORT_JOB_PICKUP_SECONDS = float(os.environ.get("INSPECT_REPORT_JOB_PICKUP_SECONDS", "600"))
    REPORT_JOB_ATTEMPTS = int(os.environ.get("INSPECT_REPORT_JOB_ATTEMPTS", "3"))
    # Escalation (督办, `inspect-app escalate`): step:day pairs, the day counted from the
    # deadline (-3: three days before it; 1: the first day it is past). remind tells the
    # responsible inspector, escalate the district's team leads, supervise the office
    # (and marks the finding 挂牌督办). Leave a step out to turn it off.
    ESCALATION_STEPS = os.environ.get(
        "INSPECT_ESCALATION_STEPS", "remind:-3,escalate:1,supervise:15"
    )
    # The Redis worker runs the escalation job this often (cron can run it instead).
    ESCALATION_INTERVAL_SECONDS = float(os.environ.get("INSPECT_ESCALATION_INTERVAL_SECONDS", "60"))
    # Webhook deliveries: a failed attempt waits BACKOFF × 2^(attempt-1) seconds (at most
    # an hour) before the next, up to WEBHOOK_ATTEMPTS attempts in all.
    WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("INSPECT_WEBHOOK_BACKOFF_SECONDS", "30"))
    WEBHOOK_ATTEMPTS = int(os.environ.get("INSPECT_WEBHOOK_ATTEMPTS", "8"))
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("INSPECT_WEBHOOK_TIMEOUT_SECONDS", "10"))
    TESTING = False
    JSON_SORT_KEYS = False

    # The dashboard's login (/dashboard): a signed session cookie holding a token of the
    # same kind as the API's, so logging out revokes it. Not readable by scripts, not sent
    # on cross-site requests, and only over HTTPS outside development.
    SESSION_COOKIE_NAME = "inspect_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = ENV != "development"
    # Only a response that changes the session sets the cookie: a thumbnail still loading
    # from the previous page must not bring back a cookie without the new page's message.
    SESSION_REFRESH_EACH_REQUEST = False
    DASHBOARD_SESSION_HOURS = int(os.environ.get("INSPECT_DASHBOARD_SESSION_HOURS", "12"))

    # flask-smorest / OpenAPI
    API_TITLE = "格尔木市专项整治现场检查 API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    # Swagger UI's files are served by the app itself (swagger-ui-bundle): no CDN needed.
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs-assets/"


class TestConfig(Config):
    TESTING = True
    # Tests change rows behind the app's back; the caches have their own tests.
    AUTH_CACHE_SECONDS = 0
    SECRET_KEY = "test-secret-key-not-for-production"


ESCALATION_STEP_NAMES = ("remind", "escalate", "supervise")


def escalation_steps(text: str) -> list[tuple[str, int]]:
    """``remind:-3,escalate:1,supervise:15`` as [(step, day)], in the order of the days."""
    steps: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, day = part.partition(":")
        name = name.strip()
        try:
            value = int(day.strip())
        except ValueError:
            value = None
        if name not in ESCALATION_STEP_NAMES or value is None or not -365 <= value <= 365:
            raise ConfigError(
                f"INSPECT_ESCALATION_STEPS 格式有误：「{part}」(expected step:day, step one of "
                f"{', '.join(ESCALATION_STEP_NAMES)}, day between -365 and 365)"
            )
        steps[name] = value
    return sorted(steps.items(), key=lambda item: item[1])


def check_settings(config: dict) -> None:
    """Refuse settings that would fail later in a confusing way."""
    escalation_steps(config.get("ESCALATION_STEPS", ""))
    secret = config.get("SECRET_KEY") or ""
    if config.get("ENV") == "production" and (secret in WEAK_SECRETS or len(secret) < 16):
        raise ConfigError(
            "INSPECT_SECRET_KEY 未设置或过于简单：生产环境需要至少 16 个字符的随机密钥"
            " (INSPECT_SECRET_KEY is missing or weak; production needs a random secret"
            " of 16+ characters)"
        )
    media = Path(config["MEDIA_DIR"])
    try:
        media.mkdir(parents=True, exist_ok=True)
        probe = media / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"照片目录不可写 (INSPECT_MEDIA_DIR is not writable): {media}: {exc.strerror}"
        ) from None
