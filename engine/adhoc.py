"""Ad hoc tasks: work a worker adds that the pathway does not name (call the GP, help fill in a form).

An ad hoc task belongs to the case or one of its active problem areas, has a
title, a role (so it shows in that role's queue and work lists), a due moment
and reminders a given time before it. It is no step: completing it records a
note and moves no flow, and `steps.` in conditions never sees it. Reminders
are ordinary task deadlines, fired by the same timer sweep as a step's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from engine import commands as c
from engine.definition import Reminder
from engine.durations import DurationError, parse_duration
from engine.errors import CarepathError, ValidationError
from engine.state import MAIN_FLOW, Task, TaskType, TrackStatus

STEP_ID = "ad_hoc"  # the step id every ad hoc task carries (the type, not this id, tells them apart)
MAX_TITLE = 200
MAX_NOTE = 4000
MAX_REMINDERS = 5
FORM: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"note": {"type": "string", "title": "Wat is er gedaan?", "maxLength": MAX_NOTE}},
}


def reminders_of(task: Task) -> tuple[Reminder, ...]:
    """The task's reminders as the engine schedules them (checked when the task was added)."""
    return tuple(Reminder(before=parse_duration(text), after=None) for text in task.reminders)


def add(engine: Any, run: Any, cmd: c.AddTask) -> None:
    """Open the task (engine handler for `AddTask`); ValidationError names what is wrong."""
    engine._require_open(run, "add a task")
    title = " ".join(cmd.title.split())
    if not title:
        raise ValidationError("an ad hoc task needs a title")
    if len(title) > MAX_TITLE:
        raise ValidationError(f"the title of an ad hoc task is {len(title)} characters; at most {MAX_TITLE}")
    roles = {r.id for r in run.cp.pathway.roles}
    if cmd.role not in roles:
        raise ValidationError(f"pathway {run.cp.key} has no role {cmd.role!r}; roles: {sorted(roles)}")
    if cmd.flow != MAIN_FLOW:
        track = run.state.tracks.get(cmd.flow)
        if track is None or track.status is not TrackStatus.ACTIVE:
            raise ValidationError(f"case {run.state.id} has no active problem area {cmd.flow!r}")
    if cmd.due_at.tzinfo is None:
        raise ValidationError("the due moment of an ad hoc task needs a time zone")
    if cmd.due_at <= run.now:
        raise ValidationError(f"the due moment {cmd.due_at.isoformat()} has passed; choose one in the future")
    if len(cmd.reminders) > MAX_REMINDERS:
        raise ValidationError(f"at most {MAX_REMINDERS} reminders per task")
    for text in cmd.reminders:
        try:
            run.cp.calendar.subtract(cmd.due_at, parse_duration(text))
        except (DurationError, CarepathError) as exc:
            raise ValidationError(f"reminder: {exc}") from None
    task = run.open_task(TaskType.AD_HOC, cmd.flow, STEP_ID, title, cmd.role, cmd.due_at.astimezone(UTC),
                         reminders=tuple(cmd.reminders))
    worker = cmd.assignee or cmd.actor
    if task.assignee != worker:
        run.emit("task_claimed", {"task_id": task.id, "worker": worker})


def complete(run: Any, task: Task, data: Mapping[str, Any]) -> None:
    """Record the note and close the task; no flow moves."""
    unknown = sorted(set(data) - {"note"})
    if unknown:
        raise ValidationError(f"an ad hoc task records only a note; not {unknown}")
    note = data.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise ValidationError(f"the note of an ad hoc task is text of at most {MAX_NOTE} characters")
    run.emit("task_completed", {"task_id": task.id, "data": dict(data)})
    run.resolve_escalations_of(task)
    run.cancel_timers(lambda t: t.ref == task.id)
