"""The scheduled early-signal jobs: the watched inbox folder and the retention run.

`signal-inbox`: every `$CAREPATH_SIGNAL_INBOX_EVERY` seconds (default 60) the `*.json` files in the
inbox folder (`$CAREPATH_SIGNAL_INBOX`, default `<data dir>/signalen/inbox`) are imported one by one,
oldest first, and moved to `done/` or `rejected/` beside them with a report `<name>.verslag.json`
(counts and the result per signal, or every error; no client data). Suppliers write a file under
another name (`.part`) and rename it when complete, so a half-written file is never picked up.
Then the cases are opened and the feedback queued.

`retention`: every `$CAREPATH_RETENTION_EVERY` seconds (default 86400, daily) erase what the
pathways' retention blocks say is due (integrations/exchange/ddas/retention.py), then archive the
history of cases closed more than `$CAREPATH_ARCHIVE_AFTER_DAYS` days ago (integrations/db/archive.py);
counts only.

The plain functions here are what the Prefect flows in `flows.py` run, and what the loop runs when
Prefect is not available.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from integrations.db.archive import archive_closed
from integrations.exchange.ddas.importer import SignalImporter, load_routes
from integrations.exchange.ddas.opener import CaseOpener
from integrations.exchange.ddas.retention import erase_due
from integrations.runtime.context import Runtime

log = logging.getLogger("carepath.signals")

SIGNAL_JOBS = ("signal-inbox", "retention")
INBOX_ENV = "CAREPATH_SIGNAL_INBOX"
INBOX_EVERY_ENV = "CAREPATH_SIGNAL_INBOX_EVERY"
RETENTION_EVERY_ENV = "CAREPATH_RETENTION_EVERY"


def intervals() -> dict[str, float]:
    return {"signal-inbox": float(os.environ.get(INBOX_EVERY_ENV, "60")),
            "retention": float(os.environ.get(RETENTION_EVERY_ENV, "86400"))}


def inbox_dir(runtime: Runtime) -> Path:
    configured = os.environ.get(INBOX_ENV)
    return Path(configured) if configured else runtime.data_dir / "signalen" / "inbox"


def waiting_files(runtime: Runtime) -> list[Path]:
    """The complete files waiting in the inbox, oldest first."""
    folder = inbox_dir(runtime)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob("*.json") if p.is_file()), key=lambda p: (p.stat().st_mtime, p.name))


def _free(target: Path) -> Path:
    if not target.exists():
        return target
    for n in range(2, 10_000):
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(target)


def import_inbox_file(runtime: Runtime, path: Path) -> dict[str, Any]:
    """Import one inbox file and move it to done/ or rejected/ with its report beside it."""
    service = runtime.service
    routes = load_routes(service)
    report = SignalImporter(service, routes, keep_outcomes=True).import_file(path)
    if not report.errors:
        report.opened = CaseOpener(service, routes).run().opened
    folder = path.parent / ("rejected" if report.errors else "done")
    folder.mkdir(parents=True, exist_ok=True)
    moved = _free(folder / path.name)
    verslag = moved.with_name(moved.stem + ".verslag.json")
    verslag.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    path.replace(moved)
    outcome = {"file": path.name, "rejected": bool(report.errors), "errors": len(report.errors),
               "counts": dict(report.counts), "opened": report.opened}
    log.info("inbox file %s: %s", "rejected" if report.errors else "done", {k: v for k, v in outcome.items()
                                                                             if k != "file"})
    return outcome


def process_inbox(runtime: Runtime) -> dict[str, Any]:
    files = [import_inbox_file(runtime, path) for path in waiting_files(runtime)]
    return {"files": len(files), "rejected": sum(1 for f in files if f["rejected"]),
            "signals": sum(sum(f["counts"].values()) for f in files), "opened": sum(f["opened"] for f in files)}


def run_retention(runtime: Runtime) -> dict[str, Any]:
    """Erase what is due, then archive the history of cases closed long enough ago (counts only)."""
    report = erase_due(runtime.service)
    archived = archive_closed(runtime.service.db, runtime.service.clock.now())
    return {"erased": report.total, "by_pathway": report.erased, "archived": archived.to_json()}


def has_work(runtime: Runtime, job: str) -> bool:
    return bool(waiting_files(runtime)) if job == "signal-inbox" else True


def run_plain(runtime: Runtime, job: str) -> dict[str, Any]:
    return process_inbox(runtime) if job == "signal-inbox" else run_retention(runtime)
