"""Task and timer JSON built field by field is the same document as the compacted whole (state.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.state import (
    _TASK_OPTIONAL,
    _TIMER_OPTIONAL,
    MAIN_FLOW,
    Task,
    TaskStatus,
    TaskType,
    Timer,
    TimerKind,
    TimerStatus,
    _compact,
)

MOMENTS = st.builds(lambda s: datetime(2026, 3, 2, tzinfo=UTC) + timedelta(seconds=s), st.integers(0, 10**8))
SMALL = st.sampled_from([0, 1, 2])
NAMES = st.sampled_from([None, "", "user:w1", MAIN_FLOW, "credit_bank"])


def _task_reference(t: Task) -> dict[str, Any]:
    return _compact({
        "id": t.id, "type": t.type.value, "step_id": t.step_id, "flow": t.flow, "title": t.title, "role": t.role,
        "assignee": t.assignee, "status": t.status.value, "created_at": t.created_at.isoformat(),
        "due_at": t.due_at.isoformat(), "completed_at": None if t.completed_at is None else t.completed_at.isoformat(),
        "completed_by": t.completed_by, "data": t.data, "reminders_sent": t.reminders_sent,
        "escalation_level": t.escalation_level, "deadline_index": t.deadline_index, "sequence": t.sequence,
        "reminders": list(t.reminders) or None,
    }, _TASK_OPTIONAL)


@given(st.builds(
    Task, id=st.just("C1.2"), type=st.sampled_from(TaskType), step_id=st.just("intake"),
    flow=st.sampled_from([MAIN_FLOW, "credit_bank"]), title=st.just("Intake"), role=st.just("worker"),
    assignee=NAMES, status=st.sampled_from(TaskStatus), created_at=MOMENTS, due_at=MOMENTS,
    completed_at=st.none() | MOMENTS, completed_by=NAMES, data=st.none() | st.just({}) | st.just({"a": 1}),
    reminders_sent=SMALL, escalation_level=SMALL, deadline_index=SMALL, sequence=SMALL,
    reminders=st.sampled_from([(), ("1 working day",)]),
))
def test_task_json_is_the_compacted_document(task: Task) -> None:
    assert task.to_json() == _task_reference(task)
    assert list(task.to_json()) == list(_task_reference(task))
    assert Task.from_json(task.to_json()).to_json() == task.to_json()


@given(st.builds(Timer, id=st.just("C1.3"), kind=st.sampled_from(TimerKind), due_at=MOMENTS,
                 status=st.sampled_from(TimerStatus), ref=st.just("C1.2"), flow=st.sampled_from([MAIN_FLOW, "x"]),
                 index=SMALL, fired_at=st.none() | MOMENTS))
def test_timer_json_is_the_compacted_document(timer: Timer) -> None:
    reference = _compact({
        "id": timer.id, "kind": timer.kind.value, "due_at": timer.due_at.isoformat(), "status": timer.status.value,
        "ref": timer.ref, "flow": timer.flow, "index": timer.index,
        "fired_at": None if timer.fired_at is None else timer.fired_at.isoformat(),
    }, _TIMER_OPTIONAL)
    assert timer.to_json() == reference and list(timer.to_json()) == list(reference)
    assert Timer.from_json(timer.to_json()) == timer
