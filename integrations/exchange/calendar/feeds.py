"""Secret, revocable iCalendar feed URLs per worker, and the feed itself.

The URL holds a long random secret of which only the SHA-256 is stored; revoking ends every URL
of the worker at once (making a new one revokes the old). The feed holds the worker's open tasks
(visits, evaluations, anything due) as events ending at the due moment, with the case code and
the step only: never a client's name, address or any case field, because calendar apps sync to
phones and third-party servers.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.errors import NotFoundError
from integrations.db.models import OPEN_TASK, TaskRow
from integrations.db.partner_tables import CalendarFeedRow
from integrations.db.sql import rowcount

FEED_PATH = "/agenda/{token}.ics"
EVENT_LENGTH = timedelta(minutes=30)
_KIND = {"human_task": "Taak", "evaluation": "Evaluatie", "partner_request": "Verwijzing"}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_feed(session: Session, username: str, now: datetime) -> str:
    """A new secret feed URL token for `username` (earlier ones are revoked); returned once."""
    revoke_feeds(session, username, now)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeedRow(username=username, token_hash=_hash(token), created_at=now, revoked_at=None))
    session.flush()
    return token


def revoke_feeds(session: Session, username: str, now: datetime) -> int:
    result = session.execute(update(CalendarFeedRow)
                             .where(CalendarFeedRow.username == username, CalendarFeedRow.revoked_at.is_(None))
                             .values(revoked_at=now).execution_options(synchronize_session=False))
    return rowcount(result)


def has_feed(session: Session, username: str) -> bool:
    return session.execute(select(CalendarFeedRow.id).where(
        CalendarFeedRow.username == username, CalendarFeedRow.revoked_at.is_(None))).first() is not None


def feed_owner(session: Session, token: str) -> str:
    """The username behind a live feed token; NotFoundError (one answer for every reason) otherwise."""
    if not token or len(token) > 200:
        raise NotFoundError("geen agenda")
    owner = session.execute(select(CalendarFeedRow.username).where(
        CalendarFeedRow.token_hash == _hash(token), CalendarFeedRow.revoked_at.is_(None))).scalar_one_or_none()
    if owner is None:
        raise NotFoundError("geen agenda")
    return owner


def worker_calendar(session: Session, actor: str, now: datetime, limit: int = 500) -> bytes:
    """The worker's open tasks as an iCalendar document: case code and step title, nothing else."""
    rows = session.execute(
        select(TaskRow.id, TaskRow.case_id, TaskRow.type, TaskRow.title, TaskRow.due_at, TaskRow.created_at)
        .where(TaskRow.assignee == actor, OPEN_TASK).order_by(TaskRow.due_at).limit(limit)
    ).all()
    calendar = Calendar()
    calendar.add("prodid", "-//carepath//agenda//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "carepath")
    calendar.add("x-wr-timezone", "Europe/Amsterdam")
    for row in rows:
        event = Event()
        event.add("uid", f"{row.id}@carepath")
        event.add("dtstamp", now)
        event.add("dtstart", row.due_at - EVENT_LENGTH)
        event.add("dtend", row.due_at)
        event.add("summary", f"{row.case_id} · {_KIND.get(row.type, 'Taak')}: {row.title}")
        event.add("categories", [_KIND.get(row.type, "Taak")])
        calendar.add_component(event)
    document: bytes = calendar.to_ical()
    return document
