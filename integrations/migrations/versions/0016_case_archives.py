"""The compressed archive of closed cases' history (issue #14).

Some days after a case closes, its events, its fired and cancelled timers and its delivered
messages move into one `case_archives` row (integrations/db/archive.py); nothing is rewritten
here: the nightly run archives what is due.

Revision ID: 0016_case_archives
Revises: 0015_live_case_state
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_case_archives"
down_revision = "0015_live_case_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_archives",
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("through_seq", sa.Integer, nullable=False),
        sa.Column("history", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_archives")
