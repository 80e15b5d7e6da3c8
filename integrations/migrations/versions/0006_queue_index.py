"""The role-queue index holds only unclaimed open tasks.

A queue is "open tasks of a role that nobody has". Indexed on all open tasks of the role, the
query had to walk every claimed task too (100,000 cases: a worklist of 120 ms on SQLite); a
partial index on unclaimed open tasks makes the queue as cheap as its own length.

Revision ID: 0006_queue_index
Revises: 0005_report_tasks
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_queue_index"
down_revision = "0005_report_tasks"
branch_labels = None
depends_on = None

_QUEUE = "status = 'open' AND assignee IS NULL"
_OPEN = "status = 'open'"


def upgrade() -> None:
    op.drop_index("ix_tasks_open_role", "tasks")
    op.create_index("ix_tasks_queue", "tasks", ["role", "team", "due_at"],
                    postgresql_where=sa.text(_QUEUE), sqlite_where=sa.text(_QUEUE))


def downgrade() -> None:
    op.drop_index("ix_tasks_queue", "tasks")
    op.create_index("ix_tasks_open_role", "tasks", ["role", "team", "due_at"],
                    postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN))
