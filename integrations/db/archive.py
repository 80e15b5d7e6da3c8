"""The history of closed cases, archived compressed (issue #14).

A closed case's events, its fired and cancelled timers and its delivered messages (with their
delivery attempts) are read rarely (the case page, an export, an audit, the DDAS feedback) and
by decisions never, yet they are most of what a case stores: about 32 of a closed case's 40 KB.
`archive_closed` moves them, `$CAREPATH_ARCHIVE_AFTER_DAYS` days after the case closed, into one
`case_archives` row: compact JSON packed with zstd and the trained dictionary (`packed_json`, level 9),
about a thirteenth of its JSON (archives written before as zlib streams are read as they are). `history`
reads the archive and any later events (of a case reopened since) as one history, so pages,
exports, the DDAS results and the replay of a case's whole state see no difference. Nothing
personal moves: the history holds no personal data (models.py), and erasing a client still
deletes only their `case_personal_data` row.

The closed case's live state stays in its row (a reopening decides on it), packed once more at a
tighter level (`STATE_LEVEL`, about 20 % smaller than the live level's): it is read only when the case
is shown or reopened, and the next command writes it at the live level again.

What stays where it was: the case row (its live state), the tasks (work lists and the municipal
reports read them), timers that are pending, paused or failed, and messages not yet delivered or
given up (incidents point at those).

Safe beside commands and readers: the move deletes only the pages of events up to the sequence number
it archived, so an event a reopened case adds meanwhile stays; on PostgreSQL it locks the case rows
it moves (`FOR UPDATE SKIP LOCKED`, so a second archiver or a busy case is passed over, not waited
for). Readers read the event pages before the archive: whichever side of the move's commit each
read lands, together they hold every event once.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    String,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy import table as table_clause
from sqlalchemy.orm import Session

from engine.events import Event
from integrations.db import packed_json
from integrations.db.engine_factory import write_session
from integrations.db.errors import StorageError
from integrations.db.event_pages import events_of
from integrations.db.json_codec import parse_json
from integrations.db.models import CaseArchiveRow, CaseEventPageRow, CaseRow, OutboxRow, TimerRow, UTCDateTime
from integrations.db.sql import table

log = logging.getLogger("carepath.archive")

ARCHIVE_AFTER_ENV = "CAREPATH_ARCHIVE_AFTER_DAYS"
DEFAULT_AFTER_DAYS = 30
BATCH = 200  # cases a transaction
FORMAT = 1
ARCHIVED_TIMERS = ("fired", "cancelled")
ARCHIVED_MESSAGES = ("sent", "skipped")

# delivery_attempts belongs to the runtime (integrations/runtime/models.py); only its columns are named here.
_ATTEMPTS = table_clause(
    "delivery_attempts", Column("id", Integer), Column("message_id", String), Column("attempt", Integer),
    Column("channel", String), Column("started_at", UTCDateTime()), Column("finished_at", UTCDateTime()),
    Column("outcome", String), Column("detail", String), Column("dispatcher", String),
)


# The case rows' state as stored (packed bytes), to pack it tighter without reading it as a document.
_CASE_STATES = table_clause("cases", Column("id", String), Column("status", String), Column("state", LargeBinary))


class ArchiveError(StorageError):
    """An archive row that cannot be read back (damaged, or written by a newer carepath)."""


def archive_after() -> timedelta:
    """How long after closing a case's history is archived (`$CAREPATH_ARCHIVE_AFTER_DAYS`, default 30)."""
    raw = os.environ.get(ARCHIVE_AFTER_ENV, str(DEFAULT_AFTER_DAYS))
    try:
        days = float(raw)
    except ValueError:
        raise ArchiveError(f"{ARCHIVE_AFTER_ENV}={raw!r}: geen getal (dagen na het sluiten van een zaak)") from None
    if days < 0:
        raise ArchiveError(f"{ARCHIVE_AFTER_ENV}={raw!r}: mag niet negatief zijn")
    return timedelta(days=days)


@dataclass(frozen=True)
class ArchiveReport:
    """What one run moved: counts only."""

    cases: int = 0
    events: int = 0
    timers: int = 0
    messages: int = 0

    def __add__(self, other: ArchiveReport) -> ArchiveReport:
        return ArchiveReport(self.cases + other.cases, self.events + other.events, self.timers + other.timers,
                             self.messages + other.messages)

    def to_json(self) -> dict[str, int]:
        return {"cases": self.cases, "events": self.events, "timers": self.timers, "messages": self.messages}

    def summary(self) -> str:
        if not self.cases:
            return "archief: geen gesloten zaak om te archiveren"
        return (f"archief: {self.cases} gesloten zaak/zaken gearchiveerd ({self.events} gebeurtenissen, "
                f"{self.timers} geplande momenten, {self.messages} berichten)")


# --- the document -------------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


_ZLIB = 0x78  # the first byte of every zlib stream carepath wrote before (deflate, 32 KB window)
LEVEL = 9  # written once, read rarely: tighter than the live rows' level 3 (about 2.0 KB a case against 2.6)
# A closed case's state, packed again as its history is archived: 414 bytes against 528 at the live
# level 3 (eviction prevention), 0.16 ms a state; levels above 15 gain a few bytes for five times the time.
STATE_LEVEL = 15


def encode(document: dict[str, Any]) -> bytes:
    """The archive as stored: packed like the live documents (zstd and the trained dictionary,
    packed_json), about two thirds of the zlib stream it was before."""
    return packed_json.pack(document, level=LEVEL)


def decode(case_id: str, blob: bytes) -> dict[str, Any]:
    """An archive as written now (packed) or before (zlib)."""
    try:
        if bytes(blob[:1]) == bytes((_ZLIB,)):
            document: dict[str, Any] = parse_json(zlib.decompress(blob))
        else:
            document = packed_json.unpack(blob)
    except (zlib.error, ValueError, packed_json.PackedJsonError) as exc:
        raise ArchiveError(f"zaak {case_id}: het archief is beschadigd ({exc})") from exc
    if not isinstance(document, dict):
        raise ArchiveError(f"zaak {case_id}: het archief is beschadigd (geen JSON-object)")
    if document.get("format") != FORMAT:
        raise ArchiveError(f"zaak {case_id}: archief in formaat {document.get('format')!r}, "
                           f"deze versie van carepath leest formaat {FORMAT}")
    return document


def _events_of(case_id: str, document: dict[str, Any]) -> list[Event]:
    return [Event(case_id=case_id, seq=seq, type=kind, at=datetime.fromisoformat(at), actor=actor, data=data,
                  reason=reason)
            for seq, kind, at, actor, reason, data in document["events"]]


# --- reading --------------------------------------------------------------------------------------------


def _pages(session: Session, case_ids: Sequence[str]) -> dict[str, list[Event]]:
    """case id -> its stored (not archived) events in order, for the cases that have any."""
    found: dict[str, list[Event]] = {}
    pages = table(CaseEventPageRow)
    for chunk in _chunks(list(case_ids), 500):
        for r in session.execute(select(pages).where(pages.c.case_id.in_(chunk))
                                 .order_by(pages.c.case_id, pages.c.first_seq)):
            found.setdefault(r.case_id, []).extend(events_of(r.case_id, r.first_seq, r.last_seq, r.at, r.actor,
                                                             r.events))
    return found


def history(session: Session, case_id: str) -> list[Event] | None:
    """The case's whole history, archive and later events in order; None when the case has neither
    (no such case). The rows are read before the archive (see the module's docstring)."""
    live = [event for events in _pages(session, [case_id]).values() for event in events]
    archived = session.execute(
        select(CaseArchiveRow.through_seq, CaseArchiveRow.history).where(CaseArchiveRow.case_id == case_id)
    ).first()
    if archived is None:
        return live or None
    through, blob = archived
    return _events_of(case_id, decode(case_id, blob)) + [e for e in live if e.seq > through]


def events_of_type(session: Session, case_ids: Sequence[str], event_type: str) -> dict[str, list[dict[str, Any]]]:
    """case id -> the data of its events of `event_type`, in order, archived ones included."""
    found: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for case_id, events in _pages(session, case_ids).items():
        kept = [(e.seq, e.data) for e in events if e.type == event_type]
        if kept:
            found[case_id] = kept
    for case_id, through, blob in session.execute(
        select(CaseArchiveRow.case_id, CaseArchiveRow.through_seq, CaseArchiveRow.history)
        .where(CaseArchiveRow.case_id.in_(case_ids))
    ):
        later = [(seq, data) for seq, data in found.get(case_id, []) if seq > through]
        found[case_id] = [(seq, data) for seq, kind, _, _, _, data in decode(case_id, blob)["events"]
                          if kind == event_type] + later
    return {case_id: [data for _, data in sorted(items, key=lambda item: item[0])] for case_id, items in found.items()}


def archived_messages(session: Session, case_id: str) -> list[dict[str, Any]]:
    """The delivered messages archived for the case (outbox columns, ISO moments, their attempts)."""
    blob = session.execute(select(CaseArchiveRow.history).where(CaseArchiveRow.case_id == case_id)).scalar()
    return [] if blob is None else list(decode(case_id, blob)["messages"])


# --- moving ---------------------------------------------------------------------------------------------


def _due_cases(session: Session, closed_before: datetime, after: tuple[datetime, str] | None) -> list[str]:
    has_events = exists().where(CaseEventPageRow.case_id == CaseRow.id)
    query = (select(CaseRow.id, CaseRow.closed_at)
             .where(CaseRow.status == "closed", CaseRow.closed_at <= closed_before, has_events)
             .order_by(CaseRow.closed_at, CaseRow.id).limit(BATCH))
    if after is not None:
        moment, case_id = after
        query = query.where((CaseRow.closed_at > moment) | and_(CaseRow.closed_at == moment, CaseRow.id > case_id))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=CaseRow, skip_locked=True)
    return [case_id for case_id, _ in session.execute(query)]


def _last_key(session: Session, case_ids: Sequence[str]) -> tuple[datetime, str] | None:
    rows = session.execute(select(CaseRow.closed_at, CaseRow.id).where(CaseRow.id.in_(case_ids))).all()
    keys = [(moment, case_id) for moment, case_id in rows if moment is not None]
    return max(keys) if keys else None


def _archive_batch(session: Session, case_ids: Sequence[str], now: datetime) -> ArchiveReport:
    events: dict[str, list[list[Any]]] = {case_id: [] for case_id in case_ids}
    for case_id, stored in _pages(session, case_ids).items():
        events[case_id] = [[e.seq, e.type, e.at.isoformat(), e.actor, e.reason, e.data] for e in stored]
    timers: dict[str, list[dict[str, Any]]] = {case_id: [] for case_id in case_ids}
    for r in session.execute(select(TimerRow.id, TimerRow.case_id, TimerRow.kind, TimerRow.due_at, TimerRow.status,
                                    TimerRow.last_error)
                             .where(TimerRow.case_id.in_(case_ids), TimerRow.status.in_(ARCHIVED_TIMERS))
                             .order_by(TimerRow.case_id, TimerRow.id)):
        timers[r.case_id].append({"id": r.id, "kind": r.kind, "due_at": r.due_at.isoformat(), "status": r.status,
                                  "last_error": r.last_error})
    messages: dict[str, list[dict[str, Any]]] = {case_id: [] for case_id in case_ids}
    by_id: dict[str, dict[str, Any]] = {}
    outbox = table(OutboxRow)
    for m in session.execute(select(outbox)
                             .where(outbox.c.case_id.in_(case_ids), outbox.c.status.in_(ARCHIVED_MESSAGES))
                             .order_by(outbox.c.case_id, outbox.c.created_at, outbox.c.id)):
        message: dict[str, Any] = {"id": m.id, "channel": m.channel, "template": m.template, "to_role": m.to_role,
                                   "to_worker": m.to_worker, "task_id": m.task_id, "payload": m.payload,
                                   "created_at": _iso(m.created_at), "deliver_after": _iso(m.deliver_after),
                                   "status": m.status, "attempts": m.attempts, "last_error": m.last_error,
                                   "sent_at": _iso(m.sent_at), "tries": []}
        messages[m.case_id].append(message)
        by_id[m.id] = message
    for chunk in _chunks(list(by_id), 500):
        for a in session.execute(select(_ATTEMPTS).where(_ATTEMPTS.c.message_id.in_(chunk))
                                 .order_by(_ATTEMPTS.c.message_id, _ATTEMPTS.c.attempt)):
            by_id[a.message_id]["tries"].append(
                {"attempt": a.attempt, "channel": a.channel, "started_at": _iso(a.started_at),
                 "finished_at": _iso(a.finished_at), "outcome": a.outcome, "detail": a.detail,
                 "dispatcher": a.dispatcher})
    earlier = {case_id: decode(case_id, blob) for case_id, blob in session.execute(
        select(CaseArchiveRow.case_id, CaseArchiveRow.history).where(CaseArchiveRow.case_id.in_(case_ids)))}
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    through: dict[str, int] = {}
    for case_id in case_ids:
        before = earlier.get(case_id, {"format": FORMAT, "events": [], "timers": [], "messages": []})
        kept = {e[0] for e in before["events"]}
        document = {
            "format": FORMAT,
            "events": before["events"] + [e for e in events[case_id] if e[0] not in kept],
            "timers": before["timers"] + timers[case_id],
            "messages": before["messages"] + messages[case_id],
        }
        if not document["events"]:
            continue
        through[case_id] = document["events"][-1][0]
        row: dict[str, Any] = {"k_case_id": case_id, "archived_at": now, "through_seq": through[case_id],
                               "history": encode(document)}
        (changed_rows if case_id in earlier else new_rows).append(row)
    archives = table(CaseArchiveRow)
    pages_table = table(CaseEventPageRow)
    if new_rows:
        session.execute(insert(archives), [{"case_id": r.pop("k_case_id"), **r} for r in new_rows])
    if changed_rows:
        session.execute(update(archives).where(archives.c.case_id == bindparam("k_case_id")), changed_rows)
    moved_events = sum(len(events[case_id]) for case_id in through)
    if through:
        session.execute(
            delete(pages_table).where(pages_table.c.case_id == bindparam("k_case_id"),
                                      pages_table.c.last_seq <= bindparam("k_through")),
            [{"k_case_id": case_id, "k_through": seq} for case_id, seq in through.items()])
    timer_ids = [t["id"] for case_id in through for t in timers[case_id]]
    message_ids = [m["id"] for case_id in through for m in messages[case_id]]
    for chunk in _chunks(timer_ids, 500):
        session.execute(delete(TimerRow).where(TimerRow.id.in_(chunk)))
    for chunk in _chunks(message_ids, 500):
        session.execute(delete(_ATTEMPTS).where(_ATTEMPTS.c.message_id.in_(chunk)))
        session.execute(delete(OutboxRow).where(OutboxRow.id.in_(chunk)))
    _pack_states_tighter(session, list(through))
    return ArchiveReport(len(through), moved_events, len(timer_ids), len(message_ids))


def _pack_states_tighter(session: Session, case_ids: list[str]) -> None:
    """The closed cases' states packed at `STATE_LEVEL`: the same document, fewer bytes. The case rows are
    this transaction's (locked on PostgreSQL by `_due_cases`); their version does not move, as nothing a
    decision reads changes."""
    c = _CASE_STATES.c
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(case_ids, 500):
        for case_id, stored in session.execute(select(c.id, c.state).where(c.id.in_(chunk), c.status == "closed")):
            tighter = packed_json.pack(packed_json.unpack(stored), level=STATE_LEVEL)
            if len(tighter) < len(stored):
                rows.append({"k_id": case_id, "state": tighter})
    if rows:
        session.execute(update(_CASE_STATES).where(c.id == bindparam("k_id")), rows)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def archive_closed(db: Any, now: datetime, *, after: timedelta | None = None) -> ArchiveReport:
    """Archive the history of every case closed more than `after` (default `archive_after()`) before
    `now`, one transaction per `BATCH` cases; cases another transaction holds wait for the next run."""
    closed_before = now - (archive_after() if after is None else after)
    report = ArchiveReport()
    position: tuple[datetime, str] | None = None
    while True:
        with write_session(db) as session:
            case_ids = _due_cases(session, closed_before, position)
            if not case_ids:
                break
            position = _last_key(session, case_ids)
            report += _archive_batch(session, case_ids, now)
    if report.cases:
        log.info("archived %d closed cases (%d events, %d timers, %d messages)", report.cases, report.events,
                 report.timers, report.messages)
    return report
