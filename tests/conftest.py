"""Fixtures every test layer may use: where PostgreSQL is, and whether it must be there.

PostgreSQL tests use `CAREPATH_TEST_POSTGRES_URL` (default: the local server,
database `test`). When it does not answer they skip with a reason that says
so, except under `CAREPATH_REQUIRE_POSTGRES=1` (CI), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_test_url() -> str:
    return os.environ.get("CAREPATH_TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL


def postgres_required() -> bool:
    return os.environ.get("CAREPATH_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The PostgreSQL URL for tests, once it has answered; skips (or fails in CI) when it does not."""
    url = postgres_test_url()
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except SQLAlchemyError as exc:
        reason = f"PostgreSQL is unreachable at {url} (set CAREPATH_TEST_POSTGRES_URL): {type(exc).__name__}"
        if postgres_required():
            pytest.fail(f"{reason}; CAREPATH_REQUIRE_POSTGRES=1 makes PostgreSQL tests mandatory")
        pytest.skip(reason)
    finally:
        engine.dispose()
    yield url
