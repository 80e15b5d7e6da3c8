"""What keeping cases between commands saves (issue #14; integrations/case_cache.py).

`side_by_side.run_carepath` (the eviction-prevention cases, round by round, one transaction per
command) in one process, alternately with `CAREPATH_CASE_CACHE=0` (every command reads its case) and
the default (a command on a case this process saved last decides on the kept state), `--runs` times
each, on each backend. Printed per backend: task completions per second of each run and their
median, CPU-seconds per completion, p50 and p95 per completion, and the ratio of the medians.

Usage: `python bench/bench_case_cache.py [--cases 300] [--runs 3] [--backends sqlite,postgresql]`
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import side_by_side  # noqa: E402

from integrations.case_cache import CASE_CACHE_ENV, DEFAULT_SIZE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    side_by_side.warm_up()
    for backend in args.backends.split(","):
        rates: dict[int, list[float]] = {0: [], DEFAULT_SIZE: []}
        cpu: dict[int, list[float]] = {0: [], DEFAULT_SIZE: []}
        p50: dict[int, list[float]] = {0: [], DEFAULT_SIZE: []}
        p95: dict[int, list[float]] = {0: [], DEFAULT_SIZE: []}
        for run in range(args.runs):
            for size in (0, DEFAULT_SIZE):
                os.environ[CASE_CACHE_ENV] = str(size)
                raw = side_by_side.run_carepath(backend, args.cases, run + 1)
                took = raw["completions"]
                rates[size].append(len(took) / sum(took))
                cpu[size].append(1000 * raw["cpu"]["completions"] / len(took))
                p50[size].append(1000 * side_by_side.pct(took, 0.5))
                p95[size].append(1000 * side_by_side.pct(took, 0.95))
        os.environ.pop(CASE_CACHE_ENV, None)
        for size, label in ((0, "every command reads"), (DEFAULT_SIZE, f"cases kept ({DEFAULT_SIZE})")):
            print(f"{backend}, {label}: {', '.join(f'{r:,.0f}' for r in rates[size])} completions/s, "
                  f"median {statistics.median(rates[size]):,.0f}; CPU {statistics.median(cpu[size]):.3f} ms, "
                  f"p50 {statistics.median(p50[size]):.3f} ms, p95 {statistics.median(p95[size]):.3f} ms a completion")
        print(f"{backend}: {statistics.median(rates[DEFAULT_SIZE]) / statistics.median(rates[0]):.2f}x with cases kept; "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
