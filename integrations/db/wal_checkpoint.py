"""WAL checkpoints of the embedded SQLite database, off the command path.

SQLite in WAL mode appends each commit to the `-wal` file and, by default, the commit that takes the
file past 1,000 pages copies it back into the database and fsyncs: one command in about fifty then
waits tens of milliseconds, which was most of a command's average cost (docs/benchmarks.md). carepath's
connections raise that threshold to `AUTOCHECKPOINT_PAGES` (a safety net only) and a daemon thread per
database file checkpoints every `INTERVAL_S` seconds (`PASSIVE`: it never blocks a writer or a reader),
so commands never carry the copy. Durability is what `CAREPATH_SQLITE_SYNC` says (engine_factory.py).
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Any

AUTOCHECKPOINT_PAGES = 20_000  # about 80 MB of WAL before a connection checkpoints by itself
INTERVAL_S = 0.5

_running: dict[str, threading.Thread] = {}
_lock = threading.Lock()


def start(engine: Any, path: Path) -> None:
    """Checkpoint `path` in the background while `engine` (held weakly) is alive; once per file."""
    key = str(path.resolve())
    with _lock:
        thread = _running.get(key)
        if thread is not None and thread.is_alive():
            return
        alive = weakref.ref(engine)
        thread = threading.Thread(target=_loop, args=(key, alive), name=f"carepath-wal-checkpoint {path.name}",
                                  daemon=True)
        _running[key] = thread
        thread.start()


def _loop(path: str, alive: weakref.ref[Any]) -> None:
    stop = threading.Event()
    connection: sqlite3.Connection | None = None
    try:
        while alive() is not None and not stop.wait(INTERVAL_S):
            if not Path(path).exists():
                break  # the database was removed (a test's temporary directory)
            try:
                if connection is None:
                    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                    connection.execute("PRAGMA busy_timeout=0")
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                # Busy or not (yet) a WAL database: the next round tries again; commits still check
                # point by themselves past AUTOCHECKPOINT_PAGES.
                continue
    finally:
        if connection is not None:
            connection.close()
        with _lock:
            if _running.get(path) is threading.current_thread():
                del _running[path]
