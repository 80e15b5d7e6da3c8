"""What one "Mijn werk" request costs the web process (issue #14): CPU, latency and database round trips.

Usage: `python bench/bench_worklist.py [--cases 12000] [--requests 300] [--busy N] [--busy-db N] [--apart]
[--source DIR ...]`
(`--source`: checkouts to measure side by side on the same database, e.g. an older commit unpacked with
`git archive REV | tar -x -C DIR`; default this checkout).

On PostgreSQL (`CAREPATH_TEST_POSTGRES_URL`, a fresh schema dropped at the end): team `noord` with 50
workers and `--cases` open eviction-prevention cases whose doorstep visits are assigned to 200 workers
(`bench_engine.bulk_load`, as the national day), so worker `w0` has a full first page of 50 tasks. For
each checkout, one uvicorn process of `web.app` in its own interpreter; `w0` signs in, asks `GET /work`
50 times to warm up, then `--requests` times one after another. Printed per checkout:

- the web process's CPU per request (user + system from /proc, so it counts every thread);
- latency p50 and p95 at the client;
- the database round trips of one request: the sends on the process's PostgreSQL socket while 20
  requests run, counted with `strace` (Debian's strace; skipped with a note when it is missing).

`--busy N` and `--busy-db N` measure the same requests on CPUs that are taken, as in the national
day: while the timed requests run, N processes spin in Python and N connections keep PostgreSQL
computing (a series summed over and over), all at normal priority and in this process's session.
`--apart` starts the web server in a session of its own, as a service of its own is (Linux's
autogroup scheduler shares the CPUs between sessions; docs/deployment.md, *One machine*); without
it the server shares this process's session with the spinning processes.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import Backend, bulk_load  # noqa: E402
from bench_national_day import DAY_START, PASSWORD, make_users  # noqa: E402
from bench_web import _CSRF, wait_for  # noqa: E402

from engine.clock import ManualClock  # noqa: E402
from integrations.service import build_service  # noqa: E402

_SEND = re.compile(r"^\d+\s+(?:sendto|send|write|writev)\((\d+)")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def round_trips(pid: int, ask: object, requests: int, work: Path) -> float | None:
    """Sends on the busiest socket other than the HTTP ones, per request (None without strace)."""
    if shutil.which("strace") is None:
        return None
    out = work / "strace.txt"
    tracer = subprocess.Popen(["strace", "-f", "-e", "trace=sendto,send,write,writev", "-o", str(out), "-p", str(pid)],
                              stderr=subprocess.DEVNULL)
    time.sleep(1.5)  # attached to every thread
    for _ in range(requests):
        ask()  # type: ignore[operator]
    time.sleep(0.5)
    tracer.terminate()
    tracer.wait()
    per_fd = collections.Counter(m.group(1) for line in out.read_text().splitlines() if (m := _SEND.match(line)))
    # The HTTP socket and the event loop's wake-up pipe see two sends a request; the database
    # connection (the pool hands the same one back, LIFO) sees one a round trip.
    return per_fd.most_common(1)[0][1] / requests if per_fd else 0.0


def _spin() -> None:
    while True:
        pass


def _query_forever(url: str) -> None:
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as conn:
        while True:
            conn.execute(text("SELECT sum(i) FROM generate_series(1, 2000000) AS i")).scalar()


class Hogs:
    """`busy` spinning processes and `busy_db` connections computing on the server, while in the block."""

    def __init__(self, url: str, busy: int, busy_db: int) -> None:
        import multiprocessing

        spawn = multiprocessing.get_context("spawn")
        self.processes = [spawn.Process(target=_spin, daemon=True) for _ in range(busy)]
        self.processes += [spawn.Process(target=_query_forever, args=(url,), daemon=True) for _ in range(busy_db)]

    def __enter__(self) -> Hogs:
        for process in self.processes:
            process.start()
        time.sleep(1.0 if self.processes else 0.0)  # started and connected
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.kill()
            process.join()


def measure(source: Path, url: str, requests: int, work: Path, busy: int = 0, busy_db: int = 0,
            apart: bool = False) -> dict[str, float | None]:
    import httpx

    from web.testing import free_port

    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(source), CAREPATH_DATABASE_URL=url)
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "web.app:app_from_env", "--host",
                               "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
                              cwd=source, env=env, start_new_session=apart)
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(wait_for(base, time.monotonic() + 60))
        with httpx.Client(base_url=base, timeout=30) as client:
            token = _CSRF.search(client.get("/login").text)
            assert token is not None, "no csrf token on the login page"
            signed = client.post("/login", data={"username": "w0", "password": PASSWORD, "csrf_token": token.group(1)})
            assert signed.status_code == 303, signed.status_code

            def ask() -> None:
                response = client.get("/work")
                assert response.status_code == 200, response.status_code

            for _ in range(50):
                ask()
            latencies = []
            with Hogs(url, busy, busy_db):
                used = cpu_seconds(server.pid)
                for _ in range(requests):
                    started = time.perf_counter()
                    ask()
                    latencies.append((time.perf_counter() - started) * 1000)
                used = cpu_seconds(server.pid) - used
            trips = round_trips(server.pid, ask, 20, work)
        latencies.sort()
        return {"cpu_ms": used / requests * 1000, "p50_ms": statistics.median(latencies),
                "p95_ms": latencies[int(len(latencies) * 0.95) - 1], "round_trips": trips}
    finally:
        server.terminate()
        server.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=12_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--source", type=Path, action="append", help="a checkout to measure (repeatable)")
    parser.add_argument("--busy", type=int, default=0, help="processes spinning on the CPUs while timed")
    parser.add_argument("--busy-db", type=int, default=0, help="connections keeping PostgreSQL busy while timed")
    parser.add_argument("--apart", action="store_true", help="the web server in a session of its own")
    args = parser.parse_args()
    sources = [s.resolve() for s in (args.source or [ROOT])]
    work = Path(tempfile.mkdtemp(prefix="carepath-worklist-"))
    backend = Backend("postgresql", work)
    try:
        service = build_service(backend.url, ManualClock(DAY_START - timedelta(hours=1)), data_dir=work)
        make_users(service, 50)
        bulk_load(service, args.cases)
        service.db.dispose()
        print(f"`python bench/bench_worklist.py --cases {args.cases} --requests {args.requests}`: GET /work of "
              f"worker w0 (50 rows), PostgreSQL, one uvicorn process{' in a session of its own' if args.apart else ''}; "
              f"{args.busy} spinning processes and {args.busy_db} busy server connections while timed; "
              f"load average {os.getloadavg()[0]:.2f}")
        for source in sources:
            found = measure(source, backend.url, args.requests, work, args.busy, args.busy_db, args.apart)
            trips = found["round_trips"]
            print(f"{source}: CPU {found['cpu_ms']:.1f} ms a request, p50 {found['p50_ms']:.1f} ms, "
                  f"p95 {found['p95_ms']:.1f} ms, database round trips "
                  f"{'(no strace)' if trips is None else f'{trips:.1f}'} a request", flush=True)
        return 0
    finally:
        backend.drop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
