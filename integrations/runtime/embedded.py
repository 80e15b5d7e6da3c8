"""Prefect's API server as a child process of `carepath serve`, tied to carepath's life.

Prefect's own "ephemeral" server is started lazily by the first flow run and stopped by an
`atexit` hook, so a `carepath serve` that is killed (SIGKILL, the OOM killer) leaves it running
for good, holding its SQLite database; every restart would add one more. carepath therefore
starts the same server itself (the same `uvicorn ... prefect.server.api.server:create_app`
command, in ephemeral mode, its database in the data directory) as soon as `serve` starts, asks
Linux to send it SIGTERM when carepath goes away (`PR_SET_PDEATHSIG`), waits for its health
check, and points the in-process flow runs at it. Elsewhere than Linux only the `atexit` stop
applies. This module does not import Prefect (only its location is looked up).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("carepath.prefect")

PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A function for `preexec_fn` that makes the child get SIGTERM when its parent thread ends
    (looked up here, in the parent: the forked child only calls it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def set_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return set_signal


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedPrefectServer:
    """Start with `start()` (from the thread that lives as long as carepath: the main thread), then
    `wait_ready()` from anywhere; `api_url` is what flow runs talk to."""

    def __init__(self, data_dir: Path, *, ui: bool = False, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.ui = ui
        self.port = port or _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        with self._lock:
            if self.alive():
                return
            spec = importlib.util.find_spec("prefect")
            if spec is None or spec.origin is None:
                raise RuntimeError("Prefect is not installed")
            app_dir = Path(spec.origin).parent.parent
            env = {**os.environ, "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
                   "PREFECT_UI_ENABLED": "1" if self.ui else "0"}
            env.pop("PREFECT_API_URL", None)  # it *is* the API
            (self.data_dir / "prefect").mkdir(parents=True, exist_ok=True)
            log_file = open(self.data_dir / "prefect" / "server.log", "ab")  # noqa: SIM115 - the child keeps it
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory",
                     "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(self.port),
                     "--log-level", "error", "--lifespan", "on"],
                    env=env, cwd=self.data_dir, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                    preexec_fn=_parent_death_signal(),
                )
            finally:
                log_file.close()
            log.info("Prefect server starting on %s (pid %d)", self.ui_url, self.process.pid)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def wait_ready(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """True once the server answers its health check; False when it died or `timeout` passed."""
        end = time.monotonic() + timeout
        pause = stop or threading.Event()
        while time.monotonic() < end:
            if not self.alive():
                return False
            if self._healthy():
                return True
            if pause.wait(0.2) and stop is not None:
                return False
        return False

    def stop(self) -> None:
        with self._lock:
            process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
