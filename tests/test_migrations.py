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
