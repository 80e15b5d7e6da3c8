"""Ownership and authority: pathway owners, scoped API tokens, temporary passwords, sign-in
throttling and the processing-log fields of the audit log (Logboek Dataverwerkingen).

- `pathway_owners`: the organisation (from the account registry) whose coordinators publish a
  pathway id; versions are assigned by carepath as the next number.
- `web_api_tokens.operations` / `.partner_organisation`: what a token may do.
- `web_users.must_change_password` (a password an administrator set is temporary) and `.system`
  (an account for a partner system: API only, with scoped tokens).
- `web_signin_failures`: failed sign-ins per source address and per account, for growing delays.
- `audit_log.token_id`, `.trace_id`, `.activity`, `.operation`, `.status`.

Revision ID: 0007_ownership_tokens
Revises: 0006_queue_index
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_ownership_tokens"
down_revision = "0006_queue_index"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pathway_owners",
        sa.Column("pathway_id", sa.String(64), primary_key=True),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("assigned_at", MOMENT, nullable=False),
        sa.Column("assigned_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "web_signin_failures",
        sa.Column("key", sa.String(300), primary_key=True),  # "ip:<address>" or "user:<name>"
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", MOMENT, nullable=False),
        sa.Column("blocked_until", MOMENT, nullable=False),
    )
    with op.batch_alter_table("web_users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("system", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("web_api_tokens") as batch:
        batch.add_column(sa.Column("operations", sa.JSON))
        batch.add_column(sa.Column("partner_organisation", sa.String(200)))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("token_id", sa.Integer))
        batch.add_column(sa.Column("trace_id", sa.String(32)))
        batch.add_column(sa.Column("activity", sa.String(100)))
        batch.add_column(sa.Column("operation", sa.String(20)))
        batch.add_column(sa.Column("status", sa.String(20)))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        for column in ("status", "operation", "activity", "trace_id", "token_id"):
            batch.drop_column(column)
    with op.batch_alter_table("web_api_tokens") as batch:
        batch.drop_column("partner_organisation")
        batch.drop_column("operations")
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("system")
        batch.drop_column("must_change_password")
    op.drop_table("web_signin_failures")
    op.drop_table("pathway_owners")
