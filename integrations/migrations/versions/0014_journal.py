"""The case journal (rapportage): dated entries by author, kept apart as personal data;
and inbox read marks per person (a message to a role is read by each holder separately).

Revision ID: 0014_journal
Revises: 0006_queue_index
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_journal"
down_revision = "0013_referrals"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "case_journal",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("happened_at", MOMENT, nullable=False),
        sa.Column("written_at", MOMENT, nullable=False),
        sa.Column("edited_at", MOMENT),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("task_id", sa.String(100)),
        sa.Column("track_id", sa.String(64)),
        sa.Column("corrects", sa.Integer),
    )
    op.create_index("ix_case_journal_case", "case_journal", ["case_id", "happened_at"])
    op.create_table(
        "inbox_reads",
        sa.Column("message_id", sa.String(120), sa.ForeignKey("inbox_messages.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("worker", sa.String(200), primary_key=True),
        sa.Column("read_at", MOMENT, nullable=False),
    )
    # Reads so far were per message: each becomes the read of the person it was addressed to.
    op.execute("INSERT INTO inbox_reads (message_id, worker, read_at) SELECT id, to_worker, read_at "
               "FROM inbox_messages WHERE read_at IS NOT NULL AND to_worker IS NOT NULL")


def downgrade() -> None:
    op.drop_table("inbox_reads")
    op.drop_index("ix_case_journal_case", "case_journal")
    op.drop_table("case_journal")
