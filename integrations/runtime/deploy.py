"""Production: the sweep, dispatch and retention flows as deployments on a `process` work pool.

`carepath deploy` (with `PREFECT_API_URL` pointing at the Prefect server) makes
sure the work pool exists and registers the flows with their interval
schedules (retention, which also archives closed cases' history, daily by default), from the carepath source directory that every worker machine has
at the same path. Each machine runs `prefect worker start --pool carepath`; a
worker starts each flow run in a fresh process with the worker's environment,
so `CAREPATH_DATABASE_URL` and `CAREPATH_DATA_DIR` are set on the worker
machines (secrets stay there, not in Prefect's database). Several workers may
run sweeps at the same time: timers are claimed with `FOR UPDATE SKIP LOCKED`
and fire exactly once. See docs/deployment.md.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import Flow

ENTRYPOINTS = {
    "carepath-sweep": "integrations/runtime/flows.py:sweep_flow",
    "carepath-dispatch": "integrations/runtime/flows.py:dispatch_flow",
    "carepath-retention": "integrations/runtime/flows.py:retention_flow",
}


def ensure_pool(pool: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))


def deploy(*, pool: str, source: Path, sweep_every: float, dispatch_every: float, retention_every: float = 86400.0,
           paused: bool = False, job_variables: dict[str, Any] | None = None) -> dict[str, UUID]:
    """Register the deployments (idempotent: an existing deployment is updated); returns their ids."""
    ensure_pool(pool)
    made: dict[str, UUID] = {}
    every = {"carepath-sweep": sweep_every, "carepath-dispatch": dispatch_every, "carepath-retention": retention_every}
    for name, entrypoint in ENTRYPOINTS.items():
        flow: Flow[Any, Any] = Flow.from_source(source=str(source), entrypoint=entrypoint)  # type: ignore[assignment]
        deployment_id = flow.deploy(
            name=name, work_pool_name=pool, interval=timedelta(seconds=every[name]), paused=paused,
            build=False, push=False, tags=["carepath"], job_variables=job_variables or {},
            print_next_steps=False, ignore_warnings=True,
        )
        assert isinstance(deployment_id, UUID)  # the synchronous call returns the id
        made[name] = deployment_id
    return made
