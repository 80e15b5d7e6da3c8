"""Which clock a task, a step or a message counts in.

A pathway has one calendar; a role (`calendar:` on the role) or a step
(`calendar:` on the step) may have its own, so a 24/7 front office and a case
manager on working days share one pathway. The step's calendar wins over its
role's, which wins over the pathway's. Messages to a role wait for that role's
working hours, so office staff get no reminders at night.
"""

from __future__ import annotations

from engine.calendar import WorkCalendar, calendar_for
from engine.compiled import CompiledPathway
from engine.definition import CalendarKind, Step


def _calendar(cp: CompiledPathway, kind: CalendarKind | None) -> WorkCalendar:
    if kind is None or kind is cp.calendar.kind:
        return cp.calendar
    return calendar_for(kind, cp.pathway.school_holidays, good_friday=cp.calendar.good_friday)


def role_calendar(cp: CompiledPathway, role_id: str | None) -> WorkCalendar:
    """The calendar of a role (the pathway's when the role has none or is unknown)."""
    role = cp.roles.get(role_id) if role_id is not None else None
    return _calendar(cp, role.calendar if role is not None else None)


def step_calendar(cp: CompiledPathway, step: Step, role_id: str | None = None) -> WorkCalendar:
    """The calendar of a step: its own, else that of the role doing it, else the pathway's."""
    if step.calendar is not None:
        return _calendar(cp, step.calendar)
    if role_id is None:
        role_param = step.params.get("role")  # an automated step done by a role (a joint decision)
        role_id = step.role if step.role is not None else role_param if isinstance(role_param, str) else None
    return role_calendar(cp, role_id)
