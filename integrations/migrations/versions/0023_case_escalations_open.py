"""`cases.escalations_open`: how many escalations of a case wait for an answer (issue #14).

The coordinators' list of open escalations (integrations/db/caselists.py) looked inside every open
case's state for them; on SQLite, whose states are packed since 0018, that meant reading and
unpacking the state of every open case of the teams on each view. The repository now writes the
count with every save, and a partial index on team holds the cases that have any. Existing rows are
filled here from their state (on PostgreSQL in SQL; on SQLite in batches, unpacked in Python).
Downgrade drops the index and the column.

Revision ID: 0023_case_escalations_open
Revises: 0022_unused_report_indexes_go
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from integrations.db import packed_json

revision = "0023_case_escalations_open"
down_revision = "0022_unused_report_indexes_go"
branch_labels = None
depends_on = None

BATCH = 2000


def _fill_sqlite() -> None:
    connection = op.get_bind()
    last = ""
    while True:
        rows = connection.execute(sa.text("SELECT id, state FROM cases WHERE id > :last ORDER BY id LIMIT :n"),
                                  {"last": last, "n": BATCH}).all()
        if not rows:
            return
        counted: list[dict[str, Any]] = []
        for case_id, stored in rows:
            state = packed_json.unpack(stored) if isinstance(stored, (bytes, str)) else stored
            if n := len(state.get("open_escalations") or []):
                counted.append({"id": case_id, "n": n})
        if counted:
            connection.execute(sa.text("UPDATE cases SET escalations_open = :n WHERE id = :id"), counted)
        last = rows[-1][0]


def upgrade() -> None:
    op.add_column("cases", sa.Column("escalations_open", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE cases SET escalations_open = jsonb_array_length(state -> 'open_escalations') "
                   "WHERE jsonb_typeof(state -> 'open_escalations') = 'array' "
                   "AND jsonb_array_length(state -> 'open_escalations') > 0")
    else:
        _fill_sqlite()
    op.create_index("ix_cases_escalated", "cases", ["team"], postgresql_where=sa.text("escalations_open > 0"),
                    sqlite_where=sa.text("escalations_open > 0"))


def downgrade() -> None:
    op.drop_index("ix_cases_escalated", "cases")
    op.execute("ALTER TABLE cases DROP COLUMN escalations_open")  # SQLite >= 3.35 drops columns itself
