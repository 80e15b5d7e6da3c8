"""Report columns on cases: the commissioning municipality and the origin group, indexed for reports.

`cases.municipality` copies `CaseState.municipality` (a CBS code such as GM0014);
`cases.origin_group` holds the origin group of the registered countries of birth (native,
western, non_western, objected; NULL when nothing is registered), never a country. The
repository fills both on every save; existing rows are filled here from their state JSON.

Revision ID: 0004_reporting
Revises: 0003_web
Create Date: 2026-11-28
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

# The classification is computed by the same function the repository uses, so rows filled here and
# rows saved later agree (see integrations/reporting/origin.py for the rule).
from integrations.reporting.origin import origin_group

revision = "0004_reporting"
down_revision = "0003_web"
branch_labels = None
depends_on = None

BATCH = 1000


def _fill() -> None:
    connection = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("state", sa.JSON),
                     sa.column("municipality", sa.String), sa.column("origin_group", sa.String))
    update = (
        sa.update(cases)
        .where(cases.c.id == sa.bindparam("k_id"))
        .values(municipality=sa.bindparam("v_municipality"), origin_group=sa.bindparam("v_origin_group"))
    )
    last = ""
    while True:
        rows = connection.execute(
            sa.select(cases.c.id, cases.c.state).where(cases.c.id > last).order_by(cases.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        params: list[dict[str, Any]] = []
        for case_id, state in rows:
            group = origin_group(state.get("origin"), bool(state.get("origin_objection")))
            municipality = state.get("municipality")
            if municipality is not None or group is not None:
                params.append({"k_id": case_id, "v_municipality": municipality,
                               "v_origin_group": None if group is None else group.value})
        if params:
            connection.execute(update, params)
        last = rows[-1][0]


def upgrade() -> None:
    op.add_column("cases", sa.Column("municipality", sa.String(64)))
    op.add_column("cases", sa.Column("origin_group", sa.String(16)))
    _fill()
    op.create_index("ix_cases_report_opened", "cases", ["municipality", "pathway_id", "opened_at"])
    op.create_index("ix_cases_report_closed", "cases", ["municipality", "pathway_id", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_report_closed", "cases")
    op.drop_index("ix_cases_report_opened", "cases")
    for column in ("origin_group", "municipality"):  # plain ALTER TABLE: SQLite >= 3.35 drops columns itself
        op.execute(f"ALTER TABLE cases DROP COLUMN {column}")
