"""carepath's side-by-side run on two (or more) checkouts, alternated, in fresh processes (issue #14).

A change to the command path is measured against the code before it on the same machine in the same
minutes: `--source` names each checkout (a clone at the earlier commit next to this one, with the
same `.venv`); the runs go A, B, A, B, ... each in a fresh process of that checkout's own Python,
running its own `bench/side_by_side.py` (`run_carepath`: 300 eviction-prevention cases, round by
round, one transaction per command, after one untimed warm-up start). Printed per checkout and
backend: completions per second and per CPU-second, p95 per completion, starts and timers per
second, each run and the medians, and the ratio of the medians to the first checkout's.

`--wal-frames` (SQLite) adds, per checkout, one more run that counts the WAL frames each task
completion's commit writes (the WAL is not checkpointed during that run): the pages a command
makes SQLite write, the main cost of its commit. `--wal-pages` (SQLite) breaks those frames down by
the b-tree each page belongs to (a table or an index, leaf or interior page), named by SQLite's
`dbstat` table as the page stands right after the commit: which tables and indexes a completion
makes SQLite write, a page each.

Usage: `python bench/bench_checkouts.py --source /path/before --source . [--runs 5]
[--backends sqlite,postgresql] [--cases 300] [--wal-frames] [--wal-pages]`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

_TIMED = r'''
import json, sys
source, backend, cases = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path[:0] = [source, source + "/bench"]
import side_by_side
side_by_side.warm_up()
print(json.dumps(side_by_side.figures(side_by_side.run_carepath(backend, cases, 1))))
'''

_FRAMES = r'''
import json, os, sys
source, cases = sys.argv[1], int(sys.argv[2])
sys.path[:0] = [source, source + "/bench"]
from integrations.db import wal_checkpoint
wal_checkpoint.AUTOCHECKPOINT_PAGES = 10**9  # the WAL only grows: its size counts every frame written
wal_checkpoint.start = lambda engine, path: None
import side_by_side
from integrations.service import CaseService
complete, frames = CaseService.complete_task, []
def counted(self, *args, **kwargs):
    wal = self.db.url.database + "-wal"
    before = os.path.getsize(wal)
    result = complete(self, *args, **kwargs)
    frames.append((os.path.getsize(wal) - before) / (4096 + 24))  # a frame: its 24-byte header and a page
    return result
CaseService.complete_task = counted
side_by_side.run_carepath("sqlite", cases, 1)
print(json.dumps({"completions": len(frames), "frames": sum(frames) / len(frames)}))
'''

_PAGES = r'''
import collections, json, os, sqlite3, struct, sys
source, cases = sys.argv[1], int(sys.argv[2])
sys.path[:0] = [source, source + "/bench"]
from integrations.db import wal_checkpoint
wal_checkpoint.AUTOCHECKPOINT_PAGES = 10**9  # the WAL only grows: a commit's frames are what it appended
wal_checkpoint.start = lambda engine, path: None
import side_by_side
from integrations.service import CaseService
side_by_side.Backend.size = lambda self, service, vacuum=False: 0.0  # no VACUUM: it renumbers the pages
HEADER, FRAME = 32, 24 + 4096  # the WAL's header; a frame: its 24-byte header (the page number first) and a page
complete, pages, commands = CaseService.complete_task, collections.Counter(), [0]
def counted(self, *args, **kwargs):
    path = self.db.url.database
    before = os.path.getsize(path + "-wal")
    result = complete(self, *args, **kwargs)
    first = HEADER + -(-max(0, before - HEADER) // FRAME) * FRAME
    with open(path + "-wal", "rb") as wal:
        wal.seek(first)
        written = wal.read()
    numbers = [struct.unpack(">I", written[i:i + 4])[0] for i in range(0, len(written) - FRAME + 1, FRAME)]
    if numbers:
        with sqlite3.connect(path) as db:
            owner = dict(db.execute("SELECT pageno, name || ' (' || pagetype || ')' FROM dbstat WHERE pageno IN (%s)"
                                    % ",".join(map(str, numbers))).fetchall())
        db.close()
        pages.update(owner.get(n, "(free list)") for n in numbers)
    commands[0] += 1
    return result
CaseService.complete_task = counted
side_by_side.run_carepath("sqlite", cases, 1)
print(json.dumps({"completions": commands[0], "pages": {k: v / commands[0] for k, v in pages.most_common()}}))
'''

KEYS = ("completions_per_s", "completions_per_cpu_s", "p95_ms", "starts_per_s", "timers_per_s")


def _python(source: Path) -> str:
    found = source / ".venv" / "bin" / "python"
    return str(found) if found.exists() else sys.executable


def _child(source: Path, code: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([_python(source), "-c", code, str(source), *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{source}: the run failed\n{done.stderr[-3000:]}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", action="append", required=True, type=Path,
                        help="a checkout to measure (give two or more; the first is the reference)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--wal-frames", action="store_true")
    parser.add_argument("--wal-pages", action="store_true", help="the frames by table and index (SQLite)")
    args = parser.parse_args()
    sources = [s.resolve() for s in args.source]
    for backend in args.backends.split(","):
        found: dict[Path, list[dict[str, Any]]] = {s: [] for s in sources}
        for run in range(1, args.runs + 1):
            for source in sources:
                figures = _child(source, _TIMED, backend, str(args.cases))
                found[source].append(figures)
                print(f"{backend} run {run} {source}: "
                      + ", ".join(f"{k} {figures[k]:,.2f}" for k in KEYS), flush=True)
        reference = {k: statistics.median(f[k] for f in found[sources[0]]) for k in KEYS}
        print(f"\n{backend}, medians of {args.runs} (ratio to {sources[0]}):")
        for source in sources:
            medians = {k: statistics.median(f[k] for f in found[source]) for k in KEYS}
            print(f"  {source}: " + ", ".join(
                f"{k} {medians[k]:,.2f} ({medians[k] / reference[k]:.2f}x)" if reference[k] else f"{k} {medians[k]:,.2f}"
                for k in KEYS))
    if args.wal_frames:
        print("\nWAL frames a task completion's commit writes (SQLite):")
        for source in sources:
            counted = _child(source, _FRAMES, str(args.cases))
            print(f"  {source}: {counted['frames']:.1f} over {counted['completions']:,} completions")
    if args.wal_pages:
        print("\nPages a task completion's commit writes, by table and index (SQLite; per completion):")
        for source in sources:
            written = _child(source, _PAGES, str(args.cases))
            print(f"  {source}, {sum(written['pages'].values()):.1f} over {written['completions']:,} completions:")
            for name, per in written["pages"].items():
                if per >= 0.05:
                    print(f"    {per:5.2f}  {name}")


if __name__ == "__main__":
    main()
