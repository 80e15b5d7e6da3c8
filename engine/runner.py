"""An in-memory home for cases: the engine with its state kept in dictionaries.

Used by the unit tests and by the coordinator's simulation, where time is
virtual: `advance_to` jumps from one due timer to the next, firing each at its
own due moment (time skipping, as Temporal's test server does), so months of
a pathway run in milliseconds and never sleep. With `reload=True` every state
is written to its live JSON form and read back between commands, the way the
database keeps it, and a command that needs history is decided again on the whole
state replayed from the events, as `integrations/service.py` does.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine import commands as c
from engine.clock import ManualClock
from engine.decide import Decision, Engine
from engine.errors import HistoryNeeded, NotFoundError
from engine.events import Event, replay
from engine.messages import msg
from engine.state import CaseState, Task, TaskStatus, TimerStatus


@dataclass
class InMemoryRunner:
    engine: Engine
    clock: ManualClock
    reload: bool = False
    cases: dict[str, CaseState] = field(default_factory=dict)
    histories: dict[str, list[Event]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    fired: list[tuple[str, str, datetime, datetime]] = field(default_factory=list)  # case, timer, due, fired
    _timers: list[tuple[datetime, int, str, str]] = field(default_factory=list)
    _counter: int = 0

    # --- commands -----------------------------------------------------------
    def start(self, cmd: c.StartCase) -> CaseState:
        if cmd.case_id in self.cases:
            raise NotFoundError(msg("case.exists", case=cmd.case_id))
        decision = self.engine.start(cmd, self.clock.now())
        self.histories[cmd.case_id] = []
        return self._record(decision).state

    def handle(self, cmd: c.Command) -> Decision:
        state, now = self._stored(cmd.case_id), self.clock.now()
        try:
            decision = self.engine.handle(state, cmd, now)
        except HistoryNeeded:
            decision = self.engine.handle(self._whole(state), cmd, now)
        return self._record(decision)

    def case(self, case_id: str) -> CaseState:
        """The whole case (history included), as a page reads it."""
        state = self._stored(case_id)
        return self._whole(state) if state.live else state

    def _stored(self, case_id: str) -> CaseState:
        try:
            state = self.cases[case_id]
        except KeyError:
            raise NotFoundError(msg("case.unknown", case=case_id)) from None
        return CaseState.from_json(state.to_json()) if self.reload else state

    def _whole(self, live: CaseState) -> CaseState:
        whole = replay(self.histories[live.id])
        whole.data = dict(live.data)
        return whole

    def _record(self, decision: Decision) -> Decision:
        state = decision.state
        self.cases[state.id] = CaseState.from_json(state.to_json(live_only=True)) if self.reload else state
        self.histories[state.id].extend(decision.events)
        for event in decision.events:
            if event.type == "timer_set":
                timer = event.data["timer"]
                self._counter += 1
                heapq.heappush(
                    self._timers, (datetime.fromisoformat(timer["due_at"]), self._counter, state.id, timer["id"])
                )
            elif event.type == "message_queued":
                self.outbox.append(event.data["message"])
            elif event.type == "case_resumed":
                for timer in state.timers.values():  # shifted due moments
                    if timer.status is TimerStatus.PENDING:
                        self._counter += 1
                        heapq.heappush(self._timers, (timer.due_at, self._counter, state.id, timer.id))
        return decision

    # --- time ---------------------------------------------------------------
    def next_due(self) -> datetime | None:
        while self._timers:
            due, _, case_id, timer_id = self._timers[0]
            timer = self.cases[case_id].timers.get(timer_id)
            if timer is not None and timer.status is TimerStatus.PENDING and timer.due_at == due:
                return due
            heapq.heappop(self._timers)
        return None

    def fire_due(self) -> int:
        """Fire every timer due at the clock's present moment, in due order."""
        fired = 0
        now = self.clock.now()
        while True:
            due = self.next_due()
            if due is None or due > now:
                return fired
            _, _, case_id, timer_id = heapq.heappop(self._timers)
            self.handle(c.FireTimer(case_id=case_id, actor="system:timer", timer_id=timer_id))
            self.fired.append((case_id, timer_id, due, now))
            fired += 1

    def advance_to(self, moment: datetime) -> int:
        """Move the clock to `moment`, firing each timer at its own due moment on the way."""
        fired = 0
        while True:
            due = self.next_due()
            if due is None or due > moment:
                break
            if due > self.clock.now():
                self.clock.set(due)
            fired += self.fire_due()
        if moment > self.clock.now():
            self.clock.set(moment)
        return fired + self.fire_due()

    def restarted(self) -> InMemoryRunner:
        """A new runner over the same stored cases, as after a process restart: only JSON survives."""
        fresh = InMemoryRunner(self.engine, self.clock, reload=self.reload)
        for case_id, state in self.cases.items():
            stored = CaseState.from_json(state.to_json())
            fresh.cases[case_id] = stored
            fresh.histories[case_id] = [Event.from_json(e.to_json()) for e in self.histories[case_id]]
            for timer in stored.pending_timers():
                fresh._counter += 1
                heapq.heappush(fresh._timers, (timer.due_at, fresh._counter, case_id, timer.id))
        fresh.fired = list(self.fired)
        fresh.outbox = list(self.outbox)
        return fresh

    # --- queries ------------------------------------------------------------
    def open_tasks(self, case_id: str | None = None) -> list[Task]:
        states = [self.cases[case_id]] if case_id else list(self.cases.values())
        return sorted(
            (t for s in states for t in s.tasks.values() if t.status is TaskStatus.OPEN),
            key=lambda t: (t.due_at, t.id),
        )

    def replayed(self, case_id: str) -> CaseState:
        return replay(self.histories[case_id])
