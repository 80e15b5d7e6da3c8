"""A national day on one box (issue #14): a working day at national volume, in wall time.

Target: 3,400 DDAS signals imported, 60,000 task completions and 100,000 timers fired, interleaved over
a working day (08:00-18:00 Europe/Amsterdam, on an injectable clock moved through the day in steps),
while 50 signed-in web users keep requesting their work list over HTTP: the whole day in under
10 minutes of wall time, with the work list p95 <= 50 ms in every hour of the day.

Usage: `.venv/bin/python bench/bench_national_day.py [--scale 1.0] [--backend postgresql|sqlite]
[--writers 16] [--users 50] [--steps 120] [--pace 0] [--db-nice N]` (`--scale 0.05` for a quick run: every volume times the
scale; the number of web users stays as given; `--pace S`: each step takes at least S seconds, so the
day's work is spread over the wall-time budget instead of done as fast as it goes, which leaves the
CPUs room for the web users). The defaults run the day as fast as it goes, for its wall time; for the
work list's latency the day is spread and written by fewer threads:
`--writers 4 --steps 600 --pace 0.9` (a sweep every simulated minute, as `sweep.every` in production,
the day over 9 of its 10 minutes; results in docs/benchmarks.md). PostgreSQL is `CAREPATH_TEST_POSTGRES_URL` (default the
local server), a fresh schema `carepath_bench_*` that is dropped at the end; SQLite is a fresh file.

Setup (timed separately, not part of the day):

- the shipped pathways and the `test-visits` fixture pathway published (`build_service`);
- team `noord` with the 50 web users `w0` ... `w49` (workers, role `outreach_worker`);
- the caseload to work on: `60,000 x scale` open eviction-prevention cases started at 07:00 on the
  day, each with its doorstep visit assigned to one of 200 outreach workers `user:w0..w199`
  (`bench_engine.bulk_load`: `Engine.start` per case, stored with `repository.insert_case`, 1,000 cases
  a transaction: the rows the service writes; their own timers fall due after the day);
- the timers to fire: test-visits cases started two days earlier, spread minute by minute so that
  their intake reminders (start + 44 h) fall due evenly from 08:00 to 18:00; a reminder due before
  12:00 also has its escalation (+ 6 h, set when the reminder fires) due the same day, so
  `100,000 x scale / 1.4` cases give the timers (`runtime_support.seed_cases`: `Engine.start` and the repository's own row builders,
  written with executemany, as `bench_sweep.py`/`bench_runtime.py` seed). The number of timers due in
  the day is then counted in the database and printed;
- the day's DDAS files (one per step, `integrations.exchange.ddas.samples`: valid fictitious signals
  of GM0014 and GM1966 from the five partners, unique IDs).

The day (timed): the clock is set to 08:00 + k x (10 h / steps) for each step k; within a step, at the
same time,
- `--writers` threads complete the step's share of the doorstep visits through
  `CaseService.complete_task` (results mixed: nobody home 50 %, door not opened 25 %, spoken and help
  declined 15 %, spoken with help and three partner calls 10 %);
- the step's DDAS file is imported as the signal inbox does (`SignalImporter.import_file` +
  `CaseOpener.run`, routes GM0014/GM1966 -> team noord-groningen);
- a sweeper process (its own service and clock, set to the step's moment) runs `sweep_once` in
  batches of 500, the plain function the Prefect sweep flow runs;
and the next step starts when all three are done. All the while a separate load-generator process
runs 50 users, each signed in through the login form of a uvicorn process serving `web.app`, asking
`GET /work` in a loop with a think time (default 1-3 s); every latency is recorded at the client and
placed in the hour of the simulated day it fell in. The web server uses the system clock (the due
dates it shows are relative to the real date; the work list it reads is the day's).

The processes sit as the services of a one-machine installation do (docs/deployment.md, *One
machine*): the web server, the sweeper (the worker's flow run) and the load generator (the users'
browsers, which are not on the server in real use) each start a session of their own, so that the
kernel schedules each as a unit, as systemd's per-service control groups do; this process (the
writers and the signal import) keeps the session it was started in, and PostgreSQL has its own.
Linux's autogroup scheduler (`/proc/sys/kernel/sched_autogroup_enabled`, on in Debian's kernels;
printed with the results) gives each session a fair share of the CPUs, so a sweep's burst takes the
sweeper's share, not the web server's. `--one-session` runs them all in this process's session
instead, as before 7 December 2026 (evening), where the web server's one process competed with
every thread of the day for one group's share. PostgreSQL's backends are all in its own session, one
group among the others; `--db-nice N` sets that group's nice value for the day (the server on this
machine, the bench run as root; restored afterwards): -5 weighs the database three times as much as
each other session, what `CPUWeight=300` against the services' 100 does under systemd.

Everything the day did is counted from what the calls returned (timers: the sweep's `fired`);
nothing is assumed. Run on a shared machine, the load average before and after is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import queue
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import Backend, bulk_load, pct  # noqa: E402
from bench_runtime import analyze  # noqa: E402
from bench_signals import ROUTES  # noqa: E402
from bench_web import _CSRF, start_server, wait_for  # noqa: E402
from sqlalchemy import text  # noqa: E402

from engine.clock import ManualClock  # noqa: E402
from integrations.service import CaseService, build_service  # noqa: E402

LOCAL = ZoneInfo("Europe/Amsterdam")
DAY = date(2026, 3, 4)  # a Wednesday, no holiday
DAY_START = datetime(DAY.year, DAY.month, DAY.day, 8, tzinfo=LOCAL).astimezone(UTC)
DAY_END = datetime(DAY.year, DAY.month, DAY.day, 18, tzinfo=LOCAL).astimezone(UTC)
SIGNALS, COMPLETIONS, TIMERS, USERS = 3400, 60_000, 100_000, 50
WALL_TARGET_S, WORKLIST_P95_TARGET_MS = 600.0, 50.0
REMINDER_AFTER = timedelta(hours=44)  # test-visits: intake due in 2 days, reminder 4 hours before
ESCALATION_AFTER = timedelta(hours=50)  # its first escalation, 2 hours after the due moment
PASSWORD = "bench wachtwoord 2026"
TEAM = "noord"
FORMS: tuple[tuple[float, dict[str, Any]], ...] = (
    (0.50, {"contact_result": "not_home"}),
    (0.75, {"contact_result": "visit_refused"}),
    (0.90, {"contact_result": "spoken", "help_accepted": False}),
    (1.00, {"contact_result": "spoken", "help_accepted": True,
            "partner_consent": ["credit_bank", "housing_corporation", "social_services"]}),
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- setup ------------------------------------------------------------------------------------------


def make_users(service: CaseService, users: int) -> list[str]:
    from argon2 import PasswordHasher

    from integrations.db import accounts
    from integrations.db.engine_factory import write_session

    accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    names = [f"w{n}" for n in range(users)]
    with write_session(service.db) as session:
        accounts.upsert_team(session, TEAM, "Team Noord", "Bench")
        for name in names:
            accounts.create_account(session, username=name, display_name=f"Werker {name}", password=PASSWORD,
                                    role=accounts.AccountRole.WORKER, organisation="Bench", now=service.clock.now(),
                                    teams=[TEAM], pathway_roles=["outreach_worker"], check_rules=False)
    return names


def seed_timers(service: CaseService, target: int) -> int:
    """Test-visits cases whose reminders (and, before 12:00, escalations) fall due over the day."""
    from tests.fixtures.visits_pathway import YAML_PATH, visits_source
    from tests.integration.runtime_support import seed_cases

    service.publish_pathway(visits_source(), str(YAML_PATH))
    minutes = int((DAY_END - DAY_START).total_seconds() // 60)
    early = (ESCALATION_AFTER - REMINDER_AFTER).total_seconds() // 60  # escalation in the day too before this
    cases = round(target / (1 + (minutes - early) / minutes))
    for minute in range(minutes):
        count = cases // minutes + (1 if minute < cases % minutes else 0)
        if count:
            seed_cases(service, count, DAY_START + timedelta(minutes=minute) - REMINDER_AFTER, chunk=2000)
    return cases


def due_in_day(service: CaseService) -> int:
    with service.db.connect() as connection:
        return int(connection.execute(text(
            "SELECT count(*) FROM timers WHERE status = 'pending' AND due_at >= :a AND due_at < :b"),
            {"a": DAY_START, "b": DAY_END}).scalar_one())


def fired_in_day(service: CaseService) -> list[tuple[str, str, int]]:
    """From the database after the day: timers due in the day that fired, per pathway and kind."""
    with service.db.connect() as connection:
        rows = connection.execute(text(
            "SELECT c.pathway_id, t.kind, count(*) FROM timers t JOIN cases c ON c.id = t.case_id "
            "WHERE t.status = 'fired' AND t.due_at >= :a AND t.due_at <= :b GROUP BY 1, 2 ORDER BY 3 DESC"),
            {"a": DAY_START, "b": DAY_END}).all()
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def write_signal_files(folder: Path, total: int, steps: int) -> list[Path | None]:
    """One valid DDAS delivery per step (none for a step without signals), IDs unique over the day."""
    from integrations.exchange.ddas import samples

    rng = random.Random(14)
    groups = [(code, partner) for code in ("0014", "1966") for partner in samples.PARTNERS]
    files: list[Path | None] = []
    number = 1
    for step in range(steps):
        count = total // steps + (1 if step < total % steps else 0)
        if not count:
            files.append(None)
            continue
        per_group: dict[int, list[dict[str, Any]]] = {}
        for n in range(count):
            index = (number + n) % len(groups)
            per_group.setdefault(index, []).append(
                samples.signal(rng, number + n, groups[index][1][2], DAY - timedelta(days=1)))
        number += count
        document = samples.delivery([(groups[i][0], groups[i][1], items) for i, items in sorted(per_group.items())],
                                    DAY - timedelta(days=1), DAY - timedelta(days=1))
        path = folder / f"signalen-{step:04d}.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        files.append(path)
    return files


# --- the sweeper process ----------------------------------------------------------------------------


def own_session(apart: bool) -> None:
    """A session of this process's own (`apart`): the kernel schedules it as a service apart."""
    if apart:
        os.setsid()


def autogroup() -> str:
    """Whether the kernel shares the CPUs between sessions (Linux's autogroup)."""
    try:
        return "on" if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1" else "off"
    except OSError:
        return "not available"


def database_group(service: CaseService) -> Path:
    """The autogroup file of the PostgreSQL server on this machine: its postmaster's, whose session
    holds every backend (`/proc/PID/autogroup`; the parent of this connection's backend)."""
    with service.db.connect() as connection:
        backend_pid = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    stat = Path(f"/proc/{backend_pid}/stat").read_text()
    postmaster = int(stat.rsplit(")", 1)[1].split()[1])  # the fourth field, after the command's brackets
    return Path(f"/proc/{postmaster}/autogroup")


def group_nice(group: Path) -> int:
    """The nice value of an autogroup (`/autogroup-5 nice 0`)."""
    return int(group.read_text().split("nice")[1])


def sweeper(url: str, data_dir: str, conn: Connection, parallel: int | None = None, apart: bool = True) -> None:
    """Its own service and clock; for each moment received: one `sweep_once` (`parallel` batches at a
    time; default the runtime's), answered with its counts."""
    from integrations.runtime.sweep import sweep_once

    own_session(apart)

    clock = ManualClock(DAY_START - timedelta(hours=1))
    service = build_service(url, clock, data_dir=Path(data_dir), publish_shipped=False)
    conn.send("ready")
    while True:
        moment = conn.recv()
        if moment is None:
            break
        clock.set(moment)
        started = time.perf_counter()
        result = sweep_once(service, batch_size=500, parallel=parallel)
        conn.send({"fired": result.fired_total, "late": result.late_total, "failed": result.failed,
                   "seconds": time.perf_counter() - started})
    service.db.dispose()


# --- the web users (load generator process) ---------------------------------------------------------


def load_generator(base: str, names: list[str], think: tuple[float, float], stop: Any, ready: Any,
                   out_path: str, apart: bool = True) -> None:
    """Sign every user in, then `GET /work` per user in a loop until `stop`; (wall time, ms, ok) to out_path."""
    import httpx

    own_session(apart)

    samples: list[tuple[float, float, bool]] = []
    signed_in = [0]

    async def sign_in(client: httpx.AsyncClient, name: str, gate: asyncio.Semaphore) -> None:
        # A few at a time: the server answers a burst of sign-ins beyond its hash queue with 429.
        async with gate:
            for _ in range(30):
                page = await client.get("/login")
                token = _CSRF.search(page.text)
                assert token is not None, "no csrf token on the login page"
                signed = await client.post("/login", data={"username": name, "password": PASSWORD,
                                                           "csrf_token": token.group(1)})
                if signed.status_code == 303:
                    return
                assert signed.status_code == 429, (name, signed.status_code)
                await asyncio.sleep(1.0)
        raise RuntimeError(f"{name}: no sign-in after 30 attempts")

    async def user(name: str, rng: random.Random, gate: asyncio.Semaphore) -> None:
        async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=60) as client:
            await sign_in(client, name, gate)
            await client.get("/work")  # warm-up, not measured
            signed_in[0] += 1
            while signed_in[0] < len(names):
                await asyncio.sleep(0.05)
            ready.set()
            await asyncio.sleep(rng.uniform(0, think[1]))
            while not stop.is_set():
                at = time.time()
                started = time.perf_counter()
                response = await client.get("/work")
                samples.append((at, (time.perf_counter() - started) * 1000, response.status_code == 200))
                await asyncio.sleep(rng.uniform(*think))

    async def main() -> None:
        gate = asyncio.Semaphore(4)
        await asyncio.gather(*(user(name, random.Random(n), gate) for n, name in enumerate(names)))

    asyncio.run(main())
    Path(out_path).write_text(json.dumps(samples), encoding="utf-8")


# --- the day ----------------------------------------------------------------------------------------


@dataclass
class Counts:
    signals: int = 0
    signal_cases: int = 0
    signal_seconds: float = 0.0
    completions: int = 0
    completion_ms: list[float] = field(default_factory=list)
    fired: int = 0
    late: int = 0
    failed: int = 0
    sweep_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def form_for(i: int, rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    return next(dict(form) for limit, form in FORMS if roll < limit)


def run_day(service: CaseService, clock: ManualClock, sweep_conn: Connection, files: list[Path | None],
            completions: int, writers: int, steps: int,
            pace: float = 0.0) -> tuple[Counts, list[tuple[float, datetime]]]:
    from integrations.exchange.ddas.importer import SignalImporter, parse_routes
    from integrations.exchange.ddas.opener import CaseOpener

    counts = Counts()
    lock = threading.Lock()
    work: queue.Queue[tuple[str, str, dict[str, Any]] | None] = queue.Queue()

    def writer() -> None:
        while True:
            item = work.get()
            try:
                if item is None:
                    return
                task_id, actor, form = item
                started = time.perf_counter()
                service.complete_task(task_id, form, actor=actor)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    counts.completions += 1
                    counts.completion_ms.append(elapsed)
            except Exception as exc:  # counted and reported; the day goes on
                with lock:
                    counts.errors.append(f"complete {item[0] if item else ''}: {exc!r}")
            finally:
                work.task_done()

    threads = [threading.Thread(target=writer, daemon=True) for _ in range(writers)]
    for thread in threads:
        thread.start()
    rng = random.Random(7)
    order = list(range(completions))
    rng.shuffle(order)
    routes = parse_routes(ROUTES)
    step_length = (DAY_END - DAY_START) / steps
    marks: list[tuple[float, datetime]] = []  # (wall time, simulated moment) at each step's start
    given = 0
    for step in range(steps):
        step_started = time.perf_counter()
        moment = DAY_START + step * step_length
        clock.set(moment)
        marks.append((time.time(), moment))
        sweep_conn.send(moment)
        share = completions * (step + 1) // steps - given
        for i in order[given:given + share]:
            work.put((f"B{i:07d}.2", f"user:w{i % 200}", form_for(i, rng)))
        given += share
        path = files[step]
        if path is not None:
            started = time.perf_counter()
            try:
                report = SignalImporter(service, routes, keep_outcomes=True).import_file(path)
                if report.errors:
                    counts.errors.append(f"{path.name}: {report.errors[:2]}")
                else:
                    counts.signals += report.signals
                    counts.signal_cases += CaseOpener(service, routes).run().opened
            except Exception as exc:
                counts.errors.append(f"import {path.name}: {exc!r}")
            counts.signal_seconds += time.perf_counter() - started
        work.join()
        swept = sweep_conn.recv()
        counts.fired += swept["fired"]
        counts.late += swept["late"]
        counts.failed += swept["failed"]
        counts.sweep_seconds += swept["seconds"]
        if step % max(1, steps // 10) == 0:
            log(f"{moment.astimezone(LOCAL):%H:%M}: {counts.completions} completions, {counts.fired} timers, "
                f"{counts.signals} signals")
        rest = pace - (time.perf_counter() - step_started)
        if rest > 0:  # --pace: the step's work spread over its share of the wall-time budget
            time.sleep(rest)
    # The last moment of the day: what came due in the final step is fired too.
    clock.set(DAY_END)
    marks.append((time.time(), DAY_END))
    sweep_conn.send(DAY_END)
    swept = sweep_conn.recv()
    counts.fired += swept["fired"]
    counts.late += swept["late"]
    counts.failed += swept["failed"]
    counts.sweep_seconds += swept["seconds"]
    marks.append((time.time(), DAY_END))
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join()
    return counts, marks


def hour_of(at: float, marks: list[tuple[float, datetime]]) -> int | None:
    """The local hour of the simulated day a wall-clock moment fell in (None: outside the day)."""
    if at < marks[0][0] or at >= marks[-1][0]:
        return None
    current = marks[0][1]
    for wall, moment in marks:
        if wall > at:
            break
        current = moment
    return min(current.astimezone(LOCAL).hour, 17)


# --- the report -------------------------------------------------------------------------------------


def phase_table(path: Path) -> str:
    """The work list's phases as the web server timed them (`--phases`), over the whole run."""
    from web_phases import read, summary

    samples = read(str(path))
    lines = ["", f"The work list in the web server ({len(samples):,} requests, the whole run; wall time, and the "
             "thread's CPU time where it says cpu):", "", "| phase | p50 (ms) | p95 (ms) | p99 (ms) |",
             "| --- | ---: | ---: | ---: |"]
    lines += [f"| {name} | {p50:.1f} | {p95:.1f} | {p99:.1f} |" for name, p50, p95, p99 in summary(samples)]
    return "\n".join(lines)


def report(args: argparse.Namespace, setup: dict[str, Any], counts: Counts, wall: float,
           samples: list[tuple[float, float, bool]], marks: list[tuple[float, datetime]],
           load: tuple[float, float]) -> tuple[str, bool]:
    targets = {"signals": round(SIGNALS * args.scale), "completions": round(COMPLETIONS * args.scale),
               "timers": round(TIMERS * args.scale)}
    in_day = [(hour_of(at, marks), ms, ok) for at, ms, ok in samples]
    day_ms = [ms for hour, ms, _ in in_day if hour is not None]
    failed_requests = sum(1 for hour, _, ok in in_day if hour is not None and not ok)
    by_hour: dict[int, list[float]] = {}
    for hour, ms, _ in in_day:
        if hour is not None:
            by_hour.setdefault(hour, []).append(ms)
    p95 = pct(day_ms, 0.95) if day_ms else float("nan")
    worst_hour = max((pct(v, 0.95) for v in by_hour.values()), default=float("nan"))
    wall_target = WALL_TARGET_S * args.scale
    met = {
        "signals": counts.signals >= targets["signals"],
        "completions": counts.completions >= targets["completions"],
        "timers": counts.fired >= targets["timers"],
        "wall": wall < wall_target,
        "worklist": bool(day_ms) and p95 <= WORKLIST_P95_TARGET_MS and worst_hour <= WORKLIST_P95_TARGET_MS,
        "errors": not counts.errors and not counts.failed and not failed_requests,
    }

    def yes(ok: bool) -> str:
        return "yes" if ok else "NO"

    cmd = " ".join(["bench/bench_national_day.py", *sys.argv[1:]])
    lines = [
        f"`{cmd}` (writers {args.writers}, {len(marks) - 2} steps, {args.users} web users, think time "
        f"{args.think_min:g}-{args.think_max:g} s, {args.web_workers} uvicorn process(es)"
        f", {'all in one session' if args.one_session else 'web, sweeper and web users each in a session of its own'}"
        f" (autogroup {autogroup()})"
        f"{f', PostgreSQL in an autogroup at nice {args.db_nice}' if args.db_nice is not None else ''}"
        f"{f', each step at least {args.pace:g} s' if args.pace else ''}). "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"load average {load[0]:.2f} before the day, {load[1]:.2f} after it (the machine is shared).",
        "",
        f"Setup (not timed in the day): {setup['seconds']:.0f} s; {setup['cases']:,} open eviction-prevention "
        f"cases (doorstep visits to complete, `bulk_load`, {setup['load_s']:.0f} s), {setup['timer_cases']:,} "
        f"test-visits cases (`seed_cases`: engine + repository row builders, executemany, {setup['seed_s']:.0f} s) "
        f"with {setup['due']:,} timers due "
        f"between 08:00 and 18:00, {args.users} web users; the open caseload at 08:00 holds "
        f"{setup['open_tasks']:,} open tasks.",
        "",
        "| | done | target | per s of wall time | met |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| wall time of the day (s) | {wall:.1f} | < {wall_target:.0f} | | {yes(met['wall'])} |",
        f"| DDAS signals imported (cases opened: {counts.signal_cases:,}) | {counts.signals:,} | "
        f"{targets['signals']:,} | {counts.signals / wall:.1f} | {yes(met['signals'])} |",
        f"| task completions (`complete_task`, p95 {pct(counts.completion_ms, 0.95) if counts.completion_ms else 0:.0f} "
        f"ms) | {counts.completions:,} | {targets['completions']:,} | {counts.completions / wall:.0f} | "
        f"{yes(met['completions'])} |",
        f"| timers fired (`sweep_once`; {counts.late:,} late) | {counts.fired:,} | {targets['timers']:,} | "
        f"{counts.fired / wall:.0f} | {yes(met['timers'])} |",
        f"| work-list requests (`GET /work`, {failed_requests} not 200) | {len(day_ms):,} | | "
        f"{len(day_ms) / wall:.1f} | |",
        f"| work list p50 / p95 / max (ms) | {pct(day_ms, 0.5) if day_ms else 0:.0f} / {p95:.0f} / "
        f"{max(day_ms, default=0):.0f} | p95 <= {WORKLIST_P95_TARGET_MS:.0f} | | {yes(met['worklist'])} |",
        "",
        "| hour of the day | requests | p50 (ms) | p95 (ms) | max (ms) |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[f"| {hour:02d}:00-{hour + 1:02d}:00 | {len(v):,} | {pct(v, 0.5):.0f} | {pct(v, 0.95):.0f} | {max(v):.0f} |"
          for hour, v in sorted(by_hour.items())],
        "",
        "Timers due in the day that fired, per pathway and kind (counted in the database afterwards): "
        + ", ".join(f"{p} {k} {n:,}" for p, k, n in setup["fired_in_day"]) + ".",
        "",
        f"Wall time spent in each activity (they overlap): signal import {counts.signal_seconds:.1f} s, "
        f"sweeps {counts.sweep_seconds:.1f} s. Errors: {len(counts.errors)} "
        f"(failed timers {counts.failed}).",
    ]
    if counts.errors:
        lines += ["", "First errors: " + "; ".join(counts.errors[:3])]
    return "\n".join(lines), all(met.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--steps", type=int, default=120, help="clock steps through the day")
    parser.add_argument("--pace", type=float, default=0.0,
                        help="each step lasts at least this many seconds of wall time (0: as fast as it goes); "
                             "4.5 x 120 steps spreads the day over 9 of the 10 minutes the target allows")
    parser.add_argument("--web-workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--sweep-parallel", type=int, default=None,
                        help="batches the sweeper fires at a time (sweep.parallel; default the runtime's, 2)")
    parser.add_argument("--one-session", action="store_true",
                        help="run the web server, the sweeper and the web users in this process's session "
                             "(before 7 December 2026 evening) instead of each in its own, as services are")
    parser.add_argument("--phases", action="store_true",
                        help="time the work list's phases in the web server too (bench/web_phases.py)")
    parser.add_argument("--db-nice", type=int, default=None,
                        help="during the day, the nice value of the PostgreSQL server's autogroup (the server on "
                             "this machine, run as root; restored afterwards): -5 gives the database three times "
                             "the CPU weight of each other session, as systemd's CPUWeight=300 against 100")
    parser.add_argument("--think-min", type=float, default=1.0)
    parser.add_argument("--think-max", type=float, default=3.0)
    args = parser.parse_args()
    completions = round(COMPLETIONS * args.scale)
    tmp = Path(tempfile.mkdtemp(prefix="carepath-national-"))
    backend = Backend(args.backend, tmp)
    spawn = mp.get_context("spawn")
    server = None
    sweep_process = generator = None
    restore: tuple[Path, int] | None = None
    try:
        started = time.perf_counter()
        clock = ManualClock(DAY_START - timedelta(hours=1))
        service = build_service(backend.url, clock, data_dir=tmp)
        names = make_users(service, args.users)
        log(f"loading {completions:,} eviction-prevention cases ...")
        load_s = bulk_load(service, completions)
        log(f"loaded in {load_s:.0f} s; seeding the timers ...")
        seeded = time.perf_counter()
        timer_cases = seed_timers(service, round(TIMERS * args.scale))
        seed_s = time.perf_counter() - seeded
        log(f"seeded in {seed_s:.0f} s")
        files = write_signal_files(tmp, round(SIGNALS * args.scale), args.steps)
        analyze(service)
        with service.db.connect() as connection:
            open_tasks = int(connection.execute(text("SELECT count(*) FROM tasks WHERE status = 'open'")).scalar_one())
        setup = {"cases": completions, "timer_cases": timer_cases, "due": due_in_day(service), "open_tasks": open_tasks,
                 "load_s": load_s, "seed_s": seed_s}

        sweep_conn, child_conn = spawn.Pipe()
        apart = not args.one_session
        sweep_process = spawn.Process(target=sweeper, args=(backend.url, str(tmp), child_conn, args.sweep_parallel,
                                                            apart), daemon=True)
        sweep_process.start()
        from web.testing import free_port

        port = free_port()
        phases = tmp / "phases.jsonl" if args.phases else None
        server = start_server(backend.url, port, args.web_workers, new_session=apart, phases=phases)
        base = f"http://127.0.0.1:{port}"
        asyncio.run(wait_for(base, time.monotonic() + 120))
        assert sweep_conn.recv() == "ready"
        stop, ready = spawn.Event(), spawn.Event()
        out_path = tmp / "worklist.json"
        generator = spawn.Process(target=load_generator, args=(base, names, (args.think_min, args.think_max), stop,
                                                                ready, str(out_path), apart), daemon=True)
        generator.start()
        deadline = time.monotonic() + 300
        while not ready.wait(1.0):
            if not generator.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web users did not all sign in (see the load generator's error above)")
        setup["seconds"] = time.perf_counter() - started
        log(f"setup done in {setup['seconds']:.0f} s: {setup}; the day begins")

        if args.db_nice is not None:
            if args.backend != "postgresql":
                raise SystemExit("--db-nice: PostgreSQL only")
            group = database_group(service)
            restore = (group, group_nice(group))
            group.write_text(str(args.db_nice))
        load_before = os.getloadavg()[0]
        day_started = time.perf_counter()
        counts, marks = run_day(service, clock, sweep_conn, files, completions, args.writers, args.steps, args.pace)
        wall = time.perf_counter() - day_started
        load_after = os.getloadavg()[0]
        stop.set()
        if restore is not None:
            restore[0].write_text(str(restore[1]))
            restore = None
        setup["fired_in_day"] = fired_in_day(service)
        generator.join(120)
        sweep_conn.send(None)
        sweep_process.join(60)
        samples = [(float(a), float(b), bool(c)) for a, b, c in json.loads(out_path.read_text(encoding="utf-8"))]
        text_out, ok = report(args, setup, counts, wall, samples, marks, (load_before, load_after))
        print(text_out)
        if phases is not None:
            server.terminate()
            server.wait(30)
            server = None
            print(phase_table(phases))
        service.db.dispose()
        return 0 if ok else 1
    finally:
        if restore is not None:
            restore[0].write_text(str(restore[1]))
        for process in (generator, sweep_process):
            if process is not None and process.is_alive():
                process.terminate()
                process.join(10)
        if server is not None:
            server.terminate()
            server.wait(30)
        backend.drop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
