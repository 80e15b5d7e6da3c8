"""What settling the heap after start-up saves the timer sweep (issue #14; integrations/runtime/heap.py).

In one process on PostgreSQL (`CAREPATH_TEST_POSTGRES_URL`, a fresh schema dropped at the end):
`--cases` cases with one due reminder each, then one `fire_due` (two batches at a time, as the
sweep), alternately with the process's start-up objects frozen (`gc.freeze()`, what `settle()` does)
and not, `--runs` times each. Printed per run: the sweep's seconds, and the collector's collections
and seconds per generation during it (from `gc.callbacks`); then the medians and their ratio.

Usage: `python bench/bench_heap.py [--cases 10000] [--runs 2]`
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import bench_runtime as runtime  # noqa: E402

from tests.integration.runtime_support import seed_cases  # noqa: E402


class Collections:
    """Counts and times the collector's collections by generation while installed."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        generation = info["generation"]
        self.count[generation] += 1
        self.seconds[generation] += time.perf_counter() - self._began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    seconds: dict[bool, list[float]] = {False: [], True: []}
    with runtime.pg_database() as url:
        service = runtime.make(url, Path(tempfile.mkdtemp(prefix="carepath-heap-")))
        for _ in range(args.runs):
            for frozen in (False, True):
                runtime.fresh(service)
                seed_cases(service, args.cases, datetime.now(UTC) - timedelta(days=2), chunk=2000)
                runtime.analyze(service)
                gc.collect()
                if frozen:
                    gc.freeze()
                seen = Collections()
                gc.callbacks.append(seen)
                began = time.perf_counter()
                report = service.fire_due(datetime.now(UTC), batch_size=500)
                took = time.perf_counter() - began
                gc.callbacks.remove(seen)
                if frozen:
                    gc.unfreeze()
                assert report.fired == args.cases, report
                seconds[frozen].append(took)
                print(f"{'frozen' if frozen else 'as is '}: {args.cases} timers in {took:.2f} s; collections "
                      f"{seen.count} taking {', '.join(f'{s:.3f}' for s in seen.seconds)} s; "
                      f"{len(gc.get_objects()):,} objects tracked", flush=True)
        service.db.dispose()
    before, after = statistics.median(seconds[False]), statistics.median(seconds[True])
    print(f"median: {args.cases / before:,.0f} timers/s as is, {args.cases / after:,.0f} frozen ({before / after:.2f}x)")


if __name__ == "__main__":
    main()
