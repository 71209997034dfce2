"""Running the Alembic migrations in migrations/ from the CLI and the tests."""

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import inspect

from inspect_app.config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser would treat % in a password as interpolation.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        cfg = alembic_config(str(engine.url))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine, revision: str = "base") -> None:
    with engine.begin() as connection:
        cfg = alembic_config(str(engine.url))
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def is_migrated(engine) -> bool:
    return inspect(engine).has_table("alembic_version")
