"""carepath's own timer: sweep and dispatch every so often, through Prefect or without it.

`carepath serve` runs this loop in a thread next to the web app; `carepath
sweep`/`dispatch` without `--once` run it alone. With Prefect each job is a
flow run in this process (an embedded Prefect server keeps their history); a
job with nothing to do starts no flow run at all (one indexed count first), so
an idle installation does not fill Prefect's database with empty runs.

When Prefect cannot run a flow (its server does not start, its API is gone)
the job runs as the same plain functions and the loop says so in the log and
in `status`: sweeps and deliveries go on, only their Prefect history is
missing. Nothing is lost either way: timers and messages are rows in
carepath's database, and whichever sweep comes next fires what is due, in due
order, marking what is late.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.runtime import signal_jobs
from integrations.runtime.context import Runtime
from integrations.runtime.dispatch import deliverable_by_channel
from integrations.runtime.embedded import EmbeddedPrefectServer
from integrations.runtime.sweep import due_by_pathway

log = logging.getLogger("carepath.runtime")

JOBS = ("sweep", "dispatch")
SERVE_JOBS = (*JOBS, *signal_jobs.SIGNAL_JOBS)  # what `carepath serve` runs


@dataclass
class JobStatus:
    runs: int = 0
    last_started: datetime | None = None
    last_result: dict[str, Any] | None = None
    last_error: str | None = None
    via: str | None = None  # "prefect" | "plain" (Prefect unavailable or not wanted)
    skipped_idle: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"runs": self.runs, "last_started": self.last_started.isoformat() if self.last_started else None,
                "last_result": self.last_result, "last_error": self.last_error, "via": self.via,
                "skipped_idle": self.skipped_idle}


@dataclass
class LoopStatus:
    jobs: dict[str, JobStatus] = field(default_factory=lambda: {job: JobStatus() for job in JOBS})
    prefect: str = "off"  # off | starting | ok | unavailable
    demo: str = "off"  # off | seeding | ready | failed | stopped (`carepath serve --demo`, server.py)

    def to_json(self) -> dict[str, Any]:
        shown = {"prefect": self.prefect, **({"demo": self.demo} if self.demo != "off" else {})}
        return {**shown, **{job: s.to_json() for job, s in self.jobs.items()}}


class RuntimeLoop:
    def __init__(self, runtime: Runtime, *, use_prefect: bool, jobs: tuple[str, ...] = JOBS,
                 only_when_due: bool = True, monotonic: Callable[[], float] = time.monotonic,
                 prefect_server: EmbeddedPrefectServer | None = None, startup_timeout: float = 120.0) -> None:
        self.runtime = runtime
        self.use_prefect = use_prefect
        self.prefect_server = prefect_server
        self.startup_timeout = startup_timeout
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None  # start()'s
        self.jobs = jobs
        self.only_when_due = only_when_due
        self._monotonic = monotonic
        self.status = LoopStatus(prefect="starting" if use_prefect else "off")
        self._next = dict.fromkeys(jobs, 0.0)
        self.intervals = {"sweep": runtime.config.sweep.every.total_seconds(),
                          "dispatch": runtime.config.dispatch.every.total_seconds()}
        # Early signals (signal_jobs.py): the watched inbox and retention, when asked for.
        self.intervals.update(signal_jobs.intervals())
        for job in jobs:
            self.status.jobs.setdefault(job, JobStatus())

    # --- one job ----------------------------------------------------------------------------------
    def _has_work(self, job: str) -> bool:
        if job in signal_jobs.SIGNAL_JOBS:
            return signal_jobs.has_work(self.runtime, job)
        now = self.runtime.service.clock.now()
        if job == "sweep":
            return bool(due_by_pathway(self.runtime.service, now))
        return bool(deliverable_by_channel(self.runtime.service, now))

    def _plain(self, job: str) -> dict[str, Any]:
        if job in signal_jobs.SIGNAL_JOBS:
            return signal_jobs.run_plain(self.runtime, job)
        if job == "sweep":
            return self.runtime.sweep_once().to_json()
        return self.runtime.dispatch_once().to_json()

    def run_job(self, job: str) -> dict[str, Any] | None:
        """Run `job` once now (unless there is nothing to do); never raises, records the outcome."""
        status = self.status.jobs[job]
        try:
            if self.only_when_due and not self._has_work(job):
                status.skipped_idle += 1
                return None
            status.last_started = self.runtime.service.clock.now()
            result, via = self._run(job)
        except Exception as exc:
            status.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("%s failed; the next run tries again (nothing is lost)", job)
            return None
        status.runs += 1
        status.last_result, status.last_error, status.via = result, None, via
        log.info("%s via %s: %s", job, via, result)
        return result

    def _run(self, job: str) -> tuple[dict[str, Any], str]:
        if not self.use_prefect:
            return self._plain(job), "plain"
        try:
            from integrations.runtime.flows import call_in_process

            result = call_in_process(job, api_url=self._prefect_api())
            self.status.prefect = "ok"
            return result, "prefect"
        except Exception as exc:
            self.status.prefect = "unavailable"
            log.warning("Prefect could not run the %s flow (%s: %s); running it without Prefect", job,
                        type(exc).__name__, exc)
            return self._plain(job), "plain"

    def _prefect_api(self) -> str | None:
        """The embedded server's API once it answers (started on first need, again if it died);
        None: Prefect's default (an operator's server, `PREFECT_API_URL`)."""
        server = self.prefect_server
        if server is None:
            return None
        if not server.alive():
            if self.status.prefect != "starting":
                log.warning("the Prefect server is not running; starting it again")
            server.start()
        if not server.wait_ready(self.startup_timeout, self.stopping):
            why = f" ({server.error})" if server.error else ""
            raise RuntimeError(f"the Prefect server on {server.api_url} did not answer within "
                               f"{self.startup_timeout:.0f} s{why}")
        return server.api_url

    # --- the loop ---------------------------------------------------------------------------------
    def tick(self) -> float:
        """Run every job whose time has come; returns seconds until the next one is due."""
        for job in self.jobs:
            if self._monotonic() >= self._next[job]:
                self.run_job(job)
                self._next[job] = self._monotonic() + self.intervals[job]
        return max(0.0, min(self._next.values()) - self._monotonic())

    def run(self, stop: threading.Event) -> None:
        self.stopping = stop
        while not stop.is_set():
            wait = self.tick()
            stop.wait(timeout=max(wait, 0.05))

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), name="carepath-runtime", daemon=True)
        thread.start()
        self.thread = thread
        return thread
