"""Small typed helpers over SQLAlchemy results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import JSON, Connection, CursorResult, Result, Table, insert


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (Session.execute types its result loosely)."""
    return int(cast(CursorResult[Any], result).rowcount)


def table(model: Any) -> Table:
    """The Core table of a mapped class (for prebuilt executemany statements)."""
    return cast(Table, model.__table__)


# Below this many rows an executemany INSERT is as cheap as a COPY.
COPY_MIN_ROWS = 50


def insert_many(connection: Connection, target: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys) in the connection's transaction.

    On PostgreSQL (psycopg 3) many rows go in with one COPY: executemany sends and tracks every row
    as its own statement, which costs more client CPU than the database work in the timer sweep.
    Values go to psycopg as they are (aware datetimes; JSON columns wrapped as Jsonb), so only
    columns without SQLAlchemy-side conversions beyond that may be used; elsewhere, and for few
    rows, it is a plain executemany.
    """
    if not rows:
        return
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg" or len(rows) < COPY_MIN_ROWS:
        connection.execute(insert(target), list(rows))
        return
    from psycopg.types.json import Jsonb

    from integrations.db.json_codec import compact_json

    names = list(rows[0])
    json_columns = {c.name for c in target.columns  # JSON, and types over it (JSONB here, packed on SQLite)
                    if isinstance(c.type, JSON) or isinstance(getattr(c.type, "impl", None), JSON)}
    wrap = [name in json_columns for name in names]
    raw = connection.connection.driver_connection
    assert raw is not None
    columns = ", ".join(f'"{name}"' for name in names)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{target.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([Jsonb(row[name], dumps=compact_json) if wrapped and row[name] is not None else row[name]
                            for name, wrapped in zip(names, wrap, strict=True)])

