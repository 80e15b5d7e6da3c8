"""SQLite: the moments of tasks and outbox messages as integers of microseconds (issue #14, storage).

`tasks.due_at`, `created_at`, `completed_at` and `outbox.created_at`, `deliver_after`,
`next_attempt_at`, `sent_at` were stored as 26 bytes of text each, and the report and dispatch
indexes repeat some of them: about 1.7 KB of a closed eviction-prevention case. As integers of
microseconds since 1970 UTC (`models.MomentMicros`, as the pages' moments since migration 0018) they
take 8 bytes or fewer and still sort and compare in SQL. The rows are rewritten in place, a batch at
a time; a column keeps its declared type (SQLite stores an integer in a DATETIME column as it is).
PostgreSQL keeps timestamptz and is left as it is. Downgrade writes the text back.

Revision ID: 0021_sqlite_integer_moments
Revises: 0020_cancelled_timers_go
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic import op

from integrations.db.models import micros_of, moment_of

revision = "0021_sqlite_integer_moments"
down_revision = "0020_cancelled_timers_go"
branch_labels = None
depends_on = None

BATCH = 5000
COLUMNS = {
    "tasks": ("due_at", "created_at", "completed_at"),
    "outbox": ("created_at", "deliver_after", "next_attempt_at", "sent_at"),
}


def _rewrite(convert: Callable[[Any], Any]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        names = ", ".join(columns)
        assign = ", ".join(f"{c} = ?" for c in columns)
        after = ""
        while True:
            rows = bind.exec_driver_sql(
                f"SELECT id, {names} FROM {table} WHERE id > ? ORDER BY id LIMIT {BATCH}", (after,)).fetchall()
            if not rows:
                break
            bind.exec_driver_sql(f"UPDATE {table} SET {assign} WHERE id = ?",
                                 [(*(None if v is None else convert(v) for v in row[1:]), row[0]) for row in rows])
            after = rows[-1][0]


def _as_text(stored: Any) -> str:
    """The text SQLAlchemy's SQLite DateTime writes (naive UTC, microseconds always shown)."""
    return moment_of(stored).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def upgrade() -> None:
    _rewrite(lambda stored: micros_of(moment_of(stored)))


def downgrade() -> None:
    _rewrite(_as_text)
