"""Partners in the loop: single-use referral links, calendar feeds and partner meetings.

Referral statuses themselves live in the case state and its events; these tables hold only
hashed link and feed secrets and the meetings' agendas (case ids, no client data).

Revision ID: 0013_referrals
Revises: 0006_queue_index
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_referrals"
down_revision = "0010_early_signals"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "referral_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("task_id", sa.String(100), nullable=False),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("partner", sa.String(64), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("expires_at", MOMENT, nullable=False),
        sa.Column("used_at", MOMENT, nullable=True),
    )
    op.create_index("ix_referral_links_task_id", "referral_links", ["task_id"])
    op.create_index("ix_referral_links_case_id", "referral_links", ["case_id"])
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("revoked_at", MOMENT, nullable=True),
    )
    op.create_index("ix_calendar_feeds_username", "calendar_feeds", ["username"])
    op.create_table(
        "partner_meetings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("pathway_id", sa.String(64), nullable=False),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("held_on", MOMENT, nullable=False),
        sa.Column("chaired_by", sa.String(200), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("agenda", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
    )
    op.create_index("ix_partner_meetings_pathway", "partner_meetings", ["pathway_id", "team", "held_on"])


def downgrade() -> None:
    op.drop_index("ix_partner_meetings_pathway", "partner_meetings")
    op.drop_table("partner_meetings")
    op.drop_index("ix_calendar_feeds_username", "calendar_feeds")
    op.drop_table("calendar_feeds")
    op.drop_index("ix_referral_links_case_id", "referral_links")
    op.drop_index("ix_referral_links_task_id", "referral_links")
    op.drop_table("referral_links")
