"""Incidents: what the runtime could not do on its own and a person has to look at.

A message that keeps failing (or can never be delivered: no address, a
refused webhook) and a timer whose firing raises become one open incident
each, never a silent loss. `carepath incidents` lists them; `--retry` puts
the message or timer back in line and closes the incident; the web app will
show them to coordinators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import ConflictError, NotFoundError
from integrations.db.models import OutboxRow, TimerRow
from integrations.db.sql import rowcount
from integrations.runtime.models import IncidentRow

DELIVERY_FAILED = "delivery_failed"
TIMER_FAILED = "timer_failed"


@dataclass(frozen=True)
class Incident:
    id: int
    kind: str
    ref: str
    case_id: str | None
    pathway_id: str | None
    team: str | None
    summary: str
    detail: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


def raise_incident(session: Session, *, kind: str, ref: str, summary: str, detail: str, now: datetime,
                   case_id: str | None = None, pathway_id: str | None = None, team: str | None = None) -> bool:
    """Open an incident about `ref` unless one is open already; True when this call opened it."""
    open_already = session.execute(
        select(IncidentRow.id).where(IncidentRow.kind == kind, IncidentRow.ref == ref, IncidentRow.resolved_at.is_(None))
    ).first()
    if open_already is not None:
        return False
    try:
        with session.begin_nested():  # a concurrent dispatcher may open the same one: keep the outer transaction
            session.execute(insert(IncidentRow).values(
                kind=kind, ref=ref, case_id=case_id, pathway_id=pathway_id, team=team, summary=summary,
                detail=detail[:4000], created_at=now,
            ))
    except IntegrityError:
        return False
    return True


def _incident(r: IncidentRow) -> Incident:
    return Incident(r.id, r.kind, r.ref, r.case_id, r.pathway_id, r.team, r.summary, r.detail, r.created_at,
                    r.resolved_at, r.resolved_by, r.resolution)


def list_incidents(session: Session, *, include_resolved: bool = False, team: str | None = None) -> list[Incident]:
    query = select(IncidentRow).order_by(IncidentRow.created_at, IncidentRow.id)
    if not include_resolved:
        query = query.where(IncidentRow.resolved_at.is_(None))
    if team is not None:
        query = query.where(IncidentRow.team == team)
    return [_incident(r) for r in session.execute(query).scalars()]


def _open_incident(session: Session, incident_id: int) -> IncidentRow:
    row = session.get(IncidentRow, incident_id)
    if row is None:
        raise NotFoundError(f"no incident {incident_id}")
    if row.resolved_at is not None:
        raise ConflictError(f"incident {incident_id} was already resolved by {row.resolved_by} ({row.resolution})")
    return row


def resolve(session: Session, incident_id: int, *, by: str, note: str, now: datetime) -> Incident:
    """Close an incident without retrying (handled outside carepath)."""
    row = _open_incident(session, incident_id)
    row.resolved_at, row.resolved_by, row.resolution = now, by, note
    return _incident(row)


def retry(session: Session, incident_id: int, *, by: str, now: datetime) -> Incident:
    """Put the failed message (or timer) back in line at once and close the incident."""
    row = _open_incident(session, incident_id)
    if row.kind == DELIVERY_FAILED:
        result = session.execute(
            update(OutboxRow).where(OutboxRow.id == row.ref, OutboxRow.status != "sent")
            .values(status="pending", attempts=0, next_attempt_at=now)
            .execution_options(synchronize_session=False))
        what = "message put back in the outbox"
    elif row.kind == TIMER_FAILED:
        result = session.execute(
            update(TimerRow).where(TimerRow.id == row.ref, TimerRow.status == "failed")
            .values(status="pending", last_error=None)
            .execution_options(synchronize_session=False))
        what = "timer put back in the sweep"
    else:
        raise ConflictError(f"incident {incident_id} is a {row.kind}; it can only be resolved")
    if not rowcount(result):
        what = f"nothing to retry ({row.ref} is no longer failed)"
    row.resolved_at, row.resolved_by, row.resolution = now, by, f"retry: {what}"
    return _incident(row)
