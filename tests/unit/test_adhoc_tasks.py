"""Ad hoc tasks: a worker adds a task the pathway does not name, with a due moment and reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import commands as c
from engine.errors import ValidationError
from engine.state import CaseStatus, TaskStatus, TaskType
from tests.unit.engine_support import (
    FIXTURES,
    MONDAY,
    assert_never_early,
    assert_replays,
    complete,
    load,
    only_task,
    runner_for,
    start,
)

PATHWAY = load(FIXTURES / "all-constructs.yaml")
DATA = {"months": 3, "client_name": "Jan Jansen"}
DUE = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)  # Friday 17:00 Amsterdam


@pytest.fixture(params=[False, True], ids=["memory", "reloaded"])
def runner(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return runner_for(PATHWAY, reload=request.param)


def add(runner, **changes) -> None:  # type: ignore[no-untyped-def]
    fields = {"case_id": "C1", "actor": "user:anna", "title": "Huisarts bellen", "role": "worker", "due_at": DUE,
              "reminders": ("1 working day", "2 hours")}
    runner.handle(c.AddTask(**{**fields, **changes}))


def test_an_ad_hoc_task_reminds_then_completes_without_moving_the_flow(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    before = runner.case("C1").main
    add(runner)
    state = runner.case("C1")
    task = next(t for t in state.open_tasks() if t.type is TaskType.AD_HOC)
    assert (task.title, task.assignee, task.due_at, task.reminders) == (
        "Huisarts bellen", "user:anna", DUE, ("1 working day", "2 hours"))
    runner.advance_to(DUE - timedelta(minutes=1))
    passed = [e for e in runner.histories["C1"] if e.type == "task_deadline_passed" and e.data["task_id"] == task.id]
    assert [e.at for e in passed] == [DUE - timedelta(days=1), DUE - timedelta(hours=2)]
    reminders = [m for m in runner.outbox if m.get("task_id") == task.id and m["template"].startswith("reminder")]
    assert [m["to_worker"] for m in reminders] == ["user:anna", "user:anna"]
    complete(runner, runner.case("C1").tasks[task.id], {"note": "Huisarts belt terug."}, worker="user:anna")
    state = runner.case("C1")
    assert state.tasks[task.id].status is TaskStatus.COMPLETED and "ad_hoc" not in state.records
    assert state.main == before and state.status is CaseStatus.OPEN
    assert only_task(runner, step_id="visit").status is TaskStatus.OPEN
    assert_never_early(runner)
    assert_replays(runner)


def test_bad_ad_hoc_tasks_are_refused_with_the_reason(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    for changes, message in (
        ({"title": "  "}, "geef de taak een naam"),
        ({"title": "x" * 201}, "hoogstens 200"),
        ({"role": "astronaut"}, "geen rol astronaut"),
        ({"flow": "debts"}, "geen lopend probleemgebied debts"),
        ({"due_at": MONDAY - timedelta(hours=1)}, "is al voorbij"),
        ({"reminders": ("gisteren",)}, "herinnering gisteren: 'gisteren' is geen duur"),
    ):
        with pytest.raises(ValidationError, match=message):
            add(runner, **changes)
    add(runner)
    task = next(t for t in runner.case("C1").open_tasks() if t.type is TaskType.AD_HOC)
    with pytest.raises(ValidationError, match="alleen een notitie"):
        complete(runner, task, {"outcome": "x"})
    assert_replays(runner)
