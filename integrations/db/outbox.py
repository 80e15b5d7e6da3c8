"""The outbox: messages the engine queued, delivered later by the runtime.

Rows are written in the same transaction as the events that queued them
(`message_queued`), so a message exists exactly when its case change does.
The message id is the idempotency key a deliverer passes on to the channel,
so delivering a message twice after a crash is harmless downstream.
Delivery itself (e-mail, webhook) is not here; this module hands out due
messages and records what became of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.errors import NotFoundError
from integrations.db.models import OutboxRow
from integrations.db.sql import insert_many, rowcount, table

PENDING = "pending"
SENT = "sent"
FAILED = "failed"  # given up: a person has to look at it


@dataclass(frozen=True)
class OutboundMessage:
    id: str
    case_id: str
    channel: str
    template: str
    to_role: str | None
    to_worker: str | None
    task_id: str | None
    payload: dict[str, Any]
    deliver_after: datetime
    attempts: int


def row_of(message: Mapping[str, Any]) -> dict[str, Any]:
    """The outbox row of one `message_queued` message."""
    deliver_after = datetime.fromisoformat(message["deliver_after"])
    return {
        "id": message["id"],
        "case_id": message["case_id"],
        "channel": message["channel"],
        "template": message["template"],
        "to_role": message.get("to_role"),
        "to_worker": message.get("to_worker"),
        "task_id": message.get("task_id"),
        "payload": dict(message.get("payload") or {}),
        "created_at": datetime.fromisoformat(message["created_at"]),
        "deliver_after": deliver_after,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": deliver_after,
        "last_error": None,
        "sent_at": None,
    }


_row = row_of  # the name it had before; kept for callers written against it

_REFERENCE_KEYS = ("id", "channel", "template", "to_role", "to_worker", "task_id")


def stored_event_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A `message_queued` event's data as stored: the message's id, channel, template and addressee.
    Its content (payload, moments) is stored once, in its outbox row under the same id."""
    message = data["message"]
    return {**data, "message": {k: message[k] for k in _REFERENCE_KEYS if message.get(k) is not None}}


def enqueue(session: Session, messages: Iterable[Mapping[str, Any]]) -> None:
    """Add `message_queued` messages (the engine's message dicts) to the outbox."""
    insert_many(session.connection(), table(OutboxRow), [row_of(m) for m in messages])


def claim_deliverable(session: Session, now: datetime, limit: int = 100) -> list[OutboundMessage]:
    """Pending messages whose moment has come, oldest first. On PostgreSQL the rows stay locked
    until the transaction ends and other deliverers skip them; on SQLite call this in a write
    session (BEGIN IMMEDIATE), which keeps other writers out."""
    query = (
        select(OutboxRow)
        .where(OutboxRow.status == PENDING, OutboxRow.next_attempt_at <= now)
        .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [
        OutboundMessage(id=r.id, case_id=r.case_id, channel=r.channel, template=r.template, to_role=r.to_role,
                        to_worker=r.to_worker, task_id=r.task_id, payload=dict(r.payload),
                        deliver_after=r.deliver_after, attempts=r.attempts)
        for r in session.execute(query).scalars()
    ]


def _update(session: Session, message_id: str, **values: Any) -> None:
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == message_id).values(**values).execution_options(synchronize_session=False)
    )
    if not rowcount(result):
        raise NotFoundError(f"no outbox message {message_id}")


def mark_sent(session: Session, message_id: str, now: datetime) -> None:
    _update(session, message_id, status=SENT, sent_at=now, attempts=OutboxRow.attempts + 1, last_error=None)


def mark_failed(session: Session, message_id: str, error: str, retry_at: datetime | None) -> None:
    """Record a failed attempt; try again at `retry_at`, or give up when it is None."""
    values: dict[str, Any] = {"attempts": OutboxRow.attempts + 1, "last_error": error[:2000]}
    if retry_at is None:
        values["status"] = FAILED
    else:
        values["next_attempt_at"] = retry_at
    _update(session, message_id, **values)


def messages_of_case(session: Session, case_id: str) -> list[OutboundMessage]:
    """Every message of the case, delivered ones moved to its archive included (integrations/db/archive.py)."""
    from integrations.db import archive

    archived = [
        OutboundMessage(id=m["id"], case_id=case_id, channel=m["channel"], template=m["template"],
                        to_role=m["to_role"], to_worker=m["to_worker"], task_id=m["task_id"], payload=dict(m["payload"]),
                        deliver_after=datetime.fromisoformat(m["deliver_after"]), attempts=m["attempts"])
        for m in archive.archived_messages(session, case_id)
    ]
    rows = session.execute(
        select(OutboxRow).where(OutboxRow.case_id == case_id).order_by(OutboxRow.created_at, OutboxRow.id)
    ).scalars()
    return archived + [
        OutboundMessage(id=r.id, case_id=r.case_id, channel=r.channel, template=r.template, to_role=r.to_role,
                        to_worker=r.to_worker, task_id=r.task_id, payload=dict(r.payload),
                        deliver_after=r.deliver_after, attempts=r.attempts)
        for r in rows
    ]
