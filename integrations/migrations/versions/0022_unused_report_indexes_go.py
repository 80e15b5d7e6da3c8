"""The report indexes by municipality go (issue #14, storage and write speed).

Since `0009_reporting_funders` every report selects by funder (`cases.funder`, `tasks.funder`:
the municipality's key when no other funder is named) through the indexes by funder; the three
indexes by municipality from `0004_report_columns` and `0005_report_tasks` are read by no query
(integrations/reporting/figures.py), yet every save of a case and of a task wrote them: on
SQLite 560 bytes of every closed case, and on PostgreSQL two of the eight indexes a case row
update writes. The columns stay (dropping them would rewrite both tables, for a few bytes a row).
Downgrade creates the indexes again.

Revision ID: 0022_unused_report_indexes_go
Revises: 0021_sqlite_integer_moments
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0022_unused_report_indexes_go"
down_revision = "0021_sqlite_integer_moments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tasks_report", "tasks")
    op.drop_index("ix_cases_report_closed", "cases")
    op.drop_index("ix_cases_report_opened", "cases")


def downgrade() -> None:
    op.create_index("ix_cases_report_opened", "cases", ["municipality", "pathway_id", "opened_at"])
    op.create_index("ix_cases_report_closed", "cases", ["municipality", "pathway_id", "closed_at"])
    op.create_index("ix_tasks_report", "tasks", ["municipality", "pathway_id", "due_at"],
                    postgresql_include=["type", "status", "completed_at", "case_id"])
