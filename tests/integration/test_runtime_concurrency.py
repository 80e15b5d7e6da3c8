"""Four sweepers at once on PostgreSQL over 20,000 due timers: each timer fires exactly once.

Four processes (forked from the runtime worker's zygote) start their sweep at the same moment
over the same database; `FOR UPDATE SKIP LOCKED` hands each batch to one of them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from engine.clock import ManualClock
from integrations.db.engine_factory import read_session
from integrations.db.models import TimerRow
from integrations.runtime.models import LateTimerRow
from tests.integration.conftest import empty_tables, make_service
from tests.integration.runtime_support import Worker, fired_timer_ids, seed_cases

TIMERS = 20_000
SWEEPERS = 4

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600)]


def _count(db: Engine, query: object) -> int:
    with read_session(db) as session:
        return int(session.execute(query).scalar_one())  # type: ignore[call-overload]


def test_four_sweepers_fire_twenty_thousand_timers_once(postgresql_database: tuple[str, Engine],
                                                        tmp_path: Path) -> None:
    url, db = postgresql_database
    empty_tables(db)
    # Started two days ago: each intake's reminder (4 hours before its 2-day deadline) is due, the
    # escalation rungs after it are not yet: exactly one due timer per case.
    started = datetime.now(UTC) - timedelta(days=2)
    service = make_service(url, db, ManualClock(started), tmp_path / "data")
    seed_cases(service, TIMERS, started, chunk=2000)
    due = select(func.count()).select_from(TimerRow).where(
        TimerRow.status == "pending", TimerRow.due_at <= datetime.now(UTC))
    assert _count(db, due) == TIMERS

    worker = Worker({"url": url, "data_dir": str(tmp_path / "data"),
                     "pathways": [["test-visits", 1]],
                     "config": {"sweep": {"batch_size": 250, "late_after": 10}}})
    try:
        for _ in range(SWEEPERS):
            worker.command("sweep")
        worker.send("go")  # opens the start gate: all sweepers begin at once
        results: list[dict[str, Any]] = []
        while len(results) < SWEEPERS:
            line = worker.next_line(deadline=240)
            if line.startswith("swept "):
                results.append(json.loads(line.removeprefix("swept ")))
    finally:
        worker.close()

    fired_per_sweeper = [r["fired"] for r in results]
    assert sum(fired_per_sweeper) == TIMERS and all(n > 0 for n in fired_per_sweeper), fired_per_sweeper
    fired = fired_timer_ids(service)
    assert len(fired) == TIMERS and max(fired.values()) == 1
    assert _count(db, due) == 0
    assert _count(db, select(func.count(func.distinct(LateTimerRow.timer_id)))) == TIMERS
    seconds = max(r["seconds"] for r in results)
    print(f"\n{SWEEPERS} sweepers: {fired_per_sweeper} timers in {seconds:.1f} s ({TIMERS / seconds:.0f} timers/s)")
