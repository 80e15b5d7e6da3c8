"""The database keeps a case's live state and each message once (issue #14), on SQLite and PostgreSQL.

`cases.state` holds open tasks and pending or paused timers only; what pages read is the whole state,
the events replayed. A command that names history (a second completion) is answered from the whole
state. Migration 0015 rewrites states and message events stored before it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from engine.clock import ManualClock
from engine.errors import ConflictError, NotFoundError
from engine.events import replay
from engine.state import TaskStatus, TimerStatus
from integrations.db import repository
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CaseRow, OutboxRow
from integrations.service import CaseService
from tests.integration.test_reporting import _migrate
from tests.integration.test_repository import _intake_task, _walk


def _stored(db: Engine, case_id: str) -> dict[str, Any]:
    with read_session(db) as session:
        return repository.stored_state(session, case_id)


def test_the_stored_state_is_live_and_pages_read_the_whole(service: CaseService, clock: ManualClock,
                                                           db: Engine) -> None:
    case_id = _walk(service, clock)
    stored = _stored(db, case_id)
    assert stored["live"] is True
    assert {t["status"] for t in stored["tasks"].values()} == {"open"}
    assert {t["status"] for t in stored["timers"].values()} <= {"pending", "paused"}
    whole = service.case(case_id)
    assert not whole.live
    completed = [t for t in whole.tasks.values() if t.status is TaskStatus.COMPLETED]
    assert [(t.step_id, t.completed_by) for t in completed] == [("intake", "anna")]
    assert any(t.status is TimerStatus.FIRED for t in whole.timers.values())
    assert set(stored["tasks"]) == {t.id for t in whole.open_tasks()}
    with read_session(db) as session:
        assert replay(repository.history(session, case_id)).to_json(live_only=True) == stored


def test_a_second_completion_is_answered_from_history(service: CaseService, db: Engine) -> None:
    case_id = service.start_case("test-visits", "signal", {"client_name": "A", "phone": "06 1", "concern": "x"},
                                 actor="intake").case_id
    intake = _intake_task(service, case_id)
    service.complete_task(intake, {"outcome": "help", "problems": ["debts"]}, actor="anna")
    assert intake not in _stored(db, case_id)["tasks"]
    with pytest.raises(ConflictError, match="anna"):
        service.complete_task(intake, {"outcome": "help", "problems": ["debts"]}, actor="bob")
    with pytest.raises(NotFoundError):
        service.complete_task(f"{case_id}.999", {}, actor="bob")


def test_migration_0015_makes_stored_states_live_and_messages_single(
        database: tuple[str, Engine], service: CaseService, clock: ManualClock) -> None:
    url, db = database
    case_id = _walk(service, clock)
    live = _stored(db, case_id)
    with read_session(db) as session:
        whole = replay(repository.history(session, case_id)).to_json()
        outbox = {row.id: row for row in session.execute(select(OutboxRow).where(OutboxRow.case_id == case_id)).scalars()}
        events = [(e.seq, e.data) for e in repository.history(session, case_id) if e.type == "message_queued"]
    assert len(events) >= 2
    # As stored before 0015: the whole state, each message's content in its event too (an event a
    # row, as before migration 0019).
    whole["data"] = live["data"]
    gone = events[0][1]["message"]["id"]
    _migrate(db, url, "0018_sqlite_packed_documents", down=True)
    with write_session(db) as session:
        session.execute(text("UPDATE cases SET state = :s WHERE id = :id"),
                        {"s": json.dumps(whole), "id": case_id})
        for seq, data in events:
            row = outbox[data["message"]["id"]]
            message = {**data["message"], "case_id": case_id, "payload": row.payload,
                       "created_at": row.created_at.isoformat(), "deliver_after": row.deliver_after.isoformat()}
            session.execute(text("UPDATE case_events SET data = :d WHERE case_id = :c AND seq = :s"),
                            {"d": json.dumps({**data, "message": message}), "c": case_id, "s": seq})
        session.execute(text("DELETE FROM outbox WHERE id = :id"), {"id": gone})
    assert _stored(db, case_id) == whole
    _migrate(db, url, "0014_journal", down=True)
    _migrate(db, url, "head")
    assert _stored(db, case_id) == live
    with read_session(db) as session:
        migrated: dict[int, dict[str, Any]] = {e.seq: e.data for e in repository.history(session, case_id)
                                               if e.type == "message_queued"}
        assert session.execute(select(CaseRow.version).where(CaseRow.id == case_id)).scalar_one() == whole["version"]
    for seq, data in events:
        message = migrated[seq]["message"]
        if data["message"]["id"] == gone:
            assert "payload" in message  # its outbox row is gone: the event keeps the content
        else:
            assert message == data["message"]
    assert service.case(case_id).to_json()["tasks"] == whole["tasks"]  # pages still read the whole history
    service.suspend(case_id, actor="coordinator", reason="opname")  # commands go on on the migrated case
    assert _stored(db, case_id)["status"] == "suspended"


def test_the_whole_state_takes_the_events_of_the_batch_so_far(service: CaseService, db: Engine) -> None:
    """The sweep asks for the whole state in the middle of a batch: the stored history plus the
    events it decided since loading the case (not yet saved) must replay to one consistent state."""
    from engine import commands as c

    case_id = service.start_case("test-visits", "signal", {"client_name": "A", "phone": "06 1", "concern": "x"},
                                 actor="intake").case_id
    intake = _intake_task(service, case_id)
    with read_session(db) as session:
        live = repository.load_cases(session, [case_id])[case_id]
        decision = service.engine.handle(live, c.ClaimTask(case_id=case_id, actor="anna", task_id=intake,
                                                           worker="anna"), service.clock.now())
        whole = repository.whole_state(session, live, decision.events)
    assert decision.events and whole.version == live.version + len(decision.events)
    assert whole.tasks[intake].assignee == "anna" and whole.data == live.data


def test_migration_0017_clusters_the_events_on_sqlite_and_keeps_every_one(
        database: tuple[str, Engine], service: CaseService, clock: ManualClock) -> None:
    url, db = database
    case_id = _walk(service, clock)
    history = [e.to_json() for e in service.history(case_id)]

    def clustered(table: str) -> bool:
        with db.connect() as connection:
            create = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar_one()
        return str(create).rstrip().upper().endswith("WITHOUT ROWID")

    sqlite = db.dialect.name == "sqlite"
    assert not sqlite or clustered("case_event_pages")
    _migrate(db, url, "0018_sqlite_packed_documents", down=True)
    assert not sqlite or clustered("case_events")
    _migrate(db, url, "0016_case_archives", down=True)
    assert not sqlite or not clustered("case_events")
    _migrate(db, url, "head")
    assert not sqlite or clustered("case_event_pages")
    assert [e.to_json() for e in service.history(case_id)] == history
    fresh = service.start_case("test-visits", "signal", {"client_name": "B", "phone": "06 2", "concern": "y"},
                               actor="intake").case_id
    service.complete_task(_intake_task(service, fresh), {"outcome": "help", "problems": ["debts"]}, actor="anna")
    assert [e.type for e in service.history(fresh)][-1] != "case_started"  # written to the rebuilt table
