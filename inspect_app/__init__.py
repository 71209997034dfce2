"""Field inspection backend for Golmud's remediation campaigns (专项整治).

``create_app(config)`` builds the Flask application; it never creates or
migrates tables (``inspect-app init`` does, through Alembic).
"""

import sqlite3

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from inspect_app import input_rules
from inspect_app.auth.guard import authenticate_protected_view
from inspect_app.config import INSTANCE_DIR, Config, check_settings
from inspect_app.errors import error_response
from inspect_app.extensions import (
    READS_ONLY,
    SQLITE_BUSY_TIMEOUT_MS,
    SQLITE_WAL_PRAGMAS,
    db,
    keep_wal_bounded,
)
from inspect_app.json_provider import InspectJSONProvider


def create_app(config: type | dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=True)
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    app.json = InspectJSONProvider(app)
    _prepare_database_url(app)
    check_settings(app.config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _development_secret()

    db.init_app(app)
    with app.app_context():
        _configure_engine(db.engine)

    # The app factory imports the API, its blueprints and the error handlers when it runs,
    # not at package import: ``from inspect_app import domain`` must not load every area.
    from inspect_app.api import SPEC_KWARGS, InspectApi

    # One Api object per app: flask-smorest keeps the spec on it, and tests build many apps.
    api = InspectApi(app, spec_kwargs=SPEC_KWARGS)
    from inspect_app.routes import register_blueprints

    register_blueprints(app, api)

    from inspect_app.errors import register_error_handlers

    register_error_handlers(app)
    _register_request_rules(app)
    _register_transaction_boundary(app)
    return app


def _development_secret() -> str:
    """A random secret kept under instance/ so a laptop's sessions survive restarts.

    Only reached outside production: check_settings refuses production without one.
    """
    import secrets

    path = INSTANCE_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_hex(32)
        path.write_text(secret)
        path.chmod(0o600)
        return secret


def _prepare_database_url(app: Flask) -> None:
    url: str = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we install; a bare postgresql:// would ask for psycopg2.
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url.removeprefix(
            "postgresql://"
        )
    if url.startswith("sqlite"):
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        # Python's sqlite3 waits this long on a locked database before raising.
        options.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)


def _configure_engine(engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record):
        # WAL lets readers go on while a phone's inspection is written; foreign keys are
        # off by default in SQLite; the busy timeout makes writers queue instead of failing.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        for pragma in SQLITE_WAL_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()
        # The driver's own BEGIN is deferred; we issue BEGIN ourselves (below).
        dbapi_connection.isolation_level = None

    keep_wal_bounded(engine)

    @event.listens_for(engine, "begin")
    def _begin(connection):
        if connection.get_execution_options().get(READS_ONLY):
            # extensions.reads_outside_transaction: each SELECT on its own, no lock kept.
            return
        # A deferred transaction that reads, then writes after another writer committed,
        # fails at once with "database is locked" whatever the busy timeout. Requests that
        # write take the write lock up front instead, so concurrent writers queue. Hence
        # the rule "read, stream and check first; write last": the login check (and the
        # login brake) read outside this transaction, every body is in memory before the
        # view runs, and so the lock is taken only when the request is ready to write.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _writes() else "BEGIN")


def _writes() -> bool:
    if has_request_context():
        return request.method not in ("GET", "HEAD", "OPTIONS")
    return True


def _is_photo_upload() -> bool:
    return request.path.startswith("/api/v1/photos/")


def _is_form_submission() -> bool:
    # ODK Collect's and Enketo's posts carry photos: read by their view, under its limit.
    return (
        request.method == "POST"
        and request.path.startswith("/openrosa/")
        and request.path.endswith("/submission")
    )


# A notice PDF as received (checklist drafts, API and dashboard); notice_pdf checks it.
NOTICE_UPLOAD_BYTES = 21 * 1024 * 1024


def _is_notice_upload() -> bool:
    return request.method == "POST" and request.path in (
        "/api/v1/checklist-drafts",
        "/dashboard/drafts",
    )


def _register_request_rules(app: Flask) -> None:
    """What every request goes through before its view, in this order.

    1. a path holding NUL is no record's (404); 2. the caller is authenticated for a
    protected view (401/403), before anything of the body or query is looked at;
    3. the query and form obey the input rule (422); 4. the body is read into memory
    (bounded), so no view waits on the network once it has begun to write.
    """

    @app.before_request
    def _refuse_nul_in_path():
        # No record's key holds NUL, and PostgreSQL cannot even compare with one. Photo
        # names are checked as SHA-256 hashes instead (400).
        if "\x00" in request.path and not _is_photo_upload():
            return error_response(404, "not_found", "未找到该记录")
        return None

    app.before_request(authenticate_protected_view)

    @app.before_request
    def _input_rule_and_body():
        input_rules.check_texts(request.args.items(multi=True))
        if _is_photo_upload() or _is_form_submission():
            # Photos stream to disk under their own limit, after authentication.
            return
        # Every other body is JSON or a form, and small; a notice PDF may be larger.
        request.max_content_length = (
            NOTICE_UPLOAD_BYTES if _is_notice_upload() else app.config["MAX_JSON_BYTES"]
        )
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            input_rules.check_texts(request.form.items(multi=True))
        else:
            request.get_data(cache=True)


def _register_transaction_boundary(app: Flask) -> None:
    """One transaction per request: commit what succeeded, roll back anything that failed."""

    @app.after_request
    def _commit_or_rollback(response):
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except IntegrityError:
            # A concurrent request stored the same thing first (unique key): nothing of
            # this one is kept, and the phone's retry will find the other's record.
            db.session.rollback()
            return error_response(409, "conflict", "与同时提交的记录冲突，请重试")
        return response

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()
