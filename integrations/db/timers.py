"""The timer sweep's queries: which timers are due, and what went wrong firing one.

`claim_due` hands out pending timers whose moment has come, in due order. On
PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so several
sweepers share the work without waiting on each other; on SQLite the caller
runs it inside a `BEGIN IMMEDIATE` transaction (`write_session`), which keeps
every other writer out until the batch commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from integrations.db.models import TimerRow
from integrations.db.sql import rowcount, table

FAILED = "failed"  # firing raised an error; kept out of the sweep until retried


@dataclass(frozen=True)
class DueTimer:
    id: str
    case_id: str
    kind: str
    due_at: datetime


@dataclass(frozen=True)
class FiredTimer:
    """A claimed timer that fired, with its case's pathway (as the sweep's batch hook gets it)."""

    timer: DueTimer
    pathway_id: str


def claim_due(session: Session, now: datetime, limit: int, *,
              share: tuple[int, int] | None = None) -> list[DueTimer]:
    """Pending timers due at or before `now`, soonest first, at most `limit`.

    `share` (PostgreSQL), `(k, n)`: only the timers of the cases in share k of n, by a hash of the case
    id, so that n sweeps at once never claim timers of the same case (`CaseService.fire_due`)."""
    query = (
        select(TimerRow.id, TimerRow.case_id, TimerRow.kind, TimerRow.due_at)
        .where(TimerRow.status == "pending", TimerRow.due_at <= now)
        .order_by(TimerRow.due_at, TimerRow.id)
        .limit(limit)
    )
    if share is not None:
        k, n = share
        if not 0 <= k < n:
            raise ValueError(f"claim_due: share {k} of {n} does not exist")
        query = query.where(func.mod(func.hashtext(TimerRow.case_id).op("&")(0x7FFFFFFF), n) == k)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [DueTimer(id=i, case_id=c, kind=k, due_at=d) for i, c, k, d in session.execute(query)]


def mark_failed(session: Session, errors: Mapping[str, str]) -> None:
    """Take timers whose firing raised out of the sweep, keeping the error for whoever looks."""
    if errors:
        timers = table(TimerRow)
        session.connection().execute(
            update(timers).where(timers.c.id == bindparam("k_id")),
            [{"k_id": timer_id, "status": FAILED, "last_error": error[:2000]} for timer_id, error in errors.items()],
        )


def retry_failed(session: Session, case_id: str | None = None) -> int:
    """Put failed timers back in the sweep (after a fix); returns how many."""
    query = update(TimerRow).where(TimerRow.status == FAILED)
    if case_id is not None:
        query = query.where(TimerRow.case_id == case_id)
    result = session.execute(
        query.values(status="pending", last_error=None).execution_options(synchronize_session=False)
    )
    return rowcount(result)


def failed_timers(session: Session) -> list[tuple[str, str, str | None]]:
    """(timer id, case id, error) of every failed timer."""
    rows = session.execute(
        select(TimerRow.id, TimerRow.case_id, TimerRow.last_error).where(TimerRow.status == FAILED).order_by(TimerRow.id)
    )
    return [(i, c, e) for i, c, e in rows]
