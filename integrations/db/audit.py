"""Who looked at or changed which case, and why: the audit log the web app writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from integrations.db.models import AuditLogRow


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
) -> None:
    session.execute(
        insert(AuditLogRow).values(at=at, who=who, role=role, organisation=organisation, case_id=case_id,
                                   action=action, what=what, why=why)
    )


def entries_for_case(session: Session, case_id: str) -> list[AuditEntry]:
    rows = session.execute(
        select(AuditLogRow).where(AuditLogRow.case_id == case_id).order_by(AuditLogRow.at, AuditLogRow.id)
    ).scalars()
    return [AuditEntry(r.at, r.who, r.role, r.organisation, r.case_id, r.action, r.what, r.why) for r in rows]
