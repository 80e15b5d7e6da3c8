"""Concurrent writers (issue #14): task completions per second with 16 writer threads, group commit on and off.

Each writer thread (a web worker) completes tasks of its own cases through one `CaseService`, one
command after another: first the doorstep visit of each of its cases (the three partner calls open),
then a call; every call returns only after the commit that holds it. With group commit
(`CAREPATH_GROUP_COMMIT`, default on) commands arriving together share one transaction; off, each
command is its own transaction. SQLite (a fresh file) and PostgreSQL (a fresh schema).

With `--processes N` the writer threads are spread over N processes (web server processes, each
with its own `CaseService`, group committer and kept cases, on the same database), started fresh
(`spawn`) after the cases were started in this one: every process's first command on a case reads
it. One process in this mode is the baseline to compare with, since its commands read their cases
too. The rate counts from the moment every process is ready to the last one's end.

Usage: `python bench/bench_concurrent.py [--writers 16] [--cases 1600] [--runs 3] [--backends sqlite,postgresql]
[--processes N]`
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import Backend  # noqa: E402
from side_by_side import ALL_PARTNERS, PATHWAY, START, case_data  # noqa: E402

from engine.clock import ManualClock  # noqa: E402
from integrations.db.group_commit import GroupCommitter  # noqa: E402
from integrations.runtime.heap import settle  # noqa: E402
from integrations.service import GROUP_COMMIT_ENV, build_service  # noqa: E402

FORM = {"contact_result": "spoken", "help_accepted": True, "partner_consent": ALL_PARTNERS}


def _start_cases(service: Any, cases: int) -> list[str]:
    return [service.start_case(PATHWAY, "rent_arrears", case_data(i), actor="bench", team="noord",
                               municipality="GM0014", assignments={"outreach_worker": "user:w1"}).case_id
            for i in range(cases)]


def _writers(service: Any, ids: list[str], writers: int, start: Any, latencies: list[float],
             errors: list[str]) -> list[threading.Thread]:
    """`writers` threads started, each waiting for `start` (`.wait()`), then completing the doorstep
    visit of its share of `ids` one after another; latencies and errors appended."""
    def writer(mine: list[str]) -> None:
        start.wait()
        try:
            for case_id in mine:
                t0 = time.perf_counter()
                service.complete_task(f"{case_id}.2", FORM, actor="user:w1")
                latencies.append(time.perf_counter() - t0)
        except Exception as exc:  # counted and reported
            errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(ids[w::writers],)) for w in range(writers)]
    for t in threads:
        t.start()
    return threads


def _process(url: str, data_dir: str, ids: list[str], warm: str, writers: int, group: bool, go: Any,
             results: Any) -> None:
    """One web server process: its own service on the shared database, `writers` threads; warmed by
    one untimed command on case `warm` (the holiday tables, the pathway compiled), as a server that
    has answered requests is."""
    os.environ[GROUP_COMMIT_ENV] = "1" if group else "0"
    service = build_service(url, ManualClock(START), data_dir=Path(data_dir))
    service.complete_task(f"{warm}.2", FORM, actor="user:w1")
    settle()  # as `carepath serve` does once started (integrations/runtime/heap.py)
    latencies: list[float] = []
    errors: list[str] = []
    start = threading.Event()
    threads = _writers(service, ids, writers, start, latencies, errors)
    committer = GroupCommitter.for_engine(service.db)
    go.wait()  # every process built, its threads waiting
    start.set()
    for t in threads:
        t.join()
    results.put({"end": time.time(), "latencies": latencies, "errors": errors,
                 "groups": committer.groups, "commands": committer.commands})
    service.db.dispose()


def run_processes(backend_name: str, writers: int, cases: int, group: bool, processes: int) -> dict[str, Any]:
    """The writers spread over `processes` fresh processes (`--processes`)."""
    context = multiprocessing.get_context("spawn")
    tmp = Path(tempfile.mkdtemp(prefix="carepath-conc-"))
    backend = Backend(backend_name, tmp)
    try:
        service = build_service(backend.url, ManualClock(START), data_dir=tmp)
        ids = _start_cases(service, cases + processes)
        ids, warm = ids[:cases], ids[cases:]
        service.db.dispose()
        go = context.Barrier(processes + 1)
        results = context.Queue()
        share = writers // processes
        children = [context.Process(target=_process, args=(backend.url, str(tmp), ids[k::processes], warm[k], share,
                                                            group, go, results)) for k in range(processes)]
        for child in children:
            child.start()
        go.wait()
        started = time.time()
        found = [results.get(timeout=600) for _ in children]
        for child in children:
            child.join()
        errors = [e for r in found for e in r["errors"]]
        if errors:
            raise RuntimeError(f"{len(errors)} commands failed, first: {errors[0]}")
        latencies = sorted(x for r in found for x in r["latencies"])
        groups, commands = sum(r["groups"] for r in found), sum(r["commands"] for r in found)
        return {"per_s": len(latencies) / (max(r["end"] for r in found) - started),
                "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
                "per_group": commands / groups if group and groups else 1.0}
    finally:
        backend.drop()


def run(backend_name: str, writers: int, cases: int, group: bool) -> dict[str, Any]:
    os.environ[GROUP_COMMIT_ENV] = "1" if group else "0"
    tmp = Path(tempfile.mkdtemp(prefix="carepath-conc-"))
    backend = Backend(backend_name, tmp)
    try:
        service = build_service(backend.url, ManualClock(START), data_dir=tmp)
        ids = _start_cases(service, cases)
        errors: list[str] = []
        latencies: list[float] = []
        barrier = threading.Barrier(writers + 1)
        threads = _writers(service, ids, writers, barrier, latencies, errors)
        committer = GroupCommitter.for_engine(service.db)
        groups0, commands0 = committer.groups, committer.commands
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        if errors:
            raise RuntimeError(f"{len(errors)} commands failed, first: {errors[0]}")
        done = sum(1 for _ in latencies)
        groups = committer.groups - groups0
        service.db.dispose()
        latencies.sort()
        return {"per_s": done / elapsed, "p95_ms": latencies[int(0.95 * (done - 1))] * 1000,
                "per_group": (committer.commands - commands0) / groups if group and groups else 1.0}
    finally:
        backend.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--cases", type=int, default=1600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--processes", type=int, default=0,
                        help="spread the writers over this many fresh processes (0: threads of this one)")
    args = parser.parse_args()
    rows = []
    for name in args.backends.split(","):
        for group in (False, True):
            results = [run_processes(name, args.writers, args.cases, group, args.processes) if args.processes
                       else run(name, args.writers, args.cases, group) for _ in range(args.runs)]
            print(name, group, results, file=sys.stderr)
            rows.append((name, "on" if group else "off", statistics.median(r["per_s"] for r in results),
                         statistics.median(r["p95_ms"] for r in results),
                         statistics.median(r["per_group"] for r in results)))
    spread = f" in {args.processes} processes" if args.processes else ""
    print(f"`python bench/bench_concurrent.py {' '.join(sys.argv[1:])}`: {args.writers} writer threads{spread}, "
          f"{args.cases} doorstep visits per run, medians of {args.runs} runs; load average "
          f"{os.getloadavg()[0]:.2f} at the end.\n")
    print("| backend | group commit | completions per s | p95 (ms) | commands per transaction |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, group_s, per_s, p95, per_group in rows:
        print(f"| {name} | {group_s} | {per_s:,.0f} | {p95:.1f} | {per_group:.1f} |")


if __name__ == "__main__":
    main()
