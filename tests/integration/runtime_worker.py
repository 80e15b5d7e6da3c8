"""Runtime worker processes for the crash and concurrency tests:
`python -m tests.integration.runtime_worker CONFIG_JSON`.

It starts as a zygote: imports carepath, builds the runtime once (pathways compiled), closes its
database connections and waits for commands on stdin:

- `fork`: fork a worker that sweeps and dispatches in small batches forever, printing a line at
  each step (`m fired`, `m claimed`, `m sent`, `m marked`, ...) so the test can kill it with
  SIGKILL at a random step; when nothing is left it prints `idle` and waits to be killed.
- `drain`: fork a worker that runs until nothing is due, deliverable or leased, prints `done`
  and exits.
- `sweep`: fork a worker that blocks on the zygote's start gate (a pipe), runs one whole sweep
  (`sweep_once`) once `go` opens the gate, prints `swept <result JSON>` and exits (several of these
  sweep the same database at once).
- `go`: open the start gate for every sweeper forked so far (one byte each on the gate pipe).

Forking from a warm zygote makes a restart take milliseconds instead of the 1 s an interpreter
needs to import everything, so a hundred kills fit in a short test. Each worker is a fresh
process with its own database connections, exactly like a restarted `carepath sweep`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from integrations.clock import SystemClock
from integrations.db.engine_factory import read_session
from integrations.db.models import OutboxRow
from integrations.runtime.config import parse_config
from integrations.runtime.context import Runtime, build_runtime
from integrations.runtime.sweep import fire_batches
from integrations.service import build_service


def say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # unbuffered: a kill loses nothing already said


def next_pending(runtime: Runtime) -> datetime | None:
    """When the earliest pending message becomes deliverable (its lease or retry ends); None: none pending."""
    with read_session(runtime.service.db) as session:
        moment = session.execute(select(func.min(OutboxRow.next_attempt_at))
                                 .where(OutboxRow.status == "pending")).scalar_one_or_none()
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def work(runtime: Runtime, drain: bool) -> None:
    say(f"pid {os.getpid()}")
    service = runtime.service
    dispatcher = runtime.dispatcher(progress=lambda what: say(f"m {what}"))
    late_after = runtime.config.sweep.late_after
    while True:
        fired = fire_batches(service, service.clock.now(), late_after=late_after,
                             batch_size=runtime.config.sweep.batch_size, max_batches=1)
        if fired.batches:
            say("m fired")
        delivered = dispatcher.dispatch_batch()
        if fired.fired_total or delivered.claimed:
            continue
        moment = next_pending(runtime)
        if moment is not None:  # leased by a killed worker, or waiting for a retry: wait until it is due
            ends = threading.Event()  # never set: its wait is the deadline of the lease, nothing polled
            ends.wait(max((moment - datetime.now(UTC)).total_seconds(), 0.0) + 0.01)
            continue
        if drain:
            say("done")
            os._exit(0)
        say("idle")
        signal.pause()


def sweep(runtime: Runtime, gate: int) -> None:
    say(f"pid {os.getpid()}")
    os.read(gate, 1)  # blocks until `go`: all sweepers start together
    result = runtime.sweep_once()
    say("swept " + json.dumps(result.to_json()))
    os._exit(0)


def main() -> None:
    options: dict[str, Any] = json.loads(sys.argv[1])
    service = build_service(options["url"], SystemClock(), data_dir=Path(options["data_dir"]),
                            publish_shipped=False)
    for pathway_id, version in options["pathways"]:
        service.catalog.lookup(pathway_id, version)  # compiled once, in the zygote
    config = parse_config(options["config"], "crash test", {})
    runtime = build_runtime(data_dir=Path(options["data_dir"]), service=service, config=config)
    service.db.dispose()  # no connection crosses a fork
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed workers are reaped automatically
    gate_read, gate_write = os.pipe()  # the sweepers' start gate, inherited by every fork
    waiting = 0
    say("ready")
    for command in sys.stdin:
        command = command.strip()
        if command == "go":
            os.write(gate_write, b"x" * waiting)
            waiting = 0
            continue
        if command not in ("fork", "drain", "sweep"):
            continue
        waiting += command == "sweep"
        if os.fork() == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                if command == "sweep":
                    sweep(runtime, gate_read)
                work(runtime, drain=command == "drain")
            finally:
                os._exit(1)


if __name__ == "__main__":
    main()
