"""carepath's PostgreSQL connections run without JIT (`engine_factory.without_jit`), keeping the URL's
own options; a URL that sets `jit` itself is left alone. An engine with options (`with_options`: the
autocommit reads of every request) is made once per engine and shares its pool."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from integrations.db.engine_factory import create_db_engine, snapshot_read, with_options, without_jit


def test_the_url_options_gain_jit_off_and_keep_their_own() -> None:
    plain = without_jit(make_url("postgresql+psycopg://u@h/db"))
    assert plain.query["options"] == "-cjit=off"
    schema = without_jit(make_url("postgresql+psycopg://u@h/db?options=-csearch_path%3Dt1"))
    assert schema.query["options"] == "-csearch_path=t1 -cjit=off"
    chosen = make_url("postgresql+psycopg://u@h/db?options=-cjit%3Don")
    assert without_jit(chosen) == chosen


@pytest.mark.postgres
def test_connections_run_without_jit_in_their_schema(postgresql_db: Engine) -> None:
    engine = create_db_engine(postgresql_db.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW jit")).scalar_one() == "off"
            schema = make_url(postgresql_db.url).query["options"]
            assert f"-csearch_path={connection.execute(text('SHOW search_path')).scalar_one()}" in str(schema)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_an_engine_with_options_is_made_once_and_shares_the_pool_after_a_dispose(postgresql_db: Engine) -> None:
    engine = create_db_engine(postgresql_db.url.render_as_string(hide_password=False))
    try:
        autocommit = with_options(engine, isolation_level="AUTOCOMMIT")
        assert with_options(engine, isolation_level="AUTOCOMMIT") is autocommit
        assert with_options(engine, isolation_level="REPEATABLE READ") is not autocommit
        engine.dispose()  # a new pool: the kept engine uses it
        assert autocommit.pool is engine.pool
        with snapshot_read(engine) as session:
            assert session.connection().connection.driver_connection.autocommit is True  # type: ignore[union-attr]
            assert session.execute(text("SHOW jit")).scalar_one() == "off"
    finally:
        engine.dispose()
