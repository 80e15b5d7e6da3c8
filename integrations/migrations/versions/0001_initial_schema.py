"""Initial schema: pathway versions, cases with their history and projections, outbox, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the model types: a migration must not change when models.py does.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def _case_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE")


def _where(condition: str) -> dict[str, Any]:
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def upgrade() -> None:
    op.create_table(
        "pathway_versions",
        sa.Column("pathway_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_name", sa.String(500), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("published_at", MOMENT, nullable=False),
    )
    op.create_index("ix_pathway_versions_source_sha256", "pathway_versions", ["source_sha256"])

    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("pathway_id", sa.String(64), nullable=False),
        sa.Column("pathway_version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("team", sa.String(100)),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("opened_at", MOMENT, nullable=False),
        sa.Column("closed_at", MOMENT),
        sa.Column("outcome", sa.String(64)),
        sa.Column("close_reason", sa.String(64)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", JSON_DOC, nullable=False),
    )
    op.create_index("ix_cases_pathway_status", "cases", ["pathway_id", "pathway_version", "status"])
    op.create_index("ix_cases_pseudonym", "cases", ["pseudonym"])
    op.create_index("ix_cases_team_status", "cases", ["team", "status"])

    op.create_table(
        "case_personal_data",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("data", JSON_DOC, nullable=False),
        _case_fk(),
    )

    op.create_table(
        "case_events",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("data", JSON_DOC, nullable=False),
        _case_fk(),
    )

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("assignee", sa.String(200)),
        sa.Column("team", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", MOMENT, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("completed_at", MOMENT),
        sa.Column("reminders_sent", sa.Integer, nullable=False),
        sa.Column("escalation_level", sa.Integer, nullable=False),
        _case_fk(),
    )
    op.create_index("ix_tasks_case_id", "tasks", ["case_id"])
    op.create_index("ix_tasks_open_assignee", "tasks", ["assignee", "due_at"], **_where("status = 'open'"))
    op.create_index("ix_tasks_open_role", "tasks", ["role", "team", "due_at"], **_where("status = 'open'"))

    op.create_table(
        "timers",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("due_at", MOMENT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text),
        _case_fk(),
    )
    op.create_index("ix_timers_case_id", "timers", ["case_id"])
    op.create_index("ix_timers_pending_due", "timers", ["due_at"], **_where("status = 'pending'"))

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("to_role", sa.String(64)),
        sa.Column("to_worker", sa.String(200)),
        sa.Column("task_id", sa.String(100)),
        sa.Column("payload", JSON_DOC, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("deliver_after", MOMENT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", MOMENT, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", MOMENT),
        _case_fk(),
    )
    op.create_index("ix_outbox_case_id", "outbox", ["case_id"])
    op.create_index("ix_outbox_pending_next", "outbox", ["next_attempt_at"], **_where("status = 'pending'"))

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("command", sa.String(64), nullable=False),
        sa.Column("result", JSON_DOC, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
    )
    op.create_index("ix_idempotency_keys_case_id", "idempotency_keys", ["case_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("role", sa.String(64)),
        sa.Column("organisation", sa.String(200)),
        sa.Column("case_id", sa.String(64)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("why", sa.Text),
    )
    op.create_index("ix_audit_case_at", "audit_log", ["case_id", "at"])
    op.create_index("ix_audit_who_at", "audit_log", ["who", "at"])


def downgrade() -> None:
    for table in ("audit_log", "idempotency_keys", "outbox", "timers", "tasks", "case_events",
                  "case_personal_data", "cases", "pathway_versions"):
        op.drop_table(table)
