"""The engine's error family: one base class, messages that name the offender."""

from __future__ import annotations

from dataclasses import dataclass


class CarepathError(Exception):
    """Base of every error carepath raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a pathway file, located for a coordinator.

    `path` is the element, e.g. `steps[3].escalation[1].after`; `line` and
    `column` are 1-based (0 when unknown, e.g. the file as a whole).
    """

    file: str
    line: int
    column: int
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        element = f" {self.path}:" if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}:{element} {self.message}{hint}"


class PathwayError(CarepathError):
    """A pathway file that cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        first = str(problems[0]) if problems else "invalid pathway"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)


class EngineError(CarepathError):
    """A command the engine refuses: unknown case/task, wrong state, invalid data."""


class ConflictError(EngineError):
    """Someone else changed the case or task first (optimistic locking, double completion)."""


class NotFoundError(EngineError):
    """The named case, task or pathway does not exist."""


class ValidationError(EngineError):
    """Data (case data, form data) that does not match its JSON Schema."""


class CalendarError(EngineError):
    """A time computation the calendar refuses: a naive datetime, working days in a 24x7 calendar, ..."""


class ExpressionError(EngineError):
    """A CEL expression that cannot be read or evaluated; the message quotes the expression."""


class MissingFieldError(ExpressionError):
    """An expression read a field that is absent (e.g. an optional form field left empty)."""
