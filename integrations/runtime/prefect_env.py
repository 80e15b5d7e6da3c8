"""Where Prefect may write, and what it may not do, set before Prefect is imported.

`import prefect` creates `$PREFECT_HOME`; an ephemeral server makes its SQLite
database; results and temporary files go to their own paths. carepath points
all of them inside the data directory and switches off telemetry, so a
carepath installation writes nowhere else:

    <data dir>/prefect/            PREFECT_HOME (profiles, memo store)
    <data dir>/prefect/prefect.db  the embedded Prefect server's database
    <data dir>/prefect/results/    PREFECT_RESULTS_LOCAL_STORAGE_PATH (carepath persists none)
    <data dir>/tmp/                TMPDIR

With no `PREFECT_API_URL` carepath runs Prefect's API server itself, inside its own process
(`embedded.py`), and switches off what that server would do for nobody: registering Prefect's
block types at start, automations (the triggers and actions services) and the event stream to
websocket clients (`EMBEDDED_SERVER`). Smaller and quicker to start; flow runs, their names,
tags, states and results are all there.

Values the operator has set already (say `PREFECT_API_URL` of a production
server, or a PostgreSQL `PREFECT_SERVER_DATABASE_CONNECTION_URL`) are kept.
This module never imports Prefect.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

# Always, whatever the operator set: no telemetry, no version check.
FORCED = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


# The embedded server (no PREFECT_API_URL): what carepath's flows do not use. Block types are for
# deployments and storage blocks (carepath persists no results); automations react to events nobody
# defines here; the event stream feeds websocket clients (the UI's live view) that the embedded
# server does not have unless --prefect-ui is asked for.
EMBEDDED_SERVER = {
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_EVENTS_STREAM_OUT_ENABLED": "false",
}


def prefect_environment(data_dir: Path, *, quiet: bool = True, embedded_sqlite: bool = True,
                        embedded_server: bool = False) -> dict[str, str]:
    """The Prefect settings for an installation whose data directory is `data_dir`.

    `embedded_sqlite`: the server (ephemeral or `prefect server start`) keeps its database in
    SQLite; its task-run recorder and event persister are then switched off, because on SQLite
    they lock the database while flow runs are created (HTTP 503s and 2 s client retries). Task
    runs and events are then not shown in the UI; flow runs, their states, names, tags and
    results are.
    """
    home = data_dir.resolve() / "prefect"
    env = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(home / "results"),
        "TMPDIR": str(data_dir.resolve() / "tmp"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING" if quiet else "INFO",
    }
    if embedded_server:
        env.update(EMBEDDED_SERVER)
    if embedded_sqlite:
        env["PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED"] = "false"
        env["PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED"] = "false"
    return env


def configure(data_dir: Path, environ: MutableMapping[str, str] | None = None, *, quiet: bool = True) -> dict[str, str]:
    """Put the settings into `environ` (default os.environ) without overriding the operator's, and
    create the directories; returns what is now in effect. Call it before `import prefect`: Prefect
    reads its settings once, at import."""
    env = os.environ if environ is None else environ
    wanted = prefect_environment(data_dir, quiet=quiet, embedded_sqlite=_uses_embedded_sqlite(env),
                                 embedded_server=not env.get("PREFECT_API_URL"))
    for key, value in wanted.items():
        env.setdefault(key, value)
    env.update(FORCED)
    for key in ("PREFECT_HOME", "TMPDIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return {k: env[k] for k in (*wanted, *FORCED)}


def prefect_imported() -> bool:
    return "prefect" in sys.modules


def _uses_embedded_sqlite(env: Mapping[str, str]) -> bool:
    """True unless a server elsewhere is used or the server's database is not SQLite."""
    if env.get("PREFECT_API_URL"):
        return False
    url = env.get("PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite")
    return url.startswith("sqlite")
