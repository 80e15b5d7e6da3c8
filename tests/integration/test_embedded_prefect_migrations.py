"""The embedded Prefect server migrates its database before it starts, then serves on that schema.

carepath runs Prefect's own migrations itself, in the server's thread, and starts Prefect's
application with its start-up migration switched off (`integrations/runtime/embedded.py`: the
memory the migrations used is returned before the long-lived server takes its share). What must
hold: a fresh data directory ends with Prefect's full schema at its head revision and a server that
records flow runs; a second start on that database finds it current and serves again; an operator's
`PREFECT_SERVER_DATABASE_MIGRATE_ON_START=false` is respected. Each start is its own process
(Prefect reads its settings once, at import).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

_START = r"""
import json, logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
from integrations.runtime import prefect_env
data = Path(sys.argv[1])
prefect_env.configure(data)
from integrations.runtime.embedded import EmbeddedPrefectServer
server = EmbeddedPrefectServer(data)
server.start()
ready = server.wait_ready(180)
answer = {"ready": ready, "error": server.error}
if ready:
    import httpx
    flow_runs = httpx.post(f"{server.api_url}/flow_runs/filter", json={}, timeout=30)
    answer["flow_runs_status"] = flow_runs.status_code
server.stop()
print(json.dumps(answer))
"""


def _start(data_dir: Path, **env: str) -> tuple[dict[str, Any], str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | env
    done = subprocess.run([sys.executable, "-c", _START, str(data_dir)], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def _schema(data_dir: Path) -> tuple[set[str], str | None]:
    with sqlite3.connect(data_dir / "prefect" / "prefect.db") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = db.execute("SELECT version_num FROM alembic_version").fetchone() if "alembic_version" in tables else None
    return tables, version[0] if version else None


def _head_revision() -> str:
    """The head of Prefect's SQLite migrations (its env.py points alembic at them per dialect)."""
    code = ("from alembic.script import ScriptDirectory\n"
            "from prefect.server.database.alembic_commands import alembic_config\n"
            "from prefect.server.database.orm_models import AioSqliteORMConfiguration\n"
            "script = ScriptDirectory.from_config(alembic_config())\n"
            "script.version_locations = [str(AioSqliteORMConfiguration().versions_dir)]\n"
            "print(script.get_current_head())")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=120).stdout.strip().splitlines()[-1]


def test_a_fresh_database_is_migrated_before_the_server_starts_and_found_current_the_second_time(
    tmp_path: Path,
) -> None:
    first, log = _start(tmp_path)
    assert first == {"ready": True, "error": None, "flow_runs_status": 200}, log[-2000:]
    assert "Prefect database schema current" in log
    tables, version = _schema(tmp_path)
    assert {"flow_run", "task_run", "flow", "log"} <= tables
    assert version == _head_revision()

    again, log = _start(tmp_path)
    assert again == {"ready": True, "error": None, "flow_runs_status": 200}, log[-2000:]
    assert "Prefect database schema current" in log
    assert _schema(tmp_path) == (tables, version)


def test_an_operator_who_switched_migrations_off_gets_none(tmp_path: Path) -> None:
    answer, log = _start(tmp_path, PREFECT_SERVER_DATABASE_MIGRATE_ON_START="false")
    assert answer["ready"], log[-2000:]
    assert "Prefect database schema current" not in log
    tables, version = _schema(tmp_path) if (tmp_path / "prefect" / "prefect.db").exists() else (set(), None)
    assert version is None and "flow_run" not in tables
