"""The runtime of one installation: service, configuration, directory and data directory together.

Flows find it with `current()`: built once per process from the environment
(`CAREPATH_DATABASE_URL`, `CAREPATH_DATA_DIR`, `config.yaml`), or installed by
whoever started the process (`carepath serve`, a test with a manual clock).
A Prefect worker that starts a flow run in a fresh process builds it from the
environment the deployment gave it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from integrations.runtime.config import RuntimeConfig, load_config
from integrations.runtime.directory import ConfigDirectory, Directory
from integrations.runtime.dispatch import Dispatcher, DispatchResult
from integrations.runtime.sweep import SweepResult, sweep_once
from integrations.service import CaseService


@dataclass
class Runtime:
    service: CaseService
    config: RuntimeConfig
    directory: Directory
    data_dir: Path

    def dispatcher(self, **options: Any) -> Dispatcher:
        return Dispatcher(self.service, self.config, self.directory, self.data_dir, **options)

    def sweep_once(self, now: datetime | None = None) -> SweepResult:
        s = self.config.sweep
        return sweep_once(self.service, now, late_after=s.late_after, batch_size=s.batch_size,
                          batches_per_chunk=s.batches_per_task, parallel=s.parallel)

    def dispatch_once(self, now: datetime | None = None) -> DispatchResult:
        return self.dispatcher().dispatch_once(now)


def build_runtime(database_url: str | None = None, data_dir: Path | None = None, *, clock: Any = None,
                  config: RuntimeConfig | None = None, service: CaseService | None = None) -> Runtime:
    """The runtime on the configured database and data directory (migrated, pathways published)."""
    from integrations.db.engine_factory import data_dir as default_data_dir
    from integrations.db.engine_factory import database_url as default_database_url

    directory = (data_dir or default_data_dir()).resolve()
    if service is None:
        from integrations.clock import SystemClock
        from integrations.service import build_service

        service = build_service(database_url or default_database_url(), clock or SystemClock(), data_dir=directory)
    configuration = config or load_config(directory)
    return Runtime(service=service, config=configuration, directory=ConfigDirectory(configuration),
                   data_dir=directory)


_lock = threading.Lock()
_current: Runtime | None = None


def current() -> Runtime:
    """The installed runtime, or one built from the environment the first time it is asked for."""
    global _current
    with _lock:
        if _current is None:
            from integrations.runtime.heap import settle

            _current = build_runtime()
            settle()  # started: the start-up objects leave the collector's walks (runtime/heap.py)
        return _current


def install(runtime: Runtime | None) -> None:
    global _current
    with _lock:
        _current = runtime


@contextmanager
def installed(runtime: Runtime) -> Iterator[Runtime]:
    """Run flows against `runtime` (tests: a manual clock, a test database) and restore afterwards."""
    global _current
    with _lock:
        previous, _current = _current, runtime
    try:
        yield runtime
    finally:
        with _lock:
            _current = previous
