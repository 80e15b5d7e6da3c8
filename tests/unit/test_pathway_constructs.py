"""The round-two constructs of the pathway language on a manual clock: working weeks, deadlines off
holidays, calendars per role and step, partner message templates, joint decisions, hand-overs,
the registration model, access teams and role scope (docs/examples/crisis-chain.yaml)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from engine import commands as c
from engine.calendar import calendar_for
from engine.clock import ManualClock
from engine.compiled import CompiledPathway, compile_pathway
from engine.decide import Engine
from engine.definition import CalendarKind, RoleScope
from engine.durations import Duration, Unit, parse_duration
from engine.errors import PathwayError, ValidationError
from engine.loader import load_pathway, pathway_to_data
from engine.pathway_data import fingerprint
from engine.registration import record
from engine.runner import InMemoryRunner
from engine.state import CaseStatus, TaskStatus, TaskType, TimerKind
from tasks.handlers import default_handlers
from tasks.registry import default_kinds

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
KINDS = default_kinds()
CRISIS_TEXT = (EXAMPLES / "crisis-chain.yaml").read_text(encoding="utf-8")
CRISIS = load_pathway(CRISIS_TEXT, "crisis-chain.yaml", KINDS)
YOUTH = load_pathway((EXAMPLES / "youth-debt.yaml").read_bytes(), "youth-debt.yaml", KINDS)
DATA = {"client_name": "Sara de Vries", "phone": "0612345678", "address": "Dorpsstraat 1, Uithuizen",
        "risk_level": "high", "problem_area": "violence"}
# Friday 6 March 2026, 22:00 in Amsterdam (21:00 UTC): the night before a weekend.
FRIDAY_NIGHT = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def make_runner(start: datetime = FRIDAY_NIGHT, *, reload: bool = False) -> InMemoryRunner:
    compiled = {p.id: compile_pathway(p) for p in (CRISIS, YOUTH)}

    def lookup(pathway_id: str, version: int) -> CompiledPathway:
        return compiled[pathway_id]

    return InMemoryRunner(Engine(lookup, default_handlers()), ManualClock(start), reload=reload)


@pytest.fixture(params=[False, True], ids=["memory", "reloaded"])
def runner(request: pytest.FixtureRequest) -> InMemoryRunner:
    return make_runner(reload=request.param)


def start(runner: InMemoryRunner, case_id: str = "C1", data: dict[str, Any] | None = None) -> None:
    runner.start(c.StartCase(case_id=case_id, actor="user:carla", pathway_id="crisis-chain", pathway_version=1,
                             trigger="police_report", data=dict(data or DATA), pseudonym=f"P-{case_id}",
                             team="crisis-noord", municipality="GM1966"))


def task_at(runner: InMemoryRunner, step_id: str, kind: TaskType | None = None, case_id: str = "C1") -> Any:
    found = [t for t in runner.open_tasks(case_id) if t.step_id == step_id and (kind is None or t.type is kind)]
    assert len(found) == 1, [(t.id, t.step_id, t.type) for t in runner.open_tasks(case_id)]
    return found[0]


def complete(runner: InMemoryRunner, task: Any, data: dict[str, Any], actor: str = "user:sanne",
             case_id: str = "C1") -> None:
    runner.handle(c.CompleteTask(case_id=case_id, actor=actor, task_id=task.id, data=data))


def to_joint_decision(runner: InMemoryRunner) -> None:
    start(runner)
    complete(runner, task_at(runner, "triage"), {"reached": True}, actor="user:anna")
    complete(runner, task_at(runner, "safety_check"), {"safe": False}, actor="partner:police")


def main_step(runner: InMemoryRunner, case_id: str = "C1") -> str | None:
    position = runner.case(case_id).main
    return None if position is None else position.step_id


def replays(runner: InMemoryRunner, case_id: str = "C1") -> bool:
    return runner.replayed(case_id).to_json() == runner.case(case_id).to_json()


# --------------------------------------------------------------------------- time


def test_working_weeks_are_five_working_days_in_english_and_dutch() -> None:
    assert parse_duration("4 working weeks") == Duration(4, Unit.WORKING_WEEKS)
    assert parse_duration("4 werkweken") == parse_duration("4 Working Weeks")
    assert str(Duration(1, Unit.WORKING_WEEKS)) == "1 working week"
    nl = calendar_for(CalendarKind.WORKING_DAYS)
    monday = utc(2026, 3, 2, 8)
    assert nl.add(monday, Duration(4, Unit.WORKING_WEEKS)) == nl.add(monday, Duration(20, Unit.WORKING_DAYS))
    # Across Easter and King's Day 2026 (Good Friday is not a day off by default): 3, 6 and 27 April.
    assert nl.add(utc(2026, 3, 30, 8), Duration(1, Unit.WORKING_WEEKS)) == utc(2026, 4, 7, 15)


def test_a_deadline_never_lands_on_a_public_holiday_unless_24x7() -> None:
    nl = calendar_for(CalendarKind.WORKING_DAYS)
    always = calendar_for(CalendarKind.ALWAYS)
    sunday = utc(2026, 4, 26, 10)  # 12:00 local; King's Day is Monday 27 April 2026
    assert nl.add(sunday, Duration(1, Unit.DAYS)) == utc(2026, 4, 27, 10)  # plain arithmetic lands on it
    assert nl.due(sunday, Duration(1, Unit.DAYS)) == utc(2026, 4, 28, 10)  # a deadline moves to Tuesday
    assert always.due(sunday, Duration(1, Unit.DAYS)) == utc(2026, 4, 27, 10)
    friday = utc(2026, 12, 18, 11)  # a Friday; + 1 week = Christmas Day, then Boxing Day and Sunday
    assert nl.due(friday, Duration(1, Unit.WEEKS)) == utc(2026, 12, 28, 11)
    assert nl.due(utc(2026, 3, 6, 11), Duration(1, Unit.DAYS)) == utc(2026, 3, 7, 11)  # a Saturday stays
    # Easter Sunday (5 April 2026) and Easter Monday are holidays: both move to Tuesday.
    assert nl.due(utc(2026, 4, 2, 10), Duration(3, Unit.DAYS)) == utc(2026, 4, 7, 10)
    assert nl.due(utc(2026, 4, 3, 10), Duration(3, Unit.DAYS)) == utc(2026, 4, 7, 10)
    assert nl.due(friday, Duration(3, Unit.HOURS)) == utc(2026, 12, 18, 14)  # elapsed time never moves
    for day in range(1, 366):
        start = datetime.fromordinal(date(2026, 1, 1).toordinal() + day - 1).replace(hour=9, tzinfo=UTC)
        for d in (Duration(1, Unit.DAYS), Duration(2, Unit.WEEKS), Duration(1, Unit.MONTHS)):
            assert nl.holiday_name(nl.local(nl.due(start, d)).date()) is None


def test_front_office_counts_24x7_and_the_case_manager_working_days(runner: InMemoryRunner) -> None:
    start(runner)
    triage = task_at(runner, "triage")
    assert triage.due_at == utc(2026, 3, 7, 1)  # four hours later, in the night: the front office is 24/7
    opened = [m for m in runner.outbox if m["template"] == "task_opened"]
    assert opened[-1]["deliver_after"] == FRIDAY_NIGHT.isoformat()  # 24/7 staff hear at once
    runner.clock.set(utc(2026, 3, 6, 22))
    complete(runner, triage, {"reached": True}, actor="user:anna")
    complete(runner, task_at(runner, "safety_check"), {"safe": False}, actor="partner:police")
    ours = task_at(runner, "safety_decision", TaskType.HUMAN)
    # The case manager's calendar: 2 working days from Friday night = Tuesday 17:00 (16:00 UTC).
    assert ours.due_at == utc(2026, 3, 10, 16)
    to_case_manager = [m for m in runner.outbox if m["template"] == "task_opened" and m["to_role"] == "case_manager"]
    assert to_case_manager[-1]["deliver_after"] == utc(2026, 3, 9, 7).isoformat()  # Monday 08:00, not at night
    timeout = [t for t in runner.case("C1").pending_timers() if t.kind is TimerKind.TIMEOUT]
    assert [t.due_at for t in timeout] == [utc(2026, 3, 11, 16)]  # 3 working days, the role's calendar
    assert replays(runner)


def test_reminders_for_office_staff_wait_for_working_hours(runner: InMemoryRunner) -> None:
    to_joint_decision(runner)
    complete(runner, task_at(runner, "safety_decision", TaskType.HUMAN), {"measure": "safety_plan"})
    complete(runner, task_at(runner, "safety_decision", TaskType.PARTNER),
             {"measure": "safety_plan", "name": "Wijkagent De Boer"}, actor="partner:police")
    plan = task_at(runner, "safety_plan")
    assert plan.due_at == utc(2026, 4, 3, 15)  # 4 working weeks (20 working days) = Friday 3 April 17:00 CEST
    runner.advance_to(utc(2026, 4, 1, 15))  # the reminder, 2 working days before (Wednesday 17:00)
    reminders = [m for m in runner.outbox if m["template"] == "reminder_before" and m["to_role"] == "case_manager"]
    assert len(reminders) == 1 and reminders[0]["deliver_after"] == utc(2026, 4, 1, 15).isoformat()
    assert replays(runner)


def test_front_office_reminders_go_out_at_night(runner: InMemoryRunner) -> None:
    start(runner)
    runner.advance_to(utc(2026, 3, 7, 0))  # 1 hour before the 01:00 UTC deadline
    night = [m for m in runner.outbox if m["template"] == "reminder_before"]
    assert [(m["to_role"], m["deliver_after"]) for m in night] == [("front_office", utc(2026, 3, 7, 0).isoformat())]


def test_step_calendar_overrides_the_pathway_calendar() -> None:
    step = CRISIS.step("debt_handover")
    assert step.calendar is CalendarKind.WORKING_DAYS and step.timeout == Duration(6, Unit.WORKING_WEEKS)
    assert CRISIS.role("case_manager").calendar is CalendarKind.WORKING_DAYS
    assert CRISIS.role("front_office").calendar is None


# --------------------------------------------------------------------------- partners


def test_partner_request_from_a_template_names_only_allowed_fields(runner: InMemoryRunner) -> None:
    start(runner)
    complete(runner, task_at(runner, "triage"), {"reached": True}, actor="user:anna")
    request = [m for m in runner.outbox if m["template"] == "partner_request"][-1]
    text = request["payload"]["question"]
    assert "Sara de Vries" in text and "Dorpsstraat 1, Uithuizen" in text and "risico: high" in text
    assert "0612345678" not in text  # the phone number is not for the police
    assert "zaterdag 7 maart 2026, 06:00" in text  # the due date in Dutch local time (8 hours, 24/7)
    assert request["payload"]["template"] == "police_safety_check"


def test_a_template_naming_a_field_the_partner_may_not_receive_is_refused_where_it_is() -> None:
    text = CRISIS_TEXT.replace("(risico: {risk_level})", "(risico: {risk_level}, tel. {phone})")
    with pytest.raises(PathwayError) as caught:
        load_pathway(text, "x.yaml", KINDS)
    problems = [str(p) for p in caught.value.problems]
    line = 1 + CRISIS_TEXT[:CRISIS_TEXT.index("    text: |\n      Graag een")].count("\n")
    assert len(problems) == 1 and problems[0].startswith(f"x.yaml:{line}:")
    assert "`{phone}` is geen veld dat partner `police` mag ontvangen" in problems[0]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("template: police_closed", "template: police_safety_check", "gebruikt {due}, maar een notify_partner-stap"),
    ("template: police_closed", "template: police_closd", "onbekend berichtsjabloon `police_closd`"),
    ("may_receive: [client_name, address, risk_level]", "may_receive: [client_name, adres, risk_level]",
     "`adres` is geen veld van case_data"),
    ("{name: risico, from: risk_level", "{name: risico, from: phone", "`phone` is een persoonsgegeven"),
    ('risk: {low: "1", high: "2", acute: "3"}', 'risk: {low: "1", high: "2"}', "heeft geen code voor `acute`"),
    ("role_scope: pathway\n", "", "`shared` geldt alleen met `role_scope: pathway`"),
    ("map: {client_name: client_name, phone: phone}", "map: {client_name: name}", "`name` is geen veld"),
    ("      due: 2 working days\n", "      due: 2 working days\n    calendar: 24x7\n", "deze stap loopt op de 24x7"),
    ("    due: 4 working weeks", "    due: 4 working weeks\n    calendar: 24x7", "deze stap loopt op de 24x7"),
])
def test_semantic_checks_of_the_constructs(old: str, new: str, message: str) -> None:
    assert old in CRISIS_TEXT
    with pytest.raises(PathwayError) as caught:
        load_pathway(CRISIS_TEXT.replace(old, new, 1), "x.yaml", KINDS)
    assert any(message in str(p) for p in caught.value.problems), [str(p) for p in caught.value.problems]


def test_joint_decision_needs_both_and_records_both_names(runner: InMemoryRunner) -> None:
    to_joint_decision(runner)
    ours = task_at(runner, "safety_decision", TaskType.HUMAN)
    theirs = task_at(runner, "safety_decision", TaskType.PARTNER)
    assert ours.role == "case_manager" and theirs.role == "police"
    with pytest.raises(ValidationError, match="noemt wie bevestigt"):
        complete(runner, theirs, {"measure": "house_ban"}, actor="partner:police")
    with pytest.raises(ValidationError, match="klopt niet: measure: "):
        complete(runner, ours, {"measure": "jail"})
    complete(runner, ours, {"measure": "house_ban"})
    assert main_step(runner) == "safety_decision"  # waits for the partner
    complete(runner, theirs, {"measure": "house_ban", "name": "Wijkagent De Boer"}, actor="partner:police")
    state = runner.case("C1")
    assert state.records["safety_decision"] == {
        "measure": "house_ban", "agreed": True, "worker": "user:sanne", "partner": "police",
        "partner_name": "Wijkagent De Boer", "partner_decision": {"measure": "house_ban"}}
    assert main_step(runner) == "safety_plan"
    assert not any(t.kind is TimerKind.TIMEOUT for t in state.pending_timers())
    assert replays(runner)


def test_joint_decision_without_agreement_goes_to_the_coordinator(runner: InMemoryRunner) -> None:
    to_joint_decision(runner)
    complete(runner, task_at(runner, "safety_decision", TaskType.PARTNER),
             {"measure": "house_ban", "name": "Wijkagent De Boer"}, actor="partner:police")
    complete(runner, task_at(runner, "safety_decision", TaskType.HUMAN), {"measure": "none"})
    state = runner.case("C1")
    assert state.records["safety_decision"]["agreed"] is False
    assert main_step(runner) == "coordinator_decides"


def test_joint_decision_times_out_when_the_partner_stays_silent(runner: InMemoryRunner) -> None:
    to_joint_decision(runner)
    runner.advance_to(utc(2026, 3, 11, 16))
    state = runner.case("C1")
    assert main_step(runner) == "coordinator_decides"
    assert all(t.status is TaskStatus.CANCELLED for t in state.tasks.values() if t.step_id == "safety_decision")


# --------------------------------------------------------------------------- hand-over


def to_handover(runner: InMemoryRunner) -> None:
    to_joint_decision(runner)
    complete(runner, task_at(runner, "safety_decision", TaskType.HUMAN), {"measure": "safety_plan"})
    complete(runner, task_at(runner, "safety_decision", TaskType.PARTNER),
             {"measure": "safety_plan", "name": "Wijkagent De Boer"}, actor="partner:police")
    complete(runner, task_at(runner, "safety_plan"), {"debts_found": True})


def test_handover_sends_only_the_mapped_data_and_waits_for_the_outcome(runner: InMemoryRunner) -> None:
    to_handover(runner)
    message = [m for m in runner.outbox if m["channel"] == "handover"][-1]
    assert message["template"] == "handover_start"
    assert message["payload"] == {"step": "debt_handover", "pathway": "youth-debt", "trigger": "referral",
                                  "wait": True, "data": {"client_name": "Sara de Vries", "phone": "0612345678"}}
    assert main_step(runner) == "debt_handover"
    # What the runtime does with the message: start the case there and link both ways.
    runner.start(c.StartCase(case_id="C2", actor="system:handover", pathway_id="youth-debt", pathway_version=1,
                             trigger="referral", data=message["payload"]["data"], pseudonym="P-C1"))
    runner.handle(c.LinkCase(case_id="C2", actor="system:handover", relation="parent", other_case="C1",
                             pathway_id="crisis-chain", step_id="debt_handover"))
    link = c.LinkCase(case_id="C1", actor="system:handover", relation="child", other_case="C2",
                      pathway_id="youth-debt", step_id="debt_handover", wait=True)
    runner.handle(link)
    runner.handle(link)  # a repeated delivery links once
    assert [x["case_id"] for x in runner.case("C1").links] == ["C2"]
    assert runner.case("C2").links[0]["relation"] == "parent"
    intake = task_at(runner, "intake", case_id="C2")
    assert intake.due_at == utc(2026, 4, 3, 15)  # 4 werkweken from Friday night: Friday 3 April 17:00
    complete(runner, intake, {"settled": True}, case_id="C2")
    assert runner.case("C2").status is CaseStatus.CLOSED
    back = [m for m in runner.outbox if m["template"] == "handover_outcome"][-1]
    assert back["case_id"] == "C2"
    assert back["payload"] == {"parent_case": "C1", "step": "debt_handover", "outcome": "debts_settled"}
    runner.handle(c.RecordHandoverOutcome(case_id="C1", actor="system:handover", step_id="debt_handover",
                                          child_case="C2", outcome="debts_settled"))
    state = runner.case("C1")
    assert state.records["debt_handover"] == {"child_case": "C2", "outcome": "debts_settled"}
    assert state.status is CaseStatus.CLOSED and state.outcome == "safe"
    exports = [m for m in runner.outbox if m["channel"] == "export"]
    assert exports[-1]["payload"]["model"] == "crisis-2026"
    police = [m for m in runner.outbox if m["template"] == "partner_notification"][-1]
    assert police["payload"]["message"] == "De crisisinterventie voor Sara de Vries is afgerond."
    assert replays(runner) and replays(runner, "C2")


def test_handover_outcome_of_an_unlinked_case_is_refused_and_timeout_goes_on(runner: InMemoryRunner) -> None:
    to_handover(runner)
    with pytest.raises(ValidationError, match="heeft niet overgedragen"):
        runner.handle(c.RecordHandoverOutcome(case_id="C1", actor="system:handover", step_id="debt_handover",
                                              child_case="C9", outcome="x"))
    timeout = [t for t in runner.case("C1").pending_timers() if t.kind is TimerKind.TIMEOUT]
    assert len(timeout) == 1
    runner.advance_to(timeout[0].due_at)
    assert runner.case("C1").status is CaseStatus.CLOSED  # on_timeout: register, tell the police, done


# --------------------------------------------------------------------------- registration, access, roles


def test_registration_record_uses_the_declared_fields_and_code_lists() -> None:
    model = CRISIS.registration
    assert model is not None and model.model == "crisis-2026"
    found = record(model, DATA, {"outcome": "safe", "municipality": "GM1966"})
    assert found == {"model": "crisis-2026", "uncoded": [],
                     "fields": {"risico": "2", "probleemgebied": "HG", "uitkomst": "safe", "gemeente": "GM1966"}}
    assert "client_name" not in str(found)
    odd = record(model, {**DATA, "risk_level": "unknown"}, {})
    assert odd["fields"]["risico"] is None and odd["uncoded"] == ["risico"]


def test_access_teams_and_role_scope_are_part_of_the_model_and_its_fingerprint() -> None:
    assert CRISIS.access_teams == ("crisis-noord",)
    assert CRISIS.role_scope is RoleScope.PATHWAY
    assert CRISIS.role("coordinator").shared and not CRISIS.role("case_manager").shared
    assert CRISIS.role("police").may_receive == ("client_name", "address", "risk_level")
    again = load_pathway(CRISIS_TEXT.replace("teams: [crisis-noord]", "teams: [crisis-noord, crisis-zuid]"),
                         "x.yaml", KINDS)
    assert fingerprint(again) != fingerprint(CRISIS)
    data = pathway_to_data(CRISIS)
    assert data["access"] == {"teams": ["crisis-noord"]} and data["role_scope"] == "pathway"
    assert data["registration"]["code_lists"]["areas"]["debts"] == "SC"
    assert data["message_templates"][0]["id"] == "police_safety_check"


def test_the_example_round_trips_through_its_canonical_form() -> None:
    from engine.loader import dump_pathway

    again = load_pathway(dump_pathway(CRISIS), "dumped.yaml", KINDS)
    assert again == CRISIS and fingerprint(again) == fingerprint(CRISIS)
    assert dump_pathway(again) == dump_pathway(CRISIS)


def test_the_example_simulates_with_joint_decisions_and_hand_overs() -> None:
    from engine.simulate import simulate

    result = simulate(compile_pathway(CRISIS), default_handlers(), cases=30, days=150, seed=3,
                      start=utc(2026, 1, 5, 8))
    assert not any(line.strip().startswith("refused worker actions") for line in result.summary), result.summary
    closed = [s for s in result.cases.values() if s.status is CaseStatus.CLOSED]
    assert len(closed) >= 20
    decided = [s.records["safety_decision"] for s in closed if "agreed" in s.records.get("safety_decision", {})]
    assert decided and all(d["partner_name"] == "(gesimuleerd)" for d in decided)
    assert {d["agreed"] for d in decided} == {True, False}
    handed = [s for s in closed if "debt_handover" in s.records]
    assert handed and all(s.records["debt_handover"]["outcome"] == "gesimuleerd" for s in handed)
