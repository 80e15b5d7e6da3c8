"""A Hypothesis state machine over the engine: random commands, time and restarts.

Invariants after every step: no timer fired before its due moment or twice;
every open task has a due moment and an owner or a queue; every closed case
has an outcome; each case's history replays to exactly its stored state.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from jsonschema import Draft202012Validator

from engine import commands as c
from engine.compiled import CompiledPathway, compile_pathway
from engine.errors import EngineError
from engine.runner import InMemoryRunner
from engine.simulate import WorkerModel, fill_form
from engine.state import CaseStatus, TaskStatus, TaskType, TrackStatus
from tests.unit.engine_support import FIXTURES, PATHWAYS, load, runner_for

PATHWAYS_UNDER_TEST = [load(FIXTURES / "all-constructs.yaml"), load(PATHWAYS / "swa-trajectory.yaml"),
                       load(PATHWAYS / "eviction-prevention.yaml")]
COMPILED = {p.id: compile_pathway(p) for p in PATHWAYS_UNDER_TEST}
MODEL = WorkerModel()


def _case_data(cp: CompiledPathway, rng: random.Random, now: Any) -> dict[str, Any] | None:
    from engine.expressions import evaluate

    trigger = cp.pathway.triggers[0]
    for _ in range(500):  # conditional case data (eviction prevention's if/then/else) makes a match rarer
        data = fill_form(rng, cp.pathway.case_data, MODEL, "case", now, cp.validators["case_data"])
        try:
            cp.validate("case_data", data, "case data")
            if trigger.condition is None or evaluate(trigger.condition, {"case": data, "now": now}) is True:
                return data
        except EngineError:
            continue
    return None


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.pathway = PATHWAYS_UNDER_TEST[0]
        self.runner: InMemoryRunner | None = None
        self.count = 0

    @rule(which=st.integers(0, len(PATHWAYS_UNDER_TEST) - 1), seed=st.integers(0, 2**16))
    def start_case(self, which: int, seed: int) -> None:
        if self.runner is None:
            self.runner = runner_for(PATHWAYS_UNDER_TEST[0])
            lookup = {p.id: COMPILED[p.id] for p in PATHWAYS_UNDER_TEST}
            self.runner.engine._lookup = lambda pid, ver: lookup[pid]  # several pathways in one runner
        pathway = PATHWAYS_UNDER_TEST[which]
        cp = COMPILED[pathway.id]
        data = _case_data(cp, random.Random(seed), self.runner.clock.now())
        if data is None:
            return
        self.count += 1
        self.runner.start(c.StartCase(
            case_id=f"C{self.count}", actor="coordinator", pathway_id=pathway.id, pathway_version=pathway.version,
            trigger=pathway.triggers[0].type, data=data, pseudonym=f"P{self.count}",
        ))

    def _open(self) -> list[tuple[str, str]]:
        assert self.runner is not None
        return [(s.id, t.id) for s in self.runner.cases.values() for t in s.tasks.values()
                if t.status is TaskStatus.OPEN]

    @precondition(lambda self: self.runner is not None)
    @rule(pick=st.integers(0, 10_000), seed=st.integers(0, 2**16))
    def complete_a_task(self, pick: int, seed: int) -> None:
        assert self.runner is not None
        open_tasks = self._open()
        if not open_tasks:
            return
        case_id, task_id = open_tasks[pick % len(open_tasks)]
        state = self.runner.case(case_id)
        task = state.tasks[task_id]
        cp = COMPILED[state.pathway_id]
        rng = random.Random(seed)
        if task.type is TaskType.EVALUATION:
            active = [t.id for t in state.tracks.values() if t.status is TrackStatus.ACTIVE]
            data: dict[str, Any] = {}
            if active and rng.random() < 0.5:
                data["close_tracks"] = [{"track": rng.choice(active), "result": "achieved"}]
            data.update(fill_form(rng, {"properties": {}}, MODEL, "evaluation", self.runner.clock.now(),
                                  cp.validators["evaluation"]))
        elif task.type is TaskType.PARTNER:
            schema = cp.steps[task.step_id].params.get("answer", {})
            data = fill_form(rng, schema, MODEL, task.step_id, self.runner.clock.now(), Draft202012Validator(schema))
        else:
            validator = cp.validators.get(task.step_id)
            data = {} if validator is None else fill_form(
                rng, cp.steps[task.step_id].form or {}, MODEL, task.step_id, self.runner.clock.now(), validator)
        try:
            self.runner.handle(c.CompleteTask(case_id=case_id, actor="worker:w", task_id=task_id, data=data))
        except EngineError as exc:
            # Only refusals a real worker could meet: a suspended case, or an evaluation form that no
            # longer fits (e.g. its track closed meanwhile). Anything else is a bug.
            assert state.status is CaseStatus.SUSPENDED or task.type is TaskType.EVALUATION, exc

    @precondition(lambda self: self.runner is not None)
    @rule(pick=st.integers(0, 10_000), worker=st.sampled_from(["worker:a", "worker:b"]))
    def claim_a_task(self, pick: int, worker: str) -> None:
        assert self.runner is not None
        open_tasks = self._open()
        if not open_tasks:
            return
        case_id, task_id = open_tasks[pick % len(open_tasks)]
        task = self.runner.case(case_id).tasks[task_id]
        try:
            self.runner.handle(c.ClaimTask(case_id=case_id, actor=worker, task_id=task_id, worker=worker))
        except EngineError:
            assert task.assignee not in (None, worker) or self.runner.case(case_id).status is not CaseStatus.OPEN

    @precondition(lambda self: self.runner is not None)
    @rule(hours=st.integers(1, 24 * 30))
    def advance_clock(self, hours: int) -> None:
        assert self.runner is not None
        self.runner.advance_to(self.runner.clock.now() + timedelta(hours=hours))

    @precondition(lambda self: self.runner is not None)
    @rule(pick=st.integers(0, 10_000))
    def suspend_or_resume(self, pick: int) -> None:
        assert self.runner is not None
        cases = sorted(self.runner.cases)
        if not cases:
            return
        case_id = cases[pick % len(cases)]
        status = self.runner.case(case_id).status
        if status is CaseStatus.OPEN:
            self.runner.handle(c.SuspendCase(case_id=case_id, actor="worker:w", reason="opname"))
        elif status is CaseStatus.SUSPENDED:
            self.runner.handle(c.ResumeCase(case_id=case_id, actor="worker:w"))

    @precondition(lambda self: self.runner is not None)
    @rule(pick=st.integers(0, 10_000))
    def close_early(self, pick: int) -> None:
        assert self.runner is not None
        cases = sorted(self.runner.cases)
        if not cases:
            return
        state = self.runner.cases[cases[pick % len(cases)]]
        reasons = sorted(COMPILED[state.pathway_id].close_reasons)
        if state.status is CaseStatus.CLOSED or not reasons:
            return
        reason = reasons[pick % len(reasons)]
        outcome = COMPILED[state.pathway_id].close_reasons[reason].outcome or sorted(COMPILED[state.pathway_id].outcomes)[0]
        self.runner.handle(c.CloseCase(case_id=state.id, actor="worker:w", reason_code=reason, outcome=outcome))

    @precondition(lambda self: self.runner is not None)
    def restart(self) -> None:
        assert self.runner is not None
        self.runner = self.runner.restarted()

    restart = rule()(restart)

    @invariant()
    def timers_never_early_or_twice(self) -> None:
        if self.runner is None:
            return
        seen: set[tuple[str, str]] = set()
        for case_id, timer_id, due, fired in self.runner.fired:
            assert fired >= due, (case_id, timer_id, due, fired)
            assert (case_id, timer_id) not in seen
            seen.add((case_id, timer_id))
        for state in self.runner.cases.values():
            for timer in state.timers.values():
                if timer.fired_at is not None:
                    assert timer.fired_at >= timer.due_at

    @invariant()
    def open_tasks_have_due_and_owner(self) -> None:
        if self.runner is None:
            return
        for state in self.runner.cases.values():
            for task in state.open_tasks():
                assert task.due_at is not None and (task.assignee or task.role)
                assert state.status is not CaseStatus.CLOSED

    @invariant()
    def closed_cases_have_outcome(self) -> None:
        if self.runner is None:
            return
        for state in self.runner.cases.values():
            if state.status is CaseStatus.CLOSED:
                assert state.outcome in COMPILED[state.pathway_id].outcomes
                assert state.pending_timers() == []

    @invariant()
    def history_replays_to_state(self) -> None:
        if self.runner is None:
            return
        for case_id in self.runner.cases:
            assert self.runner.replayed(case_id).to_json() == self.runner.case(case_id).to_json()


EngineMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEngineStateMachine = EngineMachine.TestCase
