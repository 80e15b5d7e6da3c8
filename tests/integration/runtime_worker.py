"""Runtime worker processes for the crash and concurrency tests:
`python -m tests.integration.runtime_worker CONFIG_JSON`.

It starts as a zygote: imports carepath, builds the runtime once (pathways compiled), closes its
database connections and waits for commands on stdin:

- `fork`: fork a worker that sweeps and dispatches in small batches forever, printing a line at
  each step (`m fired`, `m claimed`, `m sent`, `m marked`, ...) so the test can kill it with
  SIGKILL at a random step; when nothing is left it prints `idle` and waits to be killed.
- `drain`: fork a worker that runs until nothing is due, deliverable or leased, prints `done`
  and exits.
- `sweep`: fork a worker that waits for `go` in the file named by the config's `go_file` to
  appear, runs one whole sweep (`sweep_once`), prints `swept <result JSON>` and exits (several of
  these sweep the same database at once).

Forking from a warm zygote makes a restart take milliseconds instead of the 1 s an interpreter
needs to import everything, so a hundred kills fit in a short test. Each worker is a fresh
process with its own database connections, exactly like a restarted `carepath sweep`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
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


def pending(runtime: Runtime) -> int:
    with read_session(runtime.service.db) as session:
        return int(session.execute(select(func.count()).select_from(OutboxRow)
                                   .where(OutboxRow.status == "pending")).scalar_one())


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
        if pending(runtime):  # leased by a killed worker, or waiting for a retry: wait for it
            time.sleep(0.05)
            continue
        if drain:
            say("done")
            os._exit(0)
        say("idle")
        signal.pause()


def sweep(runtime: Runtime, go_file: Path) -> None:
    say(f"pid {os.getpid()}")
    while not go_file.exists():  # all sweepers start together
        time.sleep(0.005)
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
    say("ready")
    for command in sys.stdin:
        command = command.strip()
        if command not in ("fork", "drain", "sweep"):
            continue
        if os.fork() == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                if command == "sweep":
                    sweep(runtime, Path(options["go_file"]))
                work(runtime, drain=command == "drain")
            finally:
                os._exit(1)


if __name__ == "__main__":
    main()
