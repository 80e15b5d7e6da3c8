"""SQLite: `case_events` as a WITHOUT ROWID table (issue #14).

A rowid table with a text primary key is two b-trees: the rows, and the index of (case_id, seq)
beside them; every event written is two insertions and the index repeats the key of every row (about
2.4 KB of a closed case's 40). WITHOUT ROWID keeps the rows in the primary key's own b-tree. Nothing
references `case_events`, so it is rebuilt in place: created anew from its own CREATE statement,
copied, swapped. PostgreSQL has no such choice and is left as it is.

Revision ID: 0017_sqlite_events_clustered
Revises: 0016_case_archives
Create Date: 2026-12-05
"""

from __future__ import annotations

import re

from alembic import op

revision = "0017_sqlite_events_clustered"
down_revision = "0016_case_archives"
branch_labels = None
depends_on = None

TABLE = "case_events"
_SUFFIX = re.compile(r"\s*WITHOUT\s+ROWID\s*$", re.IGNORECASE)


def _rebuild(clustered: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    create = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                  (TABLE,)).scalar_one()
    if bool(_SUFFIX.search(create)) == clustered:
        return
    indexes = [sql for (sql,) in bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (TABLE,))]
    body = _SUFFIX.sub("", create.strip())
    new = re.sub(rf'^CREATE TABLE\s+"?{TABLE}"?', f'CREATE TABLE "{TABLE}__new"', body, count=1)
    op.execute(new + (" WITHOUT ROWID" if clustered else ""))
    op.execute(f'INSERT INTO "{TABLE}__new" SELECT * FROM "{TABLE}"')
    op.execute(f'DROP TABLE "{TABLE}"')
    op.execute(f'ALTER TABLE "{TABLE}__new" RENAME TO "{TABLE}"')
    for sql in indexes:
        op.execute(sql)


def upgrade() -> None:
    _rebuild(clustered=True)


def downgrade() -> None:
    _rebuild(clustered=False)
