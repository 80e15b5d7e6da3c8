"""`carepath serve` loads the Dutch public holidays after it listens, not in a worker's first request."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from engine import calendar
from engine.clock import ManualClock
from integrations.runtime.server import warm_calendar


def test_serve_loads_the_holidays_of_the_current_year_before_a_request_needs_them() -> None:
    calendar._public_holidays.cache_clear()
    runtime = SimpleNamespace(service=SimpleNamespace(clock=ManualClock(datetime(2031, 5, 5, 9, tzinfo=UTC))))
    warm_calendar(cast(Any, runtime))
    info = calendar._public_holidays.cache_info()
    assert info.currsize >= 1
    before = info.hits
    assert calendar._public_holidays(2031)  # now a cache hit: nothing left to load
    assert calendar._public_holidays.cache_info().hits == before + 1
