"""Live case states and messages stored once (issue #14).

`cases.state` keeps only what decisions read: open tasks and pending or paused timers (closed tasks
and fired or cancelled timers are history in `case_events`, and in the `tasks` and `timers` rows);
the state says so with `"live": true`. A `message_queued` event keeps the message's id, channel,
template and addressee; its content is in its outbox row. This migration rewrites the states and
events stored before, in batches; an event whose outbox row is missing keeps its whole message.
The filter is written out here (not imported from the engine) so the migration stays as it was
written when the engine changes.

Revision ID: 0015_live_case_state
Revises: 0014_journal
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015_live_case_state"
down_revision = "0014_journal"
branch_labels = None
depends_on = None

BATCH = 1000
_DOC = sa.JSON().with_variant(JSONB(), "postgresql")
_CASES = sa.table("cases", sa.column("id", sa.String), sa.column("state", _DOC))
_EVENTS = sa.table("case_events", sa.column("case_id", sa.String), sa.column("seq", sa.Integer),
                   sa.column("type", sa.String), sa.column("data", _DOC))
_OUTBOX = sa.table("outbox", sa.column("id", sa.String))
_REFERENCE_KEYS = ("id", "channel", "template", "to_role", "to_worker", "task_id")


def live(state: dict[str, Any]) -> dict[str, Any]:
    """The live form of a stored whole state."""
    return {
        **state,
        "tasks": {k: t for k, t in state.get("tasks", {}).items() if t.get("status") == "open"},
        "timers": {k: t for k, t in state.get("timers", {}).items() if t.get("status") in ("pending", "paused")},
        "live": True,
    }


def upgrade() -> None:
    bind = op.get_bind()
    after = ""
    while True:
        rows = bind.execute(sa.select(_CASES.c.id, _CASES.c.state).where(_CASES.c.id > after)
                            .order_by(_CASES.c.id).limit(BATCH)).all()
        if not rows:
            break
        changed = [{"k": case_id, "state": live(state)} for case_id, state in rows if not state.get("live")]
        if changed:
            bind.execute(sa.update(_CASES).where(_CASES.c.id == sa.bindparam("k"))
                         .values(state=sa.bindparam("state")), changed)
        after = rows[-1][0]
    after_key: tuple[str, int] = ("", 0)
    while True:
        events = bind.execute(
            sa.select(_EVENTS.c.case_id, _EVENTS.c.seq, _EVENTS.c.data)
            .where(_EVENTS.c.type == "message_queued",
                   sa.tuple_(_EVENTS.c.case_id, _EVENTS.c.seq) > sa.tuple_(sa.literal(after_key[0]),
                                                                           sa.literal(after_key[1])))
            .order_by(_EVENTS.c.case_id, _EVENTS.c.seq).limit(BATCH)).all()
        if not events:
            break
        ids = [data["message"].get("id") for _, _, data in events]
        kept = set(bind.execute(sa.select(_OUTBOX.c.id).where(_OUTBOX.c.id.in_(ids))).scalars())
        messages = []
        for case_id, seq, data in events:
            message = data["message"]
            if message.get("id") in kept and "payload" in message:
                reference = {k: message[k] for k in _REFERENCE_KEYS if message.get(k) is not None}
                messages.append({"k_case": case_id, "k_seq": seq, "data": {**data, "message": reference}})
        if messages:
            bind.execute(sa.update(_EVENTS).where(_EVENTS.c.case_id == sa.bindparam("k_case"),
                                                  _EVENTS.c.seq == sa.bindparam("k_seq"))
                         .values(data=sa.bindparam("data")), messages)
        after_key = (events[-1][0], events[-1][1])


def downgrade() -> None:
    # Nothing to undo in the schema. The states stay live: the code before this revision reads them
    # (it sees no closed tasks or fired timers on its pages; `replay` of the events rebuilds them),
    # and the messages' content stays in the outbox rows.
    pass
