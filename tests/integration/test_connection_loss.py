"""Pooled PostgreSQL connections the server closed: the command path finds out without pinging every
checkout (integrations/db/engine_factory.py) and retries only what is safe to retry (a snapshot
read; a save whose COMMIT was not sent; a one-statement save whose case kept its version), so a
command after a server restart or an idle timeout still succeeds, and is done once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from engine.clock import ManualClock
from integrations.db.errors import StorageError
from integrations.service import CaseService

pytestmark = pytest.mark.postgres

CLIENT = {"client_name": "Kees de Boer", "concern": "schulden"}


def _pooled_pids(engine: Engine) -> list[int]:
    """The server pids of the connections idle in the pool (checked out together, then returned)."""
    connections = [engine.raw_connection() for _ in range(engine.pool.checkedin())]  # type: ignore[attr-defined]
    try:
        pids = []
        for connection in connections:
            cursor = connection.cursor()
            cursor.execute("SELECT pg_backend_pid()")
            row = cursor.fetchone()
            assert row is not None
            pids.append(int(row[0]))
            cursor.close()
            connection.rollback()
        return pids
    finally:
        for connection in connections:
            connection.close()


def _terminate(url: str, pids: list[int]) -> None:
    """End the server processes of `pids` and wait until each has gone (PostgreSQL 14+ waits itself,
    up to the timeout given in ms, and says false when one is still there)."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for pid in pids:
                ended = connection.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar_one()
                assert ended, f"server process {pid} did not end within 10 s"
    finally:
        admin.dispose()


def _intake(service: CaseService, case_id: str) -> str:
    return next(t.id for t in service.case(case_id).open_tasks() if t.step_id == "intake")


def test_commands_after_the_server_closed_every_pooled_connection(pg_service: CaseService,
                                                                   postgresql_database: tuple[str, Any]) -> None:
    service = pg_service
    case_id = service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    task = _intake(service, case_id)
    pids = _pooled_pids(service.db)
    assert pids
    _terminate(postgresql_database[0], pids)
    service.claim(task, "anna")  # the snapshot read finds a dead connection and reads again
    assert service.case(case_id).tasks[task].assignee == "anna"
    service.start_case("test-visits", "signal", CLIENT, actor="intake")


def test_a_save_on_a_connection_that_died_after_the_read_is_done_once(
        pg_service: CaseService, postgresql_database: tuple[str, Any], clock: ManualClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    service = pg_service
    case_id = service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    task = _intake(service, case_id)
    engine = service.engine
    handle = engine.handle
    killed: list[int] = []

    def handle_then_kill(*args: Any, **kwargs: Any) -> Any:
        decision = handle(*args, **kwargs)
        if not killed:  # between the snapshot read and the save: the pooled connections die
            killed.extend(_pooled_pids(service.db))
            _terminate(postgresql_database[0], killed)
        return decision

    monkeypatch.setattr(engine, "handle", handle_then_kill)
    # With an idempotency key the save is a transaction of several statements, not one in autocommit
    # (repository.one_statement): nothing was sent before the connection was found dead, so it runs again.
    service.complete_task(task, {"outcome": "help", "problems": ["debts"]}, actor="anna", idempotency_key="k-1")
    assert killed
    history = service.history(case_id)
    assert [e.data["task_id"] for e in history if e.type == "task_completed"] == [task]


@pytest.mark.parametrize("kept", [True, False], ids=["kept state", "state read"])
def test_a_one_statement_save_whose_connection_died_before_it_committed_is_decided_again(
        pg_service: CaseService, postgresql_database: tuple[str, Any], monkeypatch: pytest.MonkeyPatch,
        kept: bool) -> None:
    """A save of one statement runs in autocommit, so a lost answer may hide a commit. When the stored
    version has not moved, nothing was committed (the statement moves it): the command is decided
    again on the stored case and done once, whether its state was kept (integrations/case_cache.py)
    or read."""
    service = pg_service
    if not kept:
        service.cases_kept.size = 0
    case_id = service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    task = _intake(service, case_id)
    engine = service.engine
    handle = engine.handle
    killed: list[int] = []

    def handle_then_kill(*args: Any, **kwargs: Any) -> Any:
        decision = handle(*args, **kwargs)
        if not killed:
            killed.extend(_pooled_pids(service.db))
            _terminate(postgresql_database[0], killed)
        return decision

    monkeypatch.setattr(engine, "handle", handle_then_kill)
    service.claim(task, "anna")  # task_claimed only: one statement (repository.one_statement)
    assert killed
    assert service.case(case_id).tasks[task].assignee == "anna"
    history = service.history(case_id)
    assert [e.type for e in history].count("task_claimed") == 1


def test_a_one_statement_save_whose_answer_was_lost_after_it_committed_is_reported_not_sent_again(
        pg_service: CaseService, monkeypatch: pytest.MonkeyPatch) -> None:
    service = pg_service
    case_id = service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    task = _intake(service, case_id)
    write = service._write

    def commit_then_lose_the_answer(*args: Any, **kwargs: Any) -> Any:
        write(*args, **kwargs)
        raise OperationalError("(carepath hot path)", None, Exception("server closed the connection unexpectedly"),
                               connection_invalidated=True)

    monkeypatch.setattr(service, "_write", commit_then_lose_the_answer)
    with pytest.raises(StorageError, match="server closed the connection"):
        service.claim(task, "anna")
    monkeypatch.undo()
    assert service.case(case_id).tasks[task].assignee == "anna"
    assert [e.type for e in service.history(case_id)].count("task_claimed") == 1
