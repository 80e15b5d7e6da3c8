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
import re
import threading
import time
from collections.abc import Callable, Mapping
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


# ---------------------------------------------------------------- the checker's words in Dutch
# The checker (engine/schema_check.py, engine/semantic_check.py, engine/durations.py) words its problems in
# English, as the command line shows them. The editor page shows them in the coordinator's language: the
# frequent forms below are said in Dutch; a message of another form keeps the checker's words.

_TYPES = {"text": "tekst", "a list": "een lijst", "a mapping (key: value lines)": "een mapping (regels sleutel: waarde)",
          "a whole number": "een heel getal", "a number": "een getal", "true or false": "true of false",
          "empty": "leeg"}
_FLOW = re.compile(r"the main flow|track `([^`]+)`")


def _or(text: str) -> str:
    """`a`, `b` or `c` -> `a`, `b` of `c`."""
    return re.sub(r" or (?=`|'|\w)", " of ", text)


def _flow(text: str) -> str:
    return _FLOW.sub(lambda m: "de hoofdroute" if m.group(1) is None else f"probleemgebied `{m.group(1)}`", text)


def _value(text: str) -> str:
    """The checker's description of a value (engine.schema_check.describe) in Dutch."""
    if m := re.fullmatch(r"the text (`.*`)", text, re.S):
        return f"de tekst {m.group(1)}"
    if m := re.fullmatch(r"the number (\S+)", text):
        return f"het getal {m.group(1)}"
    return {"a list": "een lijst", "a mapping": "een mapping", "empty": "leeg"}.get(text, text)


def _owner(text: str) -> str:
    if text == "the pathway":
        return "het zorgpad"
    if m := re.fullmatch(r"the params of step (`[^`]+`)", text):
        return f"de params van stap {m.group(1)}"
    if m := re.fullmatch(r"each entry of (`[^`]+`)", text):
        return f"elk item van {m.group(1)}"
    return re.sub(r"^step `", "stap `", text)


def _types(text: str) -> str:
    return " of ".join(_TYPES.get(part, part) for part in text.split(" or "))


_UNITS = "minutes, hours, days, working days, working weeks, weeks or months"
_UNITS_NL = "minuten, uren, dagen, werkdagen, werkweken, weken of maanden (of in het Engels)"
_MESSAGES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"unknown key `(.+)`"), lambda m: f"onbekende sleutel `{m[1]}`"),
    (re.compile(r"`(.+?)` is missing: a (\S+) step needs it"), lambda m: f"`{m[1]}` ontbreekt: een stap van soort {m[2]} heeft het nodig"),
    (re.compile(r"`(.+?)` is missing: (.+) needs it"), lambda m: f"`{m[1]}` ontbreekt: nodig voor {_owner(m[2])}"),
    (re.compile(r"`(.+?)` does not apply to a (\S+) step"), lambda m: f"`{m[1]}` hoort niet bij een stap van soort {m[2]}"),
    (re.compile(r"`(.+?)` needs `(.+?)` as well"), lambda m: f"`{m[1]}` heeft ook `{m[2]}` nodig"),
    (re.compile(r"must be (`.+`), not (.+)", re.S), lambda m: f"moet {m[1]} zijn, niet {_value(m[2])}"),
    (re.compile(r"must be (.+?), not (.+)", re.S), lambda m: f"moet {_types(m[1])} zijn, niet {_value(m[2])}"),
    (re.compile(r"(.+) is not allowed here; use (.+)", re.S), lambda m: f"{_value(m[1])} mag hier niet; gebruik {_or(m[2])}"),
    (re.compile(r"is not allowed here"), lambda m: "mag hier niet"),
    (re.compile(r"`(.+)` is not a valid pathway id: use lower-case letters, digits and -, starting with a letter "
                r"\(2-63 characters\)"),
     lambda m: f"`{m[1]}` is geen geldig id van een zorgpad: gebruik kleine letters, cijfers en -, beginnend met een "
               "letter (2 tot 63 tekens)"),
    (re.compile(r"`(.+)` is not a valid id: use lower-case letters, digits and _, starting with a letter"),
     lambda m: f"`{m[1]}` is geen geldig id: gebruik kleine letters, cijfers en _, beginnend met een letter"),
    (re.compile(r"`(.+)` does not have the expected form", re.S), lambda m: f"`{m[1]}` heeft niet de verwachte vorm"),
    (re.compile(r"(.+) is not a valid date", re.S), lambda m: f"{_value(m[1])} is geen geldige datum"),
    (re.compile(r"the list is empty; add at least one item"), lambda m: "de lijst is leeg; zet er minstens één item in"),
    (re.compile(r"the list needs at least (\d+) items"), lambda m: f"de lijst heeft minstens {m[1]} items nodig"),
    (re.compile(r"the list may have at most (\d+) items"), lambda m: f"de lijst mag hooguit {m[1]} items hebben"),
    (re.compile(r"must not be empty"), lambda m: "mag niet leeg zijn"),
    (re.compile(r"must be at least (\d+) characters"), lambda m: f"moet minstens {m[1]} tekens lang zijn"),
    (re.compile(r"must be at most (\d+) characters"), lambda m: f"mag hooguit {m[1]} tekens lang zijn"),
    (re.compile(r"must be at least (\S+)"), lambda m: f"moet minstens {m[1]} zijn"),
    (re.compile(r"must be more than (\S+)"), lambda m: f"moet meer dan {m[1]} zijn"),
    (re.compile(r"must be at most (\S+)"), lambda m: f"mag hooguit {m[1]} zijn"),
    (re.compile(r"must be less than (\S+)"), lambda m: f"moet minder dan {m[1]} zijn"),
    (re.compile(r"unknown step `(.+?)`( in the main flow)?"),
     lambda m: f"onbekende stap `{m[1]}`" + (" in de hoofdroute" if m[2] else "")),
    (re.compile(r"unknown role `(.+?)`"), lambda m: f"onbekende rol `{m[1]}`"),
    (re.compile(r"step `(.+?)` is in (.+); a step can only go to steps of its own flow \((.+)\)"),
     lambda m: f"stap `{m[1]}` staat in {_flow(m[2])}; een stap kan alleen naar stappen van de eigen route "
               f"({_flow(m[3])})"),
    (re.compile(r"'(.*)' is not a duration: write a whole number and a unit, e\.g\. '5 working days', '3 weeks', "
                r"'48 hours'", re.S),
     lambda m: f"'{m[1]}' is geen duur: schrijf een heel getal en een eenheid, bijvoorbeeld '5 werkdagen', "
               "'3 weken', '48 uur'"),
    (re.compile(rf"unknown unit '(.*)' in '(.*)': use {_UNITS}", re.S),
     lambda m: f"onbekende eenheid '{m[1]}' in '{m[2]}': gebruik {_UNITS_NL}"),
    (re.compile(r"the file is empty"), lambda m: "het bestand is leeg"),
    (re.compile(r"YAML syntax error: (.+)", re.S), lambda m: f"YAML-syntaxfout: {m[1]}"),
]
_HINTS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"did you mean `(.+)`\?"), lambda m: f"bedoel je `{m[1]}`?"),
    (re.compile(r"allowed here: (.+)", re.S), lambda m: f"hier mag: {_or(m[1])}"),
    (re.compile(r"put the value in quotes if it is meant as text"),
     lambda m: "zet de waarde tussen aanhalingstekens als het tekst moet zijn"),
    (re.compile(r"for example (`.+`)", re.S), lambda m: f"bijvoorbeeld {m[1]}"),
    (re.compile(r"write a date as YYYY-MM-DD, e\.g\. 2026-10-17"),
     lambda m: "schrijf een datum als JJJJ-MM-DD, bijvoorbeeld 2026-10-17"),
    (re.compile(r"start with a whole number, e\.g\. '5 working days'"),
     lambda m: "begin met een heel getal, bijvoorbeeld '5 werkdagen'"),
    (re.compile(r"steps of (the main flow|track `[^`]+`): (.+)", re.S), lambda m: f"stappen van {_flow(m[1])}: {_or(m[2])}"),
    (re.compile(r"name a step of the main flow"), lambda m: "noem een stap van de hoofdroute"),
]


def _said(text: str, forms: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]) -> str:
    for pattern, dutch in forms:
        if m := pattern.fullmatch(text):
            return dutch(m)
    return text


def in_language(problem: Problem, lang: str) -> Problem:
    """The problem as the editor page shows it: in Dutch for `nl` (the frequent forms), else as checked."""
    if lang != "nl":
        return problem
    return replace(problem, message=_said(problem.message, _MESSAGES), hint=_said(problem.hint, _HINTS))
