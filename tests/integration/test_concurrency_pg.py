"""Real concurrency: threads on one case, sweepers next to workers. Exactly one wins, the others
get a clear conflict, and no timer fires twice."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from engine.clock import ManualClock
from engine.errors import ConflictError
from engine.events import replay
from integrations.db import repository
from integrations.db.engine_factory import read_session
from integrations.service import CaseService, CommandResult

CLIENT = {"client_name": "Kees de Boer", "concern": "schulden"}
THREADS = 8


def _in_threads(work: Callable[[int], Any], n: int) -> list[Any]:
    """Run `work(i)` in n threads released together; returns each result or exception."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = work(i)
        except Exception as exc:  # collected and checked by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


def _intake(service: CaseService, case_id: str) -> str:
    return next(t.id for t in service.case(case_id).open_tasks() if t.step_id == "intake")


def test_threads_completing_one_task_exactly_one_wins(service: CaseService) -> None:
    case_id = service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    task = _intake(service, case_id)
    results = _in_threads(
        lambda i: service.complete_task(task, {"outcome": "help", "problems": ["debts"]}, actor=f"worker{i}"),
        THREADS,
    )
    winners = [r for r in results if isinstance(r, CommandResult)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == THREADS - 1
    winner = service.case(case_id).tasks[task].completed_by
    for loser in losers:
        assert isinstance(loser, ConflictError), repr(loser)
        assert f"taak «Intake» is al afgerond door {winner}" in str(loser) and loser.params["task_id"] == task
    history = service.history(case_id)
    assert [e.data["task_id"] for e in history if e.type == "task_completed"] == [task]


def test_threads_claiming_one_task_one_gets_it(service: CaseService) -> None:
    case_id = service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    task = _intake(service, case_id)
    results = _in_threads(lambda i: service.claim(task, f"worker{i}"), THREADS)
    assignee = service.case(case_id).tasks[task].assignee
    assert sum(isinstance(r, CommandResult) for r in results) == 1
    for r in results:
        if isinstance(r, Exception):
            assert isinstance(r, ConflictError) and f"taak «Intake» is al opgepakt door {assignee}" in str(r)


@pytest.mark.postgres
def test_a_command_that_lost_the_race_is_decided_again(pg_service: CaseService) -> None:
    """Two different commands decided on the same version: the later save is stale, is decided again on
    the fresh state, and both changes are kept."""
    service = pg_service
    case_id = service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    task = _intake(service, case_id)
    decided = threading.Barrier(2)
    calls = Counter[str]()
    handle = service.engine.handle

    def handle_after_both_decided(state: Any, cmd: Any, now: Any) -> Any:
        decision = handle(state, cmd, now)
        calls[type(cmd).__name__] += 1
        if calls[type(cmd).__name__] == 1:
            decided.wait(timeout=30)  # both have decided on the same version before either saves
        return decision

    service.engine.handle = handle_after_both_decided  # type: ignore[method-assign]
    commands: list[Callable[[], CommandResult]] = [
        lambda: service.claim(task, "anna"),
        lambda: service.update_case_data(case_id, {"concern": "schulden en huur"}, actor="coordinator"),
    ]
    results = _in_threads(lambda i: commands[i](), 2)
    assert all(isinstance(r, CommandResult) for r in results), results
    assert sum(calls.values()) == 3  # one of the two was decided twice
    state = service.case(case_id)
    assert state.tasks[task].assignee == "anna" and state.data["concern"] == "schulden en huur"


@pytest.mark.postgres
def test_sweepers_and_workers_together(pg_service: CaseService, clock: ManualClock) -> None:
    """Two sweepers and two workers on the same cases: every due timer fires once, workers only ever
    see conflicts, and every history still replays to its stored state."""
    service = pg_service
    cases = [service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id for _ in range(30)]
    tasks = [_intake(service, c) for c in cases]
    clock.advance(timedelta(days=3))  # every reminder and both escalation rungs are due

    def work(i: int) -> Any:
        if i < 2:
            return service.fire_due(batch_size=7)
        done = []
        for task in tasks[i - 2::2]:
            with contextlib.suppress(ConflictError):  # a sweeper's escalation got there first, or retries ran out
                done.append(service.complete_task(task, {"outcome": "help", "problems": ["debts"]}, actor=f"w{i}"))
        return done

    results = _in_threads(work, 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    service.fire_due()  # whatever a busy case left for the next sweep
    with read_session(service.db) as session:
        for case_id in cases:
            history = repository.history(session, case_id)
            fired = [e.data["timer_id"] for e in history if e.type == "timer_fired"]
            assert len(fired) == len(set(fired)), f"case {case_id}: a timer fired twice"
            assert replay(history).to_json(live_only=True) == repository.stored_state(session, case_id)
            state = replay(history)
            assert not [t for t in state.pending_timers() if t.due_at <= clock.now()]


def test_threads_repeating_one_command_with_one_key_apply_it_once(service: CaseService) -> None:
    case_id = service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    task = _intake(service, case_id)
    form = {"outcome": "help", "problems": ["debts"]}
    results = _in_threads(lambda i: service.complete_task(task, form, actor="anna", idempotency_key="k-1"), THREADS)
    assert all(isinstance(r, CommandResult) for r in results), [r for r in results if not isinstance(r, CommandResult)]
    assert sum(not r.duplicate for r in results) == 1
    assert len({(r.case_id, r.version, r.events) for r in results}) == 1
    assert [e.type for e in service.history(case_id)].count("task_completed") == 1


def test_threads_starting_with_one_key_start_one_case(service: CaseService) -> None:
    results = _in_threads(
        lambda i: service.start_case("test-visits", "signal", CLIENT, actor=f"intake{i}", idempotency_key="signal-7"),
        THREADS,
    )
    assert all(isinstance(r, CommandResult) for r in results), results
    assert len({r.case_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1


@pytest.mark.postgres
def test_the_sweep_leaves_a_case_another_writer_holds(pg_service: CaseService, clock: ManualClock) -> None:
    """A case row locked by a command in progress is skipped, not waited for; the next sweep fires it."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from integrations.db.models import CaseRow

    service = pg_service
    busy, free = (service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id for _ in range(2))
    clock.advance(timedelta(hours=44))  # both reminders are due
    with Session(service.db) as writer, writer.begin():
        writer.execute(select(CaseRow.id).where(CaseRow.id == busy).with_for_update())
        report = service.fire_due()
        assert (report.fired, report.stale, report.cases) == (1, 1, 1)
    assert [e.type for e in service.history(busy)].count("timer_fired") == 0
    assert service.fire_due().fired == 1
    assert [e.type for e in service.history(busy)].count("timer_fired") == 1
    assert [e.type for e in service.history(free)].count("timer_fired") == 1


@pytest.mark.postgres
def test_an_erasure_waits_for_a_sweep_batch_that_holds_the_case(pg_service: CaseService) -> None:
    """A sweep batch that has read a case's personal data (and may put it into its messages) holds
    the case row until it commits: an erasure meanwhile waits for that lock instead of deleting the
    row under the batch, and erases once the batch is done."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    service = pg_service
    case_id = service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    with Session(service.db) as sweep, sweep.begin():
        held = repository.load_cases(sweep, [case_id], lock=True)  # as `CaseService._fire_batch` reads
        assert held[case_id].data["client_name"] == "Kees de Boer"
        with Session(service.db) as eraser, eraser.begin():
            eraser.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                repository.erase_personal_data(eraser, case_id)
    assert service.erase_personal_data(case_id, actor="coordinator", reason="verzoek van de cliënt")
    with read_session(service.db) as session:
        assert repository.personal_data_of(session, case_id) is None
