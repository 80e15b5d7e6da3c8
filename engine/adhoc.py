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
from engine.errors import CarepathError, EngineError, ValidationError
from engine.messages import msg
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
    engine._require_open(run, msg("action.add_task"))
    title = " ".join(cmd.title.split())
    if not title:
        raise ValidationError(msg("adhoc.title_needed"))
    if len(title) > MAX_TITLE:
        raise ValidationError(msg("adhoc.title_long", length=len(title), limit=MAX_TITLE))
    roles = {r.id for r in run.cp.pathway.roles}
    if cmd.role not in roles:
        raise ValidationError(msg("adhoc.unknown_role", pathway=run.cp.pathway.title or run.cp.key,
                                  pathway_id=run.cp.key, role=cmd.role, roles=sorted(roles)))
    if cmd.flow != MAIN_FLOW:
        track = run.state.tracks.get(cmd.flow)
        if track is None or track.status is not TrackStatus.ACTIVE:
            raise ValidationError(msg("adhoc.no_track", case=run.state.id, track=cmd.flow))
    if cmd.due_at.tzinfo is None:
        raise ValidationError(msg("adhoc.due_zone"))
    if cmd.due_at <= run.now:
        raise ValidationError(msg("adhoc.due_passed", due=cmd.due_at))
    if len(cmd.reminders) > MAX_REMINDERS:
        raise ValidationError(msg("adhoc.reminders", limit=MAX_REMINDERS))
    for text in cmd.reminders:
        try:
            run.cp.calendar.subtract(cmd.due_at, parse_duration(text))
        except EngineError as exc:
            raise ValidationError(msg("adhoc.reminder", reminder=text, problem=exc.message or str(exc))) from None
        except (DurationError, CarepathError) as exc:
            raise ValidationError(msg("adhoc.reminder", reminder=text, problem=str(exc))) from None
    task = run.open_task(TaskType.AD_HOC, cmd.flow, STEP_ID, title, cmd.role, cmd.due_at.astimezone(UTC),
                         reminders=tuple(cmd.reminders))
    worker = cmd.assignee or cmd.actor
    if task.assignee != worker:
        run.emit("task_claimed", {"task_id": task.id, "worker": worker})


def complete(run: Any, task: Task, data: Mapping[str, Any]) -> None:
    """Record the note and close the task; no flow moves."""
    unknown = sorted(set(data) - {"note"})
    if unknown:
        raise ValidationError(msg("adhoc.only_note", fields=unknown))
    note = data.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise ValidationError(msg("adhoc.note_long", limit=MAX_NOTE))
    run.emit("task_completed", {"task_id": task.id, "data": dict(data)})
    run.resolve_escalations_of(task)
    run.cancel_timers(lambda t: t.ref == task.id)
