"""An escalation about a task closes with that task: when it is completed, and when it lapses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import commands as c
from tests.unit.engine_support import FIXTURES, assert_replays, complete, load, only_task, runner_for, start

PATHWAY = load(FIXTURES / "all-constructs.yaml")
DATA = {"months": 3, "client_name": "Jan Jansen"}
RAISED = datetime(2026, 3, 24, 0, 0, tzinfo=UTC)  # after the last rung: raised to the manager


@pytest.fixture(params=[False, True], ids=["memory", "reloaded"])
def runner(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return runner_for(PATHWAY, reload=request.param)


def test_completing_the_task_resolves_its_escalation(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    runner.advance_to(RAISED)
    task = only_task(runner, step_id="visit")
    assert [e["task_id"] for e in runner.case("C1").open_escalations] == [task.id]
    complete(runner, task, {"reached": True}, worker="user:carla")
    assert runner.case("C1").open_escalations == []
    resolved = [e for e in runner.histories["C1"] if e.type == "escalation_resolved"]
    assert [e.data["task_id"] for e in resolved] == [task.id]
    assert_replays(runner)


def test_a_lapsed_task_takes_its_escalation_along(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    runner.advance_to(RAISED)
    assert len(runner.case("C1").open_escalations) == 1
    runner.handle(c.CloseCase(case_id="C1", actor="user:carla", reason_code="moved"))
    assert runner.case("C1").open_escalations == []
    assert_replays(runner)
