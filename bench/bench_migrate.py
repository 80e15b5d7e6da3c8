"""How long `carepath db upgrade` takes to rewrite a database's history into this version's storage
(issue #14): migrations 0018 (packed documents), 0019 (a page of events per decision), 0020
(cancelled timers gone), 0021 (task and message moments as integers on SQLite) and the later ones
(0024: the documents packed on PostgreSQL too), on SQLite and PostgreSQL.

It runs the eviction-prevention side-by-side workload (`side_by_side.run_carepath`'s cases, all
closed, history not archived) into a fresh database, takes it down to revision 0017 (the stored form
before this work: an event a row, plain JSON) and times the upgrade back to head; it prints the
events and rows converted per second and the database's bytes before and after.

Usage: `python bench/bench_migrate.py [--cases 1000] [--backends sqlite,postgresql]`
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_engine  # noqa: E402
import side_by_side  # noqa: E402
from alembic import command  # noqa: E402
from sqlalchemy import text  # noqa: E402

from integrations.db.archive import ArchiveReport  # noqa: E402
from integrations.db.engine_factory import create_db_engine  # noqa: E402
from integrations.migrations import alembic_config  # noqa: E402

BEFORE = "0017_sqlite_events_clustered"


def _migrate(url: str, revision: str, *, down: bool = False) -> float:
    engine = create_db_engine(url)
    try:
        config = alembic_config(url)
        started = time.perf_counter()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)
        return time.perf_counter() - started
    finally:
        engine.dispose()


def _count(url: str, sql: str) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def measure(backend_name: str, cases: int) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    original_drop = bench_engine.Backend.drop
    original_size = bench_engine.Backend.size

    def keep(self: bench_engine.Backend) -> None:  # measure before the run's database goes
        kept["backend"] = self

    bench_engine.Backend.drop = keep  # type: ignore[method-assign]
    side_by_side.archive_closed = lambda *a, **k: ArchiveReport()  # type: ignore[attr-defined]
    bench_engine.Backend.size = lambda self, service, *, vacuum: 0  # type: ignore[method-assign]
    try:
        side_by_side.run_carepath(backend_name, cases, 7)
    finally:
        bench_engine.Backend.drop = original_drop  # type: ignore[method-assign]
        bench_engine.Backend.size = original_size  # type: ignore[method-assign]
    backend = kept["backend"]
    try:
        down = _migrate(backend.url, BEFORE, down=True)
        events = _count(backend.url, "SELECT count(*) FROM case_events")
        timers = _count(backend.url, "SELECT count(*) FROM timers")
        messages = _count(backend.url, "SELECT count(*) FROM outbox")
        up = _migrate(backend.url, "head")
        pages = _count(backend.url, "SELECT count(*) FROM case_event_pages")
        return {"backend": backend_name, "cases": cases, "events": events, "pages": pages, "timers": timers,
                "messages": messages, "down_s": down, "up_s": up,
                "events_per_s": events / up, "rows_per_s": (events + timers + messages + cases) / up}
    finally:
        backend.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    side_by_side.warm_up()
    print("| backend | cases | events (rows before) | pages after | upgrade 0017 -> head (s) | events per s | "
          "rows per s (events, timers, messages, cases) | downgrade head -> 0017 (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in args.backends.split(","):
        r = measure(name, args.cases)
        print(f"| {name} | {r['cases']:,} | {r['events']:,} | {r['pages']:,} | {r['up_s']:.1f} | "
              f"{r['events_per_s']:,.0f} | {r['rows_per_s']:,.0f} | {r['down_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
