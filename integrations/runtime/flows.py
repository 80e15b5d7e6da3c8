"""The Prefect flows `carepath-sweep` and `carepath-dispatch` (the only module that imports Prefect
besides `deploy.py`).

They orchestrate the plain functions of `sweep.py` and `dispatch.py`; all state
lives in carepath's database, none in Prefect. One flow run handles thousands
of timers or messages: each Prefect task fires (or delivers) up to
`batches_per_task` batches, each batch one transaction, so a sweep over 10,000
timers is a handful of task runs, never one per timer. A task that fails on
the database is retried; batches it committed stay committed and the retry
picks up what is still due.

The run is renamed and tagged once it knows what is due:
`sweep 2026-11-28 10:00 · eviction-prevention 120, swa-trajectory 40`, tags
`carepath`, `sweep`, `pathway:eviction-prevention`, `pathway:swa-trajectory`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from integrations.runtime.context import current
from integrations.runtime.dispatch import DispatchResult, deliverable_by_channel
from integrations.runtime.sweep import (
    SweepResult,
    due_by_pathway,
    fire_batches,
    more_may_be_due,
    pathway_tags,
    report_failed_timers,
    run_name,
)

log = logging.getLogger("carepath.flows")

SWEEP_FLOW = "carepath-sweep"
DISPATCH_FLOW = "carepath-dispatch"
_TASK_OPTIONS: dict[str, Any] = {"persist_result": False, "cache_policy": NO_CACHE}


def _label_run(name: str, tags: Iterable[str]) -> None:
    """Give the running flow run its name and tags (best effort: a label is not worth a failed run)."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            client.update_flow_run(context.flow_run.id, name=name,
                                   tags=sorted(set(context.flow_run.tags) | set(tags)))
        context.flow_run.name = name
    except Exception as exc:
        log.warning("could not label flow run %s: %s", context.flow_run.id, exc)


# --- sweep ------------------------------------------------------------------------------------------


@task(name="count-due-timers", **_TASK_OPTIONS)
def count_due(moment: datetime) -> dict[str, int]:
    return due_by_pathway(current().service, moment)


@task(name="fire-batches", retries=2, retry_delay_seconds=[2, 10], **_TASK_OPTIONS)
def fire_chunk(moment: datetime, chunk: int, batch_size: int, batches: int, late_after_seconds: float,
               parallel: int | None = None) -> SweepResult:
    """Fire up to `batches` batches of `batch_size` due timers (`chunk` numbers the task runs)."""
    return fire_batches(current().service, moment, late_after=timedelta(seconds=late_after_seconds),
                        batch_size=batch_size, max_batches=batches, parallel=parallel)


@task(name="report-failed-timers", **_TASK_OPTIONS)
def report_failed(moment: datetime) -> int:
    return report_failed_timers(current().service, moment)


@flow(name=SWEEP_FLOW, persist_result=False, log_prints=False)
def sweep_flow(batch_size: int | None = None, batches_per_task: int | None = None,
               late_after_minutes: float | None = None) -> dict[str, Any]:
    """Fire every timer that is due now, in due order, batch by batch; mark the late ones."""
    runtime = current()
    settings = runtime.config.sweep
    size = batch_size or settings.batch_size
    per_task = batches_per_task or settings.batches_per_task
    late_after = (timedelta(minutes=late_after_minutes) if late_after_minutes is not None
                  else settings.late_after)
    moment = runtime.service.clock.now()
    due = count_due(moment)
    _label_run(run_name("sweep", moment, due), ["carepath", "sweep", *pathway_tags(due)])
    result = SweepResult(moment=moment, due=due)
    chunk = 0
    while True:
        part = fire_chunk(moment, chunk, size, per_task, late_after.total_seconds(), settings.parallel)
        result.absorb(part)
        chunk += 1
        if not more_may_be_due(part, per_task):
            break
    if result.failed:
        result.incidents += report_failed(moment)
    summary = {**result.to_json(), "tasks": chunk}
    log.info("%s: fired %d (late %d) in %d batches", run_name("sweep", moment, due), result.fired_total,
             result.late_total, result.batches)
    return summary


# --- dispatch ---------------------------------------------------------------------------------------


@task(name="count-deliverable", **_TASK_OPTIONS)
def count_deliverable(moment: datetime) -> dict[str, int]:
    return deliverable_by_channel(current().service, moment)


@task(name="deliver-batches", retries=2, retry_delay_seconds=[2, 10], **_TASK_OPTIONS)
def deliver_chunk(moment: datetime, chunk: int, batches: int) -> DispatchResult:
    """Deliver up to `batches` batches of due messages (`chunk` numbers the task runs)."""
    return current().dispatcher().dispatch_once(moment, max_batches=batches)


@flow(name=DISPATCH_FLOW, persist_result=False, log_prints=False)
def dispatch_flow(batches_per_task: int = 10) -> dict[str, Any]:
    """Deliver every outbox message whose moment has passed: inbox, e-mail, webhooks, letters, exports."""
    runtime = current()
    moment = runtime.service.clock.now()
    due = count_deliverable(moment)
    _label_run(run_name("dispatch", moment, due), ["carepath", "dispatch", *(f"channel:{c}" for c in sorted(due))])
    result = DispatchResult(moment=moment)
    chunk = 0
    while True:
        part = deliver_chunk(moment, chunk, batches_per_task)
        result.absorb(part)
        chunk += 1
        if part.batches < batches_per_task or part.claimed == 0:
            break
    return {**result.to_json(), "tasks": chunk}


# --- early signals: the watched inbox and retention (integrations/runtime/signal_jobs.py) -----------

SIGNAL_INBOX_FLOW = "carepath-signal-inbox"
RETENTION_FLOW = "carepath-retention"


@task(name="import-signal-file", **_TASK_OPTIONS)
def import_signal_file(path: str) -> dict[str, Any]:
    """One inbox file: imported, cases opened, moved to done/ or rejected/ with its report."""
    from pathlib import Path

    from integrations.runtime.signal_jobs import import_inbox_file

    return import_inbox_file(current(), Path(path))


@flow(name=SIGNAL_INBOX_FLOW, persist_result=False, log_prints=False)
def signal_inbox_flow() -> dict[str, Any]:
    """Import every complete DDAS file waiting in the inbox folder, oldest first (one task per file)."""
    from integrations.runtime.signal_jobs import waiting_files

    files = [import_signal_file(str(path)) for path in waiting_files(current())]
    _label_run(f"signal-inbox · {len(files)} bestand(en)", ["carepath", "signals"])
    return {"files": len(files), "rejected": sum(1 for f in files if f["rejected"]),
            "signals": sum(sum(f["counts"].values()) for f in files), "opened": sum(f["opened"] for f in files)}


@task(name="erase-due", **_TASK_OPTIONS)
def erase_due_task() -> dict[str, Any]:
    from integrations.runtime.signal_jobs import run_retention

    return run_retention(current())


@flow(name=RETENTION_FLOW, persist_result=False, log_prints=False)
def retention_flow() -> dict[str, Any]:
    """Erase the data whose retention term has passed and archive closed cases' history; counts only, never names."""
    return erase_due_task()


# --- calling flows in this process ------------------------------------------------------------------


def call_in_process(which: str, *, api_url: str | None = None, **parameters: Any) -> dict[str, Any]:
    """Run a flow here and now (carepath's own timer, `--once`), without the 1 s heartbeat join;
    against the Prefect server at `api_url` when given (else the configured or ephemeral one)."""
    from prefect.settings import temporary_settings

    updates: dict[str, Any] = {"flows.heartbeat_frequency": None}
    if api_url is not None:
        updates["api.url"] = api_url
    with temporary_settings(updates=updates):
        flows: dict[str, Any] = {"sweep": sweep_flow, "signal-inbox": signal_inbox_flow, "retention": retention_flow}
        chosen = flows.get(which, dispatch_flow)
        outcome: dict[str, Any] = chosen(**parameters)
    return outcome
