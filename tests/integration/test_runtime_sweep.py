"""The sweep as plain functions (no Prefect): late marking in due order, an outage of a day with
catch-up, failing timers as incidents, the loop's idle skipping. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.clock import ManualClock
from engine.errors import EngineError
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CaseRow, OutboxRow, TimerRow
from integrations.runtime import incidents
from integrations.runtime.context import Runtime
from integrations.runtime.loop import RuntimeLoop
from integrations.runtime.models import LateTimerRow
from integrations.runtime.sweep import pathway_tags, run_name
from integrations.service import CaseService
from tests.fixtures.notices_pathway import ALWAYS_ID
from tests.integration.conftest import START
from tests.integration.runtime_support import (
    fired_timer_ids,
    make_runtime,
    publish_notices,
    runtime_config,
    seed_cases,
    smtp_sink,
)


@pytest.fixture
def runtime(service: CaseService, data_dir: Path) -> Runtime:
    publish_notices(service)
    return make_runtime(service, data_dir, runtime_config())


def _late_rows(runtime: Runtime) -> list[LateTimerRow]:
    with read_session(runtime.service.db) as session:
        return list(session.execute(select(LateTimerRow).order_by(LateTimerRow.id)).scalars())


def _due_pending(runtime: Runtime, now: datetime) -> int:
    with read_session(runtime.service.db) as session:
        return int(session.execute(select(func.count()).select_from(TimerRow).where(
            TimerRow.status == "pending", TimerRow.due_at <= now)).scalar_one())


def test_run_name_and_tags() -> None:
    moment = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam
    counts = {"swa-trajectory": 40, "eviction-prevention": 120, "school-social-work": 0}
    assert run_name("sweep", moment, counts) == "sweep 2026-11-28 10:00 · eviction-prevention 120, swa-trajectory 40"
    assert run_name("sweep", moment, {}) == "sweep 2026-11-28 10:00 · nothing due"
    assert pathway_tags(counts) == ["pathway:eviction-prevention", "pathway:swa-trajectory"]


@pytest.mark.parametrize("parallel", [1, 2])
def test_late_timers_are_marked_in_due_order(runtime: Runtime, clock: ManualClock, parallel: int) -> None:
    """Cases started an hour apart; the sweep comes 3 days later in small batches: every timer
    fires once, those due more than 10 minutes ago are marked late, in due order: throughout with
    one batch at a time, within each share of the cases when two shares fire side by side
    (PostgreSQL; SQLite fires one batch at a time whatever `parallel` says)."""
    for hour in range(12):
        seed_cases(runtime.service, 3, START + timedelta(hours=hour))
    clock.set(START + timedelta(days=1, hours=20, minutes=5))  # the first cases' reminders are 5 minutes due
    result = runtime.sweep_once()
    assert result.fired_total == 3 and result.late_total == 0 and not _late_rows(runtime)

    clock.set(START + timedelta(days=3))
    s = runtime.config.sweep
    from integrations.runtime.sweep import sweep_once

    result = sweep_once(runtime.service, late_after=s.late_after, batch_size=7, batches_per_chunk=3,
                        parallel=parallel)
    assert result.batches > 3  # several chunks of batches
    rows = _late_rows(runtime)
    fired = fired_timer_ids(runtime.service)
    assert max(fired.values()) == 1 and sum(fired.values()) == 3 + result.fired_total
    assert result.late_total == len(rows) > 0 and dict(result.late) == {"test-visits": len(rows)}
    assert len(result.cases) == len({r.case_id for r in rows})
    for share in _shares(runtime, rows, parallel).values():  # fired in due order
        assert [r.due_at for r in share] == sorted(r.due_at for r in share)
    assert all(r.fired_at == clock.now() and r.late_seconds == int((clock.now() - r.due_at).total_seconds())
               for r in rows)
    assert all(r.late_seconds > 600 for r in rows)
    assert _due_pending(runtime, clock.now()) == 0


def _shares(runtime: Runtime, rows: list[LateTimerRow], parallel: int) -> dict[int, list[LateTimerRow]]:
    """The late rows by the share of the cases their timers were claimed in (`timers.claim_due`)."""
    if parallel == 1 or runtime.service.db.dialect.name == "sqlite":
        return {0: rows}
    cases = sorted({r.case_id for r in rows})
    with read_session(runtime.service.db) as session:
        share: dict[str, int] = dict(session.execute(
            select(CaseRow.id, func.mod(func.hashtext(CaseRow.id).op("&")(0x7FFFFFFF), parallel))
            .where(CaseRow.id.in_(cases))).all())
    by_share: dict[int, list[LateTimerRow]] = {}
    for row in rows:
        by_share.setdefault(share[row.case_id], []).append(row)
    return by_share


def test_a_day_long_outage_is_caught_up_in_due_order(runtime: Runtime, clock: ManualClock) -> None:
    """The runtime is off from Monday 09:00 for a day; workers keep completing tasks (they only need
    the database). On restart one sweep fires everything that came due, in due order, marking
    what is late; the reminders of tasks done meanwhile never fire; the dispatch then delivers."""
    cases = [runtime.service.start_case(ALWAYS_ID, "signal", {"client_name": "X"}, actor="intake",
                                        assignments={"worker": "anna"}).case_id for _ in range(6)]
    clock.advance(timedelta(hours=2))
    more = [runtime.service.start_case(ALWAYS_ID, "signal", {"client_name": "X"}, actor="intake",
                                       assignments={"worker": "anna"}).case_id for _ in range(6)]
    runtime.sweep_once()
    runtime.dispatch_once()
    outage_start = clock.now()

    clock.advance(timedelta(days=1, hours=23))  # reminders of the first six came due 3 hours ago
    done = []
    for case_id in cases[:3] + more[:3]:  # during the outage, workers complete half of the visits
        visit = next(t.id for t in runtime.service.case(case_id).open_tasks() if t.step_id == "visit")
        runtime.service.complete_task(visit, {"note": "geweest"}, actor="anna")
        done.append(visit)
    clock.advance(timedelta(days=1))  # back a day later; escalations (due + 1 day) are due too

    due_before = _due_pending(runtime, clock.now())
    result = runtime.sweep_once()
    assert result.due == {ALWAYS_ID: due_before}
    assert _due_pending(runtime, clock.now()) == 0
    rows = _late_rows(runtime)
    for share in _shares(runtime, rows, runtime.config.sweep.parallel).values():
        assert [r.due_at for r in share] == sorted(r.due_at for r in share)
    assert {r.case_id for r in rows} == set(cases[3:] + more[3:])  # only the open visits had timers left
    assert all(r.due_at > outage_start for r in rows) and result.late_total == len(rows) == 6
    assert sorted(r.kind for r in rows) == ["task_deadline"] * 6  # the six open visits' reminders
    # Firing the reminders set the escalation timers; those of the first three cases (due an hour
    # ago) fired in the same sweep. The engine sets a deadline already past for "now", so only the
    # first timer of such a chain carries the lateness.
    assert result.fired_total == 9 and result.due == {ALWAYS_ID: 6}
    fired = fired_timer_ids(runtime.service)
    assert max(fired.values()) == 1
    with read_session(runtime.service.db) as session:
        reminders = session.execute(select(OutboxRow.task_id).where(
            OutboxRow.template == "reminder_before")).scalars().all()
    assert not set(reminders) & set(done)
    with read_session(runtime.service.db) as session:
        failed_before = set(session.execute(select(OutboxRow.id).where(OutboxRow.status == "failed")).scalars())
    with smtp_sink() as smtp:
        runtime.config = runtime_config(smtp.port)
        delivered = runtime.dispatch_once()
        assert delivered.sent["email"] == 9  # 6 reminders + 3 escalations
        # The six completed visits asked the housing corporation: a webhook this test does not
        # configure, and the partner contact's e-mail with its single-use link (docs/partners.md), for
        # a role this test gives no address. Each is a permanent failure and an incident (docs/runtime.md:
        # no address for a role, no webhook for a partner), none is lost.
        assert delivered.failed == delivered.incidents == 12
        assert len(smtp.by_message_id()) == 9
    with read_session(runtime.service.db) as session:
        failed = session.execute(select(OutboxRow.channel, OutboxRow.template, OutboxRow.to_role, OutboxRow.case_id)
                                 .where(OutboxRow.status == "failed", OutboxRow.id.not_in(failed_before))).all()
    assert sorted((r.channel, r.template, r.to_role) for r in failed) == sorted(
        [("email", "referral_link", "housing_corporation")] * 6
        + [("webhook", "partner_request", "housing_corporation")] * 6)
    assert sorted(r.case_id for r in failed) == sorted(2 * (cases[:3] + more[:3]))


def test_a_timer_that_cannot_fire_becomes_an_incident(runtime: Runtime, clock: ManualClock,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (broken, fine) = seed_cases(runtime.service, 2, START)
    handle = runtime.service.engine.handle

    def refuse(state, cmd, now):  # type: ignore[no-untyped-def]
        if state.id == broken:
            raise EngineError(f"step visit of case {broken}: something the pathway did not foresee")
        return handle(state, cmd, now)

    monkeypatch.setattr(runtime.service.engine, "handle", refuse)
    clock.advance(timedelta(days=2))
    result = runtime.sweep_once()
    assert result.failed == 1 and result.incidents == 1 and result.fired_total >= 1
    with read_session(runtime.service.db) as session:
        (incident,) = incidents.list_incidents(session)
    assert incident.kind == "timer_failed" and incident.case_id == broken
    assert "something the pathway did not foresee" in incident.detail
    assert runtime.sweep_once().incidents == 0  # one incident per timer, not one per sweep

    monkeypatch.setattr(runtime.service.engine, "handle", handle)  # the fix is deployed
    with write_session(runtime.service.db) as session:
        incidents.retry(session, incident.id, by="bert", now=clock.now())
    again = runtime.sweep_once()
    assert again.failed == 0 and again.fired[runtime.service.case(broken).pathway_id] >= 1
    assert broken in again.cases and fine not in again.cases


def test_the_loop_starts_no_run_when_nothing_is_due(runtime: Runtime, clock: ManualClock) -> None:
    ticks = iter(range(10_000))
    loop = RuntimeLoop(runtime, use_prefect=False, monotonic=lambda: float(next(ticks)) * 30)
    loop.tick()
    assert loop.status.jobs["sweep"].skipped_idle == 1 and loop.status.jobs["sweep"].runs == 0
    seed_cases(runtime.service, 2, clock.now())
    loop.tick()  # dispatch is due again (30 s later); the sweep (every 60 s) is not
    assert loop.status.jobs["dispatch"].runs == 1
    assert loop.status.jobs["dispatch"].last_result is not None
    assert loop.status.jobs["dispatch"].last_result["sent_by_channel"] == {"inbox": 2}
    clock.advance(timedelta(days=2))
    loop.tick()
    loop.tick()
    sweep = loop.status.jobs["sweep"]
    assert sweep.runs == 1 and sweep.via == "plain" and sweep.last_result and sweep.last_result["fired"] >= 2


def test_the_parallel_batches_of_a_sweep_are_a_setting() -> None:
    from integrations.runtime.config import ConfigError, parse_config

    assert parse_config({}, "config.yaml", {}).sweep.parallel == 2
    assert parse_config({"sweep": {"parallel": 1}}, "config.yaml", {}).sweep.parallel == 1
    with pytest.raises(ConfigError, match=r"sweep\.parallel"):
        parse_config({"sweep": {"parallel": 0}}, "config.yaml", {})
