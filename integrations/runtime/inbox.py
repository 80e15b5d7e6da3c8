"""Reading the in-app inbox (for the web app): what the dispatch delivered to `inbox_messages`.

A message names a worker (only they see it) or a role (everyone holding the role sees it, in the
message's team or, for a message without a team, in any team). Read marks are per message: when
one coordinator has read a message to the coordinator role, it is read for the role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from integrations.db.sql import rowcount
from integrations.runtime.models import InboxMessageRow


@dataclass(frozen=True)
class InboxItem:
    id: str
    case_id: str
    task_id: str | None
    pathway_id: str
    team: str | None
    to_role: str | None
    to_worker: str | None
    template: str
    subject: str
    body: str
    link: str | None
    created_at: datetime
    delivered_at: datetime
    read_at: datetime | None


def _for(worker: str, roles: Sequence[str], team: str | None) -> ColumnElement[bool]:
    mine = InboxMessageRow.to_worker == worker
    role_wide = and_(InboxMessageRow.to_worker.is_(None), InboxMessageRow.to_role.in_(list(roles)))
    if team is not None:
        role_wide = and_(role_wide, or_(InboxMessageRow.team == team, InboxMessageRow.team.is_(None)))
    return or_(mine, role_wide) if roles else mine


def inbox(session: Session, worker: str, roles: Sequence[str] = (), team: str | None = None, *,
          unread_only: bool = False, limit: int = 100) -> list[InboxItem]:
    """The worker's messages, newest first."""
    query = select(InboxMessageRow).where(_for(worker, roles, team))
    if unread_only:
        query = query.where(InboxMessageRow.read_at.is_(None))
    rows = session.execute(query.order_by(InboxMessageRow.delivered_at.desc(), InboxMessageRow.id).limit(limit))
    return [InboxItem(r.id, r.case_id, r.task_id, r.pathway_id, r.team, r.to_role, r.to_worker, r.template,
                      r.subject, r.body, r.link, r.created_at, r.delivered_at, r.read_at) for r in rows.scalars()]


def unread_count(session: Session, worker: str, roles: Sequence[str] = (), team: str | None = None) -> int:
    return int(session.execute(select(func.count()).select_from(InboxMessageRow).where(
        _for(worker, roles, team), InboxMessageRow.read_at.is_(None))).scalar_one())


def mark_read(session: Session, message_id: str, worker: str, roles: Sequence[str], team: str | None,
              now: datetime) -> bool:
    """Mark a message the worker may see as read; False when there is none (or it was read already)."""
    result = session.execute(
        update(InboxMessageRow)
        .where(InboxMessageRow.id == message_id, InboxMessageRow.read_at.is_(None), _for(worker, roles, team))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(result))
