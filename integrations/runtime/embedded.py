"""Prefect's API server inside carepath's own process, in a thread, tied to carepath's life.

Prefect's own "ephemeral" server is started lazily by the first flow run as a child process and
stopped by an `atexit` hook, so a `carepath serve` that is killed (SIGKILL, the OOM killer)
leaves it running for good, holding its SQLite database. Until December 2026 carepath started
that same server as its own child process (`PR_SET_PDEATHSIG`); that child was a second Python
interpreter with its own copy of SQLAlchemy, pydantic, FastAPI and Prefect: about 230 MB of the
415 MB `carepath serve --demo` used (issue #14).

carepath now runs the same application (`prefect.server.api.server:create_app`, ephemeral mode:
no UI, no scheduler; the database `<data dir>/prefect/prefect.db`) under uvicorn on a loopback
port, in a daemon thread with its own event loop, in the process that runs the flows. It shares
the libraries the flows import anyway, it cannot outlive carepath (a thread dies with its
process, whatever kills it), and it answers on the port the flows are pointed at. It is started
when the runtime loop first needs it, not at start-up, so the web app is listening first.
`--prefect-ui` starts it in Prefect's web-server mode instead (the dashboard, still no
background services).

Prefect's database migrations run in that thread before the application is made, not in its
start-up as Prefect does them: afterwards the memory they used (about 40 MB on a fresh database:
the migration scripts, reflection, the SQL) is collected and handed back to the operating system
(`malloc_trim` on glibc), and only then does the long-lived server take its share. Measured on a
fresh data directory: 199 MB at ready against 222 MB with Prefect's own start-up migration
(issue #14, `carepath serve --demo` <= 300 MB). A server whose operator switched migrations off
(`PREFECT_SERVER_DATABASE_MIGRATE_ON_START=false`) is left as it is.

This module imports Prefect only in `start()`'s thread; `prefect_env.configure` must have run
(Prefect reads its settings once, at import).
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import gc
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("carepath.prefect")


class EmbeddedPrefectServer:
    """`start()` (returns at once), then `wait_ready()` from anywhere; `api_url` is what flow runs
    talk to. `stop()` ends it; `start()` again after it died starts a new one on the same port."""

    def __init__(self, data_dir: Path, *, ui: bool = False, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.ui = ui
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port or 0))  # bound now: the port is ours, no race for a free one
        self.port = int(self._socket.getsockname()[1])
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._server: Any = None  # uvicorn.Server, once the thread made it
        self._ready = threading.Event()
        self._starts = 0
        self.error: str | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self.alive():
                return
            self._ready = threading.Event()
            self._starts += 1
            self.error = None
            self._thread = threading.Thread(target=self._run, args=(self._ready, self._starts > 1),
                                            name="carepath-prefect-server", daemon=True)
            self._thread.start()
            if self._starts == 1:
                # Stopped at exit, after Prefect's own exit hooks (registered later, by the first flow
                # run, so run earlier) have sent their last events and logs to it: stopped before them,
                # their retries against a closed port held the exit for a minute.
                atexit.register(self.stop)
        log.info("Prefect server starting on %s (in this process)", self.ui_url)

    def _listening_socket(self) -> socket.socket:
        if self._socket.fileno() == -1:  # closed by the server that died: the same port again
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind(("127.0.0.1", self.port))
        return self._socket

    def _run(self, ready: threading.Event, again: bool) -> None:
        started = time.monotonic()
        try:
            import asyncio

            import uvicorn
            from prefect.server.api.server import create_app
            from prefect.settings import get_current_settings, temporary_settings

            if get_current_settings().server.database.migrate_on_start:
                migrate_then_release(time.monotonic() - started)
            # Ephemeral mode: the API and the few services flow runs need, no UI, no scheduler;
            # with the dashboard: web-server mode (UI, still no background services).
            app = create_app(ephemeral=not self.ui, webserver_only=self.ui, final=True, ignore_cache=again)
            # log_config=None: carepath's logging stays as it is (uvicorn would reconfigure it).
            config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="on", access_log=False,
                                    timeout_graceful_shutdown=5)
            server = uvicorn.Server(config)
            self._server = server
            sock = self._listening_socket()

            async def serve() -> None:
                serving = asyncio.ensure_future(server.serve(sockets=[sock]))
                while not server.started and not serving.done():
                    await asyncio.sleep(0.02)
                if server.started:
                    log.info("Prefect server ready on %s after %.1f s", self.ui_url, time.monotonic() - started)
                    ready.set()
                await serving

            with temporary_settings(updates={"server.database.migrate_on_start": False}):  # done above
                asyncio.run(serve())
        except BaseException as exc:  # reported to whoever waits, and in the log (uvicorn exits by SystemExit)
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("the embedded Prefect server stopped")
        finally:
            ready.clear()

    def wait_ready(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """True once the server answers; False when it died, `stop` was set or `timeout` passed."""
        end = time.monotonic() + timeout
        ready = self._ready
        while time.monotonic() < end:
            if ready.wait(0.1):
                return True
            if not self.alive() or (stop is not None and stop.is_set()):
                return False
        return ready.is_set()

    def stop(self) -> None:
        with self._lock:
            thread, server = self._thread, self._server
        if thread is None or not thread.is_alive():
            return
        if server is not None:
            server.should_exit = True
        thread.join(timeout=10)


def migrate_then_release(elapsed: float = 0.0) -> None:
    """Bring Prefect's database to its current schema (Prefect's own migrations, a no-op when it is
    current), then give the memory they used back: collected, and trimmed from the C heap."""
    import asyncio

    from prefect.server.database import provide_database_interface

    started = time.monotonic()
    asyncio.run(provide_database_interface().create_db())
    gc.collect()
    trimmed = release_free_memory()
    log.info("Prefect database schema current after %.1f s%s", elapsed + time.monotonic() - started,
             " (free memory returned)" if trimmed else "")


def release_free_memory() -> bool:
    """`malloc_trim(0)`: return the C heap's free pages to the operating system. False where the C
    library has no such call (not glibc)."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return False
    if trim is None:
        return False
    trim(0)
    return True
