"""Concurrent writers (issue #14): task completions per second with 16 writer threads, group commit on and off.

Each writer thread (a web worker) completes tasks of its own cases through one `CaseService`, one
command after another: first the doorstep visit of each of its cases (the three partner calls open),
then a call; every call returns only after the commit that holds it. With group commit
(`CAREPATH_GROUP_COMMIT`, default on) commands arriving together share one transaction; off, each
command is its own transaction. SQLite (a fresh file) and PostgreSQL (a fresh schema).

Usage: `python bench/bench_concurrent.py [--writers 16] [--cases 1600] [--runs 3] [--backends sqlite,postgresql]`
"""

from __future__ import annotations

import argparse
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
from integrations.service import GROUP_COMMIT_ENV, build_service  # noqa: E402


def run(backend_name: str, writers: int, cases: int, group: bool) -> dict[str, Any]:
    os.environ[GROUP_COMMIT_ENV] = "1" if group else "0"
    tmp = Path(tempfile.mkdtemp(prefix="carepath-conc-"))
    backend = Backend(backend_name, tmp)
    try:
        service = build_service(backend.url, ManualClock(START), data_dir=tmp)
        ids = [service.start_case(PATHWAY, "rent_arrears", case_data(i), actor="bench", team="noord",
                                  municipality="GM0014", assignments={"outreach_worker": "user:w1"}).case_id
               for i in range(cases)]
        form = {"contact_result": "spoken", "help_accepted": True, "partner_consent": ALL_PARTNERS}
        errors: list[BaseException] = []
        latencies: list[float] = []
        barrier = threading.Barrier(writers + 1)

        def writer(mine: list[str]) -> None:
            barrier.wait()
            try:
                for case_id in mine:
                    t0 = time.perf_counter()
                    service.complete_task(f"{case_id}.2", form, actor="user:w1")
                    latencies.append(time.perf_counter() - t0)
            except BaseException as exc:  # counted and reported
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(ids[w::writers],)) for w in range(writers)]
        for t in threads:
            t.start()
        committer = GroupCommitter.for_engine(service.db)
        groups0, commands0 = committer.groups, committer.commands
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        if errors:
            raise RuntimeError(f"{len(errors)} commands failed, first: {errors[0]!r}")
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
    args = parser.parse_args()
    rows = []
    for name in args.backends.split(","):
        for group in (False, True):
            results = [run(name, args.writers, args.cases, group) for _ in range(args.runs)]
            print(name, group, results, file=sys.stderr)
            rows.append((name, "on" if group else "off", statistics.median(r["per_s"] for r in results),
                         statistics.median(r["p95_ms"] for r in results),
                         statistics.median(r["per_group"] for r in results)))
    print(f"`python bench/bench_concurrent.py {' '.join(sys.argv[1:])}`: {args.writers} writer threads, "
          f"{args.cases} doorstep visits per run, medians of {args.runs} runs; load average "
          f"{os.getloadavg()[0]:.2f} at the end.\n")
    print("| backend | group commit | completions per s | p95 (ms) | commands per transaction |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, group_s, per_s, p95, per_group in rows:
        print(f"| {name} | {group_s} | {per_s:,.0f} | {p95:.1f} | {per_group:.1f} |")


if __name__ == "__main__":
    main()
