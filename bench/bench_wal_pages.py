"""Which tables and indexes a command writes on SQLite, in WAL pages (issue #14).

The side-by-side workload (`side_by_side`: the eviction-prevention cases started, then worked round by
round, the sweep between rounds) on a fresh SQLite file, with the background checkpointer off. Before
each command the WAL is checkpointed and emptied (`wal_checkpoint(TRUNCATE)`); after it, the WAL's frame
headers say which pages the command's commit wrote, and SQLite's `dbstat` table says which table or index
each page belongs to. Printed per kind of command (a case start, a task completion, and per timer a
sweep fired): pages a command, and pages a command by table or index, most first. Every page written
costs the commit a write to the WAL and, with `CAREPATH_SQLITE_SYNC=full`, its share of the flush.

Usage: `python bench/bench_wal_pages.py [--cases 200] [--seed 1]`
"""

from __future__ import annotations

import argparse
import functools
import random
import sqlite3
import struct
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import side_by_side as sbs  # noqa: E402

from engine.clock import ManualClock  # noqa: E402
from integrations.db import wal_checkpoint  # noqa: E402
from integrations.service import build_service  # noqa: E402

WAL_HEADER = 32
FRAME_HEADER = 24


class WalPages:
    """The pages each command writes to the WAL of `db`, by table or index."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.wal = Path(f"{db}-wal")
        self.pages: dict[str, Counter[str]] = {}
        self.commands: Counter[str] = Counter()

    def _empty_wal(self) -> None:
        with sqlite3.connect(self.db) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _written(self) -> list[int]:
        data = self.wal.read_bytes() if self.wal.exists() else b""
        page_size = struct.unpack(">I", data[8:12])[0] if len(data) >= WAL_HEADER else 4096
        found, offset = [], WAL_HEADER
        while offset + FRAME_HEADER <= len(data):
            found.append(struct.unpack(">I", data[offset:offset + 4])[0])
            offset += FRAME_HEADER + page_size
        return found

    def _owners(self) -> dict[int, str]:
        conn = sqlite3.connect(self.db)
        try:
            return {page: name for name, page in conn.execute("SELECT name, pageno FROM dbstat")}
        finally:
            conn.close()

    def measure(self, kind: str, command: Callable[[], Any], count: Callable[[Any], int] = lambda _: 1) -> None:
        """Run `command` on an empty WAL and add its pages under `kind` (`count`: how many commands it was)."""
        self._empty_wal()
        result = command()
        written = self._written()
        owners = self._owners()
        tally = self.pages.setdefault(kind, Counter())
        for page in written:
            tally[owners.get(page, "(free or new page)")] += 1
        self.commands[kind] += count(result)

    def report(self) -> str:
        lines = []
        for kind, tally in self.pages.items():
            n = max(1, self.commands[kind])
            lines.append(f"{kind}: {self.commands[kind]:,}, {sum(tally.values()) / n:.2f} WAL pages each")
            lines += [f"  {name:42s} {pages / n:6.2f}" for name, pages in tally.most_common()]
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    wal_checkpoint.start = lambda engine, path: None  # the WAL is emptied here, per command
    tmp = Path(tempfile.mkdtemp(prefix="carepath-wal-pages-"))
    clock = ManualClock(sbs.START)
    rng = random.Random(args.seed)
    service = build_service(f"sqlite:///{tmp / 'bench.db'}", clock, data_dir=tmp)
    pages = WalPages(tmp / "bench.db")
    for i in range(args.cases):
        pages.measure("case start", functools.partial(
            service.start_case, sbs.PATHWAY, "rent_arrears", sbs.case_data(i), actor="bench", team="noord",
            municipality="GM0014", client_id=f"client-{i}", assignments={"outreach_worker": f"user:w{i % 50}"}))
    for _ in range(200):
        open_tasks = sbs._open_tasks(service)
        if open_tasks:
            for task_id, step in open_tasks:
                form = sbs.form_for(step, rng)
                pages.measure("task completion", functools.partial(service.complete_task, task_id, form,
                                                                     actor="user:w1"))
            continue
        due = sbs._next_due(service)
        if due is None:
            break
        clock.set(max(clock.now(), due))
        pages.measure("timer fired by the sweep", service.fire_due, count=lambda report: int(report.fired))
    service.db.dispose()
    print(f"`python bench/bench_wal_pages.py --cases {args.cases}`: SQLite, pages of {4096} bytes unless the "
          "file says otherwise; per command (per fired timer for the sweep)")
    print(pages.report())


if __name__ == "__main__":
    main()
