"""The production layout on one machine over loopback (docs/deployment.md):

- a Prefect server on PostgreSQL (its own database, `prefect server start`),
- `carepath deploy`: the sweep and dispatch deployments on a `process` work pool,
- two `prefect worker start` processes serving that pool (two runs each at most),
- four sweep flow runs at once over one PostgreSQL carepath database with 3,000 due timers.

Every run completes, both workers run flows, and every timer fires exactly once. Skipped (with
the server's last words) only when the Prefect server cannot start here.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import inspect
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from engine.clock import ManualClock
from integrations.db.engine_factory import read_session
from integrations.db.models import TimerRow
from tests.fixtures.visits_pathway import YAML_PATH
from tests.integration.conftest import empty_tables, make_service
from tests.integration.runtime_support import fired_timer_ids, free_port, prepare_prefect, seed_cases

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
TIMERS = 3000
RUNS = 4
POOL = "carepath-test"

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(900)]


def wait_until(condition: Callable[[], bool], deadline: float, what: str, every: float = 0.25) -> None:
    """Poll `condition` until it holds; AssertionError naming `what` after `deadline` seconds."""
    end = time.monotonic() + deadline
    pause = threading.Event()
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline} s")
        pause.wait(every)


class Process:
    """A long-running command whose output lines are kept (for failures and for checks)."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self.new: queue.Queue[str] = queue.Queue()
        assert self.popen.stdout is not None
        threading.Thread(target=self._read, args=(self.popen.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            self.new.put(line)

    def stop(self, timeout: float = 40) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture
def prefect_server(postgres_server_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`prefect server start` on a fresh PostgreSQL database; yields its API URL and a client env."""
    name = f"prefect_test_{secrets.token_hex(4)}"
    admin = create_engine(make_url(postgres_server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server_url = make_url(postgres_server_url).set(drivername="postgresql+asyncpg", database=name)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CAREPATH_"))}
    base.update({"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false",
                 "PREFECT_LOGGING_LEVEL": "INFO", "PYTHONPATH": str(ROOT)})
    server_env = {**base, "PREFECT_HOME": str(tmp_path / "prefect-server"),
                  "PREFECT_SERVER_DATABASE_CONNECTION_URL": server_url.render_as_string(hide_password=False)}
    server = Process([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], server_env, tmp_path)
    try:
        with contextlib.suppress(AssertionError):
            wait_until(lambda: _healthy(api) or server.popen.poll() is not None, 90, "Prefect server health")
        if not _healthy(api):
            pytest.skip(f"the Prefect server did not start on PostgreSQL: {server.lines[-15:]}")
        yield api, {**base, "PREFECT_API_URL": api}
    finally:
        server.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _runs(api_env: dict[str, str]) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.settings import temporary_settings

    with temporary_settings(updates={"api.url": api_env["PREFECT_API_URL"]}), get_client(sync_client=True) as client:
        return list(client.read_flow_runs())


def test_two_workers_on_a_process_pool_sweep_one_database_once(
        prefect_server: tuple[str, dict[str, str]], postgresql_database: tuple[str, Engine], tmp_path: Path) -> None:
    api, env = prefect_server
    url, db = postgresql_database
    empty_tables(db)
    started = datetime.now(UTC) - timedelta(days=2)  # one due timer per case (its intake reminder)
    service = make_service(url, db, ManualClock(started), tmp_path / "data")
    seed_cases(service, TIMERS, started)

    carepath_env = {**env, "CAREPATH_DATABASE_URL": url, "CAREPATH_DATA_DIR": str(tmp_path / "data"),
                    "CAREPATH_PATHWAYS_DIR": str(YAML_PATH.parent)}
    deployed = subprocess.run([sys.executable, "-m", "integrations.cli", "deploy", "--pool", POOL, "--paused"],
                              env={**carepath_env, "PREFECT_HOME": str(tmp_path / "deployer")}, cwd=ROOT,
                              capture_output=True, text=True, timeout=180, check=False)
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    assert "deployment carepath-sweep" in deployed.stdout and "deployment carepath-dispatch" in deployed.stdout
    assert "deployment carepath-retention" in deployed.stdout

    workers = []
    for name in ("worker-a", "worker-b"):
        worker_env = {**carepath_env, "PREFECT_HOME": str(tmp_path / name), "PREFECT_WORKER_QUERY_SECONDS": "1",
                      "PREFECT_WORKER_PREFETCH_SECONDS": "1", "PREFECT_LOGGING_LEVEL": "INFO"}
        workers.append(Process([PREFECT, "worker", "start", "--pool", POOL, "--type", "process", "--name", name,
                                "--limit", "2"], worker_env, ROOT))
    try:
        prepare_prefect(tmp_path / "test-client")
        from prefect.deployments import run_deployment
        from prefect.settings import temporary_settings

        def start_runs() -> list[Any]:
            # In a thread of its own: an event loop that an earlier test left in this thread (the
            # browser tests' Playwright) would make Prefect's dual sync/async API return coroutines.
            with temporary_settings(updates={"api.url": api}):
                return [run_deployment("carepath-sweep/carepath-sweep", timeout=0,
                                       parameters={"batch_size": 100, "batches_per_task": 3}) for _ in range(RUNS)]

        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            runs = pool.submit(start_runs).result(timeout=300)
        ids = {r.id for r in runs if not inspect.isawaitable(r)}  # called synchronously: FlowRuns
        assert len(ids) == RUNS

        def finished() -> bool:
            states = [r.state for r in _runs(env) if r.id in ids]
            return len(states) == RUNS and all(s is not None and s.is_final() for s in states)

        wait_until(finished, 300, "four sweep flow runs finishing", every=1)
    finally:
        for worker in workers:  # workers first: a worker whose server vanished stalls on SIGTERM
            worker.stop()

    done = [r for r in _runs(env) if r.id in ids]
    failures = [(r.name, r.state.message if r.state else None) for r in done if not (r.state and r.state.is_completed())]
    assert not failures, (failures, workers[0].lines[-30:], workers[1].lines[-30:])
    ran = [w for w in workers if any(str(i) in line for line in w.lines for i in ids)]
    assert len(ran) == 2, "both workers should have run sweeps: " + repr([w.lines[-10:] for w in workers])
    assert any("test-visits" in r.name for r in done)  # named by what it found due
    assert all("pathway:test-visits" in r.tags for r in done if "test-visits" in r.name)

    fired = fired_timer_ids(service)
    assert len(fired) == TIMERS and max(fired.values()) == 1
    with read_session(db) as session:
        assert session.execute(select(func.count()).select_from(TimerRow).where(
            TimerRow.status == "pending", TimerRow.due_at <= datetime.now(UTC))).scalar_one() == 0
