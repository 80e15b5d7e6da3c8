"""The stored case: personal data split off and merged back, history that replays, projections
that match the state, the optimistic lock, and published pathway versions."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy import event as sqlalchemy_event

from engine.clock import ManualClock
from engine.decide import Decision
from engine.errors import ConflictError
from engine.events import replay
from engine.state import TaskStatus, TimerStatus
from integrations.db import repository
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import (
    CaseEventPageRow,
    CasePersonalDataRow,
    CaseRow,
    CaseTrackRow,
    OutboxRow,
    TaskRow,
    TimerRow,
)
from integrations.db.repository import PendingSave, StaleCaseError
from integrations.service import CaseService
from tests.fixtures.visits_pathway import PERSONAL_FIELDS, visits_pathway, visits_source

CLIENT = {"client_name": "Fatima de Vries", "phone": "06 1234 5678", "concern": "huurachterstand"}
PERSONAL_VALUES = ("Fatima de Vries", "06 1234 5678")


def _start(service: CaseService, **extra: Any) -> str:
    return service.start_case("test-visits", "signal", CLIENT, actor="intake", client_id="123456782", **extra).case_id


def _intake_task(service: CaseService, case_id: str) -> str:
    return next(t.id for t in service.case(case_id).open_tasks() if t.step_id == "intake")


def _walk(service: CaseService, clock: ManualClock) -> str:
    """A case that went through several kinds of commands and timers."""
    case_id = _start(service, team="noord")
    intake = _intake_task(service, case_id)
    service.claim(intake, "anna")
    clock.advance(timedelta(hours=45))  # the reminder 4 hours before due
    service.fire_due()
    service.complete_task(intake, {"outcome": "help", "problems": ["debts"]}, actor="anna")
    service.add_track(case_id, "housing", actor="coordinator")
    service.update_case_data(case_id, {"phone": "06 8765 4321", "concern": "ook energie"}, actor="anna")
    service.suspend(case_id, actor="coordinator", reason="opname ziekenhuis")
    clock.advance(timedelta(days=3))
    service.resume(case_id, actor="coordinator")
    return case_id


def _dump(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


def test_personal_data_is_split_off_and_merged_back(service: CaseService, db: Engine) -> None:
    case_id = _start(service)
    state = service.case(case_id)
    assert state.data == CLIENT
    with read_session(db) as session:
        stored = session.execute(select(CaseRow.state).where(CaseRow.id == case_id)).scalar_one()
        personal = session.execute(
            select(CasePersonalDataRow.data).where(CasePersonalDataRow.case_id == case_id)
        ).scalar_one()
        events = session.execute(select(CaseEventPageRow.events).where(CaseEventPageRow.case_id == case_id)).scalars().all()
    assert stored["data"] == {"concern": "huurachterstand"}
    assert personal == {"client_name": "Fatima de Vries", "phone": "06 1234 5678"}
    for value in PERSONAL_VALUES:
        assert value not in _dump(stored)
        assert value not in _dump(events)
    assert len(state.pseudonym) == 64 and "123456782" not in _dump(stored)


def test_history_replays_to_the_stored_state(service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _walk(service, clock)
    history = service.history(case_id)
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert {"task_deadline_passed", "track_started", "case_suspended", "case_resumed"} <= {e.type for e in history}
    with read_session(db) as session:
        stored = repository.stored_state(session, case_id)
    assert replay(history).to_json(live_only=True) == stored
    merged = service.case(case_id)
    assert merged.data == {"client_name": "Fatima de Vries", "phone": "06 8765 4321", "concern": "ook energie"}
    assert merged.version == len(history)
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in history)


def test_changed_personal_data_goes_to_its_row_only(service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _walk(service, clock)
    update = next(e for e in service.history(case_id) if e.type == "case_data_updated")
    assert update.data["changes"] == {"concern": "ook energie"}
    with read_session(db) as session:
        assert repository.personal_data_of(session, case_id) == {
            "client_name": "Fatima de Vries", "phone": "06 8765 4321"}


def test_erasing_a_client_deletes_one_row_and_keeps_the_history(service: CaseService, db: Engine) -> None:
    case_id = _start(service)
    before = service.history(case_id)
    assert service.erase_personal_data(case_id, actor="privacy-officer", reason="verzoek AVG art. 17") is True
    assert service.case(case_id).data == {"concern": "huurachterstand"}
    assert service.history(case_id) == before
    with read_session(db) as session:
        assert session.get(CasePersonalDataRow, case_id) is None
        from integrations.db.audit import entries_for_case

        assert [(a.who, a.action) for a in entries_for_case(session, case_id)] == [("privacy-officer", "erase")]
    assert service.erase_personal_data(case_id, actor="privacy-officer", reason="nogmaals") is False


def test_projections_match_the_state(service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _walk(service, clock)
    state = service.case(case_id)
    with read_session(db) as session:
        tasks = {r.id: r for r in session.execute(select(TaskRow).where(TaskRow.case_id == case_id)).scalars()}
        timers = {r.id: r for r in session.execute(select(TimerRow).where(TimerRow.case_id == case_id)).scalars()}
        outbox = {r.id for r in session.execute(select(OutboxRow).where(OutboxRow.case_id == case_id)).scalars()}
    assert set(tasks) == set(state.tasks)
    for task in state.tasks.values():  # every row carries its case's team: the work lists filter on it
        row = tasks[task.id]
        assert (row.status, row.assignee, row.role, row.due_at, row.reminders_sent, row.team) == (
            task.status.value, task.assignee, task.role, task.due_at, task.reminders_sent, "noord")
    assert {i: (r.status, r.due_at) for i, r in timers.items()} == {  # a cancelled timer's row is gone
        t.id: (t.status.value, t.due_at) for t in state.timers.values() if t.status is not TimerStatus.CANCELLED}
    assert any(t.status is TimerStatus.CANCELLED for t in state.timers.values())
    queued = {e.data["message"]["id"] for e in service.history(case_id) if e.type == "message_queued"}
    assert queued and outbox == queued


def _interventions(db: Engine, case_id: str) -> dict[str, tuple[str, Any, Any]]:
    with read_session(db) as session:
        rows = session.execute(select(CaseTrackRow).where(CaseTrackRow.case_id == case_id)).scalars()
        return {r.track_id: (r.status, r.started_at, r.closed_at) for r in rows}


def _started_tracks(state: Any) -> dict[str, tuple[str, Any, Any]]:
    return {t.id: (t.status.value, t.started_at, t.closed_at) for t in state.tracks.values() if t.started_at}


def test_the_interventions_follow_the_tracks_through_their_upserts(
        service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _walk(service, clock)  # "housing" added and started after the intake
    state = service.case(case_id)
    assert "housing" in _started_tracks(state) and _interventions(db, case_id) == _started_tracks(state)
    # A save with track events is one statement on PostgreSQL (its case_tracks rows upserted in it).
    history = service.history(case_id)
    added = PendingSave(state.version, Decision(state=state, events=tuple(e for e in history if e.type == "track_started")),
                        PERSONAL_FIELDS)
    assert repository.one_statement(added, "postgresql")
    clock.advance(timedelta(hours=1))
    talk = next(t.id for t in state.open_tasks() if t.step_id == "debts_talk")
    service.complete_task(talk, {"note": "in beeld"}, actor="anna")  # the debts track closes
    closed = service.case(case_id)
    assert closed.tracks["debts"].closed_at is not None and closed.tracks["housing"].closed_at is None
    assert _interventions(db, case_id) == _started_tracks(closed)  # the same rows, one now closed


def test_outbox_rows_carry_the_queued_messages(service: CaseService, db: Engine) -> None:
    case_id = _start(service)
    message = next(e.data["message"] for e in service.history(case_id) if e.type == "message_queued")
    with read_session(db) as session:
        row = session.get(OutboxRow, message["id"])
    assert row is not None
    assert (row.channel, row.template, row.to_role, row.task_id, row.status, row.attempts) == (
        "inbox", "task_opened", "worker", message["task_id"], "pending", 0)
    assert "payload" not in message and row.payload  # stored once: in the outbox row, the event names it
    assert set(message) <= {"id", "channel", "template", "to_role", "to_worker", "task_id"}
    assert row.next_attempt_at == row.deliver_after == row.created_at  # an inbox message goes at once


def test_stale_save_is_refused(service: CaseService, db: Engine) -> None:
    case_id = _start(service)
    intake = _intake_task(service, case_id)
    with read_session(db) as session:
        loaded = repository.load_case(session, case_id)
    from engine import commands as c

    now = service.clock.now()
    first = service.engine.handle(loaded, c.ClaimTask(case_id=case_id, actor="anna", task_id=intake, worker="anna"), now)
    second = service.engine.handle(loaded, c.ClaimTask(case_id=case_id, actor="bob", task_id=intake, worker="bob"), now)
    with write_session(db) as session:
        repository.save_decision(session, PendingSave(loaded.version, first, PERSONAL_FIELDS))
    with pytest.raises(StaleCaseError, match=f"case {case_id} changed since it was loaded") as info, \
            write_session(db) as session:
        repository.save_decision(session, PendingSave(loaded.version, second, PERSONAL_FIELDS))
    assert isinstance(info.value, ConflictError)
    assert service.case(case_id).tasks[intake].assignee == "anna"
    assert [e.type for e in service.history(case_id)][-1] == "task_claimed"


def test_worklist_and_role_queue(service: CaseService, clock: ManualClock) -> None:
    first = _start(service, team="noord")
    clock.advance(timedelta(minutes=1))  # later start, later due: a fixed order
    second = _start(service, team="zuid")
    clock.advance(timedelta(minutes=1))
    third = _start(service)  # no team: every team's queue shows it
    service.claim(_intake_task(service, first), "anna")
    queue_noord = [t.case_id for t in service.role_queue("worker", team="noord")]
    assert queue_noord == [third]
    assert [t.case_id for t in service.role_queue("worker")] == [second, third]
    mine = service.worklist("anna", roles=["worker"], team="noord")
    assert [(t.case_id, t.assignee) for t in mine] == [(first, "anna"), (third, None)]
    assert [t.case_id for t in service.worklist("anna")] == [first]
    assert all(t.status == TaskStatus.OPEN.value and t.due_at.tzinfo == UTC for t in mine)


def test_same_version_with_other_content_is_refused(service: CaseService) -> None:
    again = service.publish_pathway(visits_source(), "again.yaml")
    assert again.new is False
    reformatted = service.publish_pathway("# same pathway, other comment\n" + visits_source(), "copy.yaml")
    assert reformatted.new is False  # same fingerprint: the content did not change
    with pytest.raises(ConflictError, match="pathway test-visits@1 is already published with other content"):
        service.publish_pathway(visits_source(intake_title="Kennismaking"), "changed.yaml")
    assert service.publish_pathway(visits_source(2, intake_title="Kennismaking"), "v2.yaml").new is True
    newest = service.start_case("test-visits", "signal", CLIENT, actor="intake")
    assert service.case(newest.case_id).pathway_version == 2
    old = service.start_case("test-visits", "signal", CLIENT, actor="intake", version=1)
    assert service.case(old.case_id).tasks[old.opened_tasks[0]].title == "Intake"


def test_a_pathway_built_in_code_is_published_by_its_text_hash(service: CaseService) -> None:
    import dataclasses

    pathway = dataclasses.replace(visits_pathway(3), fingerprint="")
    assert service.publish(pathway, visits_source(3), "code").new is True
    assert service.publish(pathway, visits_source(3), "code").new is False


def _case_columns_agree(service: CaseService, db: Engine, case_id: str) -> None:
    state = service.case(case_id)
    with read_session(db) as session:
        row = session.get(CaseRow, case_id)
    assert row is not None
    assert (row.pathway_id, row.pathway_version, row.status, row.team, row.pseudonym, row.opened_at, row.closed_at,
            row.outcome, row.close_reason, row.version, row.escalations_open) == (
        state.pathway_id, state.pathway_version, state.status.value, state.team, state.pseudonym, state.opened_at,
        state.closed_at, state.outcome, state.close_reason, state.version, len(state.open_escalations))


def test_every_case_column_follows_the_state_through_escalation_close_and_reopening(
    service: CaseService, clock: ManualClock, db: Engine
) -> None:
    # A save on SQLite sets only the case columns that changed (repository._narrow_case_row): each
    # that changes now and then must still change when it does.
    raising = visits_source().replace("id: test-visits\n", "id: test-visits-raise\n", 1).replace(
        "      - {after: 8 hours, action: reassign, to: coordinator}\n",
        "      - {after: 8 hours, action: reassign, to: coordinator}\n"
        "      - {after: 12 hours, action: raise, to: manager}\n", 1)
    service.publish_pathway(raising, "raise.yaml")
    case_id = service.start_case("test-visits-raise", "signal", CLIENT, actor="intake", team="noord").case_id
    clock.advance(timedelta(days=3))  # the intake overdue: its last rung raises an escalation
    service.fire_due()
    escalated = service.case(case_id)
    assert escalated.open_escalations
    _case_columns_agree(service, db, case_id)
    service.resolve_escalation(case_id, escalated.open_escalations[0]["id"], actor="coordinator")
    _case_columns_agree(service, db, case_id)
    service.close_case(case_id, "client_moved", actor="coordinator")
    _case_columns_agree(service, db, case_id)
    service.reopen(case_id, actor="coordinator", reason="cliënt terug")
    _case_columns_agree(service, db, case_id)
    assert service.case(case_id).closed_at is None


def test_an_update_on_sqlite_names_only_what_can_have_changed(service: CaseService, db: Engine) -> None:
    """SQLite rewrites an index whose column is in an UPDATE's SET list, whatever the value: a
    completion leaves out the case's and the task's columns fixed at their start (their indexes
    stay untouched) and the case's status, which did not change."""
    if db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL sets whole rows (one statement text a table; it decides by the values)")
    case_id = _start(service, team="noord")
    intake = _intake_task(service, case_id)
    statements: list[str] = []
    db.dispose()  # new connections, each tracing what it runs
    sqlalchemy_event.listen(db, "connect",
                            lambda connection, _record: connection.set_trace_callback(statements.append))
    service.cases_kept.drop(case_id)
    service.complete_task(intake, {"outcome": "help", "problems": ["debts"]}, actor="anna")
    # "UPDATE tasks SET a = ?, b = ? WHERE ...": the table -> the columns it sets
    updates = {s.split()[1]: {part.split(" = ")[0].strip() for part in s.split(" SET ", 1)[1].split(" WHERE ")[0].split(",")}
               for s in statements if s.startswith("UPDATE")}
    assert "cases" in updates and "tasks" in updates, statements
    assert not updates["cases"] & {"pathway_id", "team", "pseudonym", "opened_at", "funder", "municipality",
                                   "report_key", "status", "closed_at"}, updates["cases"]
    assert not updates["tasks"] & {"case_id", "funder", "pathway_id", "team", "type", "step", "created_at",
                                   "report_key"}, updates["tasks"]
    assert {"status", "completed_at"} <= updates["tasks"]
    _case_columns_agree(service, db, case_id)


def test_several_cases_load_at_once_in_parts_with_their_personal_data(
    service: CaseService, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`load_cases` (the sweep's read) returns the cases there are, personal data merged back, and
    leaves out an id that is not a case; on SQLite a batch larger than a statement's parameters is
    read in parts (two ids a part here)."""
    monkeypatch.setattr(repository, "_SQLITE_IDS_A_QUERY", 2)
    ids = [_start(service) for _ in range(3)]
    with write_session(db) as session:
        loaded = repository.load_cases(session, [ids[0], "C-NOT-A-CASE", ids[1], ids[2]])
        assert repository.load_cases(session, []) == {}
    assert set(loaded) == set(ids)
    for case_id in ids:
        assert loaded[case_id].data["client_name"] == "Fatima de Vries"
        assert loaded[case_id].live and loaded[case_id].version == service.case(case_id).version
