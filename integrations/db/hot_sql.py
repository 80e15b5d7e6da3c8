"""The hot path's SQL, rendered once per dialect and run on the driver's own cursor.

Loading a case and saving a decision are most of what carepath does. Through SQLAlchemy's full
execution path each of their 6 to 10 statements cost more client CPU than the database spends on
it (profile in docs/benchmarks.md). Here each statement is a fixed SQL string per dialect (psycopg
prepares it on the server after a few runs), values are converted the way SQLAlchemy's column
types would store them (aware UTC datetimes; naive UTC text on SQLite; compact JSON), and the
statements run on the DBAPI cursor of the session's own connection, so they stay in the caller's
transaction. Everything else keeps going through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, Engine, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from integrations.db.json_codec import compact_json, parse_json
from integrations.db.models import UTCDateTime

Convert = Callable[[Any], Any]


def _sqlite_datetime(value: datetime | None) -> str | None:
    # The text SQLAlchemy's SQLite DateTime stores (naive UTC): range queries compare these strings.
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to the database; use UTC")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _pg_datetime(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to the database; use UTC")
    return value


def _sqlite_json(value: Any) -> str | None:
    return None if value is None else compact_json(value)


def _pg_json(value: Any) -> Any:
    if value is None:
        return None
    from psycopg.types.json import Jsonb

    return Jsonb(value, dumps=compact_json)


def _same(value: Any) -> Any:
    return value


class Dialect:
    """Placeholders and value conversions of one database."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.mark = "?" if name == "sqlite" else "%s"
        self.datetime: Convert = _sqlite_datetime if name == "sqlite" else _pg_datetime
        self.json: Convert = _sqlite_json if name == "sqlite" else _pg_json

    def converter(self, table: Table, column: str) -> Convert:
        kind = table.c[column].type
        if isinstance(kind, UTCDateTime):
            return self.datetime
        if isinstance(kind, JSON) or isinstance(getattr(kind, "impl", None), JSON):
            return self.json
        return _same

    def read_json(self, value: Any) -> Any:
        """A JSON column's value as read: SQLite gives text, psycopg the parsed document."""
        return parse_json(value) if isinstance(value, str | bytes) else value


@cache
def dialect(name: str) -> Dialect:
    return Dialect(name)


@cache
def _insert(name: str, table: Table, columns: tuple[str, ...]) -> tuple[str, tuple[Convert, ...]]:
    d = dialect(name)
    sql = (f'INSERT INTO {table.name} ({", ".join(columns)}) '
           f'VALUES ({", ".join(d.mark for _ in columns)})')
    return sql, tuple(d.converter(table, c) for c in columns)


@cache
def _update(name: str, table: Table, key: str, columns: tuple[str, ...],
            guard: str | None, returning: bool = False) -> tuple[str, tuple[Convert, ...]]:
    d = dialect(name)
    where = f"{key} = {d.mark}" + (f" AND {guard} = {d.mark}" if guard else "")
    sql = f'UPDATE {table.name} SET {", ".join(f"{c} = {d.mark}" for c in columns)} WHERE {where}'
    return sql + (f" RETURNING {key}" if returning else ""), tuple(d.converter(table, c) for c in columns)


def driver_cursor(session: Session) -> tuple[Any, str]:
    """The DBAPI cursor of the session's connection (its transaction begun) and the dialect name;
    one per transaction, kept in `session.info`."""
    transaction = session.get_transaction()
    kept = session.info.get("carepath_cursor")
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1], kept[2]
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    cursor, name = raw.cursor(), connection.dialect.name
    session.info["carepath_cursor"] = (session.get_transaction(), cursor, name)
    return cursor, name


def insert_rows(cursor: Any, name: str, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys) with one prepared statement."""
    if not rows:
        return
    columns = tuple(rows[0])
    sql, convert = _insert(name, table, columns)
    params = [tuple(f(row[c]) for f, c in zip(convert, columns, strict=True)) for row in rows]
    if len(params) == 1:
        cursor.execute(sql, params[0])
    else:
        cursor.executemany(sql, params)


def update_rows(cursor: Any, name: str, table: Table, rows: Sequence[Mapping[str, Any]], *, key: str = "id",
                guard: str | None = None, guard_values: Sequence[Any] = (), count: bool = False) -> int:
    """UPDATE each row by its `key` (and `guard = value`, one per row, when given). With `count` or a
    guard, the rows matched, read from `RETURNING` (in psycopg's pipeline mode reading a result sends
    what is queued and waits for it; a rowcount would not be there yet); otherwise `len(rows)`."""
    if not rows:
        return 0
    columns = tuple(c for c in rows[0] if c != key)
    counted = count or guard is not None
    sql, convert = _update(name, table, key, columns, guard, counted)
    params = []
    for i, row in enumerate(rows):
        values = [f(row[c]) for f, c in zip(convert, columns, strict=True)]
        values.append(row[key])
        if guard:
            values.append(guard_values[i])
        params.append(tuple(values))
    if not counted:
        if len(params) > 1:
            cursor.executemany(sql, params)  # psycopg pipelines these: one round trip for the lot
        else:
            cursor.execute(sql, params[0])
        return len(params)
    matched = 0
    for p in params:
        cursor.execute(sql, p)
        matched += len(cursor.fetchall())
    return matched


class RawTransaction:
    """A write transaction on a pooled DBAPI connection: its cursor and its dialect's name."""

    def __init__(self, cursor: Any, name: str) -> None:
        self.cursor = cursor
        self.name = name


def translated(engine: Engine, exc: Exception) -> Exception:
    """A driver error as SQLAlchemy would raise it, so callers handle one family of errors."""
    return DBAPIError.instance("(carepath hot path)", None, exc, engine.dialect.loaded_dbapi.Error,
                               dialect=engine.dialect)


@contextmanager
def raw_write(engine: Engine, *, pipeline: bool = True) -> Iterator[RawTransaction]:
    """One write transaction outside SQLAlchemy's execution path: BEGIN IMMEDIATE on SQLite (the
    write lock at once, as `write_session`), the driver's implicit transaction on PostgreSQL;
    committed when the block ends, rolled back when it raises. Driver errors come out as
    SQLAlchemy's (IntegrityError, OperationalError, ...).

    On PostgreSQL the transaction runs in psycopg's pipeline mode (unless `pipeline=False`): its
    statements go to the server without waiting for each answer, and a command's save costs two
    round trips (the statements up to the first result read, e.g. the case's version check; the
    rest with the COMMIT) instead of one per statement. A server error surfaces when the next result
    is read or at the commit, and rolls the whole transaction back."""
    name = engine.dialect.name
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            if name == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            if name == "postgresql" and pipeline:
                driver = connection.driver_connection
                assert driver is not None
                with driver.pipeline():
                    yield RawTransaction(cursor, name)
                    connection.commit()
            else:
                yield RawTransaction(cursor, name)
                connection.commit()
        except engine.dialect.loaded_dbapi.Error as exc:
            connection.rollback()
            raise translated(engine, exc) from exc
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()
    finally:
        connection.close()  # back to the pool
