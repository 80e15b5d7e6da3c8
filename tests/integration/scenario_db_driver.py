"""The scenario driver on the database: every step goes through `integrations.service.CaseService`.

Nothing about the case is kept in memory between steps: each command loads the case from the
database, decides and saves (that is what the service does), and every query here reads the
database again. Time moves on the service's `ManualClock`; `advance_to` sets the clock to the next
pending timer's due moment and runs the service's sweep (`fire_due`), so each timer fires at its
own due moment, as in `InMemoryRunner.advance_to`.

`extra_checks` compares the projections the service keeps next to the state (the task, timer,
case_tracks and outbox tables and the case row) with the state itself.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from engine.clock import ManualClock
from engine.events import Event
from engine.state import CaseState, TimerStatus
from integrations.db import outbox, repository
from integrations.db.engine_factory import read_session
from integrations.db.models import CaseRow, CaseTrackRow, TaskRow, TimerRow
from integrations.reporting.cellkey import record_key
from integrations.reporting.projection import case_funder, track_rows
from integrations.service import CaseService, build_service
from tests.scenario_language import Scenario

MAX_SWEEPS = 10_000  # a guard: a scenario never needs this many sweeps


class DatabaseDriver:
    def __init__(self, url: str, db: Engine, data_dir: Path) -> None:
        self.url = url
        self.db = db
        self.data_dir = data_dir
        self.name = f"database:{db.dialect.name}"
        self.clock: ManualClock | None = None
        self._service: CaseService | None = None
        self.case_id = ""

    @property
    def service(self) -> CaseService:
        assert self._service is not None, "start the scenario first"
        return self._service

    def start(self, scenario: Scenario) -> None:
        self.clock = ManualClock(scenario.start)
        self._service = build_service(self.url, self.clock, data_dir=self.data_dir, db=self.db,
                                      publish_shipped=False)
        published = self.service.publish_pathway(scenario.pathway_path.read_text(encoding="utf-8"),
                                                 str(scenario.pathway_path))
        assert (published.pathway_id, published.version) == (scenario.pathway.id, scenario.pathway.version), published
        result = self.service.start_case(
            scenario.pathway.id, scenario.trigger, scenario.case, actor=scenario.starter,
            version=scenario.pathway.version, assignments=scenario.assign, case_id=scenario.case_id,
        )
        self.case_id = result.case_id

    def now(self) -> datetime:
        assert self.clock is not None
        return self.clock.now()

    # --- reading ----------------------------------------------------------------------------------
    def state(self) -> CaseState:
        return self.service.case(self.case_id)

    def stored_state_json(self) -> dict[str, Any]:
        with read_session(self.db) as session:
            return repository.stored_state(session, self.case_id)

    def history(self) -> list[Event]:
        return self.service.history(self.case_id)

    def messages(self) -> list[dict[str, Any]]:
        with read_session(self.db) as session:
            rows = outbox.messages_of_case(session, self.case_id)
        return [{"id": m.id, "channel": m.channel, "template": m.template, "to_role": m.to_role,
                 "task_id": m.task_id} for m in rows]

    # --- commands ---------------------------------------------------------------------------------
    def complete(self, task_id: str, data: dict[str, Any], actor: str) -> None:
        self.service.complete_task(task_id, data, actor=actor)

    def claim(self, task_id: str, worker: str) -> None:
        self.service.claim(task_id, worker)

    def close(self, reason_code: str, outcome: str | None, actor: str, why: str | None) -> None:
        self.service.close_case(self.case_id, reason_code, actor=actor, outcome=outcome, reason=why)

    def suspend(self, actor: str, why: str) -> None:
        self.service.suspend(self.case_id, actor=actor, reason=why)

    def resume(self, actor: str) -> None:
        self.service.resume(self.case_id, actor=actor)

    # --- time -------------------------------------------------------------------------------------
    def _next_due(self) -> datetime | None:
        with read_session(self.db) as session:
            return session.execute(
                select(func.min(TimerRow.due_at)).where(TimerRow.case_id == self.case_id,
                                                        TimerRow.status == TimerStatus.PENDING.value)
            ).scalar_one_or_none()

    def _sweep(self) -> None:
        report = self.service.fire_due()
        assert report.failed == 0 and report.stale == 0, f"the sweep at {self.now().isoformat()}: {report}"

    def advance_to(self, moment: datetime) -> None:
        assert self.clock is not None
        for _ in range(MAX_SWEEPS):
            due = self._next_due()
            if due is None or due > moment:
                break
            if due > self.clock.now():
                self.clock.set(due)
            self._sweep()
            left = self._next_due()
            assert left is None or left > self.clock.now(), (
                f"the sweep at {self.clock.now().isoformat()} left a timer due at {left.isoformat()} pending"
            )
        else:  # pragma: no cover - a guard
            raise AssertionError(f"more than {MAX_SWEEPS} sweeps before {moment.isoformat()}")
        if moment > self.clock.now():
            self.clock.set(moment)
        self._sweep()

    # --- projections --------------------------------------------------------------------------------
    def extra_checks(self, state: CaseState) -> None:
        with read_session(self.db) as session:
            row = session.get(CaseRow, self.case_id)
            tasks = {r.id: r for r in session.execute(select(TaskRow).where(TaskRow.case_id == self.case_id)).scalars()}
            timers = {r.id: r for r in session.execute(select(TimerRow).where(TimerRow.case_id == self.case_id)).scalars()}
            track_table = CaseTrackRow.__table__
            stored_tracks = {r["track_id"]: dict(r) for r in session.execute(
                select(track_table).where(track_table.c.case_id == self.case_id)).mappings()}
        assert row is not None
        problems: list[str] = []
        # Every column of the case row (a save on SQLite sets only those that changed: what it leaves
        # out must still hold).
        funder = case_funder(state.funder, state.municipality)
        case_columns = (row.pathway_id, row.pathway_version, row.status, row.team, row.pseudonym, row.opened_at,
                        row.closed_at, row.outcome, row.close_reason, row.version, row.municipality, row.funder,
                        row.report_key, row.escalations_open)
        case_state = (state.pathway_id, state.pathway_version, state.status.value, state.team, state.pseudonym,
                      state.opened_at, state.closed_at, state.outcome, state.close_reason, state.version,
                      state.municipality, funder, record_key(state.id), len(state.open_escalations))
        if case_columns != case_state:
            problems.append(f"case row {case_columns} but state {case_state}")
        if set(tasks) != set(state.tasks):
            problems.append(f"task rows {sorted(tasks)} but state tasks {sorted(state.tasks)}")
        for task in state.tasks.values():
            r = tasks.get(task.id)
            if r is None:
                continue
            projected = (r.case_id, r.type, r.step, r.flow, r.title, r.status, r.role, r.assignee, r.team, r.due_at,
                         r.created_at, r.completed_at, r.reminders_sent, r.escalation_level,
                         r.pathway_id, r.funder, r.report_key)
            actual = (state.id, task.type.value, task.step_id, task.flow, task.title, task.status.value, task.role,
                      task.assignee, state.team, task.due_at, task.created_at, task.completed_at,
                      task.reminders_sent, task.escalation_level, state.pathway_id, funder,
                      record_key(task.id))
            if projected != actual:
                problems.append(f"task row {task.id} ({task.step_id}) {projected} but state {actual}")
        kept = {i for i, timer in state.timers.items() if timer.status.value != "cancelled"}  # cancelled: row deleted
        if set(timers) != kept:
            problems.append(f"timer rows {sorted(timers)} but state timers {sorted(kept)} (besides the cancelled)")
        for timer in state.timers.values():
            t = timers.get(timer.id)
            if t is not None and (t.case_id, t.kind, t.status, t.due_at) != (state.id, timer.kind.value,
                                                                             timer.status.value, timer.due_at):
                problems.append(f"timer row {timer.id} ({t.case_id}, {t.kind}, {t.status}, {t.due_at.isoformat()}) "
                                f"but state ({timer.kind.value}, {timer.status.value}, {timer.due_at.isoformat()})")
        # Every column of the case_tracks rows (a save on SQLite writes only the rows that changed, and
        # sets only their changed columns).
        expected_tracks = {r["track_id"]: r for r in track_rows(state.id, state.pathway_id, funder, state.tracks)}
        if stored_tracks != expected_tracks:
            problems.append(f"case_tracks rows {stored_tracks} but state {expected_tracks}")
        queued = sum(1 for e in self.history() if e.type == "message_queued")
        if len(self.messages()) != queued:
            problems.append(f"{len(self.messages())} outbox rows but {queued} message_queued events")
        assert not problems, "; ".join(problems)
