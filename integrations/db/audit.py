"""Who looked at or changed which case, and why: the audit log the web app writes.

Every entry also carries the fields of the Dutch processing-log standard (Logboek
Dataverwerkingen): the trace id of the request it belongs to (W3C Trace Context, so a request can
be followed across systems), the processing activity (*verwerkingsactiviteit*), the operation
(create/read/update/delete), the resource (the case) and the status. `integrations/db/processing_log.py`
exports them for a privacy officer. API calls also record the id of the token that made them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from integrations.db.models import AuditLogRow

# action -> (processing activity, operation): the register of processing activities in docs/security.md.
ACTIVITIES: dict[str, tuple[str, str]] = {
    "view": ("casusinzage", "read"),
    "view_personal": ("inzage persoonsgegevens", "read"),
    "list": ("werkoverzicht", "read"),
    "change": ("casusbehandeling", "update"),
    "draft": ("casusbehandeling", "update"),
    "report": ("beleidsinformatie", "read"),
    "admin": ("accountbeheer", "update"),
    "erase": ("verwijdering persoonsgegevens", "delete"),
    "export": ("export verwerkingenlogboek", "read"),
}
DEFAULT_ACTIVITY = ("casusbehandeling", "read")

_TRACE: ContextVar[str | None] = ContextVar("carepath_trace_id", default=None)


def new_trace_id() -> str:
    """32 hexadecimal digits, as W3C Trace Context has it."""
    return secrets.token_hex(16)


def current_trace_id() -> str | None:
    return _TRACE.get()


@contextmanager
def trace(trace_id: str | None = None) -> Iterator[str]:
    """Every audit entry written inside carries this trace id (a request, a CLI command)."""
    chosen = trace_id or new_trace_id()
    token = _TRACE.set(chosen)
    try:
        yield chosen
    finally:
        _TRACE.reset(token)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str
    role: str | None
    organisation: str | None
    case_id: str | None
    action: str  # e.g. "view", "view_personal", "export", "erase"
    what: str
    why: str | None
    token_id: int | None = None
    trace_id: str | None = None
    activity: str | None = None
    operation: str | None = None
    status: str | None = None


def record_access(
    session: Session,
    *,
    at: datetime,
    who: str,
    action: str,
    what: str,
    case_id: str | None = None,
    role: str | None = None,
    organisation: str | None = None,
    why: str | None = None,
    token_id: int | None = None,
    trace_id: str | None = None,
    activity: str | None = None,
    operation: str | None = None,
    status: str = "ok",
) -> None:
    default_activity, default_operation = ACTIVITIES.get(action, DEFAULT_ACTIVITY)
    # On the session's connection, in its transaction: one statement built once (every page writes one
    # entry; the ORM's bulk-insert path and a statement built per call were a tenth of a work list).
    session.connection().execute(_INSERT_ENTRY, {
        "at": at, "who": who, "role": role, "organisation": organisation, "case_id": case_id,
        "action": action, "what": what, "why": why, "token_id": token_id,
        "trace_id": trace_id or current_trace_id() or new_trace_id(),
        "activity": activity or default_activity, "operation": operation or default_operation, "status": status,
    })


_INSERT_ENTRY = insert(AuditLogRow)


def _entry(r: AuditLogRow) -> AuditEntry:
    return AuditEntry(r.at, r.who, r.role, r.organisation, r.case_id, r.action, r.what, r.why, r.token_id,
                      r.trace_id, r.activity, r.operation, r.status)


def entries_for_case(session: Session, case_id: str) -> list[AuditEntry]:
    rows = session.execute(
        select(AuditLogRow).where(AuditLogRow.case_id == case_id).order_by(AuditLogRow.at, AuditLogRow.id)
    ).scalars()
    return [_entry(r) for r in rows]
