"""Migrations are the only way the schema is made; they go down and up cleanly on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from inspect_app import migrate
from inspect_app.extensions import db


def test_models_match_the_migrations(database_url):
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(database_url):
    engine = create_engine(database_url)
    migrate.downgrade(engine, "base")
    left = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert left == set()
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"campaigns", "findings", "rectification_events", "photos", "audit_log"} <= tables
    engine.dispose()


def test_app_start_does_not_create_tables(tmp_path):
    from inspect_app import create_app

    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "MEDIA_DIR": str(tmp_path)})
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()


def test_0008_gives_inspection_events_the_inspection_times(app, make_user, database_url):
    """Before 0008 the events of an inspection carried the time it was synced."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select, update

    from inspect_app.findings.models import Finding, RectificationEvent
    from inspect_app.inspections.models import Inspection
    from tests.factories import FOUND_AT, Factory

    factory = Factory(app)
    inspector = make_user("east", "inspector", ["东城区"])
    inspection = factory.inspection(factory.site("格尔木昆仑路加油站"), inspector)
    fixed = factory.finding(inspection, status="closed", fixed_on_spot=True)
    started = factory.finding(inspection, status="rectifying")
    finished = FOUND_AT + timedelta(minutes=35)
    synced = datetime(2025, 5, 13, 4, 40, tzinfo=UTC)
    events, findings = RectificationEvent.__table__, Finding.__table__

    engine = create_engine(database_url)
    migrate.downgrade(engine, "0007")
    with engine.begin() as connection:
        connection.execute(
            update(Inspection.__table__).values(finished_at=finished, started_at=FOUND_AT)
        )
        connection.execute(update(events).values(at=synced))
        connection.execute(update(findings).where(findings.c.id == fixed).values(closed_at=synced))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            select(events.c.finding_id, events.c.action, events.c.at, events.c.received_at)
        ).all()
        closed_at = connection.execute(
            select(findings.c.closed_at).where(findings.c.id == fixed)
        ).scalar()
    engine.dispose()
    times = {(row.finding_id, row.action): (row.at, row.received_at) for row in rows}
    assert times == {
        (fixed, "record"): (FOUND_AT, synced),
        (fixed, "fix_on_spot"): (finished, synced),
        (started, "record"): (FOUND_AT, synced),
        (started, "start"): (synced, synced),  # made on the server: nothing to correct
    }
    assert closed_at == finished
