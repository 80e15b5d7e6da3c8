"""The engine's error family: one base class, messages that name the offender."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.messages import Message, render


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
    """A command the engine refuses: unknown case/task, wrong state, invalid data.

    Raised with a coded `Message` (`engine/messages.py`): `code` and `message.args` say what, `str()`
    is the Dutch text, `engine.messages.render(error.message, "en")` the English. A plain string is
    still accepted from code outside the engine (`code` is then "")."""

    def __init__(self, message: Message | str = "", *rest: object) -> None:
        if isinstance(message, Message):
            self.message: Message | None = message
            self.code = message.code
            super().__init__(render(message, "nl"), *rest)
        else:
            self.message = None
            self.code = ""
            super().__init__(message, *rest)

    @property
    def params(self) -> dict[str, Any]:
        """The message's named arguments (ids included, for logs and the API's `detail`)."""
        return dict(self.message.args) if self.message is not None else {}


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
