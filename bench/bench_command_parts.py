"""Where a task completion's time goes, against what ten times SpiffWorkflow leaves for it (issue #14).

The side-by-side workload (`side_by_side.run_carepath`: the eviction-prevention cases round by round,
one transaction per command, a fresh SQLite file) with four parts of every `complete_task` timed:

- **deciding**: `Engine.handle` (the pure engine: the pathway's steps, conditions, deadlines);
- **statements**: `repository.save_decision_on` (the rows built from the decision, the documents
  packed, the INSERT/UPDATE/DELETE statements run: SQLite's b-tree work happens here);
- **commit**: the driver's `commit()` on the pooled connection (SQLite writes the transaction's pages to
  the WAL and, with `CAREPATH_SQLITE_SYNC=full`, flushes the file to disk);
- **rest**: everything else of the call (reading or finding the kept case, the group committer's
  hand-off, the transaction's BEGIN, keeping the new state, building the answer).

Each run measures both durability settings, `full` then `normal`, on fresh files, and SpiffWorkflow's
peer (`bench/spiff_peer.py`) with the same setting in the same run: its time per completion divided by
ten is the time carepath may take for a completion at ten times its rate (the issue's target). The
parts are timed by wrapping those functions in this process only (`time.perf_counter`, about 0.25 us a
call, measured); the rates are therefore a little below `side_by_side.py`'s.

Usage: `python bench/bench_command_parts.py [--cases 300] [--runs 3] [--no-peer]`
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import side_by_side  # noqa: E402
from sqlalchemy.pool.base import _ConnectionFairy  # noqa: E402

from engine.decide import Engine  # noqa: E402
from integrations.db import repository  # noqa: E402
from integrations.db.engine_factory import SQLITE_SYNC_ENV  # noqa: E402
from integrations.service import CaseService  # noqa: E402

PARTS = ("deciding", "statements", "commit")
MODES = ("full", "normal")


class Parts:
    """Seconds spent in each part while a completion is under way (`complete_task` on the stack)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(PARTS, 0.0)
        self.active = False

    def timed(self, part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not self.active:
                return function(*args, **kwargs)
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[part] += time.perf_counter() - began
        return wrapper

    def completion(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.active = True
            try:
                return function(*args, **kwargs)
            finally:
                self.active = False
        return wrapper


def install(parts: Parts) -> None:
    """Wrap the three parts and `complete_task` (this process only)."""
    Engine.handle = parts.timed("deciding", Engine.handle)  # type: ignore[method-assign]
    repository.save_decision_on = parts.timed("statements", repository.save_decision_on)
    # The pooled connection passes `commit` to the driver's connection through __getattr__; a method
    # of that name on the class is found first.
    _ConnectionFairy.commit = parts.timed(  # type: ignore[method-assign]
        "commit", lambda fairy: fairy.dbapi_connection.commit())
    CaseService.complete_task = parts.completion(CaseService.complete_task)  # type: ignore[method-assign]


def measure(parts: Parts, mode: str, cases: int, seed: int) -> dict[str, float]:
    """One carepath run on SQLite with `mode`: ms per completion, per part and in all."""
    os.environ[SQLITE_SYNC_ENV] = mode
    parts.seconds.update(dict.fromkeys(PARTS, 0.0))
    raw = side_by_side.run_carepath("sqlite", cases, seed)
    n = len(raw["completions"])
    total = sum(raw["completions"])
    found = {part: 1000 * parts.seconds[part] / n for part in PARTS}
    found["rest"] = 1000 * total / n - sum(found.values())
    found["total"] = 1000 * total / n
    found["cpu"] = 1000 * raw["cpu"]["completions"] / n
    return found


def peer(python: str, mode: str, cases: int, seed: int) -> float:
    """SpiffWorkflow's ms per completion with `mode`."""
    os.environ[SQLITE_SYNC_ENV] = mode
    raw = side_by_side.run_spiff(python, cases, seed)
    completions: list[float] = raw["completions"]
    return 1000 * sum(completions) / len(completions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-peer", action="store_true", help="leave SpiffWorkflow out (no budget printed)")
    parser.add_argument("--spiff-python", help="a Python with SpiffWorkflow 3.2 (default: bench/out/spiff-venv)")
    args = parser.parse_args()
    given = os.environ.get(SQLITE_SYNC_ENV)
    python = None if args.no_peer else side_by_side.spiff_python(args.spiff_python)
    side_by_side.warm_up()
    parts = Parts()
    install(parts)
    found: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    spiff: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        for run in range(args.runs):
            for mode in MODES:
                if python is not None:
                    spiff[mode].append(peer(python, mode, args.cases, args.seed + run))
                found[mode].append(measure(parts, mode, args.cases, args.seed + run))
                line = ", ".join(f"{k} {v:.3f}" for k, v in found[mode][-1].items())
                peer_line = f"; SpiffWorkflow {spiff[mode][-1]:.3f}" if spiff[mode] else ""
                print(f"run {run + 1}, {mode}: ms per completion: {line}{peer_line}", flush=True)
    finally:
        if given is None:
            os.environ.pop(SQLITE_SYNC_ENV, None)
        else:
            os.environ[SQLITE_SYNC_ENV] = given

    print()
    print(f"`python bench/bench_command_parts.py --cases {args.cases} --runs {args.runs}`: medians of {args.runs} runs, "
          f"ms per task completion on SQLite, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at the end.")
    print()
    print("| part | " + " | ".join(f"`{mode}`" for mode in MODES) + " |")
    print("| --- | " + " | ".join("---:" for _ in MODES) + " |")
    for key, label in (("deciding", "deciding (`Engine.handle`)"),
                       ("statements", "statements (`save_decision_on`)"),
                       ("commit", "commit (WAL written; flushed with `full`)"),
                       ("rest", "rest of the call"),
                       ("total", "**a completion, in all**"),
                       ("cpu", "of which CPU of the process")):
        print(f"| {label} | " + " | ".join(f"{statistics.median(r[key] for r in found[mode]):.3f}"
                                          for mode in MODES) + " |")
    if python is not None:
        print("| SpiffWorkflow, a completion | " + " | ".join(f"{statistics.median(spiff[mode]):.3f}"
                                                             for mode in MODES) + " |")
        print("| budget at 10x SpiffWorkflow | " + " | ".join(f"{statistics.median(spiff[mode]) / 10:.3f}"
                                                             for mode in MODES) + " |")


if __name__ == "__main__":
    main()
