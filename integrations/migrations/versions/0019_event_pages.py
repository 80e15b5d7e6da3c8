"""A case's history as a page per decision: `case_event_pages` replaces `case_events` (issue #14, storage).

One command writes a run of about ten events with consecutive numbers, one moment and one actor;
stored a row each they repeated the case, the moment and the actor, and each paid a row's overhead
(integrations/db/event_pages.py). The events are copied into pages, a batch at a time and in order,
one page for each run of one case's events with the same moment and actor (what one decision
wrote), and `case_events` is dropped. On SQLite a page's events are packed like the rest
(integrations/db/packed_json.py) and its moment is an integer of microseconds; PostgreSQL keeps
JSONB and timestamptz. Downgrade writes the events back a row each, in the form of migration 0018.

Revision ID: 0019_event_pages
Revises: 0018_sqlite_packed_documents
Create Date: 2026-12-06
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from integrations.db import packed_json
from integrations.db.event_pages import events_of, pages_of
from integrations.db.json_codec import compact_json
from integrations.db.models import micros_of, moment_of

revision = "0019_event_pages"
down_revision = "0018_sqlite_packed_documents"
branch_labels = None
depends_on = None

PAGES = "case_event_pages"
EVENTS = "case_events"
BATCH = 5000
_MOMENT = sa.BigInteger().with_variant(sa.DateTime(timezone=True), "postgresql")
_DOCUMENT = sa.LargeBinary().with_variant(postgresql.JSONB(), "postgresql")


def _case_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE")


def _keyset(select: str, after: tuple[str, int]) -> Iterator[Any]:
    """Rows of `select` (ordered by a key of case id and a number, `WHERE (..) > (:a, :b)`) a batch at a
    time: the whole table is never in memory."""
    bind = op.get_bind()
    while True:
        rows = bind.execute(sa.text(select), {"a": after[0], "b": after[1], "n": BATCH}).all()
        if not rows:
            return
        yield from rows
        after = (rows[-1][0], rows[-1][1])


def _document(stored: Any) -> Any:
    """A JSON column's value as Python: packed or text on SQLite, already parsed on PostgreSQL."""
    return packed_json.unpack(stored) if isinstance(stored, (bytes, memoryview, str)) else stored


def _insert(table: str, rows: list[dict[str, Any]], packed: str, moment: str) -> None:
    """INSERT `rows` into `table`: on SQLite with the JSON column `packed` packed and the moment
    `moment` as microseconds; on PostgreSQL as one JSON array (json_populate_recordset)."""
    if not rows:
        return
    bind = op.get_bind()
    columns = list(rows[0])
    if bind.dialect.name == "postgresql":
        document = compact_json([{**r, moment: r[moment].isoformat()} for r in rows])
        bind.execute(sa.text(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} "
                             f"FROM json_populate_recordset(NULL::{table}, CAST(:rows AS json))"), {"rows": document})
        return
    values = [tuple(packed_json.pack(r[c]) if c == packed else micros_of(r[c]) if c == moment else r[c]
                    for c in columns) for r in rows]
    bind.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                         values)


def _stored_events() -> Iterator[dict[str, Any]]:
    for case_id, seq, kind, at, actor, reason, data in _keyset(
            f"SELECT case_id, seq, type, at, actor, reason, data FROM {EVENTS} "
            f"WHERE (case_id, seq) > (:a, :b) ORDER BY case_id, seq LIMIT :n", ("", -1)):
        yield {"case_id": case_id, "seq": seq, "type": kind, "at": moment_of(at), "actor": actor, "reason": reason,
               "data": _document(data)}


def upgrade() -> None:
    op.create_table(
        PAGES,
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("first_seq", sa.Integer, primary_key=True),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("at", _MOMENT, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("events", _DOCUMENT, nullable=False),
        _case_fk(),
        sqlite_with_rowid=False,
    )
    batch: list[dict[str, Any]] = []
    # What one decision wrote: one case's events with one moment and one actor, numbered in a row.
    for _, run in itertools.groupby(_stored_events(), key=lambda e: (e["case_id"], e["at"], e["actor"])):
        batch.extend(pages_of(run))
        if len(batch) >= BATCH // 10:
            _insert(PAGES, batch, "events", "at")
            batch = []
    _insert(PAGES, batch, "events", "at")
    op.drop_table(EVENTS)


def _pages_stored() -> Iterator[tuple[str, int, int, datetime, str, Any]]:
    for case_id, first, last, at, actor, events in _keyset(
            f"SELECT case_id, first_seq, last_seq, at, actor, events FROM {PAGES} "
            f"WHERE (case_id, first_seq) > (:a, :b) ORDER BY case_id, first_seq LIMIT :n", ("", -1)):
        yield case_id, first, last, moment_of(at), actor, _document(events)


def downgrade() -> None:
    op.create_table(
        EVENTS,
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("at", _MOMENT, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("data", _DOCUMENT, nullable=False),
        _case_fk(),
        sqlite_with_rowid=False,
    )
    batch: list[dict[str, Any]] = []
    for page in _pages_stored():
        batch.extend({"case_id": e.case_id, "seq": e.seq, "type": e.type, "at": e.at, "actor": e.actor,
                      "reason": e.reason, "data": e.data} for e in events_of(*page))
        if len(batch) >= BATCH:
            _insert(EVENTS, batch, "data", "at")
            batch = []
    _insert(EVENTS, batch, "data", "at")
    op.drop_table(PAGES)
