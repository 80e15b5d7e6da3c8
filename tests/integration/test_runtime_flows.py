"""Real Prefect flow runs of `carepath-sweep` and `carepath-dispatch` on SQLite and PostgreSQL.

One session-scoped `prefect_test_harness` (a temporary Prefect server), with the settings from
the Prefect notes: heartbeat off, task-run recorder and event persister off, quiet logs, no
telemetry, everything Prefect writes under the test's temporary directory. The logic itself is
tested through plain functions elsewhere; these few runs check what only Prefect shows: the
run's name and tags, its result, batches per task, and the loop's fallback when Prefect is gone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.clock import ManualClock
from integrations.runtime.context import Runtime, installed
from integrations.service import CaseService
from tests.fixtures.notices_pathway import ALWAYS_ID
from tests.integration.conftest import START
from tests.integration.runtime_support import (
    PARTNER_SECRET,
    SmtpSink,
    WebhookSink,
    mail_body,
    make_runtime,
    prepare_prefect,
    publish_notices,
    runtime_config,
    seed_cases,
)


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A temporary Prefect server for the session; Prefect's files stay in a temporary directory."""
    prepare_prefect(tmp_path_factory.mktemp("prefect-home"))
    from prefect.settings import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120), \
            temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def partners() -> Iterator[WebhookSink]:
    sink = WebhookSink(secrets={"/woonbron": PARTNER_SECRET.encode()}).start()
    yield sink
    sink.stop()


@pytest.fixture
def runtime(prefect_harness: None, service: CaseService, smtp: SmtpSink, partners: WebhookSink,
            data_dir: Path) -> Iterator[Runtime]:
    with smtp.lock:
        smtp.received.clear()
    partners.calls.clear()
    publish_notices(service)
    built = make_runtime(service, data_dir, runtime_config(smtp.port, partners.url))
    with installed(built):
        yield built


def _flow_run(name_prefix: str) -> Any:
    """The newest flow run whose name starts with `name_prefix`."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=20)
    matching = [r for r in runs if r.name.startswith(name_prefix)]
    assert matching, f"no flow run named {name_prefix}...: {[r.name for r in runs]}"
    return matching[0]


def test_a_sweep_flow_run_is_named_and_tagged_by_pathway(runtime: Runtime, clock: ManualClock) -> None:
    from integrations.runtime.flows import sweep_flow

    seed_cases(runtime.service, 30, START)
    seed_cases(runtime.service, 10, START, pathway_id=ALWAYS_ID, data={"client_name": "X"})
    clock.set(START + timedelta(days=1, hours=22))  # every visit/intake reminder is due
    # One batch at a time, so that the batch and task counts below are exact (two at a time on
    # PostgreSQL split the cases in two shares of uneven size: test_runtime_sweep.py).
    runtime.config = dataclasses.replace(runtime.config, sweep=dataclasses.replace(runtime.config.sweep, parallel=1))
    result = sweep_flow(batch_size=10, batches_per_task=2)
    assert result["due"] == {"test-visits": 30, ALWAYS_ID: 10}
    assert result["fired_by_pathway"] == {"test-visits": 30, ALWAYS_ID: 10}  # the reminders, 2 hours late
    assert result["late"] == 40 and result["failed"] == 0 and result["batches"] == 4
    assert result["tasks"] == 3  # two tasks of two batches of ten, and one that found nothing left
    run = _flow_run("sweep 2026-03-04 07:00")  # 06:00 UTC = 07:00 in Amsterdam
    assert run.name == "sweep 2026-03-04 07:00 · test-visits 30, test-notices-24x7 10"
    assert {"carepath", "sweep", "pathway:test-visits", f"pathway:{ALWAYS_ID}"} <= set(run.tags)
    assert run.state is not None and run.state.is_completed()


def test_a_dispatch_flow_run_delivers_dutch_mail_and_signed_webhooks(runtime: Runtime, clock: ManualClock,
                                                                    smtp: SmtpSink, partners: WebhookSink) -> None:
    from integrations.runtime.flows import dispatch_flow

    for _ in range(3):
        runtime.service.start_case(ALWAYS_ID, "signal", {"client_name": "Pieter Post"}, actor="intake")
    result = dispatch_flow(batches_per_task=1)
    assert result["sent_by_channel"] == {"email": 3, "webhook": 3, "inbox": 3, "letter": 3, "export": 3}
    mails = smtp.messages()
    assert len({m["Message-ID"] for m in mails}) == 3
    assert all(m["Subject"] == "Nieuw signaal binnengekomen" and "Pieter" not in mail_body(m) for m in mails)
    assert len(partners.calls) == 3 and all(call.signature_ok for call in partners.calls)
    run = _flow_run("dispatch ")
    assert "email 3" in run.name and {"dispatch", "channel:email", "channel:webhook"} <= set(run.tags)
    assert run.state is not None and run.state.is_completed()


def test_the_loop_sweeps_without_prefect_when_its_server_is_gone(runtime: Runtime, clock: ManualClock) -> None:
    """Prefect's API unreachable: the loop runs the same sweep as plain functions; nothing waits."""
    from prefect.settings import temporary_settings

    from integrations.runtime.loop import RuntimeLoop

    seed_cases(runtime.service, 5, START)
    clock.advance(timedelta(days=2))
    loop = RuntimeLoop(runtime, use_prefect=True, jobs=("sweep",))
    with temporary_settings(updates={"api.url": "http://127.0.0.1:9/api", "client.max_retries": 0}):
        result = loop.run_job("sweep")
    assert result is not None and result["fired"] >= 5
    assert loop.status.prefect == "unavailable" and loop.status.jobs["sweep"].via == "plain"
