"""The application service: one transaction per command, idempotency keys, conflicts, timers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from engine.clock import ManualClock
from engine.errors import ConflictError, NotFoundError, ValidationError
from engine.state import CaseStatus, TaskStatus, TimerStatus
from integrations.db.engine_factory import read_session
from integrations.db.models import CaseEventPageRow, IdempotencyKeyRow, OutboxRow, TaskRow, TimerRow
from integrations.service import CaseService, build_service
from tests.fixtures.visits_pathway import visits_source

CLIENT = {"client_name": "Jan Jansen", "phone": "0501234567", "concern": "energie"}


def _start(service: CaseService, **extra: object) -> str:
    return service.start_case("test-visits", "signal", CLIENT, actor="intake", **extra).case_id  # type: ignore[arg-type]


def _open(service: CaseService, case_id: str, step: str) -> str:
    return next(t.id for t in service.case(case_id).open_tasks() if t.step_id == step)


def _event_count(db: Engine, case_id: str) -> int:
    with read_session(db) as session:
        return sum(last - first + 1 for first, last in session.execute(
            select(CaseEventPageRow.first_seq, CaseEventPageRow.last_seq).where(CaseEventPageRow.case_id == case_id)))


def test_start_case_result_and_state(service: CaseService, clock: ManualClock) -> None:
    result = service.start_case("test-visits", "signal", CLIENT, actor="intake", team="noord",
                                assignments={"worker": "anna"})
    state = service.case(result.case_id)
    assert "." not in result.case_id
    assert result.version == state.version == len(result.events)
    assert result.events[0] == "case_started" and result.duplicate is False
    (task_id,) = result.opened_tasks
    assert state.tasks[task_id].assignee == "anna"
    assert state.opened_at == clock.now() and state.team == "noord"


def test_refused_commands_name_the_case_or_task(service: CaseService) -> None:
    with pytest.raises(NotFoundError, match="zaak C000 bestaat niet"):
        service.suspend("C000", actor="x", reason="y")
    with pytest.raises(NotFoundError, match=r"taak C000\.3 bestaat niet"):
        service.complete_task("C000.3", {}, actor="x")
    with pytest.raises(NotFoundError, match="zorgpad nope is niet gepubliceerd"):
        service.start_case("nope", "signal", CLIENT, actor="x")
    case_id = _start(service)
    with pytest.raises(ValidationError, match=r"het formulier van taak «Intake»"):
        service.complete_task(_open(service, case_id, "intake"), {"outcome": "maybe"}, actor="anna")
    with pytest.raises(ValidationError, match="kent het signaal call niet"):
        service.start_case("test-visits", "call", CLIENT, actor="x")


def test_a_repeated_idempotency_key_returns_the_first_result(service: CaseService, db: Engine) -> None:
    case_id = _start(service)
    task = _open(service, case_id, "intake")
    form = {"outcome": "help", "problems": ["debts"]}
    first = service.complete_task(task, form, actor="anna", idempotency_key="form-17")
    count = _event_count(db, case_id)
    again = service.complete_task(task, form, actor="anna", idempotency_key="form-17")
    assert again.duplicate is True and first.duplicate is False
    assert (again.case_id, again.version, again.events) == (first.case_id, first.version, first.events)
    assert _event_count(db, case_id) == count
    with pytest.raises(ConflictError, match="idempotency key 'form-17' was already used for another command"):
        service.complete_task(task, {"outcome": "no_help"}, actor="anna", idempotency_key="form-17")
    # Without the key the engine decides again and refuses: the task is done.
    with pytest.raises(ConflictError, match="taak «Intake» is al afgerond door anna"):
        service.complete_task(task, form, actor="anna")


def test_starting_twice_with_one_key_starts_one_case(service: CaseService, db: Engine) -> None:
    first = service.start_case("test-visits", "signal", CLIENT, actor="intake", client_id="999", idempotency_key="sig-1")
    again = service.start_case("test-visits", "signal", CLIENT, actor="intake", client_id="999", idempotency_key="sig-1")
    assert again.duplicate and again.case_id == first.case_id
    with read_session(db) as session:
        assert session.execute(select(func.count()).select_from(IdempotencyKeyRow)).scalar_one() == 1
        stored = session.execute(select(IdempotencyKeyRow.result)).scalar_one()
    assert "Jan Jansen" not in str(stored)
    with pytest.raises(ConflictError, match=r"zaak \w+ bestaat al"):
        service.start_case("test-visits", "signal", CLIENT, actor="intake", case_id=first.case_id)


def test_same_client_same_pseudonym(service: CaseService) -> None:
    a = service.case(_start(service, client_id="1234.56.782"))
    b = service.case(_start(service, client_id="123456782"))
    c = service.case(_start(service))
    d = service.case(_start(service))
    assert a.pseudonym == b.pseudonym
    assert len({a.pseudonym, c.pseudonym, d.pseudonym}) == 3


def test_pseudonyms_depend_on_the_installation_secret(
    database: tuple[str, Engine], clock: ManualClock, tmp_path: Path
) -> None:
    url, db = database
    one = build_service(url, clock, data_dir=tmp_path / "one", db=db, publish_shipped=False)
    two = build_service(url, clock, data_dir=tmp_path / "two", db=db, publish_shipped=False)
    assert one._pseudonym("123456782") != two._pseudonym("123456782")
    assert (tmp_path / "one" / "pseudonym.key").stat().st_mode & 0o077 == 0
    again = build_service(url, clock, data_dir=tmp_path / "one", db=db, publish_shipped=False)
    assert again._pseudonym("123456782") == one._pseudonym("123456782")


def test_case_lifecycle_through_the_service(service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _start(service, team="noord")
    intake = _open(service, case_id, "intake")
    service.claim(intake, "anna")
    service.release(intake, "anna")
    service.reassign(intake, actor="coordinator", worker="bob", reason="anna met verlof")
    assert service.task(intake).assignee == "bob"
    service.complete_task(intake, {"outcome": "help", "problems": ["debts"]}, actor="bob")
    service.add_track(case_id, "housing", actor="coordinator")
    state = service.case(case_id)
    assert {t.step_id for t in state.open_tasks()} == {"debts_talk", "housing_talk"}
    service.register_origin(case_id, {"client": "NL", "mother": "MA"}, actor="bob")
    service.object_to_origin(case_id, actor="bob")
    assert service.case(case_id).origin is None
    service.close_case(case_id, "client_moved", actor="coordinator", reason="verhuisd naar Assen")
    closed = service.case(case_id)
    assert closed.status is CaseStatus.CLOSED and closed.outcome == "other"
    with read_session(db) as session:
        statuses = set(session.execute(select(TaskRow.status).where(TaskRow.case_id == case_id)).scalars())
        pending = session.execute(
            select(func.count()).where(TimerRow.case_id == case_id, TimerRow.status == "pending")
        ).scalar_one()
    assert "open" not in statuses and pending == 0
    clock.advance(timedelta(days=2))
    service.reopen(case_id, actor="coordinator", reason="cliënt belt terug")
    reopened = service.case(case_id)
    assert reopened.status is CaseStatus.OPEN
    assert [t.step_id for t in reopened.open_tasks()] == ["intake"]


def test_suspension_pauses_timers_and_resume_shifts_them(service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _start(service)
    due_before = {t.id: t.due_at for t in service.case(case_id).pending_timers()}
    service.suspend(case_id, actor="coordinator", reason="detentie")
    with read_session(db) as session:
        rows = dict(session.execute(select(TimerRow.id, TimerRow.status).where(TimerRow.case_id == case_id)).all())
    assert {rows[i] for i in due_before} == {"paused"}
    clock.advance(timedelta(days=10))
    assert service.fire_due().fired == 0  # paused timers do not fire
    service.resume(case_id, actor="coordinator")
    with read_session(db) as session:
        after = dict(session.execute(
            select(TimerRow.id, TimerRow.due_at).where(TimerRow.case_id == case_id, TimerRow.status == "pending")
        ).all())
    assert after == {i: due + timedelta(days=10) for i, due in due_before.items()}


def test_timers_fire_at_their_moment_never_before_and_once(service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _start(service)
    intake = _open(service, case_id, "intake")
    reminder = next(t for t in service.case(case_id).pending_timers() if t.ref == intake)
    assert service.fire_due(reminder.due_at - timedelta(microseconds=1)).fired == 0
    clock.set(reminder.due_at)
    report = service.fire_due()
    assert (report.fired, report.cases, report.failed, report.stale) == (1, 1, 0, 0)
    state = service.case(case_id)
    assert state.timers[reminder.id].status is TimerStatus.FIRED
    assert state.timers[reminder.id].fired_at == reminder.due_at
    assert state.tasks[intake].reminders_sent == 1
    assert service.fire_due().fired == 0
    with read_session(db) as session:
        assert session.get(TaskRow, intake).reminders_sent == 1  # type: ignore[union-attr]
        templates = session.execute(select(OutboxRow.template).where(OutboxRow.case_id == case_id)).scalars().all()
    assert "reminder_before" in templates


def test_a_late_sweep_fires_everything_due_in_due_order(service: CaseService, clock: ManualClock) -> None:
    case_id = _start(service)
    intake = _open(service, case_id, "intake")
    due_at = service.case(case_id).tasks[intake].due_at
    clock.set(due_at + timedelta(hours=9))  # reminder, notify (+2h) and reassign (+8h) are all due
    report = service.fire_due(batch_size=2)
    assert report.fired == 3 and report.batches >= 2
    deadlines = [e for e in service.history(case_id) if e.type == "task_deadline_passed"]
    assert [(e.data["index"], e.data["what"]) for e in deadlines] == [
        (0, "reminder"), (1, "escalation"), (2, "escalation")]
    task = service.case(case_id).tasks[intake]
    assert (task.role, task.assignee, task.status) == ("coordinator", None, TaskStatus.OPEN)
    assert [t.id for t in service.role_queue("coordinator")] == [intake]


def test_a_timer_that_cannot_fire_is_set_aside_and_can_be_retried(
    service: CaseService, clock: ManualClock, db: Engine
) -> None:
    from sqlalchemy import update

    from integrations.db.engine_factory import write_session
    from integrations.db.timers import failed_timers

    case_id = _start(service)
    timer = min(service.case(case_id).pending_timers(), key=lambda t: t.due_at)
    with write_session(db) as session:  # a projection that drifted: due earlier than the case says
        session.execute(update(TimerRow).where(TimerRow.id == timer.id).values(due_at=clock.now()))
    report = service.fire_due()
    assert (report.fired, report.failed) == (0, 1)
    with read_session(db) as session:
        ((timer_id, failed_case, error),) = failed_timers(session)
    assert (timer_id, failed_case) == (timer.id, case_id)
    assert error is not None and f"gepland moment {timer.id}" in error and "valt op" in error
    assert service.fire_due().failed == 0  # out of the sweep
    clock.set(timer.due_at)
    assert service.retry_failed_timers(case_id) == 1
    assert service.fire_due().fired == 1


def test_build_service_publishes_the_shipped_pathways(
    database: tuple[str, Engine], clock: ManualClock, tmp_path: Path
) -> None:
    url, db = database
    pathways = tmp_path / "pathways"
    pathways.mkdir()
    (pathways / "visits.yaml").write_text(visits_source(4), encoding="utf-8")
    (pathways / "broken.yaml").write_text("id: broken\nversion: 1\n", encoding="utf-8")
    service = build_service(url, clock, pathways, data_dir=tmp_path / "data", db=db)
    with read_session(db) as session:
        assert [(p, v) for p, v, _ in service.catalog.published(session)] == [("test-visits", 4)]
    ((path, why),) = service.unpublished
    assert path.endswith("broken.yaml") and "broken.yaml" in why
    assert service.case(_start(service)).pathway_version == 4
