"""Cancelled timers leave the `timers` table (issue #14, storage).

Nine in ten timers are cancelled before they are due (a task's deadline, when the task is done in
time); their rows were kept, status `cancelled`, though nothing reads them: the sweep reads pending
timers, the incidents failed ones, the late-timer marks and the archive fired ones. The history keeps
every cancelled timer (its `timer_set` and `timer_cancelled` events), and carepath now deletes the row
when it cancels a timer (integrations/db/repository.py). This removes the rows kept before.
Downgrade writes them back from the history (the cases whose history is archived kept theirs in the
archive).

Revision ID: 0020_cancelled_timers_go
Revises: 0019_event_pages
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from integrations.db import packed_json
from integrations.db.event_pages import events_of
from integrations.db.models import UTCDateTime, moment_of

revision = "0020_cancelled_timers_go"
down_revision = "0019_event_pages"
branch_labels = None
depends_on = None

BATCH = 2000
_TIMERS = sa.table("timers", sa.column("id", sa.String), sa.column("case_id", sa.String), sa.column("kind", sa.String),
                   sa.column("due_at", UTCDateTime()), sa.column("status", sa.String),
                   sa.column("last_error", sa.Text))


def upgrade() -> None:
    op.execute("DELETE FROM timers WHERE status = 'cancelled'")


def _document(stored: Any) -> Any:
    return packed_json.unpack(stored) if isinstance(stored, (bytes, memoryview, str)) else stored


def _cancelled_of(case_id: str, pages: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The rows of the case's cancelled timers, as carepath kept them before, from its history."""
    set_: dict[str, dict[str, Any]] = {}
    cancelled: list[str] = []
    for first, last, at, actor, events in pages:
        for event in events_of(case_id, first, last, moment_of(at), actor, _document(events)):
            if event.type == "timer_set":
                set_[event.data["timer"]["id"]] = event.data["timer"]
            elif event.type == "timer_cancelled":
                cancelled.append(event.data["timer_id"])
    rows = []
    for timer_id in cancelled:
        timer = set_.get(timer_id)
        if timer is not None:
            rows.append({"id": timer_id, "case_id": case_id, "kind": timer["kind"],
                         "due_at": datetime.fromisoformat(timer["due_at"]), "status": "cancelled",
                         "last_error": None})
    return rows


def downgrade() -> None:
    bind = op.get_bind()
    after = ""
    while True:
        case_ids = [c for (c,) in bind.execute(sa.text(
            "SELECT DISTINCT case_id FROM case_event_pages WHERE case_id > :a ORDER BY case_id LIMIT :n"),
            {"a": after, "n": BATCH // 10})]
        if not case_ids:
            return
        pages: dict[str, list[tuple[Any, ...]]] = {c: [] for c in case_ids}
        for case_id, *page in bind.execute(sa.text(
                "SELECT case_id, first_seq, last_seq, at, actor, events FROM case_event_pages "
                "WHERE case_id IN :ids ORDER BY case_id, first_seq").bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": case_ids}):
            pages[case_id].append(tuple(page))
        rows = [row for case_id in case_ids for row in _cancelled_of(case_id, pages[case_id])]
        existing = {i for (i,) in bind.execute(sa.select(_TIMERS.c.id).where(
            _TIMERS.c.id.in_([r["id"] for r in rows])))} if rows else set()
        fresh = [r for r in rows if r["id"] not in existing]
        if fresh:
            bind.execute(sa.insert(_TIMERS), fresh)
        after = case_ids[-1]
