"""Joint decisions: one decision recorded together with a partner, both named, each confirming.

Entering a `joint_decision` step opens two tasks for the same decision: one
for the organisation's role and one for the partner. Each records the same
decision fields; the partner also names the person who confirms. When both
have answered, the decision is recorded under the step (`steps.<id>`) with
both names and `agreed` (whether both gave the same decision), and the flow
goes on along `next` (which can branch on `form.agreed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.definition import Step
from engine.errors import HistoryNeeded, ValidationError
from engine.messages import msg
from engine.state import Task, TaskStatus, TaskType, TimerKind

if TYPE_CHECKING:
    from engine.decide import _Run

KIND = "joint_decision"
EXTRA_FIELDS = ("name", "note")  # what each side adds besides the decision itself


def decision_fields(step: Step) -> list[str]:
    schema = step.params.get("decision")
    properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    return [name for name in properties if name not in EXTRA_FIELDS]


def _this_visit(run: _Run, task: Task) -> list[Task]:
    if run.state.live:  # the side that answered first is a closed task: history
        raise HistoryNeeded(msg("task.unknown", case=run.state.id, task_id=task.id))
    pos = run.state.position_of(task.flow)
    since = pos.entered_at if pos is not None else task.created_at
    return [t for t in run.state.tasks.values()
            if t.step_id == task.step_id and t.flow == task.flow and t.created_at >= since
            and t.status is not TaskStatus.CANCELLED]


def complete(run: _Run, task: Task, step: Step, data: Mapping[str, Any]) -> None:
    """One side answered; when both have, record the joint decision and go on."""
    if task.type is TaskType.PARTNER and not str(data.get("name", "")).strip():
        raise ValidationError(msg("answer.confirmer", task=task.title, task_id=task.id, step_id=step.id))
    if task.type is not TaskType.PARTNER and task.assignee is None:
        run.emit("task_claimed", {"task_id": task.id, "worker": run.actor})
    run.emit("task_completed", {"task_id": task.id, "data": dict(data)})
    run.cancel_timers(lambda t: t.ref == task.id)
    tasks = _this_visit(run, task)
    if any(t.status is TaskStatus.OPEN for t in tasks):
        return
    ours = next((t for t in tasks if t.type is not TaskType.PARTNER), None)
    theirs = next((t for t in tasks if t.type is TaskType.PARTNER), None)
    if ours is None or theirs is None:
        return
    mine, partner = dict(ours.data or {}), dict(theirs.data or {})
    fields = decision_fields(step)
    agreed = all(mine.get(f) == partner.get(f) for f in fields)
    record = {
        **{f: mine.get(f) for f in fields if f in mine},
        "agreed": agreed,
        "worker": ours.completed_by,
        "partner": theirs.role,
        "partner_name": str(partner.get("name", "")),
        "partner_decision": {f: partner.get(f) for f in fields if f in partner},
    }
    run.emit("step_recorded", {"step_id": step.id, "data": record})
    run.cancel_timers(lambda t: t.kind is TimerKind.TIMEOUT and t.ref == step.id)
    pos = run.state.position_of(task.flow)
    if pos is not None and pos.step_id == step.id:
        run.follow(task.flow, step, record)
