"""PostgreSQL: the case states, the pages of events and the outbox payloads packed as on SQLite
(issue #14, storage).

Until now PostgreSQL kept these documents as JSONB. Below about 2 KB, TOAST does not compress a
value, and most of them are that small: a page of events is 200 to 1,500 bytes and a state 2 to
4 KB. An open eviction-prevention case therefore took 18.3 KB, against 7.7 KB on SQLite, where the
documents are packed with zstd and the trained dictionary (integrations/db/packed_json.py, migration
0018). Nothing in carepath queries inside them: `caselists.open_escalations` reads
`cases.escalations_open` (0023) and unpacks the few states it needs.

The columns become `bytea`. Each stored value is first the UTF-8 text of its JSON, which
packed_json reads as it is, and then it is packed a batch at a time in the same transaction.
Downgrade writes the JSON text back and makes the columns JSONB again. SQLite was packed by 0018
and is left as it is.

Revision ID: 0024_postgresql_packed_documents
Revises: 0023_case_escalations_open
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from integrations.db import packed_json
from integrations.db.json_codec import compact_json

revision = "0024_postgresql_packed_documents"
down_revision = "0023_case_escalations_open"
branch_labels = None
depends_on = None

BATCH = 2000
# (table, the packed column, its key columns with their SQL types)
COLUMNS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("cases", "state", (("id", "text"),)),
    ("case_event_pages", "events", (("case_id", "text"), ("first_seq", "integer"))),
    ("outbox", "payload", (("id", "text"),)),
)


def _rewrite(table: str, column: str, keys: tuple[tuple[str, str], ...], convert: Callable[[bytes], bytes]) -> None:
    """Rewrite every value of `table.column` (bytea) with `convert`, in keyset batches: the table is
    never in memory at once, and each batch is one UPDATE from arrays."""
    bind = op.get_bind()
    names = ", ".join(name for name, _ in keys)
    after: tuple[Any, ...] | None = None
    while True:
        where = "" if after is None else f"WHERE ({names}) > ({', '.join(f':k{i}' for i in range(len(keys)))})"
        params = {} if after is None else {f"k{i}": value for i, value in enumerate(after)}
        rows = bind.execute(sa.text(f"SELECT {names}, {column} FROM {table} {where} ORDER BY {names} LIMIT {BATCH}"),
                            params).all()
        if not rows:
            return
        changed = [(row, convert(bytes(row[-1]))) for row in rows if row[-1] is not None]
        if changed:
            arrays = ", ".join(f"unnest(CAST(:a{i} AS {kind}[])) AS {name}" for i, (name, kind) in enumerate(keys))
            matched = " AND ".join(f"t.{name} = v.{name}" for name, _ in keys)
            values = {f"a{i}": [row[i] for row, _ in changed] for i in range(len(keys))}
            bind.execute(sa.text(f"UPDATE {table} AS t SET {column} = v.value FROM (SELECT {arrays}, "
                                 f"unnest(CAST(:values AS bytea[])) AS value) AS v WHERE {matched}"),
                         {**values, "values": [value for _, value in changed]})
        after = tuple(rows[-1][:-1])


def _packed(stored: bytes) -> bytes:
    return packed_json.pack(packed_json.unpack(stored))


def _plain(stored: bytes) -> bytes:
    return compact_json(packed_json.unpack(stored)).encode()


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, keys in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea USING convert_to({column}::text, 'UTF8')")
        _rewrite(table, column, keys, _packed)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, keys in COLUMNS:
        _rewrite(table, column, keys, _plain)
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE jsonb "
                   f"USING convert_from({column}, 'UTF8')::jsonb")
