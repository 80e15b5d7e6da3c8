"""Durations as coordinators write them: `5 working days`, `3 weeks`, `48 uur`.

Parsing is strict and bilingual (English and Dutch unit names); what a duration
*means* in time depends on the pathway's calendar (`engine.calendar`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from engine.problem_texts import Text
from engine.problem_texts import text as _text


class Unit(str, Enum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"  # calendar days
    WORKING_DAYS = "working days"
    WORKING_WEEKS = "working weeks"  # five working days each
    WEEKS = "weeks"
    MONTHS = "months"


_UNIT_WORDS: dict[str, Unit] = {
    "minute": Unit.MINUTES,
    "minutes": Unit.MINUTES,
    "minuut": Unit.MINUTES,
    "minuten": Unit.MINUTES,
    "hour": Unit.HOURS,
    "hours": Unit.HOURS,
    "uur": Unit.HOURS,
    "uren": Unit.HOURS,
    "day": Unit.DAYS,
    "days": Unit.DAYS,
    "calendar day": Unit.DAYS,
    "calendar days": Unit.DAYS,
    "dag": Unit.DAYS,
    "dagen": Unit.DAYS,
    "kalenderdag": Unit.DAYS,
    "kalenderdagen": Unit.DAYS,
    "working day": Unit.WORKING_DAYS,
    "working days": Unit.WORKING_DAYS,
    "werkdag": Unit.WORKING_DAYS,
    "werkdagen": Unit.WORKING_DAYS,
    "working week": Unit.WORKING_WEEKS,
    "working weeks": Unit.WORKING_WEEKS,
    "werkweek": Unit.WORKING_WEEKS,
    "werkweken": Unit.WORKING_WEEKS,
    "week": Unit.WEEKS,
    "weeks": Unit.WEEKS,
    "weken": Unit.WEEKS,
    "month": Unit.MONTHS,
    "months": Unit.MONTHS,
    "maand": Unit.MONTHS,
    "maanden": Unit.MONTHS,
}

UNIT_WORDS: tuple[str, ...] = tuple(sorted(_UNIT_WORDS))

_PATTERN = re.compile(r"^\s*(\d{1,4})\s+([a-z][a-z ]*?)\s*$")


class DurationError(ValueError):
    """A duration text that cannot be read; `text` says what was expected (`str()` is Dutch)."""

    def __init__(self, message: Text) -> None:
        super().__init__(message.render("nl"))
        self.text = message


@dataclass(frozen=True, order=True)
class Duration:
    amount: int
    unit: Unit

    def __str__(self) -> str:
        word = self.unit.value
        if self.amount == 1:
            word = word[:-1]
        return f"{self.amount} {word}"


def parse_duration(text: object) -> Duration:
    """Read `N unit`; raise `DurationError` naming what was wrong."""
    if not isinstance(text, str):
        raise DurationError(_text("duur-geen-tekst", kind=type(text).__name__, value=repr(text)))
    match = _PATTERN.match(text.lower())
    if match is None:
        raise DurationError(_text("duur-onleesbaar", value=text))
    amount, word = int(match.group(1)), re.sub(r"\s+", " ", match.group(2))
    unit = _UNIT_WORDS.get(word)
    if unit is None:
        raise DurationError(_text("duur-onbekende-eenheid", unit=word, value=text))
    if amount == 0:
        raise DurationError(_text("duur-nul", value=text))
    return Duration(amount, unit)
