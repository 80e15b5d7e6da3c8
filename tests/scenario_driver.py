"""Playing scenarios (`tests/scenario_language.py`) against a home for cases.

`ScenarioDriver` is what a scenario needs from wherever its case lives: start it, give commands,
move the controllable clock (firing each timer at its own due moment), and read back the state,
the history and the outbox. `MemoryDriver` runs on `engine.runner.InMemoryRunner` (with `reload`
the state goes through JSON between commands); `tests/integration/scenario_db_driver.py` runs on
the application service and the database, reading the case from the database for every step.

`play` is the interpreter. After every step it checks what must always hold, whatever the
scenario says: the history replays to the stored state, no timer fired before its due moment or
twice (and none that was due was left pending), every open task has a due moment and an owner or
queue, and every closed case has an outcome of its pathway.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any, Protocol

from engine import commands as c
from engine.calendar import AMSTERDAM
from engine.clock import ManualClock
from engine.compiled import EVALUATION_STEP, CompiledPathway
from engine.decide import Engine
from engine.errors import CarepathError
from engine.events import Event, replay
from engine.runner import InMemoryRunner
from engine.state import CaseState, CaseStatus, Task, TaskType, TimerStatus
from tasks.handlers import default_handlers
from tests.scenario_language import DEFAULT_WORKER, Scenario, Step, parse_advance, parse_moment


class ScenarioDriver(Protocol):
    """A home for one scenario's case."""

    name: str

    def start(self, scenario: Scenario) -> None: ...
    def now(self) -> datetime: ...
    def state(self) -> CaseState:
        """The case as stored now (read afresh)."""
    def stored_state_json(self) -> dict[str, Any]:
        """What the history must replay to (for the database: the stored JSON, personal data left out)."""
    def history(self) -> list[Event]: ...
    def messages(self) -> list[dict[str, Any]]:
        """The case's outbox: dicts with at least channel, template, to_role, task_id."""
    def complete(self, task_id: str, data: dict[str, Any], actor: str) -> None: ...
    def claim(self, task_id: str, worker: str) -> None: ...
    def close(self, reason_code: str, outcome: str | None, actor: str, why: str | None) -> None: ...
    def suspend(self, actor: str, why: str) -> None: ...
    def resume(self, actor: str) -> None: ...
    def advance_to(self, moment: datetime) -> None:
        """Move the clock to `moment`, firing every timer due on the way at its own due moment."""
    def extra_checks(self, state: CaseState) -> None:
        """Checks only this home can make (the database: projections agree with the state)."""


# --------------------------------------------------------------------------- in memory


class MemoryDriver:
    """The case in `InMemoryRunner`; with `reload` its state is written to JSON and read back
    between commands, as the database does."""

    def __init__(self, *, reload: bool) -> None:
        self.reload = reload
        self.name = "reloaded" if reload else "memory"
        self._runner: InMemoryRunner | None = None
        self._case_id = ""

    @property
    def runner(self) -> InMemoryRunner:
        assert self._runner is not None, "start the scenario first"
        return self._runner

    def start(self, scenario: Scenario) -> None:
        compiled = scenario.compiled
        key = (scenario.pathway.id, scenario.pathway.version)

        def lookup(pathway_id: str, version: int) -> CompiledPathway:
            assert (pathway_id, version) == key, (pathway_id, version)
            return compiled

        self._runner = InMemoryRunner(Engine(lookup, default_handlers()), ManualClock(scenario.start),
                                      reload=self.reload)
        self._case_id = scenario.case_id
        self.runner.start(c.StartCase(
            case_id=scenario.case_id, actor=scenario.starter, pathway_id=scenario.pathway.id,
            pathway_version=scenario.pathway.version, trigger=scenario.trigger, data=dict(scenario.case),
            pseudonym=f"P-{scenario.case_id}", assignments=dict(scenario.assign),
        ))

    def now(self) -> datetime:
        return self.runner.clock.now()

    def state(self) -> CaseState:
        return self.runner.case(self._case_id)

    def stored_state_json(self) -> dict[str, Any]:
        return self.runner.cases[self._case_id].to_json()

    def history(self) -> list[Event]:
        return list(self.runner.histories[self._case_id])

    def messages(self) -> list[dict[str, Any]]:
        return [m for m in self.runner.outbox if m["case_id"] == self._case_id]

    def _handle(self, cmd: c.Command) -> None:
        self.runner.handle(cmd)

    def complete(self, task_id: str, data: dict[str, Any], actor: str) -> None:
        self._handle(c.CompleteTask(case_id=self._case_id, actor=actor, task_id=task_id, data=data))

    def claim(self, task_id: str, worker: str) -> None:
        self._handle(c.ClaimTask(case_id=self._case_id, actor=worker, task_id=task_id, worker=worker))

    def close(self, reason_code: str, outcome: str | None, actor: str, why: str | None) -> None:
        self._handle(c.CloseCase(case_id=self._case_id, actor=actor, reason_code=reason_code, outcome=outcome,
                                 reason=why))

    def suspend(self, actor: str, why: str) -> None:
        self._handle(c.SuspendCase(case_id=self._case_id, actor=actor, reason=why))

    def resume(self, actor: str) -> None:
        self._handle(c.ResumeCase(case_id=self._case_id, actor=actor))

    def advance_to(self, moment: datetime) -> None:
        self.runner.advance_to(moment)

    def extra_checks(self, state: CaseState) -> None:
        for case_id, timer_id, due, fired in self.runner.fired:
            assert fired == due, f"{case_id} timer {timer_id} due {due.isoformat()} fired at {fired.isoformat()}"


# --------------------------------------------------------------------------- the interpreter


def local(moment: datetime) -> str:
    return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M")


def same_moment(expected: str, actual: datetime) -> bool:
    """`expected` is Amsterdam wall time 'YYYY-MM-DD HH:MM' or an ISO moment with offset."""
    if " " in expected and "T" not in expected:
        return local(actual) == expected
    return datetime.fromisoformat(expected) == actual


def show(moment: datetime) -> str:
    at = moment.astimezone(AMSTERDAM)
    return f"{at.strftime('%a %Y-%m-%d %H:%M')} Amsterdam ({at.strftime('%z')})"


def _single(state: CaseState, step_id: str, types: tuple[TaskType, ...]) -> Task:
    tasks = [t for t in state.open_tasks() if t.step_id == step_id and t.type in types]
    if len(tasks) != 1:
        open_now = sorted(f"{t.step_id} ({t.type.value})" for t in state.open_tasks())
        raise AssertionError(
            f"expected exactly one open task of step {step_id}, found {len(tasks)}; open: {open_now or 'none'}"
        )
    return tasks[0]


class Player:
    def __init__(self, scenario: Scenario, driver: ScenarioDriver) -> None:
        self.scenario = scenario
        self.driver = driver
        self.cp = scenario.compiled

    # --- commands ---------------------------------------------------------------------------------
    def perform(self, step: Step) -> None:
        args = step.args
        action = step.action
        if action == "advance":
            self.driver.advance_to(self.cp.calendar.add(self.driver.now(), parse_advance(args, "advance")))
            return
        if action == "advance_to":
            moment = parse_moment(args, "advance_to")
            if moment < self.driver.now():
                raise AssertionError(f"advance_to {args}: the clock is already at {show(self.driver.now())}")
            self.driver.advance_to(moment)
            return
        if action == "expect":
            self.expect(args)
            return
        refused = args.get("refused")
        before = self.driver.state().version
        try:
            self.command(action, args)
        except CarepathError as exc:
            if refused is None:
                raise
            if not re.search(refused, str(exc)):
                raise AssertionError(f"refused as expected, but with {type(exc).__name__}: {exc}; "
                                     f"expected a message matching {refused!r}") from exc
            after = self.driver.state().version
            assert after == before, f"a refused command changed the case (version {before} -> {after})"
            return
        if refused is not None:
            raise AssertionError(f"expected the engine to refuse ({refused!r}), but it accepted")

    def command(self, action: str, args: dict[str, Any]) -> None:
        state = self.driver.state()
        by = args.get("by", DEFAULT_WORKER)
        if action == "complete":
            task = _single(state, args["step"], (TaskType.HUMAN,))
            self.driver.complete(task.id, args.get("data", {}), by)
        elif action == "answer":
            task = _single(state, args["step"], (TaskType.PARTNER,))
            self.driver.complete(task.id, args["data"], args.get("by", f"partner:{task.role}"))
        elif action == "evaluate":
            task = _single(state, EVALUATION_STEP, (TaskType.EVALUATION,))
            self.driver.complete(task.id, args["data"], by)
        elif action == "claim":
            task = _single(state, args["step"], tuple(TaskType))
            self.driver.claim(task.id, args["by"])
        elif action == "close":
            self.driver.close(args["reason"], args.get("outcome"), by, args.get("why"))
        elif action == "suspend":
            self.driver.suspend(by, args["why"])
        elif action == "resume":
            self.driver.resume(by)
        else:  # pragma: no cover - the language module refuses unknown actions
            raise AssertionError(f"unknown action {action}")

    # --- expectations -----------------------------------------------------------------------------
    def expect(self, exp: dict[str, Any]) -> None:
        state = self.driver.state()
        history = self.driver.history()
        wrong: list[str] = []

        def differs(key: str, expected: Any, actual: Any) -> None:
            if expected != actual:
                wrong.append(f"{key}: expected {expected!r}, got {actual!r}")

        open_tasks = state.open_tasks()

        def one(step_id: str, key: str) -> Task | None:
            tasks = [t for t in open_tasks if t.step_id == step_id]
            if len(tasks) != 1:
                wrong.append(f"{key}: {step_id}: expected one open task, found {len(tasks)}")
                return None
            return tasks[0]

        for key, value in exp.items():
            if key == "now":
                if not same_moment(value, self.driver.now()):
                    wrong.append(f"now: expected {value}, the clock says {show(self.driver.now())}")
            elif key == "status":
                differs(key, value, state.status.value)
            elif key == "outcome":
                differs("status", "closed", state.status.value)
                differs(key, value, state.outcome)
            elif key == "close_reason":
                differs(key, value, state.close_reason)
            elif key == "open_tasks":
                differs(key, sorted(value), sorted(t.step_id for t in open_tasks))
            elif key == "due":
                for step_id, when in value.items():
                    task = one(step_id, key)
                    if task is not None and not same_moment(when, task.due_at):
                        wrong.append(f"due: {step_id}: expected {when}, due {show(task.due_at)}")
            elif key == "roles":
                for step_id, role in value.items():
                    task = one(step_id, key)
                    if task is not None:
                        differs(f"roles: {step_id}", role, task.role)
            elif key == "assignees":
                for step_id, worker in value.items():
                    task = one(step_id, key)
                    if task is not None:
                        differs(f"assignees: {step_id}", worker, task.assignee)
            elif key == "position":
                for flow, step_id in value.items():
                    pos = state.position_of(flow)
                    differs(f"position: {flow}", step_id, None if pos is None else pos.step_id)
            elif key == "visits":
                for step_id, count in value.items():
                    flow = self.cp.step_flow[step_id]
                    pos = state.position_of(flow)
                    differs(f"visits: {step_id}", count, 0 if pos is None else pos.visits.get(step_id, 0))
            elif key == "tracks":
                actual = {t.id: (t.result if t.status.value == "closed" else t.status.value)
                          for t in state.tracks.values()}
                differs(key, dict(value), actual)
            elif key == "evaluations_held":
                differs(key, value, state.evaluations_held)
            elif key in ("reminders", "escalations"):
                what = "reminder" if key == "reminders" else "escalation"
                passed = [state.tasks[e.data["task_id"]].step_id for e in history
                          if e.type == "task_deadline_passed" and e.data["what"] == what]
                if isinstance(value, int):
                    differs(key, value, len(passed))
                else:
                    counts = Counter(passed)
                    differs(key, dict(value), {s: counts.get(s, 0) for s in value})
            elif key == "messages":
                counts = Counter(m["template"] for m in self.driver.messages())
                differs(key, dict(value), {t: counts.get(t, 0) for t in value})
            elif key == "lead_time_exceeded":
                flows = sorted({e.data["flow"] for e in history if e.type == "lead_time_exceeded"})
                differs(key, sorted(value), flows)
            elif key == "open_escalations":
                differs(key, sorted(value), sorted(e["to_role"] for e in state.open_escalations))
            else:  # pragma: no cover - the language module refuses unknown keys
                wrong.append(f"unknown expectation {key}")
        if wrong:
            raise AssertionError("; ".join(wrong))


def check_invariants(scenario: Scenario, driver: ScenarioDriver) -> None:
    """What holds after every step of every scenario, whatever it expects."""
    cp = scenario.compiled
    state = driver.state()
    history = driver.history()
    now = driver.now()
    problems: list[str] = []

    # The history replays to exactly the stored state, event by event.
    if [e.seq for e in history] != list(range(1, len(history) + 1)):
        problems.append("the history's sequence numbers are not 1..n")
    if state.version != len(history):
        problems.append(f"state version {state.version} but {len(history)} events")
    stored = driver.stored_state_json()
    replayed = replay(history).to_json(live_only=bool(stored.get("live")))
    if replayed != stored:
        differ = sorted(k for k in set(replayed) | set(stored) if replayed.get(k) != stored.get(k))
        problems.append(f"the history does not replay to the stored state (differs in {', '.join(differ)})")

    # No timer fired before its due moment or twice; none that was due is still pending.
    fired = Counter(e.data["timer_id"] for e in history if e.type == "timer_fired")
    for timer_id, times in fired.items():
        if times > 1:
            problems.append(f"timer {timer_id} fired {times} times")
    for event in history:
        if event.type == "timer_fired":
            timer = state.timers[event.data["timer_id"]]
            if event.at < timer.due_at:
                problems.append(f"timer {timer.id} ({timer.kind.value}) fired at {show(event.at)}, "
                                f"before its due moment {show(timer.due_at)}")
    for timer in state.timers.values():
        if timer.status is TimerStatus.PENDING and timer.due_at < now:
            problems.append(f"timer {timer.id} ({timer.kind.value}) was due at {show(timer.due_at)} "
                            f"and has not fired at {show(now)}")

    # Every open task has a due moment and an owner or a queue (a role of the pathway).
    for task in state.open_tasks():
        if task.due_at is None or task.due_at.tzinfo is None:
            problems.append(f"open task {task.id} ({task.step_id}) has no due moment")
        if not task.assignee and task.role not in cp.roles:
            problems.append(f"open task {task.id} ({task.step_id}) has neither an assignee nor a role queue "
                            f"of {cp.key} (role {task.role!r})")

    # Every closed case has an outcome of its pathway, and nothing left running.
    if state.status is CaseStatus.CLOSED:
        if state.outcome not in cp.outcomes:
            problems.append(f"closed case has outcome {state.outcome!r}, not one of {', '.join(cp.outcomes)}")
        if state.open_tasks():
            problems.append(f"closed case has open tasks {[t.id for t in state.open_tasks()]}")
        if state.pending_timers():
            problems.append(f"closed case has pending timers {[t.id for t in state.pending_timers()]}")
    elif state.outcome is not None:
        problems.append(f"{state.status.value} case has outcome {state.outcome}")

    if problems:
        raise AssertionError("; ".join(problems))
    driver.extra_checks(state)


def play(scenario: Scenario, driver: ScenarioDriver) -> None:
    """Run every step of `scenario` on `driver`, checking expectations and invariants as it goes."""
    player = Player(scenario, driver)
    driver.start(scenario)
    try:
        check_invariants(scenario, driver)
    except AssertionError as exc:
        raise AssertionError(f"{scenario.where()} [{driver.name}], after starting: {exc}") from None
    for step in scenario.steps:
        try:
            player.perform(step)
        except AssertionError as exc:
            raise AssertionError(f"{scenario.where(step)} [{driver.name}]: {exc}") from None
        except CarepathError as exc:
            exc.add_note(f"in {scenario.where(step)} [{driver.name}] at {show(driver.now())}")
            raise
        try:
            check_invariants(scenario, driver)
        except AssertionError as exc:
            raise AssertionError(f"{scenario.where(step)} [{driver.name}], afterwards: {exc}") from None
