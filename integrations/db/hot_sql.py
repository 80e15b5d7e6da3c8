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

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Engine, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from integrations.db import packed_json
from integrations.db.json_codec import compact_json
from integrations.db.models import MomentMicros, PackedJson, UTCDateTime, micros_of

Convert = Callable[[Any], Any]


@lru_cache(maxsize=8192)
def _sqlite_utc_text(value: datetime) -> str:
    return value.isoformat(" ", "microseconds")[:-6]


def _sqlite_datetime(value: datetime | None) -> str | None:
    # The text SQLAlchemy's SQLite DateTime stores (naive UTC): range queries compare these strings.
    if value is None:
        return None
    if value.tzinfo is UTC:  # the engine's moments: the text without its "+00:00", remembered (the
        return _sqlite_utc_text(value)  # same moments recur in a command's rows and the next command's)
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


def _sqlite_micros(value: datetime | None) -> int | None:
    return None if value is None else micros_of(value)


def _packed(value: Any) -> bytes | None:
    return None if value is None else packed_json.pack(value)


def _packed_text(value: Any) -> str | None:
    """A packed document as bytea's text form (`\\x` and hex), for a JSON array of rows
    (`_rows_json`: json_populate_recordset reads a bytea column's value as that text)."""
    return None if value is None else "\\x" + packed_json.pack(value).hex()


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
        self.micros: Convert = _sqlite_micros if name == "sqlite" else _pg_datetime
        self.packed: Convert = _packed  # BLOB on SQLite, bytea on PostgreSQL (models.PackedJson)

    def converter(self, table: Table, column: str) -> Convert:
        kind = table.c[column].type
        if isinstance(kind, MomentMicros):
            return self.micros
        if isinstance(kind, UTCDateTime):
            return self.datetime
        if isinstance(kind, PackedJson):
            return self.packed
        if isinstance(kind, JSON) or isinstance(getattr(kind, "impl", None), JSON):
            return self.json
        return _same

    def read_json(self, value: Any) -> Any:
        """A JSON column's value as read: SQLite gives text, or bytes where the column is packed
        (packed_json); psycopg the parsed document."""
        return packed_json.unpack(value) if isinstance(value, str | bytes) else value


@cache
def dialect(name: str) -> Dialect:
    return Dialect(name)


@cache
def _insert(name: str, table: Table, columns: tuple[str, ...]) -> tuple[str, tuple[Convert, ...]]:
    d = dialect(name)
    sql = (f'INSERT INTO {table.name} ({", ".join(columns)}) '
           f'VALUES ({", ".join(d.mark for _ in columns)})')
    return sql, tuple(d.converter(table, c) for c in columns)


RowValues = Callable[[Mapping[str, Any]], Sequence[Any]]


@cache
def _values(name: str, table: Table, columns: tuple[str, ...]) -> RowValues:
    """A row (dict) to its parameter values in `columns` order, converted: the columns read in one
    C call, only the datetime and JSON columns converted (most columns need nothing)."""
    d = dialect(name)
    get = itemgetter(*columns)
    converted = tuple((i, f) for i, f in enumerate(d.converter(table, c) for c in columns) if f is not _same)
    if len(columns) == 1:
        only = converted[0][1] if converted else _same
        return lambda row: (only(row[columns[0]]),)

    def values(row: Mapping[str, Any]) -> Sequence[Any]:
        found = list(get(row))
        for i, f in converted:
            found[i] = f(found[i])
        return found

    return values


@cache
def _insert_json(table: Table, columns: tuple[str, ...], upsert_key: str | None = None) -> str:
    """PostgreSQL: one INSERT of any number of rows sent as one JSON array of objects (one statement
    text whatever the count: psycopg parses it once, the server prepares it; one parameter, written by
    orjson, instead of a parameter per value); with `upsert_key`, rows whose key exists are updated."""
    names = ", ".join(columns)
    sql = f"INSERT INTO {table.name} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{table.name}, %s::json)"
    return sql + _on_conflict(columns, upsert_key)


def _on_conflict(columns: tuple[str, ...], upsert_key: str | None) -> str:
    """The upsert clause: update every column but the key's (`upsert_key` may name several columns,
    "case_id, track_id")."""
    if upsert_key is None:
        return ""
    keys = {k.strip() for k in upsert_key.split(",")}
    return (f" ON CONFLICT ({upsert_key}) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in keys))


@cache
def _moment_columns(table: Table, columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in columns if isinstance(table.c[c].type, UTCDateTime))


@cache
def _packed_columns(table: Table, columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in columns if isinstance(table.c[c].type, PackedJson))


def _rows_json(table: Table, columns: tuple[str, ...], rows: Sequence[Mapping[str, Any]]) -> str:
    moments = _moment_columns(table, columns)
    for row in rows:
        for c in moments:
            _pg_datetime(row[c])  # refuses a naive datetime, as the column type does
    if packed := _packed_columns(table, columns):  # new rows: the caller's stay as they are
        rows = [{**row, **{c: _packed_text(row[c]) for c in packed}} for row in rows]
    try:
        return orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # an integer beyond 64 bits (json_codec)
        return json.dumps(rows, separators=(",", ":"), ensure_ascii=False,
                          default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


@cache
def _update(name: str, table: Table, key: str, columns: tuple[str, ...],
            guard: str | None, returning: bool = False, also: str | None = None) -> tuple[str, tuple[Convert, ...]]:
    d = dialect(name)
    keys = _key_columns(key)
    where = " AND ".join(f"{k} = {d.mark}" for k in keys) + (f" AND {guard} = {d.mark}" if guard else "") + (
        f" AND {also}" if also else "")
    sql = f'UPDATE {table.name} SET {", ".join(f"{c} = {d.mark}" for c in columns)} WHERE {where}'
    return sql + (f" RETURNING {keys[0]}" if returning else ""), tuple(d.converter(table, c) for c in columns)


@cache
def _key_columns(key: str) -> tuple[str, ...]:
    """The columns of a key as the writers here name it: "id", or several ("case_id, track_id")."""
    return tuple(part.strip() for part in key.split(","))


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
    """INSERT `rows` (dicts with the same keys): on SQLite one prepared statement run for each row
    (executemany, a loop in C); on PostgreSQL one statement carrying every row (in pipeline mode each
    statement costs client CPU, and executemany sends one per row)."""
    if not rows:
        return
    columns = tuple(rows[0])
    if name == "postgresql" and len(rows) > 1:
        cursor.execute(_insert_json(table, columns), (_rows_json(table, columns, rows),))
        return
    sql, _ = _insert(name, table, columns)
    values = _values(name, table, columns)
    if len(rows) == 1:
        cursor.execute(sql, values(rows[0]))
    else:
        cursor.executemany(sql, [values(row) for row in rows])


def upsert_rows(cursor: Any, name: str, table: Table, rows: Sequence[Mapping[str, Any]], *, key: str = "id") -> None:
    """INSERT whole rows, or UPDATE every column but `key` where a row with that key exists: one
    statement for new and changed rows of a table together (`INSERT ... ON CONFLICT DO UPDATE`).
    `key` may name several columns ("case_id, track_id"). No key may appear twice in `rows`.
    On SQLite one prepared statement run for each row (executemany: no limit on parameters)."""
    if not rows:
        return
    columns = tuple(rows[0])
    if name == "postgresql":
        cursor.execute(_insert_json(table, columns, key), (_rows_json(table, columns, rows),))
        return
    sql, _ = _insert(name, table, columns)
    values = _values(name, table, columns)
    cursor.executemany(sql + _on_conflict(columns, key), [values(row) for row in rows])


def update_rows(cursor: Any, name: str, table: Table, rows: Sequence[Mapping[str, Any]], *, key: str = "id",
                guard: str | None = None, guard_values: Sequence[Any] = (), count: bool = False) -> int:
    """UPDATE each row by its `key`, which may name several columns ("case_id, track_id"), and
    `guard = value`, one per row, when given. With `count` or a
    guard, the rows matched, read from `RETURNING` (in psycopg's pipeline mode reading a result sends
    what is queued and waits for it; a rowcount would not be there yet); otherwise `len(rows)`."""
    if not rows:
        return 0
    keys = _key_columns(key)
    columns = tuple(c for c in rows[0] if c not in keys)
    counted = count or guard is not None
    sql, _ = _update(name, table, key, columns, guard, counted)
    row_values = _values(name, table, columns)
    params = []
    for i, row in enumerate(rows):
        values = list(row_values(row))
        values.extend(row[k] for k in keys)
        if guard:
            values.append(guard_values[i])
        params.append(values)
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


# The SQLSTATE of a failed version check on PostgreSQL (`update_guarded`): division_by_zero, which
# nothing else the hot path sends can raise.
STALE_SQLSTATE = "22012"


@cache
def _guarded(name: str, table: Table, key: str, columns: tuple[str, ...], guard: str, also: str | None) -> str:
    sql, _ = _update(name, table, key, columns, guard, True, also)
    if name != "postgresql":
        return sql
    # The count of updated rows divides 1: no row (the guard failed) is a server error that aborts the
    # transaction, so nothing needs to wait for this statement's answer before the rest is sent.
    return f"WITH changed AS ({sql}) SELECT 1 / count(*) FROM changed"


def update_many_guarded(cursor: Any, table: Table, rows: Sequence[Mapping[str, Any]], guards: Sequence[Any], *,
                        key: str, guard: str) -> int:
    """PostgreSQL: UPDATE many rows by their `key`, each only `WHERE guard = ` its value in `guards`
    (an optimistic lock per row), as one statement whatever the count: the rows go as one JSON
    array (as `_insert_json`), so the server parses, plans and runs one statement instead of one a
    row. Returns how many rows matched (the caller compares it with `len(rows)`)."""
    if not rows:
        return 0
    columns = tuple(c for c in rows[0] if c != key)
    sql = _update_json(table, key, columns, guard)
    documents = [{**row, _GUARD_FIELD: value} for row, value in zip(rows, guards, strict=True)]
    cursor.execute(sql, (_rows_json(table, (*columns, key), documents),))
    return int(cursor.rowcount)


_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]
_GUARD_FIELD = "carepath_guard"  # beside the row's own columns in each JSON object (no column has the name)


@cache
def _update_json(table: Table, key: str, columns: tuple[str, ...], guard: str) -> str:
    assigned = ", ".join(f"{c} = v.{c}" for c in columns)
    guard_type = table.c[guard].type.compile(dialect=_POSTGRESQL)
    return (f"UPDATE {table.name} AS t SET {assigned} FROM (SELECT r.*, (e ->> '{_GUARD_FIELD}')::{guard_type} "
            f"AS {_GUARD_FIELD} FROM json_array_elements(%s::json) AS e, "
            f"json_populate_record(NULL::{table.name}, e) AS r) AS v "
            f"WHERE t.{key} = v.{key} AND t.{guard} = v.{_GUARD_FIELD}")


def update_guarded(cursor: Any, name: str, table: Table, row: Mapping[str, Any], *, key: str, guard: str,
                   guard_value: Any, also: str | None = None) -> bool:
    """UPDATE one row by its `key` only `WHERE guard = guard_value` (an optimistic lock) and, when
    given, `also` holds (a fixed SQL condition without parameters).

    SQLite: False when no row matched (read from RETURNING). PostgreSQL: True without waiting for an
    answer; when no row matched the server raises an error with `STALE_SQLSTATE` (at once outside
    pipeline mode, else when the next result is read or at the commit) and the transaction is rolled
    back, so a save is one round trip: every statement and the COMMIT go out together (`is_stale`)."""
    columns = tuple(c for c in row if c != key)
    values = list(_values(name, table, columns)(row))
    values.append(row[key])
    values.append(guard_value)
    cursor.execute(_guarded(name, table, key, columns, guard, also), values)
    if name == "postgresql":
        return True
    return bool(cursor.fetchall())


Write = tuple[Table, Sequence[Mapping[str, Any]], str | None]  # a table, whole rows, the upsert key (or None)
Delete = tuple[Table, str, Sequence[Any]]  # a table, its key column, the keys of the rows to delete


def delete_keys(cursor: Any, name: str, table: Table, key: str, keys: Sequence[Any]) -> None:
    """DELETE the rows of `table` whose `key` is one of `keys`: one statement (on SQLite one for each
    500 keys, its limit on parameters)."""
    if not keys:
        return
    if name == "postgresql":
        cursor.execute(f"DELETE FROM {table.name} WHERE {key} = ANY(%s)", (list(keys),))
        return
    for start in range(0, len(keys), 500):  # within SQLite's limit on parameters
        chunk = list(keys[start:start + 500])
        cursor.execute(f"DELETE FROM {table.name} WHERE {key} IN ({', '.join('?' for _ in chunk)})", chunk)


def write_together(cursor: Any, table: Table, row: Mapping[str, Any], *, key: str, guard: str, guard_value: Any,
                   writes: Sequence[Write], deletes: Sequence[Delete] = (), also: str | None = None) -> None:
    """PostgreSQL: `update_guarded`, the inserts (or upserts) of `writes` and the deletes of `deletes`
    as one statement, each a data-modifying WITH query: one statement to parse, bind and run on each
    side instead of one a table. A failed guard is the same `STALE_SQLSTATE` error, and takes the
    statement's other writes with it. No row may be written twice (each WITH query sees the database
    as the statement began): a table's upserted and deleted rows must differ."""
    columns = tuple(c for c in row if c != key)
    params = list(_values("postgresql", table, columns)(row))
    params += [row[key], guard_value]
    present = []
    for target, rows, upsert_key in writes:
        if rows:
            names = tuple(rows[0])
            present.append((target, names, upsert_key))
            params.append(_rows_json(target, names, rows))
    gone = []
    for target, column, keys in deletes:
        if keys:
            gone.append((target, column))
            params.append(list(keys))
    cursor.execute(_together(table, key, columns, guard, tuple(present), tuple(gone), also), params)


@cache
def _together(table: Table, key: str, columns: tuple[str, ...], guard: str,
              writes: tuple[tuple[Table, tuple[str, ...], str | None], ...],
              deletes: tuple[tuple[Table, str], ...] = (), also: str | None = None) -> str:
    update, _ = _update("postgresql", table, key, columns, guard, True, also)
    queries = [f"changed AS ({update})"]
    queries += [f"w{i} AS ({_insert_json(target, names, upsert_key)})"
                for i, (target, names, upsert_key) in enumerate(writes)]
    queries += [f"d{i} AS (DELETE FROM {target.name} WHERE {column} = ANY(%s))"
                for i, (target, column) in enumerate(deletes)]
    return f"WITH {', '.join(queries)} SELECT 1 / count(*) FROM changed"


def insert_together(cursor: Any, writes: Sequence[Write]) -> None:
    """PostgreSQL: the inserts (or upserts) of `writes` as one statement (data-modifying WITH queries,
    foreign keys checked at its end: a parent row and its children may go in together). No table
    may be written twice."""
    present: list[tuple[Table, tuple[str, ...], str | None]] = []
    params: list[Any] = []
    for target, rows, upsert_key in writes:
        if rows:
            names = tuple(rows[0])
            present.append((target, names, upsert_key))
            params.append(_rows_json(target, names, rows))
    if present:
        cursor.execute(_inserted_together(tuple(present)), params)


@cache
def _inserted_together(writes: tuple[tuple[Table, tuple[str, ...], str | None], ...]) -> str:
    *first, last = [_insert_json(target, names, upsert_key) for target, names, upsert_key in writes]
    if not first:
        return last
    return f"WITH {', '.join(f'w{i} AS ({sql})' for i, sql in enumerate(first))} {last}"


def is_stale(exc: BaseException) -> bool:
    """The error is `update_guarded`'s failed version check (PostgreSQL), as raised by the driver or
    translated (SQLAlchemy's DBAPIError wrapping it)."""
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) == STALE_SQLSTATE


def connection_lost(exc: BaseException) -> bool:
    """The error is a lost connection (PostgreSQL: psycopg marks the connection broken or closed),
    e.g. a pooled connection the server closed while it was idle."""
    orig = getattr(exc, "orig", exc)
    return bool(getattr(exc, "connection_invalidated", False)) or getattr(orig, "carepath_lost", False)


class RawTransaction:
    """A write transaction on a pooled DBAPI connection: its cursor and its dialect's name."""

    def __init__(self, cursor: Any, name: str) -> None:
        self.cursor = cursor
        self.name = name


def translated(engine: Engine, exc: Exception) -> Exception:
    """A driver error as SQLAlchemy would raise it, so callers handle one family of errors."""
    return DBAPIError.instance("(carepath hot path)", None, exc, engine.dialect.loaded_dbapi.Error,
                               dialect=engine.dialect)


def _lost(connection: Any) -> bool:
    """The pooled connection is dead (psycopg marks it broken or closed) or already invalidated."""
    driver = connection.driver_connection
    return driver is None or bool(getattr(driver, "broken", False) or getattr(driver, "closed", False))


def release_lost(engine: Engine, connection: Any, exc: BaseException) -> bool:
    """After a driver error on a pooled `connection`: when the connection is dead, take it out of the
    pool (and have its idle siblings pinged before their next use) and say so."""
    if not _lost(connection):
        return False
    from integrations.db.engine_factory import note_connection_lost

    if connection.is_valid:
        connection.invalidate(exc)
    note_connection_lost(engine)
    return True


def retryable(exc: BaseException) -> bool:
    """The error came from a connection that was found dead before the transaction's COMMIT was sent:
    the server committed nothing, and the same work may run again on another connection."""
    return bool(getattr(exc, "carepath_retryable", False))


@contextmanager
def raw_write(engine: Engine, *, pipeline: bool = True, single: bool = False) -> Iterator[RawTransaction]:
    """One write transaction outside SQLAlchemy's execution path: BEGIN IMMEDIATE on SQLite (the
    write lock at once, as `write_session`), the driver's implicit transaction on PostgreSQL;
    committed when the block ends, rolled back when it raises. Driver errors come out as
    SQLAlchemy's (IntegrityError, OperationalError, ...); one from a connection found dead before the
    COMMIT was sent is marked `retryable`.

    On PostgreSQL the transaction runs in psycopg's pipeline mode (unless `pipeline=False`): its
    statements go to the server without waiting for each answer, and a command's save is one round
    trip when nothing in it reads a result (the version check is `update_guarded`): the statements
    and the COMMIT go out together. A server error surfaces when the next result is read or at the
    commit, and rolls the whole transaction back.

    `single` (PostgreSQL): the block runs exactly one statement, in autocommit: the statement is its
    own transaction, one round trip without BEGIN and COMMIT, and without the pipeline's client
    work (measured: about a third of the CPU time of a one-statement pipelined transaction). Its
    errors are never `retryable` (a lost answer may hide a commit)."""
    name = engine.dialect.name
    connection = engine.raw_connection()
    committing = False
    autocommit = single and name == "postgresql"
    try:
        cursor = connection.cursor()
        try:
            if name == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            if autocommit:
                committing = True  # the statement commits itself
                driver = connection.driver_connection
                assert driver is not None
                driver.autocommit = True
                try:
                    yield RawTransaction(cursor, name)
                finally:
                    if not _lost(connection):
                        driver.autocommit = False
            elif name == "postgresql" and pipeline:
                driver = connection.driver_connection
                assert driver is not None
                with driver.pipeline():
                    yield RawTransaction(cursor, name)
                    committing = True
                    connection.commit()
            else:
                yield RawTransaction(cursor, name)
                committing = True
                connection.commit()
        except engine.dialect.loaded_dbapi.Error as exc:
            error = translated(engine, exc)
            if release_lost(engine, connection, exc):
                error.carepath_retryable = not committing  # type: ignore[attr-defined]
                error.connection_invalidated = True  # type: ignore[attr-defined]  # (connection_lost)
            else:
                connection.rollback()
            raise error from exc
        except BaseException:
            if not _lost(connection):
                connection.rollback()
            raise
        finally:
            if not _lost(connection):
                cursor.close()
    finally:
        connection.close()  # back to the pool (an invalidated one is discarded)
