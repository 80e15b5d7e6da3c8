"""engine.clock and integrations.clock: injected time, and only the edge reads the real clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.clock import Clock, ManualClock
from integrations.clock import SystemClock

START = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def test_manual_clock_stands_still_until_moved() -> None:
    clock = ManualClock(START)
    assert clock.now() == START
    assert clock.now() == START
    assert clock.now().tzinfo is UTC


def test_manual_clock_converts_start_to_utc() -> None:
    clock = ManualClock(datetime(2026, 7, 1, 12, tzinfo=ZoneInfo("Europe/Amsterdam")))
    assert clock.now() == datetime(2026, 7, 1, 10, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_manual_clock_refuses_naive_moments() -> None:
    with pytest.raises(ValueError, match="2026-03-02T08:30:00 is a naive datetime"):
        ManualClock(datetime(2026, 3, 2, 8, 30))
    clock = ManualClock(START)
    with pytest.raises(ValueError, match="naive"):
        clock.set(datetime(2026, 3, 3))
    assert clock.now() == START


def test_advance() -> None:
    clock = ManualClock(START)
    assert clock.advance(timedelta(hours=49)) == START + timedelta(hours=49)
    assert clock.now() == START + timedelta(hours=49)
    assert clock.advance(timedelta(0)) == START + timedelta(hours=49)


def test_advance_refuses_going_backwards() -> None:
    clock = ManualClock(START)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() == START
    with pytest.raises(TypeError, match="timedelta"):
        clock.advance(5)  # type: ignore[arg-type]


def test_set() -> None:
    clock = ManualClock(START)
    later = START + timedelta(days=21)
    assert clock.set(later) == later
    assert clock.set(later) == later  # standing still is allowed
    with pytest.raises(ValueError, match="backwards"):
        clock.set(later - timedelta(microseconds=1))
    assert clock.now() == later


def test_clocks_satisfy_the_protocol() -> None:
    assert isinstance(ManualClock(START), Clock)
    assert isinstance(SystemClock(), Clock)
    assert not isinstance(object(), Clock)


def test_system_clock_reads_aware_utc_now() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert now.tzinfo is UTC
    assert before <= now <= after


_WALL_CLOCK = re.compile(
    r"\b(?:datetime|date)\s*\.\s*(?:now|utcnow|today)\s*\("
    r"|\btime\s*\.\s*(?:time|time_ns|monotonic|perf_counter)\s*\("
    r"|\bfrom\s+time\s+import\b"
)


def test_engine_never_reads_the_wall_clock() -> None:
    engine = Path(__file__).resolve().parents[2] / "engine"
    sources = sorted(engine.rglob("*.py"))
    assert sources, engine
    offenders = [
        f"{path.relative_to(engine.parent)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _WALL_CLOCK.search(line)
    ]
    assert offenders == []


def test_wall_clock_pattern_catches_offenders() -> None:
    for line in (
        "x = datetime.now(UTC)",
        "d = date.today()",
        "t = time.time()",
        "from time import monotonic",
    ):
        assert _WALL_CLOCK.search(line), line
    for line in ("now = clock.now()", "start: time = time(8, 0)", "datetime.combine(day, at)"):
        assert not _WALL_CLOCK.search(line), line
