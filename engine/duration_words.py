"""Durations as people read them: `14 werkdagen`, `1 werkweek`, `8 uur` (or English on request)."""

from __future__ import annotations

from engine.durations import Duration, Unit

_DUTCH: dict[Unit, tuple[str, str]] = {  # (one, more)
    Unit.MINUTES: ("minuut", "minuten"),
    Unit.HOURS: ("uur", "uur"),
    Unit.DAYS: ("dag", "dagen"),
    Unit.WORKING_DAYS: ("werkdag", "werkdagen"),
    Unit.WORKING_WEEKS: ("werkweek", "werkweken"),
    Unit.WEEKS: ("week", "weken"),
    Unit.MONTHS: ("maand", "maanden"),
}


def describe(duration: Duration, language: str = "nl") -> str:
    """`duration` in Dutch (`language` "nl") or English ("en")."""
    if language == "en":
        return str(duration)
    one, more = _DUTCH[duration.unit]
    return f"{duration.amount} {one if duration.amount == 1 else more}"
