"""Report columns on tasks: the case's municipality and pathway, with a covering index for reports.

The municipal reports count tasks and evaluations by deadline per municipality and pathway; with
these copies of the case's (never changing) municipality and pathway the count is one index scan
instead of a join of every task in the period with its case. The repository fills them on every
save; existing rows are filled here from their case.

Revision ID: 0005_report_tasks
Revises: 0004_reporting
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_report_tasks"
down_revision = "0004_reporting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("municipality", sa.String(64)))
    op.add_column("tasks", sa.Column("pathway_id", sa.String(64)))
    op.execute(
        "UPDATE tasks SET "
        "municipality = (SELECT cases.municipality FROM cases WHERE cases.id = tasks.case_id), "
        "pathway_id = (SELECT cases.pathway_id FROM cases WHERE cases.id = tasks.case_id)"
    )
    op.create_index("ix_tasks_report", "tasks", ["municipality", "pathway_id", "due_at"],
                    postgresql_include=["type", "status", "completed_at", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_report", "tasks")
    for column in ("pathway_id", "municipality"):  # plain ALTER TABLE: SQLite >= 3.35 drops columns itself
        op.execute(f"ALTER TABLE tasks DROP COLUMN {column}")
