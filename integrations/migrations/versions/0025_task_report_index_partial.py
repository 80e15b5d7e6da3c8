"""The report index on tasks holds only the tasks a report counts; `tasks.municipality` goes
(issue #14, storage).

`ix_tasks_funder_report` held every task, yet the municipal report (integrations/reporting/figures.py,
`_task_counts`) counts only human tasks and evaluations that were not cancelled: the partner requests
(a third of an eviction-prevention case's tasks) and cancelled tasks were written to the index and
never read from it. It becomes partial, on the report's own condition (`models.REPORTED_TASKS`), and
on PostgreSQL no longer carries `status` (the condition decides it; an index-only scan does not need
the column). `tasks.municipality`, a copy of the case's, is read by nothing since 0022 dropped its
index: it goes (on SQLite, 3.35 or newer, `DROP COLUMN` rewrites the table once).

On PostgreSQL an archived closed eviction-prevention case took 8.6 KB, 1.3 KB of it this index.

Downgrade gives the column back, filled from the case, and the whole index.

Revision ID: 0025_task_report_index_partial
Revises: 0024_postgresql_packed_documents
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_task_report_index_partial"
down_revision = "0024_postgresql_packed_documents"
branch_labels = None
depends_on = None

INDEX = "ix_tasks_funder_report"
# models.REPORTED_TASKS as it is at this revision (a migration never follows later code)
REPORTED_TASKS = "type IN ('human_task', 'evaluation') AND status <> 'cancelled'"


def upgrade() -> None:
    op.drop_index(INDEX, "tasks")
    op.create_index(INDEX, "tasks", ["funder", "pathway_id", "due_at"],
                    postgresql_include=["type", "completed_at", "case_id", "report_key"],
                    postgresql_where=sa.text(REPORTED_TASKS), sqlite_where=sa.text(REPORTED_TASKS))
    op.execute("ALTER TABLE tasks DROP COLUMN municipality")


def downgrade() -> None:
    op.add_column("tasks", sa.Column("municipality", sa.String(64)))
    op.execute("UPDATE tasks SET municipality = (SELECT cases.municipality FROM cases WHERE cases.id = tasks.case_id)")
    op.drop_index(INDEX, "tasks")
    op.create_index(INDEX, "tasks", ["funder", "pathway_id", "due_at"],
                    postgresql_include=["type", "status", "completed_at", "case_id", "report_key"])
