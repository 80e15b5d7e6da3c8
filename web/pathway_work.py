"""Checking and simulating pathways in worker processes, never on the web server's event loop.

A pathway text comes from a coordinator and may be hostile or simply unlucky: a 20,000-key file
takes seconds to check, and a dry run of a pathway that evaluates every minute never ends. Both
used to run inside the web process and froze every other request. Here each job runs in its own
process, forked from a small preloaded server (multiprocessing's `forkserver`, so no lock of the
web process is inherited), at a lower CPU priority, with limits:

- at most `workers` jobs at once; a job that cannot start within `queue_seconds` is refused
  ("probeer het zo opnieuw"), so a burst of heavy requests cannot queue without end;
- the text: `max_bytes` and `max_lines`, checked before any parsing;
- a check ends after `check_seconds`, a simulation after `simulation_seconds` (the process is
  killed) or when it recorded more than `simulation_events` events;
- at most `max_problems` problems come back (the page lists the first ones and says how many more).

Every limit answers with a Dutch message naming the limit (`PathwayWorkLimit`). The settings
come from `CAREPATH_WEB_PATHWAY_*` variables (`PathwayWorkLimits.from_env`, docs/security.md).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from engine.definition import Pathway
from engine.errors import PathwayError, Problem

_PRELOAD = ["engine.loader", "engine.simulate", "engine.compiled", "tasks.registry", "tasks.handlers",
            "web.pathway_work"]


class PathwayWorkLimit(Exception):
    """A limit stopped the job; the message (Dutch) names the limit and what to do."""

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.status = status  # 413 too large, 422 too heavy, 503 busy


@dataclass(frozen=True)
class PathwayWorkLimits:
    workers: int = 2  # jobs running at once (each in its own process)
    queue_seconds: float = 20.0  # how long a job may wait for a free worker
    max_bytes: int = 1_000_000  # of the pathway text (UTF-8)
    max_lines: int = 10_000  # the largest shipped pathway has about 1,000 lines
    check_seconds: float = 15.0  # parsing and checking one text
    simulation_seconds: float = 30.0  # checking plus the dry run
    simulation_events: int = 100_000  # the shipped pathways record 3,000-10,000 in the editor's dry run
    max_problems: int = 200  # problems sent back to the page

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PathwayWorkLimits:
        """Defaults, changed by CAREPATH_WEB_PATHWAY_WORKERS, _QUEUE_SECONDS, _MAX_BYTES, _MAX_LINES,
        _CHECK_SECONDS, _SIMULATION_SECONDS, _SIMULATION_EVENTS."""
        env = os.environ if environ is None else environ
        limits = cls()
        names = {"WORKERS": "workers", "QUEUE_SECONDS": "queue_seconds", "MAX_BYTES": "max_bytes",
                 "MAX_LINES": "max_lines", "CHECK_SECONDS": "check_seconds",
                 "SIMULATION_SECONDS": "simulation_seconds", "SIMULATION_EVENTS": "simulation_events"}
        for suffix, name in names.items():
            raw = env.get(f"CAREPATH_WEB_PATHWAY_{suffix}")
            if raw:
                kind = type(getattr(limits, name))
                value = kind(raw)
                if value <= 0:
                    raise ValueError(f"CAREPATH_WEB_PATHWAY_{suffix} must be more than 0, not {raw}")
                limits = replace(limits, **{name: value})
        return limits


@dataclass(frozen=True)
class Checked:
    """A checked pathway, or the problems that stop it (the first `max_problems`, and how many in all)."""

    pathway: Pathway | None
    problems: tuple[Problem, ...] = ()
    total_problems: int = 0
    simulation: dict[str, Any] | None = None

    def error(self) -> PathwayError:
        return PathwayError(list(self.problems))


@dataclass(frozen=True)
class _Job:
    text: str
    source: str
    max_problems: int
    simulate: bool = False
    start: datetime | None = None
    cases: int = 0
    days: int = 0
    max_events: int = 0


def _nl_number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


class PathwayWork:
    """Runs pathway checks and simulations in worker processes, within `limits`. Thread-safe; the
    blocking calls are meant for a worker thread (FastAPI's threadpool, `asyncio.to_thread`)."""

    def __init__(self, limits: PathwayWorkLimits | None = None) -> None:
        self.limits = limits or PathwayWorkLimits()
        self._slots = threading.BoundedSemaphore(self.limits.workers)
        self._context: Any = None
        self._lock = threading.Lock()

    def _ctx(self) -> Any:
        with self._lock:
            if self._context is None:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(_PRELOAD)
                self._context = ctx
            return self._context

    # --- what the web app calls ---------------------------------------------------------------------
    def check(self, text: str, source: str) -> Checked:
        """Parse and check `text`: the pathway, or its problems. `PathwayWorkLimit` when a limit hit."""
        self._check_size(text)
        job = _Job(text, source, self.limits.max_problems)
        return self._run(job, self.limits.check_seconds, "De controle")

    def simulate(self, text: str, source: str, *, start: datetime, cases: int, days: int) -> Checked:
        """Check `text` and, when it is valid, run the dry run; the summary is in `Checked.simulation`."""
        self._check_size(text)
        job = _Job(text, source, self.limits.max_problems, simulate=True, start=start, cases=cases, days=days,
                   max_events=self.limits.simulation_events)
        return self._run(job, self.limits.simulation_seconds, "De proefrit")

    def parse(self, text: str, source: str) -> Pathway:
        """The checked pathway, or `PathwayError` with its problems (as the catalog's parser does)."""
        checked = self.check(text, source)
        if checked.pathway is None:
            raise checked.error()
        return checked.pathway

    # --- limits and processes -----------------------------------------------------------------------
    def _check_size(self, text: str) -> None:
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > self.limits.max_bytes:
            raise PathwayWorkLimit(
                f"Het zorgpad is {_nl_number(size)} bytes; de grens is {_nl_number(self.limits.max_bytes)} bytes. "
                "Splits het zorgpad of haal ongebruikte delen weg.", status=413)
        lines = text.count("\n") + 1
        if lines > self.limits.max_lines:
            raise PathwayWorkLimit(
                f"Het zorgpad heeft {_nl_number(lines)} regels; de grens is {_nl_number(self.limits.max_lines)} "
                "regels. Splits het zorgpad of haal ongebruikte delen weg.", status=413)

    def _run(self, job: _Job, seconds: float, what: str) -> Checked:
        if not self._slots.acquire(timeout=self.limits.queue_seconds):
            raise PathwayWorkLimit(
                "carepath controleert op dit moment al zoveel zorgpaden als het tegelijk kan. "
                "Probeer het over een minuut opnieuw.", status=503)
        try:
            return self._in_process(job, seconds, what)
        finally:
            self._slots.release()

    def _in_process(self, job: _Job, seconds: float, what: str) -> Checked:
        ctx = self._ctx()
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_child, args=(send, job), name="carepath-pathway-work", daemon=True)
        process.start()
        send.close()
        deadline = time.monotonic() + seconds
        try:
            if not receive.poll(max(0.0, deadline - time.monotonic())):
                raise PathwayWorkLimit(
                    f"{what} duurde langer dan {seconds:g} seconden en is gestopt. Maak het zorgpad kleiner, "
                    "of kijk naar termijnen en evaluaties die heel vaak afgaan (bijvoorbeeld elke minuut).")
            try:
                outcome, payload = receive.recv()
            except EOFError:
                raise PathwayWorkLimit(f"{what} is onverwacht gestopt. Maak het zorgpad kleiner en probeer "
                                       "het opnieuw.") from None
        finally:
            receive.close()
            if process.is_alive():
                process.kill()
            process.join(5)
        if outcome == "events":
            raise PathwayWorkLimit(
                f"De proefrit is gestopt na meer dan {_nl_number(job.max_events)} gebeurtenissen. Kijk naar "
                "termijnen, herinneringen en evaluaties die heel vaak afgaan (bijvoorbeeld elke minuut).")
        if outcome == "failed":
            raise PathwayWorkLimit(f"{what} is mislukt ({payload}). Controleer het zorgpad en probeer het opnieuw.")
        result: Checked = payload
        return result


def _child(send: Connection, job: _Job) -> None:
    """In the worker process: run the job, send back ("ok", Checked) or why not."""
    with contextlib.suppress(OSError):
        os.nice(10)  # the web process stays first in line for the CPU
    try:
        send.send(("ok", run_job(job)))
    except _EventLimit:
        send.send(("events", None))
    except Exception as exc:  # the parent turns it into a Dutch message; nothing of the text is sent
        send.send(("failed", type(exc).__name__))
    finally:
        send.close()


class _EventLimit(Exception):
    pass


def run_job(job: _Job) -> Checked:
    """What the worker process does (also callable in-process, for tests)."""
    from engine.loader import load_pathway
    from engine.simulate import SimulationLimitError
    from tasks.registry import default_kinds

    try:
        pathway = load_pathway(job.text, job.source, default_kinds())
    except PathwayError as exc:
        problems = tuple(exc.problems)
        return Checked(None, problems[:job.max_problems], len(problems))
    if not job.simulate:
        return Checked(pathway)
    assert job.start is not None
    try:
        summary = simulation_summary(pathway, start=job.start, cases=job.cases, days=job.days,
                                     max_events=job.max_events)
    except SimulationLimitError:
        raise _EventLimit() from None
    return Checked(pathway, simulation=summary)


def simulation_summary(pathway: Pathway, *, start: datetime, cases: int, days: int,
                       max_events: int | None = None) -> dict[str, Any]:
    """The editor's dry-run summary: counts, outcomes, median lead time, share on time, a timeline."""
    import statistics
    from collections import Counter

    from engine.compiled import compile_pathway
    from engine.simulate import simulate
    from engine.state import CaseStatus
    from tasks.handlers import default_handlers

    result = simulate(compile_pathway(pathway), default_handlers(), cases=cases, days=days, seed=1,
                      start=start, max_events=max_events)
    states = result.cases
    closed = [s for s in states.values() if s.status is CaseStatus.CLOSED and s.closed_at is not None]
    outcomes = Counter(s.outcome for s in closed)
    lead = [(s.closed_at - s.opened_at).total_seconds() / 86400 for s in closed if s.closed_at]
    late = total = 0
    for state in states.values():
        for task in state.tasks.values():
            if task.completed_at is not None:
                total += 1
                late += int(task.completed_at > task.due_at)
    return {
        "cases": len(states), "days": days, "closed": len(closed), "open": len(states) - len(closed),
        "outcomes": [(o.label, outcomes.get(o.code, 0)) for o in pathway.outcomes],
        "median_lead": f"{statistics.median(lead):.0f}" if lead else "—",
        "on_time": f"{100 * (total - late) / total:.0f}%" if total else "—",
        "summary": result.summary, "timeline": result.timeline[:40],
    }


def pathway_work_of(request: Any) -> PathwayWork:
    """The app's `PathwayWork` (made by `create_app`; made here on first use for an app built otherwise)."""
    state = request.app.state
    work: PathwayWork | None = getattr(state, "pathway_work", None)
    if work is None:
        work = PathwayWork(PathwayWorkLimits.from_env())
        state.pathway_work = work
    return work


@dataclass(frozen=True)
class ShownProblem:
    """A problem as the editor page shows it: located, in the coordinator's language, with its code."""

    line: int
    column: int
    path: str
    code: str
    message: str
    hint: str


def in_language(problem: Problem, lang: str) -> ShownProblem:
    """The problem in the coordinator's language: the checker's catalogue (engine/problem_texts.py) says it."""
    return ShownProblem(problem.line, problem.column, problem.path, problem.code,
                        problem.message_in(lang), problem.hint_in(lang))

