"""The timer sweep alone on PostgreSQL (issue #14): one sweeper's rate, without the rest of
`bench/bench_runtime.py` (dispatch, Prefect, serve), so a change can be compared quickly with an
older checkout under the same load.

Usage: `python bench/bench_sweep.py [--cases 2000] [--runs 3] [--catch-up] [--four] [--source DIR]`
(`--source`: a checkout to measure instead of this one, e.g. `git archive 3c3d9a5 | tar -x -C DIR`).
Uses `bench_runtime.bench_sweep_one` (N cases started two days ago, one due reminder each, one
`sweep_once` in batches of 500) and, with `--catch-up`, `bench_catch_up` (10,000 timers that came due
over the last hour) and, with `--four`, four sweeper processes started together on four times the
timers (`bench_sweep_four`: they claim with `FOR UPDATE SKIP LOCKED`). After start-up the process
settles its heap as a flow run's does (`integrations/runtime/heap.py`), where the checkout has it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--catch-up", action="store_true")
    parser.add_argument("--four", action="store_true", help="also four sweeper processes at once (near-linear?)")
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    source = args.source.resolve()
    # The helpers from `source` too: bench_runtime puts its own checkout first on sys.path, so this
    # checkout's helpers would import this checkout's carepath whatever `source` says.
    sys.path[:0] = [str(source), str(source / "bench")]
    import bench_runtime as runtime

    with runtime.pg_database() as url:
        service = runtime.make(url, Path(tempfile.mkdtemp(prefix="carepath-sweep-")))
        try:  # started: as a flow run's process settles its heap (integrations/runtime/heap.py)
            from integrations.runtime.heap import settle
        except ImportError:
            settled = "heap not settled (a checkout from before integrations/runtime/heap.py)"
        else:
            settle()
            settled = "heap settled as in a flow run"
        rates = runtime.bench_sweep_one(service, args.cases, args.runs)
        print(f"{source}: one sweeper, PostgreSQL, {args.cases} due timers: "
              f"{', '.join(f'{r:,.0f}' for r in rates)} per s, median {statistics.median(rates):,.0f}; "
              f"{settled}; load average {os.getloadavg()[0]:.2f}")
        if args.catch_up:
            times, late = runtime.bench_catch_up(service, 10_000, args.runs)
            print(f"catch-up of 10,000 overdue: {', '.join(f'{t:.2f}' for t in times)} s, "
                  f"median {statistics.median(times):.2f} s ({late} late)")
        if args.four:
            work = Path(tempfile.mkdtemp(prefix="carepath-sweep4-"))
            four = runtime.bench_sweep_four(service, url, work, args.cases * 4, args.runs)
            print(f"four sweeper processes, {args.cases * 4} due timers: {', '.join(f'{r:,.0f}' for r in four)} "
                  f"per s, median {statistics.median(four):,.0f} ({statistics.median(four) / statistics.median(rates):.2f}x "
                  f"one sweeper; {os.cpu_count()} CPUs); load average {os.getloadavg()[0]:.2f}")
        service.db.dispose()


if __name__ == "__main__":
    main()
