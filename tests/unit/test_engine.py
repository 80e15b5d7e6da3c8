"""The engine on a small pathway that uses every construct, on a manual clock.

Every scenario runs twice: with state kept in memory, and with state written
to JSON and read back between commands (as the database does).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import commands as c
from engine.errors import ConflictError, NotFoundError, ValidationError
from engine.state import CaseStatus, TaskStatus, TaskType, TimerKind, TimerStatus, TrackStatus
from tests.unit.engine_support import (
    FIXTURES,
    MONDAY,
    assert_never_early,
    assert_replays,
    complete,
    load,
    only_task,
    runner_for,
    start,
)

PATHWAY = load(FIXTURES / "all-constructs.yaml")
DATA = {"months": 3, "client_name": "Jan Jansen"}


@pytest.fixture(params=[False, True], ids=["memory", "reloaded"])
def runner(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return runner_for(PATHWAY, reload=request.param)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_start_opens_first_task_with_working_day_due(runner) -> None:  # type: ignore[no-untyped-def]
    state = start(runner, PATHWAY, DATA)
    task = only_task(runner)
    assert state.status is CaseStatus.OPEN
    assert task.step_id == "visit" and task.role == "worker" and task.assignee is None
    # Monday 2 March + 5 working days = Monday 9 March, 17:00 Amsterdam (CET) = 16:00 UTC.
    assert task.due_at == utc(2026, 3, 9, 16, 0)
    deadlines = [t for t in state.timers.values() if t.kind is TimerKind.TASK_DEADLINE]
    assert [t.due_at for t in deadlines] == [utc(2026, 3, 6, 16, 0)]  # reminder 1 working day before
    lead = [t for t in state.timers.values() if t.kind is TimerKind.CASE_LEAD_TIME]
    assert len(lead) == 1
    assert not any(t.kind is TimerKind.EVALUATION for t in state.timers.values())  # starts after the visit
    assert_replays(runner)


def test_start_refuses_bad_signals(runner) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="client_name"):
        start(runner, PATHWAY, {"months": 3})
    with pytest.raises(ValidationError, match=r"voldoet niet aan de voorwaarde.*case.months >= 2"):
        start(runner, PATHWAY, {"months": 1, "client_name": "X"}, case_id="C2")
    with pytest.raises(ValidationError, match="kent het signaal fax niet"):
        start(runner, PATHWAY, DATA, case_id="C3", trigger="fax")
    with pytest.raises(ValidationError, match="favourite_colour"):
        start(runner, PATHWAY, {**DATA, "favourite_colour": "blue"}, case_id="C4")


def test_revisit_loop_is_bounded_then_takes_the_other_path(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    for _ in range(3):
        complete(runner, only_task(runner, step_id="visit"), {"reached": False})
    state = runner.case("C1")
    assert state.status is CaseStatus.CLOSED
    assert state.outcome == "other" and state.close_reason == "no_contact"
    assert state.main is not None and state.main.visits["visit"] == 3
    assert [m["template"] for m in runner.outbox if m["channel"] == "letter"] == ["geen-contact"]
    assert state.pending_timers() == []
    assert all(t.status is not TaskStatus.OPEN for t in state.tasks.values())
    assert_replays(runner)


def test_escalation_chain_fires_in_order_and_never_early(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    runner.advance_to(utc(2026, 3, 31, 0, 0))
    state = runner.case("C1")
    task = only_task(runner, step_id="visit")
    passed = [(e.at, e.data["what"]) for e in runner.histories["C1"] if e.type == "task_deadline_passed"]
    assert passed == [
        (utc(2026, 3, 6, 16, 0), "reminder"),
        (utc(2026, 3, 11, 16, 0), "escalation"),  # notify coordinator after 2 working days
        (utc(2026, 3, 16, 16, 0), "escalation"),  # reassign after 5
        (utc(2026, 3, 23, 16, 0), "escalation"),  # raise to manager after 10
    ]
    assert task.role == "coordinator" and task.escalation_level == 3 and task.reminders_sent == 1
    assert [e["to_role"] for e in state.open_escalations] == ["manager"]
    templates = [m["template"] for m in runner.outbox]
    assert templates.count("escalation_notify") == 1 and templates.count("escalation_raise") == 1
    assert_never_early(runner)
    assert_replays(runner)


def test_completing_cancels_pending_deadlines(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    complete(runner, only_task(runner), {"reached": True, "problems": ["debts"]})
    state = runner.case("C1")
    visit_timers = [t for t in state.timers.values() if t.ref.endswith(".1") or t.ref == "C1.1"]
    assert all(t.status is TimerStatus.CANCELLED for t in visit_timers)
    runner.advance_to(utc(2026, 3, 31))
    assert not any(e.type == "task_deadline_passed" and e.data["task_id"] == "C1.1" for e in runner.histories["C1"])


def test_partner_request_answer_then_parallel_tracks_join(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    complete(runner, only_task(runner), {"reached": True, "problems": ["debts", "housing"]})
    ask = only_task(runner, step_id="ask_bank")
    assert ask.type is TaskType.PARTNER and ask.role == "bank"
    assert any(m["template"] == "partner_request" for m in runner.outbox)
    with pytest.raises(ValidationError, match="arrangement"):
        complete(runner, ask, {"wrong": 1}, worker="partner:bank")
    complete(runner, ask, {"arrangement": True}, worker="partner:bank")
    state = runner.case("C1")
    assert {t: s.status for t, s in state.tracks.items()} == {"debts": TrackStatus.ACTIVE, "housing": TrackStatus.ACTIVE}
    assert {t.step_id for t in runner.open_tasks("C1")} == {"debts_plan", "housing_talk"}
    complete(runner, only_task(runner, step_id="housing_talk"), {"note": "ok"})
    assert runner.case("C1").main.step_id == "problems"
    complete(runner, only_task(runner, step_id="debts_plan"), {"done": True})
    state = runner.case("C1")
    assert state.tracks["debts"].result == "achieved" and state.main.step_id == "cool_down"
    runner.advance_to(runner.clock.now() + timedelta(weeks=2, hours=1))
    closing = only_task(runner, step_id="closing")
    complete(runner, closing, {"solved": True})
    state = runner.case("C1")
    assert state.status is CaseStatus.CLOSED and state.outcome == "solved"
    assert state.pending_timers() == []
    assert_never_early(runner)
    assert_replays(runner)


def test_partner_timeout_takes_on_timeout_path(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    complete(runner, only_task(runner), {"reached": True, "problems": ["income"]})
    ask = only_task(runner, step_id="ask_bank")
    runner.advance_to(runner.clock.now() + timedelta(days=20))
    state = runner.case("C1")
    assert state.tasks[ask.id].status is TaskStatus.CANCELLED
    assert state.tracks["income"].status is TrackStatus.ACTIVE
    with pytest.raises(ConflictError, match="is al vervallen"):
        complete(runner, ask, {"arrangement": True}, worker="partner:bank")
    assert_replays(runner)


def test_evaluation_every_three_weeks_adds_and_closes_tracks(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    visited = runner.clock.now()
    complete(runner, only_task(runner), {"reached": True, "problems": ["debts"]})
    complete(runner, only_task(runner, step_id="ask_bank"), {"arrangement": False}, worker="partner:bank")
    runner.advance_to(visited + timedelta(weeks=3))
    evaluation = only_task(runner, step_id="evaluation")
    assert evaluation.type is TaskType.EVALUATION and evaluation.sequence == 1
    with pytest.raises(ValidationError, match="geen probleemgebied nonsense"):
        complete(runner, evaluation, {"track_reviews": [{"track": "nonsense", "progress": "x"}]})
    complete(runner, evaluation, {
        "summary": "loopt",
        "track_reviews": [{"track": "debts", "progress": "aanvraag loopt"}],
        "add_tracks": ["housing"],
        "close_tracks": [{"track": "debts", "result": "stopped"}],
    })
    state = runner.case("C1")
    assert state.evaluations_held == 1
    assert state.tracks["debts"].status is TrackStatus.CLOSED and state.tracks["debts"].result == "stopped"
    assert state.tracks["debts"].progress[0]["progress"] == "aanvraag loopt"
    assert state.tracks["housing"].status is TrackStatus.ACTIVE
    runner.advance_to(visited + timedelta(weeks=6, minutes=1))
    second = only_task(runner, step_id="evaluation")
    assert second.sequence == 2
    evaluation_opened = [e.at for e in runner.histories["C1"] if e.type == "task_opened"
                         and e.data["task"]["type"] == "evaluation"]
    # Weeks keep the local wall-clock time: 09:00 in Amsterdam on both days, across the DST change of 29 March.
    assert evaluation_opened == [utc(2026, 3, 23, 8, 0), utc(2026, 4, 13, 7, 0)]
    assert_replays(runner)


def test_track_lead_time_breach_raises_escalation(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    complete(runner, only_task(runner), {"reached": True, "problems": ["debts"]})
    complete(runner, only_task(runner, step_id="ask_bank"), {"arrangement": True}, worker="partner:bank")
    started = runner.clock.now()
    runner.advance_to(started + timedelta(weeks=9))
    state = runner.case("C1")
    assert started == utc(2026, 3, 2, 8, 0)
    assert state.tracks["debts"].lead_time_exceeded_at == utc(2026, 4, 27, 7, 0)  # 8 weeks, 09:00 local (CEST)
    lead_escalations = [e for e in state.open_escalations if e.get("flow") == "debts"]
    assert [e["to_role"] for e in lead_escalations] == ["manager"]
    escalation_id = lead_escalations[0]["id"]
    runner.handle(c.ResolveEscalation(case_id="C1", actor="manager:mia", escalation_id=escalation_id))
    assert escalation_id not in [e["id"] for e in runner.case("C1").open_escalations]
    assert_replays(runner)


def test_double_completion_conflicts(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    task = only_task(runner)
    complete(runner, task, {"reached": True, "problems": ["debts"]}, worker="worker:bob")
    with pytest.raises(ConflictError, match=r"taak «Huisbezoek» is al afgerond door worker:bob"):
        complete(runner, task, {"reached": True}, worker="worker:eve")


def test_claim_release_reassign(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    task = only_task(runner)
    runner.handle(c.ClaimTask(case_id="C1", actor="worker:bob", task_id=task.id, worker="worker:bob"))
    with pytest.raises(ConflictError, match="taak «Huisbezoek» is al opgepakt door worker:bob"):
        runner.handle(c.ClaimTask(case_id="C1", actor="worker:eve", task_id=task.id, worker="worker:eve"))
    assert runner.case("C1").assignments == {"worker": "worker:bob"}
    runner.handle(c.ReleaseTask(case_id="C1", actor="worker:bob", task_id=task.id, worker="worker:bob"))
    assert runner.case("C1").tasks[task.id].assignee is None
    runner.handle(c.ReassignTask(case_id="C1", actor="coordinator:anna", task_id=task.id, worker="worker:eve",
                                 reason="ziekte"))
    assert runner.case("C1").tasks[task.id].assignee == "worker:eve"
    with pytest.raises(NotFoundError, match=r"geen taak C1\.99"):
        runner.handle(c.ClaimTask(case_id="C1", actor="worker:eve", task_id="C1.99", worker="worker:eve"))
    assert_replays(runner)


def test_suspension_pauses_timers_and_shifts_deadlines(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    task = only_task(runner)
    runner.handle(c.SuspendCase(case_id="C1", actor="worker:bob", reason="cliënt in detentie"))
    runner.advance_to(MONDAY + timedelta(days=30))
    assert not any(e.type == "task_deadline_passed" for e in runner.histories["C1"])
    with pytest.raises(ConflictError, match="gepauzeerd"):
        complete(runner, task, {"reached": True})
    runner.handle(c.ResumeCase(case_id="C1", actor="worker:bob"))
    state = runner.case("C1")
    # Suspended Monday 2 March to Wednesday 1 April: 22 working days lost. Deadlines move by 22 working
    # days at the same local time (17:00, now in summer time), skipping Easter Monday 6 April.
    assert state.tasks[task.id].due_at == utc(2026, 4, 9, 15, 0)  # was Monday 9 March 17:00
    reminder = next(t for t in state.pending_timers() if t.kind is TimerKind.TASK_DEADLINE)
    assert reminder.due_at == utc(2026, 4, 8, 15, 0)  # was Friday 6 March 17:00
    assert_replays(runner)


def test_early_close_and_reopen_within_period(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    with pytest.raises(ValidationError, match="geen sluitreden bored"):
        runner.handle(c.CloseCase(case_id="C1", actor="worker:bob", reason_code="bored"))
    runner.handle(c.CloseCase(case_id="C1", actor="worker:bob", reason_code="moved", reason="verhuisd naar Assen"))
    state = runner.case("C1")
    assert state.status is CaseStatus.CLOSED and state.outcome == "other" and state.close_reason == "moved"
    assert state.pending_timers() == [] and state.open_tasks() == []
    runner.advance_to(MONDAY + timedelta(days=10))
    runner.handle(c.ReopenCase(case_id="C1", actor="coordinator:anna", reason="terug in de wijk"))
    assert runner.case("C1").status is CaseStatus.OPEN
    assert only_task(runner).step_id == "visit"
    runner.handle(c.CloseCase(case_id="C1", actor="worker:bob", reason_code="no_contact"))
    runner.advance_to(MONDAY + timedelta(days=60))
    with pytest.raises(ConflictError, match="te lang geleden gesloten"):
        runner.handle(c.ReopenCase(case_id="C1", actor="coordinator:anna"))
    assert_replays(runner)


def test_origin_registration_and_objection(runner) -> None:  # type: ignore[no-untyped-def]
    start(runner, PATHWAY, DATA)
    with pytest.raises(ValidationError, match="landcode"):
        runner.handle(c.RegisterOrigin(case_id="C1", actor="worker:bob", origin={"client": "Nederland"}))
    with pytest.raises(ValidationError, match="religion"):
        runner.handle(c.RegisterOrigin(case_id="C1", actor="worker:bob", origin={"religion": "NL"}))
    runner.handle(c.RegisterOrigin(case_id="C1", actor="worker:bob", origin={"client": "NL", "mother": "CW"}))
    assert runner.case("C1").origin == {"client": "NL", "mother": "CW"}
    runner.handle(c.ObjectToOrigin(case_id="C1", actor="worker:bob", reason="cliënt maakt bezwaar"))
    assert runner.case("C1").origin is None
    with pytest.raises(ConflictError, match="bezwaar"):
        runner.handle(c.RegisterOrigin(case_id="C1", actor="worker:bob", origin={"client": "NL"}))
    assert_replays(runner)


def test_state_is_never_changed_by_the_engine(runner) -> None:  # type: ignore[no-untyped-def]
    state = start(runner, PATHWAY, DATA)
    before = state.to_json()
    task = only_task(runner)
    decision = runner.engine.handle(state, c.CompleteTask(case_id="C1", actor="w", task_id=task.id,
                                                           data={"reached": False}), runner.clock.now())
    assert state.to_json() == before
    assert decision.state.version == before["version"] + len(decision.events)
