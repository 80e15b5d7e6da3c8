"""The SpiffWorkflow side of `bench/side_by_side.py`, run with SpiffWorkflow's own interpreter.

SpiffWorkflow 3.2 runs the eviction-prevention process of `../shared/peers/spiffworkflow/`
(`eviction_prevention.bpmn`), persisting the whole instance (its JSON serialisation) to a fresh
SQLite file after every command, one transaction (commit) per command, WAL and the same
`synchronous` as carepath's embedded store in that run (`FULL` by default, `CAREPATH_SQLITE_SYNC`). It is the peer's own driver loop
(`bench_spiff.py`) with each command timed on its own: a case start is instantiate, run the
engine steps, serialise, commit; a completion is load, deserialise, run the task, run the engine
steps, serialise, commit.

Usage: `spiff-python bench/spiff_peer.py BPMN_FILE DB_FILE N_CASES SEED [SYNCHRONOUS]` (default FULL); prints one JSON line.
Never imported by carepath: SpiffWorkflow is not a dependency (see `bench/side_by_side.py`).
"""

from __future__ import annotations

import gc
import json
import random
import sqlite3
import sys
import time
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState


def main() -> None:
    bpmn, db_file, n_cases, seed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    synchronous = sys.argv[5] if len(sys.argv) > 5 else "FULL"
    if synchronous not in ("FULL", "NORMAL"):
        raise SystemExit(f"SYNCHRONOUS must be FULL or NORMAL, not {synchronous!r}")
    rng = random.Random(seed)
    parser = BpmnParser()
    parser.add_bpmn_file(str(bpmn))
    spec = parser.get_spec("eviction_prevention")
    serializer = BpmnWorkflowSerializer()
    # Start-up done: its objects set aside from the garbage collector's walks, as carepath's side
    # does after its warm-up (`side_by_side.warm_up`, carepath's `integrations/runtime/heap.py`).
    gc.collect()
    gc.freeze()
    db = sqlite3.connect(db_file, isolation_level=None)
    db.execute("pragma journal_mode=wal")
    db.execute(f"pragma synchronous={synchronous}")
    db.execute("create table instance (id integer primary key, state text)")
    empty = _size(db, db_file)

    def save(case: int, wf: BpmnWorkflow) -> None:
        db.execute("begin")
        db.execute("insert or replace into instance values (?, ?)", (case, serializer.serialize_json(wf)))
        db.execute("commit")

    starts: list[float] = []
    completions: list[float] = []
    cpu = {"starts": 0.0, "completions": 0.0}
    for case in range(n_cases):
        t0, c0 = time.perf_counter(), time.process_time()
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        save(case, wf)
        starts.append(time.perf_counter() - t0)
        cpu["starts"] += time.process_time() - c0
    # Round by round over all cases, as carepath's side: every case's ready task, then the next round.
    active = list(range(n_cases))
    while active:
        still = []
        for case in active:
            t0, c0 = time.perf_counter(), time.process_time()
            row = db.execute("select state from instance where id = ?", (case,)).fetchone()
            wf = serializer.deserialize_json(row[0])
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                continue
            task = ready[0]
            if task.task_spec.name == "home_visit":
                task.data["reached"] = rng.random() < 0.6
            if task.task_spec.name == "arrangement":
                task.data["arrangement_ok"] = rng.random() < 0.67
            task.run()
            wf.do_engine_steps()
            save(case, wf)
            completions.append(time.perf_counter() - t0)
            cpu["completions"] += time.process_time() - c0
            still.append(case)
        active = still
    full = _size(db, db_file, vacuum=True)
    print(json.dumps({"cases": n_cases, "starts": starts, "completions": completions, "cpu": cpu,
                      "bytes_per_case": (full - empty) / n_cases}))


def _size(db: sqlite3.Connection, path: Path, *, vacuum: bool = False) -> int:
    db.execute("pragma wal_checkpoint(truncate)")
    if vacuum:
        db.execute("vacuum")  # in WAL mode the compacted file lands only at the next checkpoint
        db.execute("pragma wal_checkpoint(truncate)")
    return path.stat().st_size


if __name__ == "__main__":
    main()
