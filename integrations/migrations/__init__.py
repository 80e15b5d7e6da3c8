"""Alembic migrations of the carepath database, run without an alembic.ini.

`upgrade_database(url)` brings a database to the newest schema; carepath calls
it on start, so an installation never runs on a schema older than its code.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from integrations.db.engine_factory import create_db_engine
from integrations.db.errors import SchemaOutOfDateError, StorageError

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database(url: str, engine: Engine | None = None) -> str:
    """Apply every pending migration to the database at `url`; returns the revision it is at."""
    config = alembic_config(url)
    owned = engine is None
    engine = engine or create_db_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        raise StorageError(f"could not upgrade the database at {engine.url!r}: {exc}") from exc
    finally:
        if owned:
            engine.dispose()
    if revision != head_revision():
        raise SchemaOutOfDateError(f"database at {engine.url!r} is at {revision}, expected {head_revision()}")
    return revision
