"""Early signals (DDAS vroegsignalen): the signal table and its clients kept apart.

Revision ID: 0010_early_signals
Revises: 0006_queue_index
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010_early_signals"
down_revision = "0009_reporting_funders"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ddas_signals",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("partner", sa.String(300), nullable=False),
        sa.Column("signal_id", sa.String(200), nullable=False),
        sa.Column("partner_type", sa.String(40), nullable=False),
        sa.Column("partner_name", sa.String(300), nullable=False),
        sa.Column("municipality", sa.String(6), nullable=False),
        sa.Column("signaaldatum", sa.Date()),
        sa.Column("ontstaansdatum", sa.Date()),
        sa.Column("bedrag", sa.Integer()),
        sa.Column("crisis", sa.Boolean(), nullable=False),
        sa.Column("warm", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("received_at", _AT, nullable=False),
        sa.Column("match", sa.String(20), nullable=False),
        sa.Column("client_key", sa.String(64)),
        sa.Column("address_key", sa.String(64)),
        sa.Column("pathway_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(64)),
        sa.Column("case_opened", sa.Boolean(), nullable=False),
        sa.Column("disposition", sa.String(20), nullable=False),
        sa.Column("status", sa.String(60), nullable=False),
        sa.Column("reason", sa.String(300)),
        sa.Column("feedback_queued", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_ddas_signals_export", "ddas_signals", ["municipality", "signaaldatum"])
    op.create_index("ix_ddas_signals_client", "ddas_signals", ["client_key"])
    op.create_index("ix_ddas_signals_address", "ddas_signals", ["address_key"])
    op.create_index("ix_ddas_signals_case", "ddas_signals", ["case_id"])
    op.create_index("ix_ddas_signals_to_open", "ddas_signals", ["case_opened", "disposition"])
    op.create_table(
        "ddas_signal_clients",
        sa.Column("key", sa.String(64), sa.ForeignKey("ddas_signals.key", ondelete="CASCADE"), primary_key=True),
        sa.Column("data", _JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ddas_signal_clients")
    op.drop_table("ddas_signals")
