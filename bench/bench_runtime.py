"""Runtime throughput: timer sweeps, catch-up, message dispatch, Prefect's overhead, `carepath serve`.

Run: `.venv/bin/python bench/bench_runtime.py [--runs 3] [--no-write] [--skip-serve]`. Needs
PostgreSQL at `CAREPATH_TEST_POSTGRES_URL` (default the local server; a database `bench_runtime_*`
is created and dropped). Every figure is the median of `--runs` runs measured in this one
invocation (the slowest run in brackets), and the `## Runtime` section of docs/benchmarks.md is
rewritten between its markers; the rest of that file is left alone.

- sweep: N cases started two days ago, each with exactly one due timer (its intake reminder);
  one sweeper (`sweep_once` in this process) or four sweeper processes forked at once.
- catch-up: one hour of backlog at national load: 10,000 timers that came due over the last hour
  (about 4 signals per 1,000 inhabitants per month, each case several timers), one sweeper.
- dispatch: in-app inbox messages (transactional), e-mails to a separate SMTP server process on
  loopback (aiosmtpd), and a case start of the test pathway that queues one message on every
  channel (webhook, e-mail, letter file, export file, inbox).
- Prefect: the same sweep as a flow run (embedded Prefect server, in process, as `carepath serve`
  runs it) and as plain functions.
- serve: start-up time and memory of the two shapes `carepath serve` could have (docs/runtime.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from integrations.clock import SystemClock  # noqa: E402
from integrations.service import CaseService, build_service  # noqa: E402
from tests.fixtures.notices_pathway import ALWAYS_ID  # noqa: E402
from tests.fixtures.visits_pathway import YAML_PATH, visits_source  # noqa: E402
from tests.integration.conftest import empty_tables  # noqa: E402
from tests.integration.runtime_support import (  # noqa: E402
    Worker,
    free_port,
    publish_notices,
    runtime_config,
    seed_cases,
)

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- bench_runtime:begin -->"
END = "<!-- bench_runtime:end -->"
PG_TARGET = 2000.0  # timers per second, one sweeper on PostgreSQL
CATCH_UP_TARGET = 10.0  # seconds for 10,000 overdue timers
CARPATH = [sys.executable, "-m", "integrations.cli"]


# --- plumbing --------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def fmt(values: list[float], digits: int = 0, worst: Callable[[list[float]], float] = min) -> str:
    return f"{median(values):,.{digits}f} ({worst(values):,.{digits}f})"


@contextmanager
def pg_database() -> Iterator[str]:
    base = os.environ.get("CAREPATH_TEST_POSTGRES_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    name = f"bench_runtime_{secrets.token_hex(3)}"
    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fresh(service: CaseService) -> None:
    """Empty every table and publish the test pathways again."""
    empty_tables(service.db)
    service.publish_pathway(visits_source(), str(YAML_PATH))
    publish_notices(service)


def analyze(service: CaseService) -> None:
    """Statistics as autovacuum keeps them in production (a bulk insert into emptied tables leaves
    PostgreSQL's planner thinking they are empty until autovacuum gets round to it)."""
    if service.db.dialect.name == "postgresql":
        with service.db.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()


def make(url: str, work: Path) -> CaseService:
    service = build_service(url, SystemClock(), data_dir=work, publish_shipped=False)
    fresh(service)
    return service


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (MB)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class RssSampler:
    """The peak of `tree_rss_mb(pid)`, sampled every 0.2 s in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, tree_rss_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        return self.peak


def stop_process(process: subprocess.Popen[Any], timeout: float = 40) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- sweeps ----------------------------------------------------------------------------------------


def bench_sweep_one(service: CaseService, cases: int, runs: int) -> list[float]:
    from integrations.runtime.sweep import sweep_once

    rates = []
    for _ in range(runs):
        fresh(service)
        seed_cases(service, cases, datetime.now(UTC) - timedelta(days=2), chunk=2000)
        analyze(service)
        started = time.perf_counter()
        result = sweep_once(service, batch_size=500)
        seconds = time.perf_counter() - started
        assert result.fired_total == cases, result.to_json()
        rates.append(cases / seconds)
    return rates


def bench_sweep_four(service: CaseService, url: str, work: Path, cases: int, runs: int) -> list[float]:
    worker = Worker({"url": url, "data_dir": str(work), "pathways": [["test-visits", 1]],
                     "config": {"sweep": {"batch_size": 500}}})
    rates = []
    try:
        for _ in range(runs):
            fresh(service)
            seed_cases(service, cases, datetime.now(UTC) - timedelta(days=2), chunk=2000)
            analyze(service)
            for _ in range(4):
                worker.command("sweep")  # each forks a sweeper that waits at the start gate
            started = time.perf_counter()
            worker.send("go")
            fired: list[int] = []
            while len(fired) < 4:
                line = worker.next_line(deadline=600)
                if line.startswith("swept "):
                    fired.append(json.loads(line.removeprefix("swept "))["fired"])
            seconds = time.perf_counter() - started
            assert sum(fired) == cases, fired
            rates.append(cases / seconds)
    finally:
        worker.close()
    return rates


def bench_catch_up(service: CaseService, timers: int, runs: int) -> tuple[list[float], int]:
    """`timers` reminders that came due evenly over the last hour; one sweeper fires them all."""
    from integrations.runtime.sweep import sweep_once

    times, late = [], 0
    for _ in range(runs):
        fresh(service)
        now = datetime.now(UTC)
        for minute in range(60):  # reminder = start + 1 day 20 hours
            seed_cases(service, timers // 60 + (minute < timers % 60), now - timedelta(days=1, hours=20, minutes=minute),
                       chunk=2000)
        analyze(service)
        started = time.perf_counter()
        result = sweep_once(service, batch_size=500)
        times.append(time.perf_counter() - started)
        assert result.fired_total == timers, result.to_json()
        late = result.late_total
    return times, late


# --- dispatch --------------------------------------------------------------------------------------


@contextmanager
def receivers() -> Iterator[tuple[int, str]]:
    """An SMTP server and a webhook receiver, each its own process (no GIL shared with the bench)."""
    smtp_port, hook_port = free_port(), free_port()
    smtp = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                             "-l", f"127.0.0.1:{smtp_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hook_code = (
        "import http.server as h\n"
        "class H(h.BaseHTTPRequestHandler):\n"
        "    def do_POST(self):\n"
        "        self.rfile.read(int(self.headers['Content-Length'])); self.send_response(200)\n"
        "        self.send_header('Content-Length', '0'); self.end_headers()\n"
        "    def log_message(self, *a): pass\n"
        f"h.ThreadingHTTPServer(('127.0.0.1', {hook_port}), H).serve_forever()\n")
    hook = subprocess.Popen([sys.executable, "-c", hook_code])
    try:
        deadline = time.monotonic() + 30
        import socket

        for port in (smtp_port, hook_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        yield smtp_port, f"http://127.0.0.1:{hook_port}"
    finally:
        stop_process(smtp, 5)
        stop_process(hook, 5)


def bench_dispatch(service: CaseService, work: Path, smtp_port: int, hook_url: str, cases: int,
                   runs: int) -> dict[str, list[float]]:
    from integrations.runtime.context import build_runtime
    from integrations.runtime.sweep import sweep_once

    config = runtime_config(smtp_port, hook_url, dispatch={"batch_size": 200})
    runtime = build_runtime(data_dir=work, service=service, config=config)
    rates: dict[str, list[float]] = {"inbox": [], "email": [], "all channels": []}
    for _ in range(runs):
        fresh(service)
        seed_cases(service, cases, datetime.now(UTC) - timedelta(days=2), chunk=2000)
        started = time.perf_counter()
        result = runtime.dispatch_once()
        rates["inbox"].append(result.sent["inbox"] / (time.perf_counter() - started))
        assert result.sent["inbox"] == cases, result.to_json()
        sweep_once(service, batch_size=500)  # every case's reminder e-mail
        started = time.perf_counter()
        result = runtime.dispatch_once()
        rates["email"].append(result.sent["email"] / (time.perf_counter() - started))
        assert result.sent["email"] == cases, result.to_json()
        fresh(service)
        seed_cases(service, cases // 5, datetime.now(UTC), pathway_id=ALWAYS_ID, data={"client_name": "X"})
        started = time.perf_counter()
        result = runtime.dispatch_once()
        rates["all channels"].append(result.sent_total / (time.perf_counter() - started))
        assert result.sent_total == 5 * (cases // 5) and not result.failed, result.to_json()
    shutil.rmtree(work / "letters", ignore_errors=True)
    shutil.rmtree(work / "exports", ignore_errors=True)
    return rates


# --- Prefect ----------------------------------------------------------------------------------------


def bench_prefect(work: Path, runs: int, due: int) -> dict[str, Any]:
    """Flow run vs plain function, in this process with the embedded Prefect server (as serve does)."""
    from integrations.runtime import prefect_env

    prefect_env.configure(work)
    from integrations.runtime.context import build_runtime, install
    from integrations.runtime.flows import call_in_process

    url = f"sqlite:///{work / 'carepath.db'}"
    service = build_service(url, SystemClock(), data_dir=work, publish_shipped=False)
    fresh(service)
    runtime = build_runtime(data_dir=work, service=service, config=runtime_config())
    install(runtime)
    started = time.perf_counter()
    call_in_process("sweep")
    first = time.perf_counter() - started
    out: dict[str, Any] = {"first": first}
    for label, load in (("idle", 0), ("busy", due)):
        flow_times: list[float] = []
        plain_times: list[float] = []
        calls: list[tuple[list[float], Callable[[], dict[str, Any]]]] = [
            (flow_times, lambda: call_in_process("sweep")), (plain_times, lambda: runtime.sweep_once().to_json())]
        for _ in range(runs):
            for times, call in calls:
                if load:
                    fresh(service)
                    seed_cases(service, load, datetime.now(UTC) - timedelta(days=2))
                started = time.perf_counter()
                result = call()
                times.append(time.perf_counter() - started)
                assert result["fired"] == load, result
        out[label] = (flow_times, plain_times)
    return out


# --- serve shapes ----------------------------------------------------------------------------------


def _seeded_data_dir(work: Path) -> dict[str, str]:
    """A data dir with one more case whose inbox message is deliverable: the first dispatch has work."""
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAREPATH_", "PREFECT_"))}
    env.update({"CAREPATH_DATA_DIR": str(work), "CAREPATH_PATHWAYS_DIR": str(YAML_PATH.parent),
                "PYTHONPATH": str(ROOT)})
    (work / "case.json").write_text(json.dumps({"client_name": "X", "concern": "y"}))
    subprocess.run([*CARPATH, "case", "start", "test-visits", "--trigger", "signal", "--data", str(work / "case.json"),
                    "--municipality", "GM0014"],
                   env=env, check=True, capture_output=True, timeout=120)
    return env


def bench_serve_embedded(work: Path) -> dict[str, float]:
    """`carepath serve`: flows called on carepath's own timer against the embedded Prefect server."""
    env = _seeded_data_dir(work)
    started = time.perf_counter()
    serve = subprocess.Popen([*CARPATH, "serve", "--port", "0"], env=env, cwd=work,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = RssSampler(serve.pid)
    try:
        assert serve.stdout is not None and serve.stderr is not None
        serve.stdout.readline()
        listening = time.perf_counter() - started
        for line in serve.stderr:
            if "dispatch via prefect" in line:
                break
        first_flow = time.perf_counter() - started
        settled = tree_rss_mb(serve.pid)
    finally:
        peak = sampler.stop()
        stop_process(serve)
    return {"listening": listening, "first flow": first_flow, "rss": settled, "peak": peak}


def bench_serve_server(work: Path) -> dict[str, float]:
    """The alternative: `prefect server start` as a child process and served deployments."""
    env = _seeded_data_dir(work)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    prefect_env: dict[str, str] = {
        **env, "PREFECT_HOME": str(work / "prefect"), "TMPDIR": str(work / "tmp"),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{work / 'prefect' / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    (work / "tmp").mkdir(exist_ok=True)
    started = time.perf_counter()
    server = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start", "--host",
                               "127.0.0.1", "--port", str(port)], env=prefect_env, cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server_rss = RssSampler(server.pid)
    served: subprocess.Popen[Any] | None = None
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{api}/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        healthy = time.perf_counter() - started
        serve_code = (
            "from integrations.runtime.flows import sweep_flow, dispatch_flow\n"
            "from prefect import serve\n"
            "serve(sweep_flow.to_deployment(name='carepath-sweep', interval=60),\n"
            "      dispatch_flow.to_deployment(name='carepath-dispatch', interval=60))\n")
        served = subprocess.Popen([sys.executable, "-c", serve_code], env={**prefect_env, "PREFECT_API_URL": api},
                                  cwd=work, stdout=open(work / "served.log", "ab"),  # noqa: SIM115
                                  stderr=subprocess.STDOUT)
        served_rss = RssSampler(served.pid)
        from prefect.client.orchestration import get_client
        from prefect.settings import temporary_settings

        with temporary_settings(updates={"api.url": api}), get_client(sync_client=True) as client:
            known = {r.id for r in client.read_flow_runs()}  # a restart finds the first start's runs
            deadline = time.monotonic() + 600
            while True:
                runs = [r for r in client.read_flow_runs() if r.id not in known]
                if any(r.state and r.state.is_completed() and "dispatch" in r.name for r in runs):
                    break
                if served.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"served deployments: no dispatch run; see {work / 'served.log'}: "
                                       + (work / "served.log").read_text()[-2000:])
                time.sleep(0.2)
        first_flow = time.perf_counter() - started
        settled = tree_rss_mb(server.pid) + tree_rss_mb(served.pid)
        peak = server_rss.stop() + served_rss.stop()
    finally:
        if served is not None:
            stop_process(served)
        stop_process(server)
    return {"listening": healthy, "first flow": first_flow, "rss": settled, "peak": peak}


# --- report ----------------------------------------------------------------------------------------


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up child processes and databases
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", type=int, default=10_000, help="due timers per sweep run")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--skip-serve", action="store_true", help="leave out the serve-shape comparison")
    args = parser.parse_args()
    runs, cases = args.runs, args.cases
    work = Path(tempfile.mkdtemp(prefix="bench_runtime_"))
    rows: list[str] = []
    notes: list[str] = []
    try:
        with pg_database() as pg_url:
            pg = make(pg_url, work / "pg")
            one_pg = bench_sweep_one(pg, cases, runs)
            print("sweep, 1 sweeper, PostgreSQL", fmt(one_pg), flush=True)
            four_pg = bench_sweep_four(pg, pg_url, work / "pg", cases, runs)
            print("sweep, 4 sweepers, PostgreSQL", fmt(four_pg), flush=True)
            catch_pg, late_pg = bench_catch_up(pg, 10_000, runs)
            print("catch-up PostgreSQL", fmt(catch_pg, 2, max), flush=True)
            with receivers() as (smtp_port, hook_url):
                dispatch_pg = bench_dispatch(pg, work / "pg", smtp_port, hook_url, 2000, runs)
            print("dispatch PostgreSQL", {k: fmt(v) for k, v in dispatch_pg.items()}, flush=True)
            pg.db.dispose()
        sqlite = make(f"sqlite:///{work / 'sqlite' / 'carepath.db'}", work / "sqlite")
        one_sqlite = bench_sweep_one(sqlite, cases, runs)
        print("sweep, 1 sweeper, SQLite", fmt(one_sqlite), flush=True)
        catch_sqlite, late_sqlite = bench_catch_up(sqlite, 10_000, runs)
        print("catch-up SQLite", fmt(catch_sqlite, 2, max), flush=True)
        with receivers() as (smtp_port, hook_url):
            dispatch_sqlite = bench_dispatch(sqlite, work / "sqlite", smtp_port, hook_url, 2000, runs)
        print("dispatch SQLite", {k: fmt(v) for k, v in dispatch_sqlite.items()}, flush=True)

        prefect = bench_prefect(work / "prefect", max(runs, 5), 2000)
        print("prefect", {k: v for k, v in prefect.items()}, flush=True)
        serve_rows: list[tuple[str, dict[str, float]]] = []
        if not args.skip_serve:
            embedded = work / "serve-embedded"
            serve_rows.append(("`carepath serve` (chosen): flows on carepath's timer, supervised Prefect server; "
                               "first start", bench_serve_embedded(embedded)))
            serve_rows.append(("the same, started again on its data dir", bench_serve_embedded(embedded)))
            print(serve_rows[-2:], flush=True)
            server = work / "serve-server"
            serve_rows.append(("`prefect server start` child + served deployments; first start",
                               bench_serve_server(server)))
            serve_rows.append(("the same, started again on its data dir", bench_serve_server(server)))
            print(serve_rows[-2:], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows += [
        f"| timers fired per second, 1 sweeper, PostgreSQL | {fmt(one_pg)} | >= {PG_TARGET:,.0f} |",
        f"| timers fired per second, 4 sweeper processes, PostgreSQL | {fmt(four_pg)} | |",
        f"| timers fired per second, 1 sweeper, SQLite | {fmt(one_sqlite)} | |",
        f"| catch-up: 10,000 timers due over the last hour, 1 sweeper, PostgreSQL (s) | {fmt(catch_pg, 2, max)} "
        f"| < {CATCH_UP_TARGET:.0f} |",
        f"| catch-up, same, SQLite (s) | {fmt(catch_sqlite, 2, max)} | < {CATCH_UP_TARGET:.0f} |",
    ]
    for backend, rates in (("PostgreSQL", dispatch_pg), ("SQLite", dispatch_sqlite)):
        rows += [
            f"| messages per second, in-app inbox, {backend} | {fmt(rates['inbox'])} | |",
            f"| messages per second, e-mail over SMTP (loopback server process), {backend} | {fmt(rates['email'])} | |",
            f"| messages per second, one case start's five channels (webhook, e-mail, letter, export, inbox), "
            f"{backend} | {fmt(rates['all channels'])} | |",
        ]
    idle_flow, idle_plain = prefect["idle"]
    busy_flow, busy_plain = prefect["busy"]
    rows += [
        f"| sweep with nothing due: flow run / plain function (s) | {median(idle_flow):.3f} / {median(idle_plain):.3f} | |",
        f"| sweep of 2,000 timers: flow run / plain function (s) | {median(busy_flow):.2f} / {median(busy_plain):.2f} | |",
        f"| first flow run of a process (starts the embedded Prefect server) (s) | {prefect['first']:.1f} | |",
    ]
    pg_verdict = "meets" if median(one_pg) >= PG_TARGET else "MISSES"
    four_verdict = "meets" if median(four_pg) >= PG_TARGET else "misses"
    catch_verdict = "meets" if max(median(catch_pg), median(catch_sqlite)) < CATCH_UP_TARGET else "MISSES"
    notes += [
        f"Targets: >= {PG_TARGET:,.0f} timers/s on PostgreSQL: one sweeper {pg_verdict} it, four sweepers "
        f"{four_verdict} it; catch-up of 10,000 timers in < {CATCH_UP_TARGET:.0f} s: {catch_verdict} it. "
        f"In the catch-up {late_pg:,} (PostgreSQL) and {late_sqlite:,} (SQLite) of the 10,000 were marked late "
        f"(due more than 10 minutes before the sweep).",
        f"Prefect's own cost per sweep run is the difference of the flow and plain rows: about "
        f"{(median(idle_flow) - median(idle_plain)) * 1000:.0f} ms with nothing due and "
        f"{(median(busy_flow) - median(busy_plain)) * 1000:.0f} ms for 2,000 timers (a flow run, two or three task "
        f"runs, renaming and tagging the run; heartbeat off).",
    ]
    serve_lines: list[str] = []
    if not args.skip_serve:
        serve_lines = [
            "", "`carepath serve` shapes (one run each; a fresh data dir with one deliverable message; "
            "memory = resident set of the process tree):", "",
            "| shape | listening / healthy (s) | first flow run done (s) | memory after it (MB) | peak (MB) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ] + [f"| {name} | {r['listening']:.1f} | {r['first flow']:.1f} | {r['rss']:.0f} | {r['peak']:.0f} |"
             for name, r in serve_rows]
    section = "\n".join([
        "## Runtime", "", BEGIN,
        f"`bench/bench_runtime.py`: median of {runs} runs in one invocation (in brackets: the slowest run), "
        f"{cases:,} due timers per sweep run, batches of 500. Python {platform.python_version()} on "
        f"{platform.machine()}, {os.cpu_count()} CPUs shared by the application, PostgreSQL 15 and the receivers; "
        f"load average {os.getloadavg()[0]:.2f} when the run ended (other work on a shared machine inflates "
        "the figures).", "",
        "| measure | median (slowest) | target |", "| --- | ---: | ---: |", *rows, "", *notes, *serve_lines,
        END, ""])
    print(section)
    if not args.no_write:
        write_section(section)
    return 0 if pg_verdict == "meets" and catch_verdict == "meets" else 1


def write_section(section: str) -> None:
    """Replace `## Runtime` (heading to end marker); append it when absent."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        start = text.rfind("## Runtime", 0, text.index(BEGIN))
        start = start if start != -1 else text.index(BEGIN)
        stop = text.index(END) + len(END)
        text = text[:start] + section.rstrip("\n") + text[stop:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
