"""The application service: the one place where cases meet the database.

Every command goes the same way: in one transaction, load the case, let the
engine decide with `now` from the injected clock, and save the state, the
events, the projections (tasks, timers, outbox) and the idempotency key
together. The case row carries an optimistic lock (its version); when another
writer got there first the command is decided again on the fresh state, a few
times at most, so of two people completing the same task exactly one wins and
the other gets the engine's clear ConflictError.

The web app, the CLI and the timer sweep (Prefect, later) all call this
service; none of them touches tables or the engine directly.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine as Database
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from engine import commands as c
from engine.clock import Clock
from engine.definition import Pathway
from engine.errors import CarepathError, ConflictError, HistoryNeeded, NotFoundError, PathwayError
from engine.events import Event
from engine.messages import msg
from engine.state import CaseState
from engine.step_handlers import StepHandler
from integrations.case_cache import DEFAULT_SIZE as DEFAULT_CASE_CACHE
from integrations.case_cache import CaseCache, size_from_env
from integrations.db import audit, hot_sql, idempotency, repository, timers
from integrations.db.engine_factory import create_db_engine, is_sqlite, read_session, write_session
from integrations.db.errors import StorageError
from integrations.db.group_commit import GroupCommitter
from integrations.db.pathway_store import PathwayCatalog, Published, loader_parser
from integrations.db.repository import PendingSave, StaleCaseError, TaskView
from integrations.pseudonym import Pseudonymiser

if TYPE_CHECKING:
    from engine.decide import Decision, Engine

_T = TypeVar("_T")

TIMER_ACTOR = "system:timer"
MAX_ATTEMPTS = 5  # decide again this often when another writer changed the case first
GROUP_COMMIT_ENV = "CAREPATH_GROUP_COMMIT"  # "0": every command its own transaction


@dataclass(frozen=True)
class CommandResult:
    """What a command did; stored with its idempotency key and returned again for a repeat."""

    case_id: str
    version: int  # the case's version after the command
    events: tuple[str, ...]  # types of the events it recorded, in order
    opened_tasks: tuple[str, ...]  # ids of tasks it opened
    duplicate: bool = False  # True: the key was seen before; nothing was decided this time

    @classmethod
    def of(cls, decision: Decision) -> CommandResult:
        return cls(
            case_id=decision.state.id,
            version=decision.state.version,
            events=tuple(e.type for e in decision.events),
            opened_tasks=tuple(e.data["task"]["id"] for e in decision.events if e.type == "task_opened"),
        )

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "version": self.version, "events": list(self.events),
                "opened_tasks": list(self.opened_tasks)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any], *, duplicate: bool = False) -> CommandResult:
        return cls(d["case_id"], d["version"], tuple(d["events"]), tuple(d["opened_tasks"]), duplicate)


@dataclass(frozen=True)
class FireReport:
    """What one `fire_due` call did."""

    fired: int = 0  # timers fired (each at most once)
    cases: int = 0  # distinct cases that changed
    stale: int = 0  # timers left for the next sweep: their case was busy with another writer
    failed: int = 0  # timers whose firing raised; taken out of the sweep (see timers.retry_failed)
    batches: int = 0


SWEEP_PARALLEL = 2  # batches one sweeper fires at the same time on PostgreSQL (`fire_due`)
BatchHook = Callable[[Session, Sequence[timers.FiredTimer], datetime], None]
Within = Callable[[Session, "CommandResult"], None]  # more writes in a command's own transaction


@dataclass
class _Batch:
    """What one sweep batch did."""

    fired: list[timers.FiredTimer] = dataclasses.field(default_factory=list)  # in claim (due) order
    changed: set[str] = dataclasses.field(default_factory=set)  # case ids
    busy: set[str] = dataclasses.field(default_factory=set)  # timer ids whose case another writer held
    settled: set[str] = dataclasses.field(default_factory=set)  # timer ids no longer pending
    failed: dict[str, str] = dataclasses.field(default_factory=dict)  # timer id -> error


def group_commit_enabled(db: Database) -> bool:
    """`CAREPATH_GROUP_COMMIT`: "1" on, "0" off, unset or "auto": on for SQLite (its writers queue for
    one write lock anyway), off for PostgreSQL (there each writer's own connection overlaps the round
    trips, which one shared transaction would serialise; measured in docs/benchmarks.md)."""
    setting = os.environ.get(GROUP_COMMIT_ENV, "auto").strip().lower()
    if setting in ("1", "on", "true", "yes"):
        return True
    if setting in ("0", "off", "false", "no"):
        return False
    return is_sqlite(db)


def new_case_id() -> str:
    """A short random case id without dots (task and timer ids are `<case id>.<n>`)."""
    return "C" + secrets.token_hex(6).upper()


def _what(cmd: c.Command) -> dict[str, Any]:
    """What a command asks, for its idempotency hash (the key itself left out)."""
    fields = dataclasses.asdict(cmd)
    fields.pop("idempotency_key", None)
    return {"command": type(cmd).__name__, **fields}


class _NotPublished(Exception):
    """No version of the pathway is published (turned into the catalog's error, which names what is)."""


class CaseService:
    """Commands and queries on cases, each in its own transaction."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalog: PathwayCatalog,
        pseudonymiser: Pseudonymiser,
        handlers: Mapping[str, StepHandler],
        *,
        max_attempts: int = MAX_ATTEMPTS,
        case_cache_size: int = DEFAULT_CASE_CACHE,
    ) -> None:
        self.db = db
        self.clock = clock
        self.catalog = catalog
        self._handlers = handlers
        self._engine: Engine | None = None
        self._pseudonym = pseudonymiser
        self.pseudonymiser = pseudonymiser  # early-signal matching keys (integrations/exchange/ddas)
        self._max_attempts = max_attempts
        self._lock_cases_in_sweep = not is_sqlite(db)
        self._group = GroupCommitter.for_engine(db) if group_commit_enabled(db) else None
        # The live states of the cases this process changed last (integrations/case_cache.py).
        self.cases_kept = CaseCache(case_cache_size)
        self.unpublished: list[tuple[str, str]] = []  # (file, why) of pathway files build_service skipped

    @property
    def engine(self) -> Engine:
        """The engine, made on first use: a command that only reads (`carepath tasks`) never imports it."""
        if self._engine is None:
            from engine.decide import Engine

            self._engine = Engine(self.catalog.lookup, self._handlers)
        return self._engine

    # --- plumbing -----------------------------------------------------------------------------------
    @contextmanager
    def _storage(self, what: str) -> Iterator[None]:
        """Database failures as StorageError naming what was being done."""
        try:
            yield
        except (CarepathError, IntegrityError):  # IntegrityError: the callers' retry loops decide
            raise
        except SQLAlchemyError as exc:
            raise StorageError(f"{what}: the database refused ({type(exc).__name__}: {exc.args[0] if exc.args else exc})") from exc

    def _personal_fields(self, state: CaseState) -> tuple[str, ...]:
        return tuple(self.catalog.lookup(state.pathway_id, state.pathway_version).pathway.personal_data)

    def execute(self, cmd: c.Command, *, within: Within | None = None) -> CommandResult:
        """Decide `cmd` on the stored case and save the outcome (the path every command takes).
        `within(session, result)` writes what belongs with the change (an audit entry, deleting a
        draft) in the same transaction: all of it commits, or none of it."""
        if isinstance(cmd, c.StartCase):
            raise TypeError("use start_case to start a case")
        what_hash = idempotency.command_hash(_what(cmd)) if cmd.idempotency_key is not None else ""
        label = f"{type(cmd).__name__} on case {cmd.case_id}"
        # A kept state (integrations/case_cache.py) saves the read; a repeat with a key reads, to find
        # the stored result. A kept state found stale costs no attempt: the next round reads.
        kept = self.cases_kept.get(cmd.case_id) if cmd.idempotency_key is None else None
        personal_row = False
        attempts = 0
        while attempts < self._max_attempts:
            try:
                # Decide on a snapshot, outside any write lock: deciding checks what people typed
                # (JSON Schema patterns, CEL conditions), and on SQLite a write transaction holds the
                # whole database. The save only succeeds `WHERE version` is still the loaded one;
                # otherwise the next round decides again on the fresh case.
                if kept is not None:
                    (state, personal_row), seen = kept, None
                else:
                    attempts += 1
                    with self._storage(label):
                        state, personal_row, seen = self._read(lambda tx: self._snapshot(tx, cmd, what_hash))
                if seen is not None:
                    return seen
                now = self.clock.now()
                try:
                    decision = self.engine.handle(state, cmd, now)
                except HistoryNeeded:
                    # The command names a task or timer that is not live (perhaps closed): decide on
                    # the whole state, whose "not found" or "already done" is the answer.
                    with self._storage(label), read_session(self.db) as session:
                        state = repository.load_case(session, cmd.case_id)
                    decision = self.engine.handle(state, cmd, now)
                except CarepathError:
                    if kept is None:
                        raise
                    # Refused on a kept state, which may be behind the stored case (resumed elsewhere,
                    # say): the answer is the stored case's, so decide again on it.
                    kept = None
                    self.cases_kept.drop(cmd.case_id)
                    continue
                pending = PendingSave(state.version, decision, self._personal_fields(state), had_personal=personal_row,
                                      before=state)
                with self._storage(label):
                    if within is None:
                        # PostgreSQL: a save that is one statement runs in autocommit (hot_sql.raw_write).
                        single = (cmd.idempotency_key is None and self._group is None
                                  and repository.one_statement(pending, self.db.dialect.name))
                        try:
                            result = self._write(functools.partial(self._save, cmd=cmd, pending=pending,
                                                                   what_hash=what_hash, now=now, single=single),
                                                 cmd.case_id, single=single)
                        except DBAPIError as exc:
                            # A one-statement save whose connection died: its answer is lost, and it
                            # may have committed. It did not when the stored version has not moved
                            # (the statement moves it): then decide again on the stored case.
                            if not (single and hot_sql.connection_lost(exc)
                                    and self._stored_version(cmd.case_id) == state.version):
                                raise
                            kept = None
                            self.cases_kept.drop(cmd.case_id)
                            continue
                    else:
                        # More writes in the same transaction (an audit entry, a draft deleted): the session
                        # path, with the decision saved on the same connection.
                        with write_session(self.db) as session:
                            try:
                                result = self._save(hot_sql.RawTransaction(*hot_sql.driver_cursor(session)),
                                                    cmd, pending, what_hash, now)
                            except self.db.dialect.loaded_dbapi.Error as exc:
                                if hot_sql.is_stale(exc):
                                    raise StaleCaseError(msg("case.changed", case=cmd.case_id)) from exc
                                raise hot_sql.translated(self.db, exc) from exc
                            if not result.duplicate:
                                within(session, result)
                if result.duplicate:
                    self.cases_kept.drop(cmd.case_id)
                else:  # committed: the case as it now stands
                    self.cases_kept.keep(decision.state, personal_row=repository.has_personal_row_after(pending))
                return result
            except StaleCaseError:
                kept = None
                self.cases_kept.drop(cmd.case_id)
                continue
            except IntegrityError as exc:
                self.cases_kept.drop(cmd.case_id)
                if cmd.idempotency_key is None:
                    raise StorageError(f"{label}: the database refused the change ({exc.orig})") from exc
                continue  # a concurrent repeat stored the key first: the next round returns its result
            except BaseException:
                self.cases_kept.drop(cmd.case_id)
                raise
        raise ConflictError(
            f"case {cmd.case_id} kept changing while {type(cmd).__name__} was decided "
            f"({self._max_attempts} attempts); try again"
        )

    def _write(self, work: Callable[[hot_sql.RawTransaction], CommandResult], case_id: str = "", *,
               single: bool = False) -> CommandResult:
        """Run `work` in a write transaction on the hot path (the driver's cursor, statements rendered
        once: integrations/db/hot_sql.py); with group commit, in one shared with the commands arriving
        at the same moment (integrations/db/group_commit.py). A failed version check is StaleCaseError;
        a connection found dead before the COMMIT went out runs `work` again on another (once)."""
        for attempt in range(2):
            try:
                if self._group is not None:
                    return self._group.run(work)
                with hot_sql.raw_write(self.db, single=single) as tx:
                    return work(tx)
            except DBAPIError as exc:
                if hot_sql.is_stale(exc):
                    raise StaleCaseError(msg("case.changed", case=case_id)) from exc
                if attempt or not hot_sql.retryable(exc):
                    raise
        raise AssertionError("unreachable")

    def _read(self, work: Callable[[hot_sql.RawTransaction], _T]) -> _T:
        """Run `work` on a pooled connection without a write transaction (a snapshot read); again on
        another connection when the first one turns out dead (reading twice changes nothing)."""
        for attempt in range(2):
            connection = self.db.raw_connection()
            driver = connection.driver_connection if self.db.dialect.name == "postgresql" else None
            try:
                if driver is not None:
                    # No BEGIN and ROLLBACK round trips: each SELECT is its own snapshot (the case row with
                    # its personal data is one statement; the save checks the version and the key again).
                    driver.autocommit = True
                cursor = connection.cursor()
                try:
                    return work(hot_sql.RawTransaction(cursor, self.db.dialect.name))
                except self.db.dialect.loaded_dbapi.Error as exc:
                    if hot_sql.release_lost(self.db, connection, exc) and attempt == 0:
                        continue
                    raise hot_sql.translated(self.db, exc) from exc
                finally:
                    if connection.is_valid:
                        cursor.close()
                        if driver is None:
                            connection.rollback()
            finally:
                if driver is not None and connection.is_valid:
                    driver.autocommit = False
                connection.close()
        raise AssertionError("unreachable")

    def _stored_version(self, case_id: str) -> int | None:
        return self._read(lambda tx: repository.case_version_on(tx.cursor, tx.name, case_id))

    def _snapshot(self, tx: hot_sql.RawTransaction, cmd: c.Command,
                  what_hash: str) -> tuple[CaseState, bool, CommandResult | None]:
        """The stored case, whether it has a personal data row, and the stored result when this
        idempotency key was used before."""
        state, personal_row = repository.load_live_on(tx.cursor, tx.name, cmd.case_id)
        if cmd.idempotency_key is not None:
            stored = idempotency.find_on(tx.cursor, tx.name, cmd.idempotency_key, what_hash)
            if stored is not None:
                return state, personal_row, CommandResult.from_json(stored.result, duplicate=True)
        return state, personal_row, None

    def _save(self, tx: hot_sql.RawTransaction, cmd: c.Command, pending: PendingSave,
              what_hash: str, now: datetime, single: bool = False) -> CommandResult:
        """Save a decision taken on a snapshot: StaleCaseError when the case moved on meanwhile.
        `single`: in one statement (autocommit; `repository.one_statement`, no idempotency key)."""
        # Look for the key again: a repeat that committed since the snapshot shows up here, and one
        # that commits later makes our save stale (the next round finds it).
        if cmd.idempotency_key is not None:
            stored = idempotency.find_on(tx.cursor, tx.name, cmd.idempotency_key, what_hash)
            if stored is not None:
                return CommandResult.from_json(stored.result, duplicate=True)
        if (not pending.decision.events
                and repository.case_version_on(tx.cursor, tx.name, cmd.case_id) != pending.loaded_version):
            raise StaleCaseError(msg("case.changed", case=cmd.case_id))
        repository.save_decision_on(tx.cursor, tx.name, pending, single=single)
        result = CommandResult.of(pending.decision)
        if cmd.idempotency_key is not None:
            idempotency.store_on(tx.cursor, tx.name, cmd.idempotency_key, cmd.case_id, what_hash, result.to_json(), now)
        return result

    def _task_command(self, task_id: str, build: Callable[[str], c.Command], *,
                      within: Within | None = None) -> CommandResult:
        # Task ids are `<case id>.<n>` (the engine makes them so): no extra query to find the case.
        case_id, dot, number = task_id.rpartition(".")
        if not dot or not case_id or not number.isdigit():
            raise NotFoundError(msg("store.no_task", task_id=task_id))
        try:
            return self.execute(build(case_id), within=within)
        except NotFoundError as exc:
            raise NotFoundError(msg("store.no_task", task_id=task_id)) from exc

    # --- starting -----------------------------------------------------------------------------------
    def start_case(
        self,
        pathway_id: str,
        trigger: str,
        data: Mapping[str, Any],
        *,
        actor: str,
        client_id: str | None = None,
        team: str | None = None,
        municipality: str | None = None,
        version: int | None = None,
        assignments: Mapping[str, str] | None = None,
        case_id: str | None = None,
        funder: str | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
        pseudonym: str | None = None,
    ) -> CommandResult:
        """Start a case on `pathway_id` (its newest version unless `version` is given).

        `pseudonym`: the client's pseudonym when it is known without the client id (a hand-over
        from another case of the same client)."""
        pseudonym = pseudonym or self._pseudonym(client_id)
        if version is None and self.db.dialect.name != "sqlite":
            # PostgreSQL: the newest version is a snapshot read (retried on a connection found dead),
            # then the case is one statement (repository.insert_case_on) in autocommit. SQLite reads it
            # inside the write transaction instead: one connection checkout less, under the write lock.
            version = self._latest_version(pathway_id)
        single = idempotency_key is None and case_id is None
        for _ in range(self._max_attempts):
            new_id = case_id or new_case_id()
            started: list[PendingSave] = []
            try:
                def start(tx: hot_sql.RawTransaction, new_id: str = new_id, given: int | None = version,
                          started: list[PendingSave] = started) -> CommandResult:
                    chosen = given if given is not None else self._newest_version_on(tx, pathway_id)
                    personal = self.catalog.lookup(pathway_id, chosen).pathway.personal_data
                    what_hash = ""
                    if idempotency_key is not None:
                        what_hash = idempotency.command_hash({
                            "command": "StartCase", "pathway": f"{pathway_id}@{chosen}", "trigger": trigger,
                            "data": {k: v for k, v in data.items() if k not in personal}, "team": team,
                            "municipality": municipality, "assignments": dict(assignments or {}),
                            "case_id": case_id, "client": pseudonym if client_id is not None else None,
                            **({"funder": funder} if funder is not None else {}),
                        })
                        stored = idempotency.find_on(tx.cursor, tx.name, idempotency_key, what_hash)
                        if stored is not None:
                            return CommandResult.from_json(stored.result, duplicate=True)
                    if case_id is not None and repository.case_exists_on(tx.cursor, tx.name, case_id):
                        raise ConflictError(msg("case.exists", case=case_id))
                    now = self.clock.now()
                    cmd = c.StartCase(
                        case_id=new_id, actor=actor, reason=reason, idempotency_key=idempotency_key,
                        pathway_id=pathway_id, pathway_version=chosen, trigger=trigger, data=dict(data),
                        pseudonym=pseudonym, team=team, municipality=municipality,
                        assignments=dict(assignments or {}), funder=funder,
                    )
                    decision = self.engine.start(cmd, now)
                    repository.insert_case_on(tx.cursor, tx.name, decision, tuple(personal))
                    started.append(PendingSave(0, decision, tuple(personal)))
                    result = CommandResult.of(decision)
                    if idempotency_key is not None:
                        idempotency.store_on(tx.cursor, tx.name, idempotency_key, new_id, what_hash,
                                             result.to_json(), now)
                    return result

                what = f"{pathway_id}@{version}" if version is not None else pathway_id
                with self._storage(f"starting case {new_id} on {what}"):
                    result = self._write(start, new_id, single=single)
                if started and not result.duplicate:  # committed: the next command on it need not read it
                    self.cases_kept.keep(started[-1].decision.state,
                                         personal_row=repository.has_personal_row_after(started[-1]))
                return result
            except _NotPublished:  # NotFoundError naming what is published (or published just now: again)
                version = self._catalog_version(pathway_id)
                continue
            except IntegrityError:
                # The same key stored concurrently, the given case id taken meanwhile, or (rarely) a
                # generated id that exists: the next round finds the key, refuses the id, or draws anew.
                continue
        raise ConflictError(msg("case.start_failed", pathway=pathway_id, version=version or "?",
                                attempts=self._max_attempts))

    def _latest_version(self, pathway_id: str) -> int:
        """The newest published version of `pathway_id`: one indexed read on the driver's cursor (on
        PostgreSQL in autocommit: one round trip, no BEGIN and ROLLBACK)."""
        with self._storage(f"starting a case on {pathway_id}"):
            try:
                return self._read(lambda tx: self._newest_version_on(tx, pathway_id))
            except _NotPublished:
                return self._catalog_version(pathway_id)

    def _catalog_version(self, pathway_id: str) -> int:
        """The newest version through the catalog, whose NotFoundError names the published pathways."""
        with read_session(self.db) as session:
            return self.catalog.latest_version(session, pathway_id)

    @staticmethod
    def _newest_version_on(tx: hot_sql.RawTransaction, pathway_id: str) -> int:
        """The newest published version of `pathway_id`: one indexed read on the transaction's cursor."""
        tx.cursor.execute(f"SELECT max(version) FROM pathway_versions WHERE pathway_id = "
                          f"{hot_sql.dialect(tx.name).mark}", (pathway_id,))
        row = tx.cursor.fetchone()
        if row is None or row[0] is None:
            raise _NotPublished(pathway_id)
        return int(row[0])

    # --- commands -----------------------------------------------------------------------------------
    def claim(self, task_id: str, worker: str, *, actor: str | None = None,
              idempotency_key: str | None = None) -> CommandResult:
        return self._task_command(task_id, lambda case_id: c.ClaimTask(
            case_id=case_id, actor=actor or worker, task_id=task_id, worker=worker, idempotency_key=idempotency_key))

    def release(self, task_id: str, worker: str, *, actor: str | None = None,
                idempotency_key: str | None = None) -> CommandResult:
        return self._task_command(task_id, lambda case_id: c.ReleaseTask(
            case_id=case_id, actor=actor or worker, task_id=task_id, worker=worker, idempotency_key=idempotency_key))

    def reassign(self, task_id: str, *, actor: str, role: str | None = None, worker: str | None = None,
                 carry_case: bool = False, reason: str | None = None,
                 idempotency_key: str | None = None) -> CommandResult:
        return self._task_command(task_id, lambda case_id: c.ReassignTask(
            case_id=case_id, actor=actor, task_id=task_id, role=role, worker=worker, carry_case=carry_case,
            reason=reason, idempotency_key=idempotency_key))

    def complete_task(self, task_id: str, data: Mapping[str, Any], *, actor: str,
                      idempotency_key: str | None = None, within: Within | None = None) -> CommandResult:
        return self._task_command(task_id, lambda case_id: c.CompleteTask(
            case_id=case_id, actor=actor, task_id=task_id, data=dict(data), idempotency_key=idempotency_key),
            within=within)

    def suspend(self, case_id: str, *, actor: str, reason: str, idempotency_key: str | None = None) -> CommandResult:
        return self.execute(c.SuspendCase(case_id=case_id, actor=actor, reason=reason, idempotency_key=idempotency_key))

    def resume(self, case_id: str, *, actor: str, reason: str | None = None,
               idempotency_key: str | None = None) -> CommandResult:
        return self.execute(c.ResumeCase(case_id=case_id, actor=actor, reason=reason, idempotency_key=idempotency_key))

    def close_case(self, case_id: str, reason_code: str, *, actor: str, outcome: str | None = None,
                   reason: str | None = None, idempotency_key: str | None = None) -> CommandResult:
        return self.execute(c.CloseCase(case_id=case_id, actor=actor, reason_code=reason_code, outcome=outcome,
                                        reason=reason, idempotency_key=idempotency_key))

    def reopen(self, case_id: str, *, actor: str, reason: str, step_id: str | None = None,
               idempotency_key: str | None = None) -> CommandResult:
        return self.execute(c.ReopenCase(case_id=case_id, actor=actor, reason=reason, step_id=step_id,
                                         idempotency_key=idempotency_key))

    def add_track(self, case_id: str, track_id: str, *, actor: str, reason: str | None = None,
                  idempotency_key: str | None = None) -> CommandResult:
        return self.execute(c.AddTrack(case_id=case_id, actor=actor, track_id=track_id, reason=reason,
                                       idempotency_key=idempotency_key))

    def register_origin(self, case_id: str, origin: Mapping[str, Any], *, actor: str,
                        idempotency_key: str | None = None) -> CommandResult:
        return self.execute(c.RegisterOrigin(case_id=case_id, actor=actor, origin=dict(origin),
                                             idempotency_key=idempotency_key))

    def object_to_origin(self, case_id: str, *, actor: str, idempotency_key: str | None = None) -> CommandResult:
        return self.execute(c.ObjectToOrigin(case_id=case_id, actor=actor, idempotency_key=idempotency_key))

    def resolve_escalation(self, case_id: str, escalation_id: str, *, actor: str, reason: str | None = None,
                           idempotency_key: str | None = None) -> CommandResult:
        return self.execute(c.ResolveEscalation(case_id=case_id, actor=actor, escalation_id=escalation_id,
                                                reason=reason, idempotency_key=idempotency_key))

    def update_case_data(self, case_id: str, changes: Mapping[str, Any], *, actor: str, reason: str | None = None,
                         idempotency_key: str | None = None) -> CommandResult:
        return self.execute(c.UpdateCaseData(case_id=case_id, actor=actor, changes=dict(changes), reason=reason,
                                             idempotency_key=idempotency_key))

    # --- timers -------------------------------------------------------------------------------------
    def fire_due(self, now: datetime | None = None, batch_size: int = 500, max_batches: int = 1000, *,
                 on_batch: BatchHook | None = None, parallel: int | None = None) -> FireReport:
        """Fire every timer due at `now` (default: the clock's now), batch by batch, each batch in one
        transaction, until none is due. A timer fires at or after its due moment and at most once.
        `on_batch(session, fired, now)` runs in each batch's transaction after the firing, with the
        claimed timers that fired, in due order, and their cases' pathways (the runtime counts them and
        records late timers there).

        `parallel` (PostgreSQL; default `SWEEP_PARALLEL`): batches fired at the same time, each on its
        own connection and in its own share of the cases (`timers.claim_due`), so one batch's decisions
        are computed while another's statements run on the server. A case's timers all fall in one
        share: they still fire in due order, and the shares never wait for each other's locks.
        `max_batches` counts per share. SQLite has one writer at a time: there it is always 1."""
        moment = now or self.clock.now()
        shares = 1 if is_sqlite(self.db) else max(1, SWEEP_PARALLEL if parallel is None else parallel)
        if shares == 1:
            return self._fire_share(moment, batch_size, max_batches, on_batch, None)
        with ThreadPoolExecutor(shares, thread_name_prefix="carepath-sweep") as pool:
            reports = list(pool.map(lambda k: self._fire_share(moment, batch_size, max_batches, on_batch,
                                                               (k, shares)), range(shares)))
        return FireReport(fired=sum(r.fired for r in reports), cases=sum(r.cases for r in reports),
                          stale=sum(r.stale for r in reports), failed=sum(r.failed for r in reports),
                          batches=sum(r.batches for r in reports))

    def _fire_share(self, moment: datetime, batch_size: int, max_batches: int, on_batch: BatchHook | None,
                    share: tuple[int, int] | None) -> FireReport:
        """`fire_due` for the cases of one share (`None`: all of them)."""
        fired = failed = batches = 0
        changed: set[str] = set()
        busy: set[str] = set()  # timers whose case another writer held; still pending
        for _ in range(max_batches):
            with self._storage("firing due timers"), write_session(self.db) as session:
                claimed = timers.claim_due(session, moment, batch_size, share=share)
                if not claimed:
                    break
                batch = self._fire_batch(session, claimed, moment)
                if on_batch is not None:
                    on_batch(session, batch.fired, moment)
            for case_id in batch.changed:  # the sweep does not know their personal data rows: let go
                self.cases_kept.drop(case_id)
            fired, failed, batches = fired + len(batch.fired), failed + len(batch.failed), batches + 1
            changed |= batch.changed
            busy = (busy | batch.busy) - batch.settled
            if len(batch.busy) == len(claimed):
                break  # every claimed case is busy with another writer: leave them to the next sweep
            # Firing may set timers that are due at once (the next rung of a late deadline): go on.
        return FireReport(fired=fired, cases=len(changed), stale=len(busy), failed=failed, batches=batches)

    def _fire_batch(self, session: Session, claimed: Sequence[timers.DueTimer], now: datetime) -> _Batch:
        """Fire one claimed batch in the caller's transaction, each case's timers in due order."""
        from engine.decide import Decision

        by_case: dict[str, list[timers.DueTimer]] = {}
        for timer in claimed:
            by_case.setdefault(timer.case_id, []).append(timer)
        states = repository.load_cases(session, list(by_case), lock=self._lock_cases_in_sweep)
        saves: list[PendingSave] = []
        outcome = _Batch()
        for case_id, due in by_case.items():
            state = states.get(case_id)
            if state is None:  # locked by another writer (PostgreSQL): the next sweep takes it
                outcome.busy.update(t.id for t in due)
                continue
            current, events, tried = state, list[Event](), list[str]()
            for timer in due:
                fire = c.FireTimer(case_id=case_id, actor=TIMER_ACTOR, timer_id=timer.id)
                try:
                    try:
                        decision = self.engine.handle(current, fire, now)
                    except HistoryNeeded:  # not live (fired or cancelled meanwhile?): ask the whole state
                        current = repository.whole_state(session, state, events)
                        decision = self.engine.handle(current, fire, now)
                except CarepathError as exc:
                    outcome.failed[timer.id] = f"case {case_id}, timer {timer.id}: {exc}"
                    break  # its later timers wait for the next batch, after this one is set aside
                tried.append(timer.id)
                current, events = decision.state, events + list(decision.events)
                if any(e.type == "timer_fired" for e in decision.events):  # (not when cancelled meanwhile)
                    outcome.fired.append(timers.FiredTimer(timer, state.pathway_id))
            if tried:
                saves.append(PendingSave(state.version, Decision(current, tuple(events)),
                                         self._personal_fields(state), frozenset(tried), before=state))
                outcome.settled.update(tried)
                if events:
                    outcome.changed.add(case_id)
        order = {timer.id: i for i, timer in enumerate(claimed)}
        outcome.fired.sort(key=lambda f: order[f.timer.id])  # claim order: due order across cases
        # The cases are locked (PostgreSQL) or the database is (SQLite): no save can be stale here.
        repository.save_decisions(session, saves)
        timers.mark_failed(session, outcome.failed)
        outcome.settled.update(outcome.failed)
        return outcome

    def retry_failed_timers(self, case_id: str | None = None) -> int:
        with self._storage("retrying failed timers"), write_session(self.db) as session:
            return timers.retry_failed(session, case_id)

    # --- queries ------------------------------------------------------------------------------------
    def case(self, case_id: str) -> CaseState:
        """The case as the engine sees it (personal data merged back)."""
        with self._storage(f"reading case {case_id}"), read_session(self.db) as session:
            return repository.load_case(session, case_id)

    def history(self, case_id: str) -> list[Event]:
        """The case's events as stored: without personal data."""
        with self._storage(f"reading the history of case {case_id}"), read_session(self.db) as session:
            return repository.history(session, case_id)

    def task(self, task_id: str) -> TaskView:
        with self._storage(f"reading task {task_id}"), read_session(self.db) as session:
            return repository.task_view(session, task_id)

    def worklist(self, worker: str | None, roles: Sequence[str] = (), team: str | None = None) -> list[TaskView]:
        with self._storage(f"reading the worklist of {worker}"), read_session(self.db) as session:
            return repository.worklist(session, worker, roles, team)

    def role_queue(self, role: str, team: str | None = None) -> list[TaskView]:
        with self._storage(f"reading the queue of role {role}"), read_session(self.db) as session:
            return repository.role_queue(session, role, team)

    # --- personal data and audit --------------------------------------------------------------------
    def record_access(self, *, who: str, action: str, what: str, case_id: str | None = None,
                      role: str | None = None, organisation: str | None = None, why: str | None = None) -> None:
        """Write one audit-log line (who looked at or changed what, and why)."""
        with self._storage(f"writing the audit log for {who}"), write_session(self.db) as session:
            audit.record_access(session, at=self.clock.now(), who=who, role=role, organisation=organisation,
                                case_id=case_id, action=action, what=what, why=why)

    def erase_personal_data(self, case_id: str, *, actor: str, reason: str) -> bool:
        """Forget who the client of a case is (one row); the history and statistics stay intact."""
        with self._storage(f"erasing personal data of case {case_id}"), write_session(self.db) as session:
            if not repository.case_exists(session, case_id):
                raise NotFoundError(msg("case.unknown", case=case_id))
            erased = repository.erase_personal_data(session, case_id)
            self.cases_kept.drop(case_id)  # (other processes' kept states fail their save: PendingSave.had_personal)
            audit.record_access(session, at=self.clock.now(), who=actor, case_id=case_id, action="erase",
                                what="personal data", why=reason)
            return erased

    # --- pathways -----------------------------------------------------------------------------------
    def publish_pathway(self, text: str, source: str) -> Published:
        """Check a pathway file with the loader and publish its version (no-op if already there)."""
        with self._storage(f"publishing {source}"), write_session(self.db) as session:
            known = self.catalog.already_published(session, text)
            if known is not None:
                return Published(known[0], known[1], new=False)
        pathway = self.catalog.parse(text, source)
        return self.publish(pathway, text, source)

    def publish(self, pathway: Pathway, text: str, source: str) -> Published:
        """Publish an already checked `Pathway` with the source text it came from. Processes starting
        at the same moment (two workers' flow runs, each publishing the pathways directory) may race to
        insert the same version: one wins, and the others, on its unique key, look again and find it
        (the same content: not new; other content: ConflictError)."""
        label = f"publishing {pathway.key}"
        for attempt in range(2):
            try:
                with self._storage(label), write_session(self.db) as session:
                    return self.catalog.publish(session, pathway, text, source, self.clock.now())
            except IntegrityError as exc:
                if attempt:
                    raise StorageError(f"{label}: the database refused it ({exc.orig})") from exc
        raise AssertionError("unreachable")


def default_handlers() -> dict[str, StepHandler]:
    from tasks.handlers import default_handlers as shipped

    return shipped()


PATHWAYS_DIR_ENV = "CAREPATH_PATHWAYS_DIR"


def shipped_pathways_dir() -> Path | None:
    """`$CAREPATH_PATHWAYS_DIR` (an installation's own pathways), else `pathways/` of the source
    tree, else the copy installed with the wheel."""
    configured = os.environ.get(PATHWAYS_DIR_ENV)
    if configured:
        return Path(configured)
    here = Path(__file__).resolve().parents[1] / "pathways"
    if here.is_dir():
        return here
    try:
        from importlib.resources import files

        installed = Path(str(files("carepath_data") / "pathways"))
    except (ImportError, ModuleNotFoundError, TypeError):
        return None
    return installed if installed.is_dir() else None


def build_service(
    database_url: str,
    clock: Clock,
    pathways_dir: Path | None = None,
    *,
    data_dir: Path | None = None,
    db: Database | None = None,
    publish_shipped: bool = True,
) -> CaseService:
    """Upgrade the database, publish the pathways in `pathways_dir` (default: `shipped_pathways_dir()`)
    and return the service. Files that do not load are listed in `service.unpublished`. `data_dir`
    holds the pseudonym secret (default: `$CAREPATH_DATA_DIR`)."""
    from integrations.db import schema_version
    from integrations.db.engine_factory import data_dir as default_data_dir

    database = db or create_db_engine(database_url)
    if not schema_version.at_head(database):  # Alembic only when there is something to do
        from integrations.migrations import upgrade_database

        upgrade_database(database_url, database)
    parse = loader_parser()
    service = CaseService(
        database, clock, PathwayCatalog(database, parse),
        Pseudonymiser.for_data_dir(data_dir or default_data_dir()), default_handlers(),
        case_cache_size=size_from_env(),
    )
    directory = pathways_dir or (shipped_pathways_dir() if publish_shipped else None)
    if directory is not None and parse is not None:
        for path in sorted(directory.glob("*.yaml")):
            try:
                service.publish_pathway(path.read_text(encoding="utf-8"), str(path))
            except (PathwayError, ConflictError) as exc:
                # One broken file must not stop the cases of every other pathway; callers show these.
                service.unpublished.append((str(path), str(exc)))
    return service
