"""The engine's error family: one base class, messages that name the offender."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.messages import Message
from engine.messages import render as render_message
from engine.problem_texts import Args, Text, render


class CarepathError(Exception):
    """Base of every error carepath raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a pathway file, located for a coordinator.

    `path` is the element, e.g. `steps[3].escalation[1].after`; `line` and
    `column` are 1-based (0 when unknown, e.g. the file as a whole). The text is
    not stored: `code` names it in `engine.problem_texts` and `args` fill it in,
    so `message`, `hint` and `str()` are Dutch, and `text("en")` is English.
    """

    file: str
    line: int
    column: int
    path: str
    code: str
    args: Args = ()
    hint_code: str = ""
    hint_args: Args = ()

    @staticmethod
    def of(file: str, line: int, column: int, path: str, message: Text, hint: Text | None = None) -> Problem:
        """The problem `message` (and `hint`) at a place."""
        return Problem(file, line, column, path, message.code, message.args,
                       hint.code if hint is not None else "", hint.args if hint is not None else ())

    @property
    def message(self) -> str:
        """The message in Dutch."""
        return self.message_in("nl")

    @property
    def hint(self) -> str:
        """The hint in Dutch ("" when there is none)."""
        return self.hint_in("nl")

    def message_in(self, language: str) -> str:
        return render(self.code, self.args, language)

    def hint_in(self, language: str) -> str:
        return render(self.hint_code, self.hint_args, language) if self.hint_code else ""

    def text(self, language: str = "nl") -> str:
        """`file:line:column: path: message (hint)` in `language` ("nl" or "en")."""
        where = f"{self.file}:{self.line}:{self.column}"
        element = f" {self.path}:" if self.path else ""
        hint = self.hint_in(language)
        shown = f" ({hint})" if hint else ""
        return f"{where}:{element} {self.message_in(language)}{shown}"

    def __str__(self) -> str:
        return self.text("nl")


class PathwayError(CarepathError):
    """A pathway file that cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.text("nl"))

    def text(self, language: str = "nl") -> str:
        """The first problem (and how many more) in `language`."""
        problems = self.problems
        first = problems[0].text(language) if problems else render("zorgpad-ongeldig", (), language)
        more = render("deel-en-nog", (("count", len(problems) - 1),), language) if len(problems) > 1 else ""
        return first + more


class EngineError(CarepathError):
    """A command the engine refuses: unknown case/task, wrong state, invalid data.

    Raised with a coded `Message` (`engine/messages.py`): `code` and `message.args` say what, `str()`
    is the Dutch text, `engine.messages.render(error.message, "en")` the English. A plain string is
    still accepted from code outside the engine (`code` is then "")."""

    def __init__(self, message: Message | str = "", *rest: object) -> None:
        if isinstance(message, Message):
            self.message: Message | None = message
            self.code = message.code
            super().__init__(render_message(message, "nl"), *rest)
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


class HistoryNeeded(NotFoundError):
    """A task or timer the command names is not in a live state (`CaseState.live`): it may be
    closed history. The caller decides again on the whole state (replayed from the events); only
    there is "not found" final. Callers that do not know live states see a NotFoundError."""


class ValidationError(EngineError):
    """Data (case data, form data) that does not match its JSON Schema."""


class CalendarError(EngineError):
    """A time computation the calendar refuses: a naive datetime, working days in a 24x7 calendar, ..."""


class ExpressionError(EngineError):
    """A CEL expression that cannot be read or evaluated; the message quotes the expression."""


class MissingFieldError(ExpressionError):
    """An expression read a field that is absent (e.g. an optional form field left empty)."""
