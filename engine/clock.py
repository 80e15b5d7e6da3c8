"""Where the engine gets "now" from: always passed in, never read from the wall clock here.

`Clock` is what the engine and runtimes depend on; `ManualClock` is the clock
of tests and simulations (time moves only when told to, and never backwards).
The real clock, `integrations.clock.SystemClock`, lives at the edge: it is the
only code in carepath that reads the system time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of the current moment."""

    def now(self) -> datetime:
        """The current moment as a timezone-aware UTC datetime."""
        ...


def _aware_utc(moment: object, what: str) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a timezone-aware datetime, got {type(moment).__name__} {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{what} {moment.isoformat()} is a naive datetime: give it a time zone, "
            "e.g. datetime(..., tzinfo=timezone.utc)"
        )
    return moment.astimezone(UTC)


class ManualClock:
    """A clock that stands still until `advance` or `set` moves it forward.

    `start` may be in any time zone; `now()` always answers in UTC.
    """

    def __init__(self, start: datetime) -> None:
        self._now = _aware_utc(start, "start")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` (zero is allowed, negative is not); returns the new now."""
        if not isinstance(delta, timedelta):
            raise TypeError(f"advance() takes a timedelta, got {type(delta).__name__} {delta!r}")
        if delta < timedelta(0):
            raise ValueError(f"a clock does not go backwards: advance({delta!r}) is negative")
        self._now = self._now + delta
        return self._now

    def set(self, moment: datetime) -> datetime:
        """Jump to `moment`, which must not be before now; returns the new now."""
        target = _aware_utc(moment, "moment")
        if target < self._now:
            raise ValueError(
                f"a clock does not go backwards: {target.isoformat()} is before now ({self._now.isoformat()})"
            )
        self._now = target
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"
