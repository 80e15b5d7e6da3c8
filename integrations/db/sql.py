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

    from integrations.db import packed_json
    from integrations.db.json_codec import compact_json
    from integrations.db.models import PackedJson

    def jsonb(value: Any) -> Any:
        return Jsonb(value, dumps=compact_json)

    def same(value: Any) -> Any:
        return value

    def convert(column: Any) -> Any:
        if isinstance(column.type, PackedJson):
            return packed_json.pack  # bytea, packed (models.PackedJson)
        if isinstance(column.type, JSON) or isinstance(getattr(column.type, "impl", None), JSON):
            return jsonb  # JSON, and types over it (JSONB here)
        return same

    names = list(rows[0])
    converters = [convert(target.c[name]) for name in names]
    raw = connection.connection.driver_connection
    assert raw is not None
    columns = ", ".join(f'"{name}"' for name in names)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{target.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([None if row[name] is None else f(row[name])
                            for name, f in zip(names, converters, strict=True)])

