"""Reading the in-app inbox (for the web app): what the dispatch delivered to `inbox_messages`.

A message names a worker (only they see it) or a role (everyone holding the role sees it, in the
message's team or, for a message without a team, in any team). Read marks are per person
(`inbox_reads`): when one coordinator has read a message to the coordinator role, it is still
unread for the other coordinators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, ScalarSelect, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from integrations.db.models import OPEN_TASK, TaskRow
from integrations.runtime.models import InboxMessageRow, InboxReadRow


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


def _for(worker: Any, roles: Any, team: Any) -> ColumnElement[bool]:
    """Messages the worker may see; `worker`, `roles` and `team` are values or bound parameters."""
    mine = InboxMessageRow.to_worker == worker
    role_wide = and_(InboxMessageRow.to_worker.is_(None),
                     InboxMessageRow.to_role.in_(roles if isinstance(roles, BindParameter) else list(roles)))
    if team is not None:
        role_wide = and_(role_wide, or_(InboxMessageRow.team == team, InboxMessageRow.team.is_(None)))
    return or_(mine, role_wide) if isinstance(roles, BindParameter) or roles else mine


def _joined(query: Any, worker: Any) -> Any:
    return query.outerjoin(InboxReadRow, and_(InboxReadRow.message_id == InboxMessageRow.id,
                                              InboxReadRow.worker == worker))


def inbox(session: Session, worker: str, roles: Sequence[str] = (), team: str | None = None, *,
          unread_only: bool = False, limit: int = 100) -> list[InboxItem]:
    """The worker's messages, newest first, each with the moment *this worker* read it."""
    query = _joined(select(InboxMessageRow, InboxReadRow.read_at), worker).where(_for(worker, roles, team))
    if unread_only:
        query = query.where(InboxReadRow.read_at.is_(None), _still_news())
    rows = session.execute(query.order_by(InboxMessageRow.delivered_at.desc(), InboxMessageRow.id).limit(limit))
    return [InboxItem(r.id, r.case_id, r.task_id, r.pathway_id, r.team, r.to_role, r.to_worker, r.template,
                      r.subject, r.body, r.link, r.created_at, r.delivered_at, read_at) for r, read_at in rows]


def _still_news() -> ColumnElement[bool]:
    """A message about a task that is done or lapsed is no news any more (it stays in the list)."""
    open_task = select(TaskRow.id).where(TaskRow.id == InboxMessageRow.task_id, OPEN_TASK).exists()
    return or_(InboxMessageRow.task_id.is_(None), open_task)


def unread_count(session: Session, worker: str, roles: Sequence[str] = (), team: str | None = None) -> int:
    """Unread messages of this worker that are still news (about no task, or an open one)."""
    statement = _unread_statement(bool(roles), team is not None)
    return int(session.execute(statement, {"worker": worker, "roles": list(roles), "team": team}).scalar_one())


def unread_query(worker: str, roles: Sequence[str] = (), team: str | None = None) -> ScalarSelect[int]:
    """`unread_count` as a scalar query with its values in it, for a statement that reads the count
    along with something else (the work page: `caselists.work_page(count=...)`)."""
    counted: ScalarSelect[int] = _unread(worker, roles, team).scalar_subquery()
    return counted


@lru_cache(maxsize=4)
def _unread_statement(roles: bool, team: bool) -> Any:
    """`unread_count`'s statement for one shape (with roles or not, with a team or not), built once:
    every page shows the count. Bound parameters `worker`, `roles` (expanding) and `team`."""
    return _unread(bindparam("worker"), bindparam("roles", expanding=True) if roles else (),
                   bindparam("team") if team else None)


def _unread(worker: Any, roles: Any, team: Any) -> Any:
    """COUNT of the worker's unread messages that are still news; values or bound parameters."""
    query = _joined(select(func.count()).select_from(InboxMessageRow), worker)
    return query.where(_for(worker, roles, team), InboxReadRow.read_at.is_(None), _still_news())


def mark_read(session: Session, message_id: str, worker: str, roles: Sequence[str], team: str | None,
              now: datetime) -> bool:
    """Mark a message the worker may see as read, for this worker only; False when there is none
    (or they read it already)."""
    visible = session.execute(select(InboxMessageRow.id).where(InboxMessageRow.id == message_id,
                                                               _for(worker, roles, team))).scalar_one_or_none()
    if visible is None or session.get(InboxReadRow, (message_id, worker)) is not None:
        return False
    session.add(InboxReadRow(message_id=message_id, worker=worker, read_at=now))
    session.execute(update(InboxMessageRow).where(InboxMessageRow.id == message_id,
                                                  InboxMessageRow.to_worker == worker,
                                                  InboxMessageRow.read_at.is_(None))
                    .values(read_at=now).execution_options(synchronize_session=False))
    session.flush()
    return True
