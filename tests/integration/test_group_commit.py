"""Group commit: commands arriving together share a transaction, each still atomic, isolated and
durable when its call returns (integrations/db/group_commit.py)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from engine.clock import ManualClock
from engine.errors import ConflictError
from integrations.db import hot_sql
from integrations.db.group_commit import GroupCommitter
from integrations.service import GROUP_COMMIT_ENV, CaseService
from tests.integration.conftest import make_service

_NOW = datetime(2026, 3, 2, tzinfo=UTC)
CLIENT = {"client_name": "Jan Jansen", "phone": "0501234567", "concern": "energie"}


@pytest.fixture
def grouped(database: tuple[str, Engine], clock: ManualClock, data_dir: Path,
            monkeypatch: pytest.MonkeyPatch) -> CaseService:
    """The service with group commit on, on SQLite and on PostgreSQL."""
    monkeypatch.setenv(GROUP_COMMIT_ENV, "1")
    return make_service(*database, clock, data_dir)


def _audit_rows(db: Engine) -> list[str]:
    with db.connect() as connection:
        return sorted(connection.execute(text("SELECT what FROM audit_log")).scalars())


def _insert_audit(tx: hot_sql.RawTransaction, what: str) -> str:
    mark = hot_sql.dialect(tx.name).mark
    tx.cursor.execute(f"INSERT INTO audit_log (at, who, action, what) VALUES ({mark}, {mark}, {mark}, {mark})",
                      (hot_sql.dialect(tx.name).datetime(_NOW), "test", "x", what))
    return what


def test_a_failing_command_in_a_group_is_rolled_back_alone(db: Engine) -> None:
    committer = GroupCommitter(db)
    first_running = threading.Event()
    release_first = threading.Event()
    results: dict[str, object] = {}

    def blocking_first(tx: hot_sql.RawTransaction) -> str:
        first_running.set()
        release_first.wait(10)  # the others queue meanwhile: they form the next group together
        return _insert_audit(tx, "first")

    def failing(tx: hot_sql.RawTransaction) -> str:
        _insert_audit(tx, "half-written")
        raise ConflictError("refused after writing")

    def call(name: str, work: object) -> None:
        try:
            results[name] = committer.run(work)  # type: ignore[arg-type]
        except ConflictError as exc:
            results[name] = exc

    leader = threading.Thread(target=call, args=("first", blocking_first))
    leader.start()
    assert first_running.wait(10)
    others = [threading.Thread(target=call, args=(n, w)) for n, w in (
        ("a", lambda tx: _insert_audit(tx, "a")), ("bad", failing), ("b", lambda tx: _insert_audit(tx, "b")))]
    for t in others:
        t.start()
    while len(committer._queue) < 3:  # all three queued behind the running group
        threading.Event().wait(0.01)
    release_first.set()
    for t in [leader, *others]:
        t.join(10)
    assert results["first"] == "first" and results["a"] == "a" and results["b"] == "b"
    assert isinstance(results["bad"], ConflictError)
    assert _audit_rows(db) == ["a", "b", "first"]  # nothing of the refused command, everything of the rest
    assert committer.groups == 2 and committer.commands == 4  # the three queued ones shared one transaction


def test_concurrent_completions_of_one_task_have_exactly_one_winner(grouped: CaseService) -> None:
    case_id = grouped.start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    task_id = next(t.id for t in grouped.case(case_id).open_tasks() if t.step_id == "intake")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def complete() -> None:
        barrier.wait()
        try:
            grouped.complete_task(task_id, {"outcome": "no_help"}, actor="anna")
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=complete) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
    history = [e.type for e in grouped.history(case_id)]
    assert history.count("task_completed") == 1


def test_concurrent_commands_on_many_cases_are_all_stored(grouped: CaseService) -> None:
    case_ids = [grouped.start_case("test-visits", "signal", CLIENT, actor="intake").case_id for _ in range(24)]
    tasks = [next(t.id for t in grouped.case(c).open_tasks() if t.step_id == "intake") for c in case_ids]
    errors: list[BaseException] = []

    def complete(mine: list[str]) -> None:
        for task_id in mine:
            try:
                grouped.complete_task(task_id, {"outcome": "no_help"}, actor="anna")
            except BaseException as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=complete, args=(tasks[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    for case_id, task_id in zip(case_ids, tasks, strict=True):  # each returned call's change is stored
        assert grouped.case(case_id).tasks[task_id].status.value == "completed"
