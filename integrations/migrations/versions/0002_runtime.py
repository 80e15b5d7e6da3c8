"""Runtime tables: in-app inbox, delivery attempts, incidents, late timers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("task_id", sa.String(100)),
        sa.Column("pathway_id", sa.String(64), nullable=False),
        sa.Column("team", sa.String(100)),
        sa.Column("to_role", sa.String(64)),
        sa.Column("to_worker", sa.String(200)),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("link", sa.String(500)),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("delivered_at", MOMENT, nullable=False),
        sa.Column("read_at", MOMENT),
    )
    op.create_index("ix_inbox_messages_case_id", "inbox_messages", ["case_id"])
    op.create_index("ix_inbox_worker", "inbox_messages", ["to_worker", "delivered_at"])
    op.create_index("ix_inbox_role", "inbox_messages", ["to_role", "team", "delivered_at"])

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(120), sa.ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("started_at", MOMENT, nullable=False),
        sa.Column("finished_at", MOMENT, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("dispatcher", sa.String(200), nullable=False),
    )
    op.create_index("ix_delivery_attempts_message_id", "delivery_attempts", ["message_id"])

    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("ref", sa.String(120), nullable=False),
        sa.Column("case_id", sa.String(64)),
        sa.Column("pathway_id", sa.String(64)),
        sa.Column("team", sa.String(100)),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("resolved_at", MOMENT),
        sa.Column("resolved_by", sa.String(200)),
        sa.Column("resolution", sa.Text),
    )
    op.create_index("ix_incidents_case_id", "incidents", ["case_id"])
    op.create_index("ux_incidents_open_subject", "incidents", ["kind", "ref"], unique=True,
                    postgresql_where=sa.text("resolved_at IS NULL"), sqlite_where=sa.text("resolved_at IS NULL"))

    op.create_table(
        "late_timers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("timer_id", sa.String(100), nullable=False, unique=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("pathway_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("due_at", MOMENT, nullable=False),
        sa.Column("fired_at", MOMENT, nullable=False),
        sa.Column("late_seconds", sa.Integer, nullable=False),
    )
    op.create_index("ix_late_timers_case_id", "late_timers", ["case_id"])


def downgrade() -> None:
    for table in ("late_timers", "incidents", "delivery_attempts", "inbox_messages"):
        op.drop_table(table)
