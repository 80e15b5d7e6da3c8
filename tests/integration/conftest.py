"""Database fixtures: every integration test runs on SQLite and on PostgreSQL.

Each test session gets its own SQLite file and its own PostgreSQL schema
(dropped at the end), migrated once; tables are emptied before every test, so
runs (and xdist workers) never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from engine.clock import ManualClock
from integrations.db.engine_factory import create_db_engine
from integrations.db.models import Base
from integrations.migrations import upgrade_database
from integrations.service import CaseService, build_service
from tests.fixtures.visits_pathway import YAML_PATH, visits_source

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Amsterdam
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def with_search_path(url: str, schema: str) -> str:
    """`url` with every connection working in `schema` (tables, alembic_version and all)."""
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'carepath.db'}"
    engine = create_db_engine(url)
    upgrade_database(url, engine)
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_database(postgres_server_url: str) -> Iterator[tuple[str, Engine]]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    schema = f"carepath_test_{worker}_{secrets.token_hex(4)}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = with_search_path(postgres_server_url, schema)
    engine = create_db_engine(url)
    try:
        upgrade_database(url, engine)
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest) -> tuple[str, Engine]:
    """(url, engine) of an empty, migrated database: SQLite, then PostgreSQL."""
    url, engine = request.getfixturevalue(f"{request.param}_database")
    empty_tables(engine)
    return url, engine


@pytest.fixture
def db(database: tuple[str, Engine]) -> Engine:
    return database[1]


@pytest.fixture
def sqlite_db(sqlite_database: tuple[str, Engine]) -> Engine:
    """The empty SQLite database alone, for what only SQLite does."""
    empty_tables(sqlite_database[1])
    return sqlite_database[1]


@pytest.fixture
def postgresql_db(postgresql_database: tuple[str, Engine]) -> Engine:
    """The empty PostgreSQL database alone, for what only PostgreSQL does (SKIP LOCKED, real concurrency)."""
    empty_tables(postgresql_database[1])
    return postgresql_database[1]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def make_service(url: str, engine: Engine, clock: ManualClock, data_dir: Path) -> CaseService:
    """The application service on a test database, with the test pathway published."""
    svc = build_service(url, clock, data_dir=data_dir, db=engine, publish_shipped=False)
    svc.publish_pathway(visits_source(), str(YAML_PATH))
    return svc


@pytest.fixture
def service(database: tuple[str, Engine], clock: ManualClock, data_dir: Path) -> CaseService:
    """The service on SQLite, then on PostgreSQL."""
    return make_service(*database, clock, data_dir)


@pytest.fixture
def pg_service(postgresql_database: tuple[str, Engine], clock: ManualClock, data_dir: Path) -> CaseService:
    """The service on PostgreSQL only (real concurrency)."""
    empty_tables(postgresql_database[1])
    return make_service(*postgresql_database, clock, data_dir)
