"""Funders, record keys and interventions for the reports that cannot be differenced.

* `cases.funder` and `tasks.funder`: who pays for the case (a funder key such as
  `municipality:GM0599` or `health_insurer:3311`, engine/funding.py; the case's municipality when it
  names no other), with indexes for the reports per funder;
* `cases.report_key` and `tasks.report_key`: the record key of the cell-key perturbation
  (integrations/reporting/cellkey.py);
* `case_tracks`: one row per intervention (a case's track), projected from the case state;
* `web_users.funder`: an analyst account of a funder sees only that funder's aggregates.

Existing rows are filled from their state JSON in batches.

Revision ID: 0009_reporting_funders
Revises: 0006_queue_index
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from integrations.db.models import UTCDateTime
from integrations.reporting.cellkey import record_key
from integrations.reporting.projection import case_funder, track_rows

revision = "0009_reporting_funders"
down_revision = "0007_ownership_tokens"
branch_labels = None
depends_on = None

BATCH = 500


def _fill() -> None:
    connection = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("state", sa.JSON),
                     sa.column("funder", sa.String), sa.column("report_key", sa.Integer))
    tasks = sa.table("tasks", sa.column("id", sa.String), sa.column("case_id", sa.String),
                     sa.column("funder", sa.String), sa.column("report_key", sa.Integer))
    tracks = sa.table("case_tracks", *(sa.column(name) for name in (
        "case_id", "track_id", "pathway_id", "funder", "status", "result", "report_key")),
        sa.column("started_at", UTCDateTime), sa.column("closed_at", UTCDateTime))
    update_case = (sa.update(cases).where(cases.c.id == sa.bindparam("k_id"))
                   .values(funder=sa.bindparam("v_funder"), report_key=sa.bindparam("v_key")))
    update_tasks = (sa.update(tasks).where(tasks.c.case_id == sa.bindparam("k_case"))
                    .values(funder=sa.bindparam("v_funder")))
    last = ""
    while True:
        rows = connection.execute(
            sa.select(cases.c.id, cases.c.state).where(cases.c.id > last).order_by(cases.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        case_params: list[dict[str, Any]] = []
        task_params: list[dict[str, Any]] = []
        track_params: list[dict[str, Any]] = []
        for case_id, state in rows:
            funder = case_funder(state.get("funder"), state.get("municipality"))
            case_params.append({"k_id": case_id, "v_funder": funder, "v_key": record_key(case_id)})
            task_params.append({"k_case": case_id, "v_funder": funder})
            track_params.extend(track_rows(case_id, state.get("pathway_id", ""), funder, state.get("tracks") or {}))
        connection.execute(update_case, case_params)
        connection.execute(update_tasks, task_params)
        if track_params:
            connection.execute(sa.insert(tracks), track_params)
        last = rows[-1][0]
    task_ids = connection.execute(sa.select(tasks.c.id)).scalars().all()
    for i in range(0, len(task_ids), BATCH):
        connection.execute(
            sa.update(tasks).where(tasks.c.id == sa.bindparam("k_id")).values(report_key=sa.bindparam("v_key")),
            [{"k_id": task_id, "v_key": record_key(task_id)} for task_id in task_ids[i:i + BATCH]])


def upgrade() -> None:
    op.add_column("cases", sa.Column("funder", sa.String(100)))
    op.add_column("cases", sa.Column("report_key", sa.Integer))
    op.add_column("tasks", sa.Column("funder", sa.String(100)))
    op.add_column("tasks", sa.Column("report_key", sa.Integer))
    op.add_column("web_users", sa.Column("funder", sa.String(100)))
    op.create_table(
        "case_tracks",
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("track_id", sa.String(64), primary_key=True),
        sa.Column("pathway_id", sa.String(64), nullable=False),
        sa.Column("funder", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("result", sa.String(32)),
        sa.Column("report_key", sa.Integer, nullable=False),
    )
    _fill()
    op.create_index("ix_cases_funder_opened", "cases", ["funder", "pathway_id", "opened_at"])
    op.create_index("ix_cases_funder_closed", "cases", ["funder", "pathway_id", "closed_at"])
    op.create_index("ix_tasks_funder_report", "tasks", ["funder", "pathway_id", "due_at"],
                    postgresql_include=["type", "status", "completed_at", "case_id", "report_key"])
    op.create_index("ix_case_tracks_started", "case_tracks", ["funder", "pathway_id", "started_at"])
    op.create_index("ix_case_tracks_closed", "case_tracks", ["funder", "pathway_id", "closed_at"])


def downgrade() -> None:
    for name, table in (("ix_tasks_funder_report", "tasks"), ("ix_cases_funder_closed", "cases"),
                        ("ix_cases_funder_opened", "cases")):
        op.drop_index(name, table)
    op.drop_table("case_tracks")
    for table, column in (("web_users", "funder"), ("tasks", "report_key"), ("tasks", "funder"),
                          ("cases", "report_key"), ("cases", "funder")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite >= 3.35 drops columns itself
