"""The live state decides exactly as the whole state does.

The database keeps only a case's live state (open tasks, pending and paused timers: engine/state.py);
closed tasks and fired timers are history in the events. These tests drive two in-memory runners in
lockstep over random walks of every shipped pathway, the all-constructs fixture and the crisis chain:
one keeps whole states, the other reloads the live JSON form between commands and falls back to the
replayed whole state when the engine asks for history (`HistoryNeeded`), as the service does. Every
command must produce the same events, or the same refusal, in both.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine import commands as c
from engine.compiled import CompiledPathway, compile_pathway
from engine.definition import Pathway
from engine.errors import EngineError, HistoryNeeded, NotFoundError
from engine.runner import InMemoryRunner
from engine.simulate import WorkerModel, fill_form
from engine.state import CaseState, CaseStatus, TaskStatus, TaskType, TimerStatus, TrackStatus
from tests.unit.engine_support import FIXTURES, PATHWAYS, ROOT, load, runner_for

WALKED = [*sorted(PATHWAYS.glob("*.yaml")), FIXTURES / "all-constructs.yaml", ROOT / "docs/examples/crisis-chain.yaml"]
MODEL = WorkerModel()


def _case_data(cp: CompiledPathway, rng: random.Random, runner: InMemoryRunner) -> dict[str, Any] | None:
    from engine.expressions import evaluate

    trigger = cp.pathway.triggers[0]
    for _ in range(500):
        data = fill_form(rng, cp.pathway.case_data, MODEL, "case", runner.clock.now(), cp.validators["case_data"])
        try:
            cp.validate("case_data", data, "case data")
        except EngineError:
            continue
        if trigger.condition is None or evaluate(trigger.condition, {"case": data, "now": runner.clock.now()}) is True:
            return data
    return None


def _form(cp: CompiledPathway, state: CaseState, task_id: str, rng: random.Random, runner: InMemoryRunner) -> dict[str, Any]:
    task = state.tasks[task_id]
    now = runner.clock.now()
    if task.type is TaskType.EVALUATION:
        active = [t.id for t in state.tracks.values() if t.status is TrackStatus.ACTIVE]
        data: dict[str, Any] = {}
        if active and rng.random() < 0.5:
            data["close_tracks"] = [{"track": rng.choice(active), "result": "achieved"}]
        data.update(fill_form(rng, {"properties": {}}, MODEL, "evaluation", now, cp.validators["evaluation"]))
        return data
    if task.type is TaskType.PARTNER:
        schema = cp.steps[task.step_id].params.get("answer", {})
        return fill_form(rng, schema, MODEL, task.step_id, now, Draft202012Validator(schema))
    if task.type is TaskType.AD_HOC:
        return {"note": "klaar"}
    validator = cp.validators.get(task.step_id)
    return {} if validator is None else fill_form(rng, cp.steps[task.step_id].form or {}, MODEL, task.step_id,
                                                  now, validator)


class Lockstep:
    """A whole-state runner and a live-state runner, given the same commands."""

    def __init__(self, pathway: Pathway) -> None:
        self.whole = runner_for(pathway)
        self.live = runner_for(pathway, reload=True)
        self.cp = compile_pathway(pathway)
        self.pathway = pathway

    def both(self, act: Any) -> None:
        outcomes = []
        for runner in (self.whole, self.live):
            before = {k: len(v) for k, v in runner.histories.items()}
            try:
                act(runner)
                error = None
            except EngineError as exc:
                error = (type(exc).__name__ if not isinstance(exc, NotFoundError) else "NotFoundError", str(exc))
            events = [e.to_json() for k, v in sorted(runner.histories.items()) for e in v[before.get(k, 0):]]
            outcomes.append((error, events))
        assert outcomes[0] == outcomes[1]

    def assert_same_cases(self) -> None:
        assert sorted(self.whole.cases) == sorted(self.live.cases)
        for case_id in self.whole.cases:
            whole, live = self.whole.case(case_id), self.live.case(case_id)
            assert live.to_json() == whole.to_json(), case_id  # what a page reads: the whole state, in both
            stored = self.live.cases[case_id]
            assert stored.live and all(t.status is TaskStatus.OPEN for t in stored.tasks.values())
            assert all(t.status in (TimerStatus.PENDING, TimerStatus.PAUSED) for t in stored.timers.values())


def _walk(path: Path, seed: int, commands: int = 400) -> Lockstep:
    pathway = load(path)
    pair = Lockstep(pathway)
    rng = random.Random(seed)
    count = 0
    for _ in range(commands):
        roll = rng.random()
        if count == 0 or roll < 0.08:
            data = _case_data(pair.cp, rng, pair.whole)
            if data is None:
                continue
            count += 1
            start = c.StartCase(case_id=f"C{count}", actor="coordinator:anna", pathway_id=pathway.id,
                                pathway_version=pathway.version, trigger=pathway.triggers[0].type, data=data,
                                pseudonym=f"P{count}")
            pair.both(lambda r, cmd=start: r.start(cmd))
            continue
        open_tasks = [(s.id, t.id) for s in pair.whole.cases.values() for t in s.tasks.values()
                      if t.status is TaskStatus.OPEN]
        closed = [(s.id, t.id) for s in pair.whole.cases.values() for t in s.tasks.values()
                  if t.status is not TaskStatus.OPEN]
        if roll < 0.7 and open_tasks:
            case_id, task_id = open_tasks[rng.randrange(len(open_tasks))]
            form = _form(pair.cp, pair.whole.case(case_id), task_id, random.Random(rng.random()), pair.whole)
            complete = c.CompleteTask(case_id=case_id, actor="worker:w", task_id=task_id, data=form)
            pair.both(lambda r, cmd=complete: r.handle(cmd))
        elif roll < 0.76 and closed:  # a second completion, a claim of a closed task: history answers
            case_id, task_id = closed[rng.randrange(len(closed))]
            again: c.Command = (c.CompleteTask(case_id=case_id, actor="worker:w", task_id=task_id, data={})
                                if rng.random() < 0.5 else
                                c.ClaimTask(case_id=case_id, actor="worker:v", task_id=task_id, worker="worker:v"))
            pair.both(lambda r, cmd=again: r.handle(cmd))
        elif roll < 0.8 and open_tasks:
            case_id, task_id = open_tasks[rng.randrange(len(open_tasks))]
            claim = c.ClaimTask(case_id=case_id, actor="worker:b", task_id=task_id, worker="worker:b")
            pair.both(lambda r, cmd=claim: r.handle(cmd))
        elif roll < 0.84:
            case_id = sorted(pair.whole.cases)[rng.randrange(count)]
            status = pair.whole.case(case_id).status
            turn: c.Command | None = (
                c.SuspendCase(case_id=case_id, actor="worker:w", reason="opname") if status is CaseStatus.OPEN
                else c.ResumeCase(case_id=case_id, actor="worker:w") if status is CaseStatus.SUSPENDED else None)
            if turn is not None:
                pair.both(lambda r, cmd=turn: r.handle(cmd))
        elif roll < 0.87 and pair.cp.close_reasons:  # closed early, and reopened: evaluations start again
            case_id = sorted(pair.whole.cases)[rng.randrange(count)]
            closed_case = pair.whole.case(case_id).status is CaseStatus.CLOSED
            reason = sorted(pair.cp.close_reasons)[0]
            end: c.Command = (c.ReopenCase(case_id=case_id, actor="coordinator:anna", reason="terug") if closed_case
                              else c.CloseCase(case_id=case_id, actor="worker:w", reason_code=reason))
            pair.both(lambda r, cmd=end: r.handle(cmd))
        elif roll < 0.89:
            case_id = sorted(pair.whole.cases)[rng.randrange(count)]
            fired = [t.id for t in pair.whole.case(case_id).timers.values() if t.status is not TimerStatus.PENDING]
            if fired:  # a sweeper that claimed a timer another one fired first
                again_fire = c.FireTimer(case_id=case_id, actor="system:timer", timer_id=rng.choice(fired))
                pair.both(lambda r, cmd=again_fire: r.handle(cmd))
        else:
            hours = rng.choice([1, 8, 24, 72, 24 * 7, 24 * 21])
            moment = pair.whole.clock.now() + timedelta(hours=hours)
            pair.both(lambda r, m=moment: r.advance_to(m))
    pair.assert_same_cases()
    return pair


@pytest.mark.parametrize("path", WALKED, ids=lambda p: p.stem)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_live_state_decides_as_the_whole_state(path: Path, seed: int) -> None:
    pair = _walk(path, seed)
    assert pair.whole.histories, "the walk started no case"


def test_a_second_completion_names_who_completed_it_from_history() -> None:
    pair = Lockstep(load(PATHWAYS / "eviction-prevention.yaml"))
    data = None
    rng = random.Random(7)
    while data is None:
        data = _case_data(pair.cp, rng, pair.whole)
    start = c.StartCase(case_id="C1", actor="coordinator:anna", pathway_id=pair.pathway.id,
                        pathway_version=pair.pathway.version, trigger=pair.pathway.triggers[0].type, data=data,
                        pseudonym="P1")
    pair.both(lambda r: r.start(start))
    task_id = pair.live.open_tasks("C1")[0].id
    form = _form(pair.cp, pair.whole.case("C1"), task_id, random.Random(1), pair.whole)
    pair.both(lambda r: r.handle(c.CompleteTask(case_id="C1", actor="user:anna", task_id=task_id, data=form)))
    assert task_id not in pair.live.cases["C1"].tasks  # history, not live
    with pytest.raises(HistoryNeeded):
        pair.live.engine.handle(pair.live.cases["C1"],
                                c.CompleteTask(case_id="C1", actor="user:bob", task_id=task_id, data=form),
                                pair.live.clock.now())
    with pytest.raises(EngineError, match="user:anna"):
        pair.live.handle(c.CompleteTask(case_id="C1", actor="user:bob", task_id=task_id, data=form))
    with pytest.raises(NotFoundError) as unknown:
        pair.live.handle(c.CompleteTask(case_id="C1", actor="user:bob", task_id="C1.999", data=form))
    assert not isinstance(unknown.value, HistoryNeeded)  # decided on the whole state: plainly unknown


@pytest.mark.parametrize("path", WALKED[:2], ids=lambda p: p.stem)
def test_the_live_view_is_the_live_form_without_a_round_trip(path: Path) -> None:
    """What a process keeps of a case between commands (integrations/case_cache.py) is exactly what
    the database would give back, and taking it leaves the whole state as it was."""
    pair = _walk(path, 5, commands=200)
    for state in pair.whole.cases.values():
        whole = state.to_json()
        view = state.live_view()
        assert view.live and view.to_json() == state.to_json(live_only=True)
        assert view.to_json() == CaseState.from_json(state.to_json(live_only=True)).to_json()
        assert state.to_json() == whole and not state.live
        assert view.live_view() is view
