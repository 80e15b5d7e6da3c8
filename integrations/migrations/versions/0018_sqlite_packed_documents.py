"""SQLite: the case events' data, the outbox payloads and the case states packed with zstd and a
trained dictionary, the events' moments as integers (issue #14, storage).

The data of an event is short JSON that repeats, case after case, the same keys, steps and titles;
integrations/db/packed_json.py stores it as a format byte and a zstd frame made with a dictionary
trained on the shipped pathways (about 110 -> 40 bytes an event). The moment `at`, 26 bytes of text,
becomes microseconds since 1970 (`models.MomentMicros`, at most 8 bytes). The table is rebuilt with
`data` declared BLOB and `at` BIGINT, the rows copied a batch at a time and converted on the way.
The outbox payloads and the case states (about 3.7 KB -> 1 KB) are packed in place (SQLite keeps a
BLOB in a column declared JSON; those tables have indexes and references worth not rebuilding). PostgreSQL keeps JSONB and timestamptz and is left
as it is. Downgrade writes JSON text and the moments' text back.

Revision ID: 0018_sqlite_packed_documents
Revises: 0017_sqlite_events_clustered
Create Date: 2026-12-06
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from alembic import op

from integrations.db import packed_json
from integrations.db.json_codec import compact_json
from integrations.db.models import micros_of, moment_of

revision = "0018_sqlite_packed_documents"
down_revision = "0017_sqlite_events_clustered"
branch_labels = None
depends_on = None

TABLE = "case_events"
BATCH = 5000
_DATA_COLUMN = re.compile(r"(\bdata\s+)(JSON|BLOB)(\s+NOT NULL)", re.IGNORECASE)
_AT_COLUMN = re.compile(r"(\bat\s+)(DATETIME|BIGINT)(\s+NOT NULL)", re.IGNORECASE)


def _rebuild(declared: str, moments: str, convert: Callable[[Any], Any], moment: Callable[[Any], Any]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    create = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                  (TABLE,)).scalar_one()
    match = _DATA_COLUMN.search(create)
    if match is None:
        raise RuntimeError(f"migratie 0018: kolom data van {TABLE} niet gevonden in {create!r}")
    if match.group(2).upper() == declared:
        return
    indexes = [sql for (sql,) in bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (TABLE,))]
    new = _DATA_COLUMN.sub(lambda m: f"{m.group(1)}{declared}{m.group(3)}", create, count=1)
    new, found = _AT_COLUMN.subn(lambda m: f"{m.group(1)}{moments}{m.group(3)}", new, count=1)
    if not found:
        raise RuntimeError(f"migratie 0018: kolom at van {TABLE} niet gevonden in {create!r}")
    new = re.sub(rf'^CREATE TABLE\s+"?{TABLE}"?', f'CREATE TABLE "{TABLE}__new"', new.strip(), count=1)
    op.execute(new)
    columns = "case_id, seq, type, at, actor, reason, data"
    after: tuple[str, int] = ("", -1)
    while True:  # keyset batches: the whole table is never in memory
        rows = bind.exec_driver_sql(
            f"SELECT {columns} FROM {TABLE} WHERE (case_id, seq) > (?, ?) ORDER BY case_id, seq LIMIT {BATCH}",
            after).fetchall()
        if not rows:
            break
        bind.exec_driver_sql(f'INSERT INTO "{TABLE}__new" ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)',
                             [(*row[:3], moment(row[3]), *row[4:6], convert(row[6])) for row in rows])
        after = (rows[-1][0], rows[-1][1])
    op.execute(f'DROP TABLE "{TABLE}"')
    op.execute(f'ALTER TABLE "{TABLE}__new" RENAME TO "{TABLE}"')
    for sql in indexes:
        op.execute(sql)


def _convert_in_place(table: str, column: str, convert: Callable[[Any], Any]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    after = ""
    while True:
        rows = bind.exec_driver_sql(f"SELECT id, {column} FROM {table} WHERE id > ? ORDER BY id LIMIT {BATCH}",
                                    (after,)).fetchall()
        if not rows:
            break
        bind.exec_driver_sql(f"UPDATE {table} SET {column} = ? WHERE id = ?", [(convert(v), i) for i, v in rows])
        after = rows[-1][0]


def _packed(stored: Any) -> bytes:
    return packed_json.pack(packed_json.unpack(stored))


def _plain(stored: Any) -> str:
    return compact_json(packed_json.unpack(stored))


def _as_text(stored: Any) -> str:
    """The text SQLAlchemy's SQLite DateTime writes (naive UTC, microseconds always shown)."""
    return moment_of(stored).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def upgrade() -> None:
    _rebuild("BLOB", "BIGINT", _packed, lambda stored: micros_of(moment_of(stored)))
    _convert_in_place("outbox", "payload", _packed)
    _convert_in_place("cases", "state", _packed)


def downgrade() -> None:
    _convert_in_place("cases", "state", _plain)
    _convert_in_place("outbox", "payload", _plain)
    _rebuild("JSON", "DATETIME", _plain, _as_text)
