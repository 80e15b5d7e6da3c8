"""Shared set-up for engine tests: load a pathway, run it in memory on a manual clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine import commands as c
from engine.clock import ManualClock
from engine.compiled import CompiledPathway, compile_pathway
from engine.decide import Engine
from engine.definition import Pathway
from engine.loader import load_pathway
from engine.runner import InMemoryRunner
from engine.state import CaseState, Task
from tasks.handlers import default_handlers
from tasks.registry import default_kinds

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "engine_fixtures"
PATHWAYS = ROOT / "pathways"

# Monday 2 March 2026, 09:00 in Amsterdam (08:00 UTC): an ordinary working week.
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def load(path: Path) -> Pathway:
    return load_pathway(path.read_bytes(), str(path), default_kinds())


def runner_for(pathway: Pathway, start: datetime = MONDAY, *, reload: bool = False) -> InMemoryRunner:
    compiled = compile_pathway(pathway)

    def lookup(pathway_id: str, version: int) -> CompiledPathway:
        assert (pathway_id, version) == (pathway.id, pathway.version)
        return compiled

    return InMemoryRunner(Engine(lookup, default_handlers()), ManualClock(start), reload=reload)


def start(runner: InMemoryRunner, pathway: Pathway, data: dict[str, Any], *, case_id: str = "C1",
          trigger: str | None = None) -> CaseState:
    return runner.start(
        c.StartCase(
            case_id=case_id, actor="coordinator:anna", pathway_id=pathway.id, pathway_version=pathway.version,
            trigger=trigger or pathway.triggers[0].type, data=data, pseudonym=f"P-{case_id}",
        )
    )


def only_task(runner: InMemoryRunner, case_id: str = "C1", step_id: str | None = None) -> Task:
    tasks = [t for t in runner.open_tasks(case_id) if step_id is None or t.step_id == step_id]
    assert len(tasks) == 1, [(t.id, t.step_id) for t in runner.open_tasks(case_id)]
    return tasks[0]


def complete(runner: InMemoryRunner, task: Task, data: dict[str, Any], worker: str = "worker:bob",
             case_id: str = "C1") -> None:
    runner.handle(c.CompleteTask(case_id=case_id, actor=worker, task_id=task.id, data=data))


def assert_replays(runner: InMemoryRunner, case_id: str = "C1") -> None:
    """The history folds into exactly the stored state (its live form when the runner reloads)."""
    stored = runner.cases[case_id]
    assert runner.replayed(case_id).to_json(live_only=stored.live) == stored.to_json()


def assert_never_early(runner: InMemoryRunner) -> None:
    for case_id, timer_id, due, fired in runner.fired:
        assert fired >= due, f"{case_id} {timer_id} fired at {fired} before its due moment {due}"
    ids = [(case_id, timer_id) for case_id, timer_id, _, _ in runner.fired]
    assert len(ids) == len(set(ids)), "a timer fired twice"
