"""Cases in the database: load, save a decision, and read history and worklists.

`save_decision` writes everything one engine decision changed in the caller's
transaction: the case row (with the optimistic-lock check), the events, the
personal-data row when it changed, and the task, timer and outbox projections
— only the rows the events touched. The service owns the transaction.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select, text
from sqlalchemy.orm import Session

from engine.errors import ConflictError, NotFoundError
from engine.events import Event, replay
from engine.messages import msg
from engine.state import CaseState, Task, TaskStatus, Timer, TimerStatus
from integrations.db import archive, event_pages, hot_sql, outbox, personal_data
from integrations.db.models import (
    CaseEventPageRow,
    CasePersonalDataRow,
    CaseRow,
    CaseTrackRow,
    OutboxRow,
    TaskRow,
    TimerRow,
)
from integrations.db.sql import COPY_MIN_ROWS, insert_many, rowcount, table
from integrations.reporting.cellkey import record_key
from integrations.reporting.origin import origin_group
from integrations.reporting.projection import case_funder, track_rows

if TYPE_CHECKING:
    from engine.decide import Decision  # not at run time: reading a work list needs no engine


class StaleCaseError(ConflictError):
    """The case changed since it was loaded (optimistic lock): load it again and decide again."""


@dataclass(frozen=True)
class TaskView:
    """One row of a worklist."""

    id: str
    case_id: str
    type: str
    step: str
    flow: str
    title: str
    role: str
    assignee: str | None
    team: str | None
    status: str
    due_at: datetime
    created_at: datetime
    completed_at: datetime | None
    reminders_sent: int
    escalation_level: int


@dataclass(frozen=True)
class PendingSave:
    """One decision waiting to be written: what was loaded, what the engine decided."""

    loaded_version: int
    decision: Decision
    personal_fields: tuple[str, ...]
    extra_timer_ids: frozenset[str] = frozenset()  # claimed timers to resync even without an event
    # The case had a personal data row when the state decided on was read: the save holds only while
    # the row is still there (an erasure deletes it without moving the version; a decision taken
    # before must not write what was erased into new events or messages).
    had_personal: bool = False
    # The state the decision was taken on, when the caller has it: the stored rows are its rows (the
    # version check holds the save to it), so on SQLite an UPDATE sets only what changed since
    # (`_narrow_case_row`, `_narrow_task_rows`).
    before: CaseState | None = None


@dataclass
class _Rows:
    """Everything a batch of decisions writes besides the case rows."""

    events: list[dict[str, Any]] = field(default_factory=list)
    new_tasks: list[dict[str, Any]] = field(default_factory=list)
    changed_tasks: list[dict[str, Any]] = field(default_factory=list)
    new_timers: list[dict[str, Any]] = field(default_factory=list)
    changed_timers: list[dict[str, Any]] = field(default_factory=list)
    gone_timers: list[str] = field(default_factory=list)  # cancelled: their rows are deleted (the events keep them)
    messages: list[dict[str, Any]] = field(default_factory=list)
    personal: dict[str, dict[str, Any]] = field(default_factory=dict)  # case id -> fields to store
    # case id -> its case_tracks rows that are new or changed (all of them when the state before is not known)
    tracks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Of those, the ones stored before: their keys, and each as the key and the columns that changed
    # (a narrow UPDATE on SQLite, as for tasks).
    tracks_stored: set[tuple[str, str]] = field(default_factory=set)
    track_updates: list[dict[str, Any]] = field(default_factory=list)
    befores: dict[str, CaseState] = field(default_factory=dict)  # case id -> PendingSave.before, where given


# --- loading ----------------------------------------------------------------------------------------


def _merged_state(state_json: dict[str, Any], personal: dict[str, Any] | None) -> CaseState:
    if personal:
        state_json = {**state_json, "data": {**state_json["data"], **personal}}
    return CaseState.from_json(state_json)


_LOAD_CASE = ("SELECT cases.state, case_personal_data.data FROM cases LEFT OUTER JOIN case_personal_data "
              "ON case_personal_data.case_id = cases.id WHERE cases.id = {mark}")


def load_case(session: Session, case_id: str) -> CaseState:
    """The whole case, history included (closed tasks, fired timers), with its personal data merged
    back: what pages, exports and checks read. NotFoundError when there is none. A live stored state
    (`engine/state.py`) is completed by replaying the case's events."""
    state = load_case_on(*hot_sql.driver_cursor(session), case_id)
    return whole_state(session, state) if state.live else state


def whole_state(session: Session, live: CaseState, pending: Sequence[Event] = ()) -> CaseState:
    """The whole state of a case whose live state is `live` (as loaded, with `pending` events of this
    transaction applied since): its stored history and `pending` replayed, personal data from `live`."""
    events = history(session, live.id) + list(pending)
    whole = replay(events)
    if whole.version != live.version + len(pending):
        raise StaleCaseError(f"case {live.id}: history at version {whole.version}, state at {live.version} "
                             f"with {len(pending)} events since")
    whole.data = dict(live.data)  # the personal fields, merged back into the live state's data
    return whole


def load_case_on(cursor: Any, dialect_name: str, case_id: str) -> CaseState:
    """The case as stored (live: what decisions read), personal data merged back, on a DBAPI cursor
    in a transaction (`hot_sql.raw_write`)."""
    return load_live_on(cursor, dialect_name, case_id)[0]


def load_live_on(cursor: Any, dialect_name: str, case_id: str) -> tuple[CaseState, bool]:
    """`load_case_on`, and whether the case has a personal data row (`PendingSave.had_personal`)."""
    d = hot_sql.dialect(dialect_name)
    cursor.execute(_LOAD_CASE.format(mark=d.mark), (case_id,))
    row = cursor.fetchone()
    if row is None:
        raise NotFoundError(msg("case.unknown", case=case_id))
    return _merged_state(d.read_json(row[0]), d.read_json(row[1])), row[1] is not None


def case_version_on(cursor: Any, dialect_name: str, case_id: str) -> int | None:
    """The stored version of the case (None when there is none), without reading its state."""
    cursor.execute(f"SELECT version FROM cases WHERE id = {hot_sql.dialect(dialect_name).mark}", (case_id,))
    row = cursor.fetchone()
    return None if row is None else int(row[0])


def case_exists_on(cursor: Any, dialect_name: str, case_id: str) -> bool:
    cursor.execute(f"SELECT 1 FROM cases WHERE id = {hot_sql.dialect(dialect_name).mark}", (case_id,))
    return cursor.fetchone() is not None


_SQLITE_IDS_A_QUERY = 10_000


def load_cases(session: Session, case_ids: Sequence[str], *, lock: bool = False) -> dict[str, CaseState]:
    """Several cases in one query, as stored (live states, for decisions). With `lock` (PostgreSQL)
    the rows are locked, and rows another transaction holds are left out rather than waited for.
    Read on the driver's cursor, as `load_case_on` does: a sweep batch reads hundreds of states,
    and SQLAlchemy's row processing cost more than the query (issue #14)."""
    cursor, name = hot_sql.driver_cursor(session)
    d = hot_sql.dialect(name)
    found: dict[str, CaseState] = {}
    # SQLite takes at most 32,766 parameters a statement: a very large batch is read in parts.
    step = len(case_ids) if name == "postgresql" else _SQLITE_IDS_A_QUERY
    for first in range(0, len(case_ids), max(1, step)):
        part = case_ids[first:first + step]
        params: tuple[Any, ...]
        if name == "postgresql":
            where, params = "cases.id = ANY(%s)", (list(part),)
        else:
            where, params = f"cases.id IN ({', '.join('?' for _ in part)})", tuple(part)
        sql = (f"SELECT cases.id, cases.state, case_personal_data.data FROM cases LEFT OUTER JOIN case_personal_data "
               f"ON case_personal_data.case_id = cases.id WHERE {where}")
        if lock and name == "postgresql":
            sql += " FOR NO KEY UPDATE OF cases SKIP LOCKED"  # as a command's save and an erasure lock it
        cursor.execute(sql, params)
        found.update((case_id, _merged_state(d.read_json(state), d.read_json(personal)))
                     for case_id, state, personal in cursor.fetchall())
    return found


def case_exists(session: Session, case_id: str) -> bool:
    return session.execute(select(CaseRow.id).where(CaseRow.id == case_id)).first() is not None


def history(session: Session, case_id: str) -> list[Event]:
    """The case's events in order, as stored (without personal data), archived ones included."""
    events = archive.history(session, case_id)
    if events is None:
        if not case_exists(session, case_id):
            raise NotFoundError(msg("case.unknown", case=case_id))
        return []
    return events


def stored_state(session: Session, case_id: str) -> dict[str, Any]:
    """The state JSON exactly as stored (the live form, personal data left out), for checks."""
    state = session.execute(select(CaseRow.state).where(CaseRow.id == case_id)).scalar_one_or_none()
    if state is None:
        raise NotFoundError(msg("case.unknown", case=case_id))
    return dict(state)


def personal_data_of(session: Session, case_id: str) -> dict[str, Any] | None:
    row = session.get(CasePersonalDataRow, case_id)
    return None if row is None else dict(row.data)


def erase_personal_data(session: Session, case_id: str) -> bool:
    """Delete the client's identifying data of one case, its journal included; True when there was any.

    On PostgreSQL the case row is locked first, as a sweep batch locks the cases it fires
    (`load_cases(lock=True)`): a batch that read the personal data (a letter's address, say) saves
    its messages before the erasure deletes it, or skips the case while the erasure holds it, and
    never writes erased data after the erasure. (A command's save checks the row itself:
    `PendingSave.had_personal`. SQLite has one writer at a time.)"""
    from integrations.db import journal

    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(CaseRow.id).where(CaseRow.id == case_id).with_for_update(key_share=True))
    erased_journal = journal.erase(session, case_id)
    return bool(rowcount(session.execute(delete(CasePersonalDataRow).where(CasePersonalDataRow.case_id == case_id)))
                or erased_journal)


# --- saving -----------------------------------------------------------------------------------------


def _case_columns(state: CaseState, fields: Iterable[str]) -> dict[str, Any]:
    public, _ = personal_data.split(state.data, fields)
    state_json = state.to_json(live_only=True)
    state_json["data"] = public
    return {
        "pathway_id": state.pathway_id,
        "pathway_version": state.pathway_version,
        "status": state.status.value,
        "team": state.team,
        "pseudonym": state.pseudonym,
        "opened_at": state.opened_at,
        "closed_at": state.closed_at,
        "outcome": state.outcome,
        "close_reason": state.close_reason,
        "version": state.version,
        "state": state_json,
        "municipality": state.municipality,  # the report columns (integrations/reporting/figures.py)
        "origin_group": None if (group := origin_group(state.origin, state.origin_objection)) is None else group.value,
        "funder": case_funder(state.funder, state.municipality),
        "report_key": record_key(state.id),
        "escalations_open": len(state.open_escalations),  # caselists.open_escalations
    }


def _task_row(task: Task, state: CaseState, funder: str | None = None) -> dict[str, Any]:
    """A task's row; `funder`, the case's (`case_funder`), when the caller has it already."""
    return {
        "id": task.id,
        "case_id": state.id,
        "type": task.type._value_,  # not `.value` (a descriptor call): this runs for every row a save writes
        "step": task.step_id,
        "flow": task.flow,
        "title": task.title,
        "role": task.role,
        "assignee": task.assignee,
        "team": state.team,
        "status": task.status._value_,
        "due_at": task.due_at,
        "created_at": task.created_at,
        "completed_at": task.completed_at,
        "reminders_sent": task.reminders_sent,
        "escalation_level": task.escalation_level,
        "pathway_id": state.pathway_id,  # the report columns (integrations/reporting/figures.py)
        "funder": funder or case_funder(state.funder, state.municipality),
        "report_key": record_key(task.id),
    }


def _timer_row(timer: Timer, case_id: str) -> dict[str, Any]:
    return {"id": timer.id, "case_id": case_id, "kind": timer.kind._value_, "due_at": timer.due_at,
            "status": timer.status._value_, "last_error": None}


def _collect(save: PendingSave, rows: _Rows) -> None:
    """Add the rows one decision touched to `rows`."""
    state = save.decision.state
    fields = save.personal_fields
    new_tasks: set[str] = set()
    touched_tasks: set[str] = set()
    new_timers: set[str] = set()
    touched_timers: set[str] = set(save.extra_timer_ids)
    for event in save.decision.events:
        d = event.data
        stored = outbox.stored_event_data(d) if event.type == "message_queued" else personal_data.event_json(event, fields)
        rows.events.append({"case_id": event.case_id, "seq": event.seq, "type": event.type, "at": event.at,
                            "actor": event.actor, "reason": event.reason, "data": stored})
        kind = event.type
        if kind == "task_opened":
            new_tasks.add(d["task"]["id"])
        elif "task_id" in d and kind.startswith("task_"):
            touched_tasks.add(d["task_id"])
        elif kind == "timer_set":
            new_timers.add(d["timer"]["id"])
        elif kind in ("timer_fired", "timer_cancelled"):
            touched_timers.add(d["timer_id"])
        elif kind == "message_queued":
            rows.messages.append(d["message"])
        elif kind == "case_suspended":
            touched_timers.update(t.id for t in state.timers.values() if t.status is TimerStatus.PAUSED)
        elif kind == "case_resumed":
            touched_timers.update(t.id for t in state.timers.values() if t.status is TimerStatus.PENDING)
            touched_tasks.update(t.id for t in state.tasks.values() if t.status is TaskStatus.OPEN)
    if any(e.type.startswith("track_") for e in save.decision.events):  # the interventions, for the reports
        _collect_tracks(state, save.before, rows)
    if save.before is not None:
        rows.befores[state.id] = save.before
    funder = case_funder(state.funder, state.municipality)
    rows.new_tasks.extend(_task_row(state.tasks[i], state, funder) for i in new_tasks)
    rows.changed_tasks.extend(_task_row(state.tasks[i], state, funder) for i in touched_tasks - new_tasks)
    # A cancelled timer's row goes: the `timers` table holds what the sweep, the incidents and the
    # archive need (pending, paused, failed and fired timers); the events keep the cancelled ones.
    cancelled = {i for i in touched_timers | new_timers
                 if i in state.timers and state.timers[i].status is TimerStatus.CANCELLED}
    rows.new_timers.extend(_timer_row(state.timers[i], state.id) for i in new_timers - cancelled)
    rows.changed_timers.extend(
        _timer_row(state.timers[i], state.id) for i in touched_timers - new_timers - cancelled if i in state.timers
    )
    rows.gone_timers.extend(sorted(cancelled - new_timers))
    first = save.decision.events[0] if save.decision.events else None
    if (first is not None and first.type == "case_started") or personal_data.personal_changes(
        save.decision.events, fields
    ):
        rows.personal[state.id] = personal_data.split(state.data, fields)[1]


def _collect_tracks(state: CaseState, before: CaseState | None, rows: _Rows) -> None:
    """The case's `case_tracks` rows a save writes: those that differ from the rows of the state the
    decision was taken on (a partner's answer closes one track of three: one row, not three)."""
    funder = case_funder(state.funder, state.municipality)
    after = track_rows(state.id, state.pathway_id, funder, state.tracks)
    if before is None:
        rows.tracks[state.id] = after
        return
    was = {r["track_id"]: r for r in track_rows(state.id, state.pathway_id, funder, before.tracks)}
    changed = []
    for row in after:
        old = was.get(row["track_id"])
        if old == row:
            continue
        changed.append(row)
        if old is not None:
            rows.tracks_stored.add((state.id, row["track_id"]))
            rows.track_updates.append({"case_id": state.id, "track_id": row["track_id"],
                                       **{k: v for k, v in row.items() if old.get(k) != v}})
    if changed:
        rows.tracks[state.id] = changed


_CASES = table(CaseRow)

# --- narrow updates (SQLite) --------------------------------------------------------------------------
# SQLite rewrites an index on UPDATE when one of its columns (or of its WHERE clause) is in the SET
# list, whatever the values: a completion that set every column of the case and task rows rewrote
# eleven index entries that had not changed, a fifth of the pages each commit wrote to the WAL
# (docs/benchmarks.md). There an UPDATE sets only what can have changed. (PostgreSQL decides by the
# values, and keeps one statement text per table for its prepared statements: it sets whole rows.)

# Set when the case starts and never changed by an event (engine/events.py): an UPDATE leaves them out.
_CASE_FIXED = frozenset({"pathway_id", "team", "pseudonym", "opened_at", "municipality", "funder", "report_key"})
# Indexed columns that change now and then (a close, a reopening, a migration, an escalation): set
# only when the decision changed them, when the state it was taken on is known.
_CASE_SOMETIMES = ("status", "pathway_version", "closed_at", "escalations_open")


def _sometimes(state: CaseState) -> tuple[Any, ...]:
    return state.status._value_, state.pathway_version, state.closed_at, len(state.open_escalations)


def _narrow_case_row(case_row: dict[str, Any], before: CaseState | None) -> dict[str, Any]:
    """The columns of `case_row` an UPDATE on SQLite sets, its key included."""
    unchanged = () if before is None else tuple(
        name for name, was in zip(_CASE_SOMETIMES, _sometimes(before), strict=True) if case_row[name] == was)
    return {name: value for name, value in case_row.items() if name not in _CASE_FIXED and name not in unchanged}


# A task's columns an event can change (engine/events.py); the rest are set when it opens.
_TASK_MUTABLE = ("role", "assignee", "status", "due_at", "completed_at", "reminders_sent", "escalation_level")


def _task_mutables(task: Task) -> tuple[Any, ...]:
    return (task.role, task.assignee, task.status._value_, task.due_at, task.completed_at, task.reminders_sent,
            task.escalation_level)


def _narrow_task_rows(changed: list[dict[str, Any]], befores: dict[str, CaseState]) -> list[dict[str, Any]]:
    """The changed task rows as an UPDATE on SQLite sets them: the key and the mutable columns that
    differ from the task as it was (all of them when that is not known); rows where none does go."""
    narrow = []
    for row in changed:
        before = befores.get(row["case_id"])
        task = None if before is None else before.tasks.get(row["id"])
        if task is None:
            narrow.append({"id": row["id"], **{name: row[name] for name in _TASK_MUTABLE}})
            continue
        differ = {name: row[name] for name, was in zip(_TASK_MUTABLE, _task_mutables(task), strict=True)
                  if row[name] != was}
        if differ:
            narrow.append({"id": row["id"], **differ})
    return narrow


# A timer's columns a decision changes; its case and kind are set when it is set.
_TIMER_MUTABLE = ("id", "due_at", "status", "last_error")


def _by_shape(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """`rows` grouped by the columns they set, each group one UPDATE run for all its rows."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


def _write(session: Session, rows: _Rows, new_case_ids: set[str]) -> None:
    cursor, name = hot_sql.driver_cursor(session)
    if name == "postgresql" and len(rows.events) >= COPY_MIN_ROWS:  # the sweep's big batches: COPY
        connection = session.connection()
        insert_many(connection, table(CaseEventPageRow), event_pages.pages_of(rows.events))
        insert_many(connection, table(TaskRow), rows.new_tasks)
        insert_many(connection, table(TimerRow), rows.new_timers)
        if rows.messages:
            outbox.enqueue(session, rows.messages)
        rows = dataclasses.replace(rows, events=[], new_tasks=[], new_timers=[], messages=[])
    _write_on(cursor, name, rows, new_case_ids)


def _write_on(cursor: Any, name: str, rows: _Rows, new_case_ids: set[str]) -> None:
    hot_sql.insert_rows(cursor, name, table(CaseEventPageRow), event_pages.pages_of(rows.events))
    hot_sql.insert_rows(cursor, name, table(OutboxRow), [outbox.row_of(m) for m in rows.messages])
    if name == "postgresql":
        # One statement a table (each costs the client more than the server here): the task and timer
        # rows are whole rows, so new and changed ones go in one INSERT ... ON CONFLICT DO UPDATE.
        hot_sql.upsert_rows(cursor, name, table(TaskRow), rows.new_tasks + rows.changed_tasks)
        hot_sql.upsert_rows(cursor, name, table(TimerRow), rows.new_timers + rows.changed_timers)
    else:  # SQLite runs each statement in C: inserts and updates as they are
        hot_sql.insert_rows(cursor, name, table(TaskRow), rows.new_tasks)
        hot_sql.insert_rows(cursor, name, table(TimerRow), rows.new_timers)
        for group in _by_shape(_narrow_task_rows(rows.changed_tasks, rows.befores)):
            hot_sql.update_rows(cursor, name, table(TaskRow), group)
        hot_sql.update_rows(cursor, name, table(TimerRow),
                            [{column: row[column] for column in _TIMER_MUTABLE} for row in rows.changed_timers])
    hot_sql.delete_keys(cursor, name, table(TimerRow), "id", rows.gone_timers)
    personal_table = table(CasePersonalDataRow)
    # A case's tracks are never removed and a started one stays started: its rows are upserted, on
    # SQLite only the new ones; those stored before set only the columns that changed.
    if name == "postgresql":
        hot_sql.upsert_rows(cursor, name, table(CaseTrackRow), _track_rows(rows), key=_TRACK_KEY)
    else:
        stored = rows.tracks_stored
        hot_sql.upsert_rows(cursor, name, table(CaseTrackRow),
                            [r for r in _track_rows(rows) if (r["case_id"], r["track_id"]) not in stored],
                            key=_TRACK_KEY)
        for group in _by_shape(rows.track_updates):
            hot_sql.update_rows(cursor, name, table(CaseTrackRow), group, key=_TRACK_KEY)
    for case_id, personal in rows.personal.items():
        row = {"case_id": case_id, "data": personal}
        if case_id in new_case_ids:
            if personal:
                hot_sql.insert_rows(cursor, name, personal_table, [row])
            continue
        if not hot_sql.update_rows(cursor, name, personal_table, [row], key="case_id", count=True):
            hot_sql.insert_rows(cursor, name, personal_table, [row])


def insert_case(session: Session, decision: Decision, personal_fields: tuple[str, ...]) -> None:
    """Store a case the engine has just started."""
    insert_case_on(*hot_sql.driver_cursor(session), decision, personal_fields)


def insert_case_on(cursor: Any, name: str, decision: Decision, personal_fields: tuple[str, ...]) -> None:
    """`insert_case` on a DBAPI cursor in a transaction (`hot_sql.raw_write`). On PostgreSQL one
    statement, always (hot_sql.insert_together): callers may run it in autocommit."""
    state = decision.state
    case_row = {"id": state.id, **_case_columns(state, personal_fields)}
    rows = _Rows()
    _collect(PendingSave(0, decision, personal_fields), rows)
    if name == "postgresql":
        personal = rows.personal.get(state.id)
        hot_sql.insert_together(cursor, [
            (_CASES, [case_row], None), *_together(rows),
            (table(CasePersonalDataRow), [{"case_id": state.id, "data": personal}] if personal else [], None),
            (table(CaseTrackRow), _track_rows(rows), None),
        ])
        return
    hot_sql.insert_rows(cursor, name, _CASES, [case_row])
    _write_on(cursor, name, rows, {state.id})


def insert_cases(session: Session, started: Sequence[tuple[Decision, tuple[str, ...]]]) -> None:
    """Store many cases the engine has just started, in bulk (the early-signal import opens
    thousands at a time): the case rows, events, tasks, timers, outbox and personal data."""
    if not started:
        return
    rows = _Rows()
    connection = session.connection()
    insert_many(connection, _CASES, [{"id": d.state.id, **_case_columns(d.state, fields)} for d, fields in started])
    for decision, fields in started:
        _collect(PendingSave(0, decision, fields), rows)
    personal = [{"case_id": case_id, "data": data} for case_id, data in rows.personal.items() if data]
    rows.personal = {}
    _write(session, rows, set())
    insert_many(connection, table(CasePersonalDataRow), personal)


def save_decision(session: Session, save: PendingSave) -> None:
    """Write one decision for an existing case; StaleCaseError when the case moved on meanwhile."""
    if not save.decision.events and not save.extra_timer_ids:
        return
    save_decision_on(*hot_sql.driver_cursor(session), save)


def has_personal_row_after(save: PendingSave) -> bool:
    """Whether the case has a personal data row once `save` is written: it had one (the save checks it
    is still there), or the save writes one (a start with personal data, a change of a personal field)."""
    events = save.decision.events
    if events and events[0].type == "case_started":
        return bool(personal_data.split(save.decision.state.data, save.personal_fields)[1])
    return save.had_personal or personal_data.personal_changes(events, save.personal_fields)


def _stale(save: PendingSave) -> StaleCaseError:
    erased = " or its personal data was erased" if save.had_personal else ""
    return StaleCaseError(f"case {save.decision.state.id} changed since it was loaded at version "
                          f"{save.loaded_version}{erased}; try again")


def one_statement(save: PendingSave, dialect_name: str) -> bool:
    """Whether `save_decision_on` writes `save` with one statement (PostgreSQL, hot_sql.write_together):
    it has events, and no personal data to write besides."""
    if dialect_name != "postgresql" or not save.decision.events or save.extra_timer_ids:
        return False
    events = save.decision.events
    if events[0].type == "case_started":
        return False
    return not personal_data.personal_changes(events, save.personal_fields)


def save_decision_on(cursor: Any, name: str, save: PendingSave, *, single: bool = False) -> None:
    """`save_decision` on a DBAPI cursor in a transaction (`hot_sql.raw_write`). `single`: the caller
    runs this in autocommit, counting on `one_statement(save)`; refused before anything is written
    when it does not hold."""
    if not save.decision.events and not save.extra_timer_ids:
        return
    state = save.decision.state
    rows = _Rows()
    _collect(save, rows)
    if single and (name != "postgresql" or rows.personal or not save.decision.events):
        raise AssertionError(f"the save of case {state.id} is not one statement")
    if save.decision.events:
        # On PostgreSQL a failed version check is a server error (hot_sql.update_guarded): raised here
        # outside pipeline mode, in it later (the caller turns `hot_sql.is_stale` errors into
        # StaleCaseError too).
        case_row = {"id": state.id, **_case_columns(state, save.personal_fields)}
        also = _PERSONAL_KEPT if save.had_personal else None
        try:
            if name == "postgresql":
                # The case row, its events, outbox messages, tasks, timers and tracks in one statement
                # (hot_sql.write_together); the rare rest (personal data) after it.
                hot_sql.write_together(cursor, _CASES, case_row, key="id", guard="version",
                                       guard_value=save.loaded_version,
                                       writes=[*_together(rows), (table(CaseTrackRow), _track_rows(rows), _TRACK_KEY)],
                                       deletes=[(table(TimerRow), "id", rows.gone_timers)], also=also)
                rows = dataclasses.replace(rows, events=[], messages=[], new_tasks=[], changed_tasks=[],
                                           new_timers=[], changed_timers=[], gone_timers=[], tracks={},
                                           tracks_stored=set(), track_updates=[])
                matched = True
            else:
                matched = hot_sql.update_guarded(cursor, name, _CASES, _narrow_case_row(case_row, save.before),
                                                 key="id", guard="version", guard_value=save.loaded_version,
                                                 also=also)
        except Exception as exc:
            if hot_sql.is_stale(exc):
                raise _stale(save) from exc
            raise
        if not matched:
            raise _stale(save)
    _write_on(cursor, name, rows, set())


_TRACK_KEY = "case_id, track_id"  # case_tracks' primary key
# The extra condition of a save whose decision read personal data (PendingSave.had_personal).
_PERSONAL_KEPT = "EXISTS (SELECT 1 FROM case_personal_data WHERE case_personal_data.case_id = cases.id)"


def _track_rows(rows: _Rows) -> list[dict[str, Any]]:
    return [r for found in rows.tracks.values() for r in found]


def _together(rows: _Rows) -> list[hot_sql.Write]:
    return [(table(CaseEventPageRow), event_pages.pages_of(rows.events), None),
            (table(OutboxRow), [outbox.row_of(m) for m in rows.messages], None),
            (table(TaskRow), rows.new_tasks + rows.changed_tasks, "id"),
            (table(TimerRow), rows.new_timers + rows.changed_timers, "id")]


def save_decisions(session: Session, saves: Sequence[PendingSave]) -> None:
    """Write many decisions at once (the timer sweep), whose cases the caller holds locked
    (`load_cases(lock=True)` on PostgreSQL, BEGIN IMMEDIATE on SQLite). StaleCaseError, and
    nothing written, when any case moved on all the same."""
    changed = [save for save in saves if save.decision.events]
    if changed:
        cursor, name = hot_sql.driver_cursor(session)
        if name == "postgresql":  # one statement for the batch's case rows, not one a case
            updated = hot_sql.update_many_guarded(
                cursor, _CASES, [{"id": s.decision.state.id, **_case_columns(s.decision.state, s.personal_fields)}
                                 for s in changed], [s.loaded_version for s in changed], key="id", guard="version")
        else:  # one UPDATE a shape (`_narrow_case_row`), run for each of its cases
            loaded = {s.decision.state.id: s.loaded_version for s in changed}
            narrow = [_narrow_case_row({"id": s.decision.state.id, **_case_columns(s.decision.state, s.personal_fields)},
                                       s.before) for s in changed]
            updated = sum(hot_sql.update_rows(cursor, name, _CASES, group, guard="version",
                                              guard_values=[loaded[row["id"]] for row in group])
                          for group in _by_shape(narrow))
        if updated != len(changed):
            raise StaleCaseError(
                f"{len(changed) - updated} of cases {', '.join(s.decision.state.id for s in changed[:5])}"
                f"{' ...' if len(changed) > 5 else ''} changed although they were locked; the batch was not saved"
            )
    rows = _Rows()
    for save in saves:
        _collect(save, rows)
    _write(session, rows, set())


# --- worklists --------------------------------------------------------------------------------------


def _view(row: TaskRow) -> TaskView:
    return TaskView(
        id=row.id, case_id=row.case_id, type=row.type, step=row.step, flow=row.flow, title=row.title,
        role=row.role, assignee=row.assignee, team=row.team, status=row.status, due_at=row.due_at,
        created_at=row.created_at, completed_at=row.completed_at, reminders_sent=row.reminders_sent,
        escalation_level=row.escalation_level,
    )


# Worklists read plain columns, not ORM objects: building 500 mapped objects per page cost more
# than the query itself.
_VIEW_COLUMNS = (
    TaskRow.id, TaskRow.case_id, TaskRow.type, TaskRow.step, TaskRow.flow, TaskRow.title, TaskRow.role,
    TaskRow.assignee, TaskRow.team, TaskRow.status, TaskRow.due_at, TaskRow.created_at, TaskRow.completed_at,
    TaskRow.reminders_sent, TaskRow.escalation_level,
)


def _views(session: Session, query: Any) -> list[TaskView]:
    return [TaskView(*row) for row in session.execute(query)]


def _team_filter(team: str | None) -> Any:
    # A case without a team is everyone's: it shows in every team's queue.
    return True if team is None else or_(TaskRow.team == team, TaskRow.team.is_(None))


# Conditions as literals, not bound parameters: only then can SQLite (and PostgreSQL's generic
# plans) use the partial indexes on open tasks (ix_tasks_open_assignee) and on the queues
# (ix_tasks_queue: open and unclaimed).
_IS_OPEN = text("tasks.status = 'open'")
_IN_QUEUE = text("tasks.status = 'open' AND tasks.assignee IS NULL")


def role_queue(session: Session, role: str, team: str | None = None, limit: int = 500) -> list[TaskView]:
    """Open tasks waiting in `role`'s queue (nobody has them), soonest due first."""
    return _views(session, (
        select(*_VIEW_COLUMNS)
        .where(_IN_QUEUE, TaskRow.role == role, _team_filter(team))
        .order_by(TaskRow.due_at, TaskRow.id)
        .limit(limit)
    ))


def worklist(
    session: Session, worker: str | None, roles: Sequence[str] = (), team: str | None = None, limit: int = 500
) -> list[TaskView]:
    """A worker's open tasks plus the unclaimed tasks of their roles, soonest due first.

    One indexed query per part (the worker's own tasks; each role's queue), merged by due
    moment: an OR of the parts would make the database scan every open task.
    """
    order = (TaskRow.due_at, TaskRow.id)
    if worker is None and not roles:
        return _views(session, select(*_VIEW_COLUMNS).where(_IS_OPEN, _team_filter(team)).order_by(*order).limit(limit))
    parts: list[list[TaskView]] = []
    if worker is not None:
        parts.append(_views(session, (
            select(*_VIEW_COLUMNS).where(_IS_OPEN, TaskRow.assignee == worker).order_by(*order).limit(limit)
        )))
    for role in dict.fromkeys(roles):
        parts.append(_views(session, (
            select(*_VIEW_COLUMNS)
            .where(_IN_QUEUE, TaskRow.role == role, _team_filter(team))
            .order_by(*order)
            .limit(limit)
        )))
    return list(itertools.islice(heapq.merge(*parts, key=lambda v: (v.due_at, v.id)), limit))


def task_view(session: Session, task_id: str) -> TaskView:
    row = session.get(TaskRow, task_id)
    if row is None:
        raise NotFoundError(msg("store.no_task", task_id=task_id))
    return _view(row)


def case_of_task(session: Session, task_id: str) -> str:
    case_id = session.execute(select(TaskRow.case_id).where(TaskRow.id == task_id)).scalar_one_or_none()
    if case_id is None:
        raise NotFoundError(msg("store.no_task", task_id=task_id))
    return case_id
