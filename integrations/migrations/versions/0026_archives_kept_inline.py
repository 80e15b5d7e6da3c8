"""PostgreSQL: a closed case's archive stays in its row, and is never compressed again (issue #14,
storage).

An archive (integrations/db/archive.py) is packed with zstd already, about 1.9 KB for an
eviction-prevention case. PostgreSQL moves a value out of a row longer than about 2 KB into the
table's TOAST relation (after trying, in vain, to compress it with pglz): every archive over that
size then cost its row, the chunks in TOAST and their index entries. With `toast_tuple_target`
at its maximum the archive stays in the row up to 8 KB, and `STORAGE EXTERNAL` skips the pglz
attempt for the rare bigger one. Measured: 2,376 -> 2,266 bytes a case for the table with its
TOAST and indexes (an archived closed case 7,974 -> 7,864 bytes), rows written after this
migration (existing ones move when rewritten, e.g. by `VACUUM FULL`).

SQLite keeps its rows as they are. Downgrade restores PostgreSQL's defaults.

Revision ID: 0026_archives_kept_inline
Revises: 0025_task_report_index_partial
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0026_archives_kept_inline"
down_revision = "0025_task_report_index_partial"
branch_labels = None
depends_on = None

TOAST_TUPLE_TARGET = 8160  # PostgreSQL's maximum (a block less its header)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE case_archives SET (toast_tuple_target = {TOAST_TUPLE_TARGET})")
    op.execute("ALTER TABLE case_archives ALTER COLUMN history SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE case_archives ALTER COLUMN history SET STORAGE EXTENDED")
    op.execute("ALTER TABLE case_archives RESET (toast_tuple_target)")
