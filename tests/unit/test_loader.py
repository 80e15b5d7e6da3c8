"""load_pathway: the model it builds, round trips, fingerprints, version checks."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from engine import yaml_source
from engine.definition import (
    Branch,
    CalendarKind,
    EscalationAction,
    Expr,
    Pathway,
    Reminder,
    RoleKind,
    TrackMode,
)
from engine.durations import Duration, Unit
from engine.errors import PathwayError
from engine.kinds import TaskKindSpec
from engine.loader import SCHEMA_MODELINE, check_versions, dump_pathway, load_pathway, pathway_to_data
from tasks.registry import default_kinds

FIXTURES = Path(__file__).parent / "fixtures"
KINDS = default_kinds()


def load(name: str) -> Pathway:
    return load_pathway((FIXTURES / name).read_bytes(), name, KINDS)


def minimal_text(**replace: str) -> str:
    text = (FIXTURES / "minimal.yaml").read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


def test_minimal_pathway_model() -> None:
    p = load("minimal.yaml")
    assert (p.id, p.version, p.key, p.calendar) == ("minimal-referral", 1, "minimal-referral@1",
                                                    CalendarKind.WORKING_DAYS)
    assert p.description == "" and p.close_reasons == () and p.tracks == () and p.evaluation is None
    intake = p.step("intake")
    assert intake.due == Duration(5, Unit.WORKING_DAYS)
    assert intake.next == (Branch(goto="done"),)
    assert intake.reminders == () and intake.escalation == ()
    assert p.step("done").outcome == "helped"


def test_rich_pathway_model() -> None:
    p = load("rich.yaml")
    visit = p.step("doorstep_visit")
    assert visit.next == (Branch("doorstep_visit", Expr("!form.client_reached")), Branch("call_partners"))
    assert (visit.max_visits, visit.on_max_visits) == (3, "close_other")
    assert visit.reminders == (Reminder(before=Duration(1, Unit.WORKING_DAYS), after=None),
                               Reminder(before=None, after=Duration(1, Unit.WORKING_DAYS), to="coordinator"))
    assert [e.action for e in visit.escalation] == [EscalationAction.NOTIFY, EscalationAction.REASSIGN,
                                                    EscalationAction.RAISE]
    assert p.step("doorstep_recheck").reminders == ()  # `reminders: []` overrides the defaults
    assert p.step("doorstep_recheck").escalation == visit.escalation
    call = p.step("call_partners")
    assert (call.timeout, call.on_timeout) == (Duration(10, Unit.WORKING_DAYS), "notify_corporation")
    assert call.params["answer"]["required"] == ["known"]
    tracks_step = p.step("work_on_problems")
    assert tracks_step.tracks_from == Expr("steps.doorstep_visit.problems")
    assert tracks_step.mode is TrackMode.SEQUENTIAL
    debts = p.track("debts")
    assert debts.first_step == "debts_inventory"
    assert debts.step("debts_inventory").role == "debt_worker"  # defaults to the track owner
    assert debts.lead_time is not None and debts.lead_time.within == Duration(26, Unit.WEEKS)
    assert p.role("housing_corporation").kind is RoleKind.PARTNER
    assert p.reopen_within == Duration(3, Unit.MONTHS)
    assert p.evaluation is not None and p.evaluation.starts_after == "doorstep_visit"
    assert p.evaluation.reminders == visit.reminders
    assert p.personal_data == ("client_name", "address", "phone") and p.origin_registration is True
    assert p.triggers[0].condition == Expr("case.arrears_months >= 2")


def test_school_holidays_map_to_first_and_last_day() -> None:
    text = minimal_text(**{"calendar: nl-working-days": "calendar: nl-school-weeks\nschool_holidays:\n"
                           "  - {name: Herfstvakantie, from: 2026-10-17, to: '2026-10-25'}"})
    p = load_pathway(text, "school.yaml", KINDS)
    assert p.calendar is CalendarKind.SCHOOL_WEEKS
    assert (p.school_holidays[0].first_day, p.school_holidays[0].last_day) == ("2026-10-17", "2026-10-25")


@pytest.mark.parametrize("name", ["minimal.yaml", "rich.yaml"])
def test_dump_round_trips_to_an_equal_pathway(name: str) -> None:
    p = load(name)
    dumped = dump_pathway(p)
    assert dumped.startswith(SCHEMA_MODELINE + "\n")
    again = load_pathway(dumped, "dumped.yaml", KINDS)
    assert again == p
    assert dump_pathway(again) == dumped


def test_dump_keeps_tricky_text_as_text() -> None:
    text = minimal_text(**{"title: Intakegesprek": "title: 'no'", "title: Eenvoudige aanmelding":
                           "title: '2026-10-17'", "owner: Stichting Welzijn Test": "owner: 'true'"})
    p = load_pathway(text, "tricky.yaml", KINDS)
    assert (p.step("intake").title, p.title, p.owner) == ("no", "2026-10-17", "true")
    assert load_pathway(dump_pathway(p), "dumped.yaml", KINDS) == p


def test_pathway_to_data_is_plain_data_without_fingerprint() -> None:
    data = pathway_to_data(load("rich.yaml"))
    assert "fingerprint" not in data
    assert data["steps"][0]["due"] == "5 working days"
    assert data["tracks"][0]["steps"][0]["role"] == "debt_worker"


def test_fingerprint_ignores_layout_and_spelling_but_not_content() -> None:
    base = load_pathway(minimal_text(), "a.yaml", KINDS)
    assert re.fullmatch(r"[0-9a-f]{64}", base.fingerprint)
    reformatted = load_pathway("# a comment\n" + minimal_text(**{"due: 5 werkdagen": "due: '5 working days'"}),
                               "b.yaml", KINDS)
    assert reformatted.fingerprint == base.fingerprint
    changed = load_pathway(minimal_text(**{"due: 5 werkdagen": "due: 6 werkdagen"}), "c.yaml", KINDS)
    assert changed.fingerprint != base.fingerprint


def test_check_versions_flags_same_version_with_other_content() -> None:
    one = load_pathway(minimal_text(), "one.yaml", KINDS)
    same = load_pathway(minimal_text(), "same.yaml", KINDS)
    other = load_pathway(minimal_text(**{"due: 5 werkdagen": "due: 6 werkdagen"}), "other.yaml", KINDS)
    bumped = dataclasses.replace(other, version=2)
    assert check_versions([one, same, bumped]) == []
    problems = check_versions([one, same, other], ["one.yaml", "same.yaml", "other.yaml"])
    assert len(problems) == 1
    assert str(problems[0]) == ("other.yaml:0:0: version: zorgpad `minimal-referral` versie 1 staat ook in "
                                "one.yaml met een andere inhoud (verhoog `version` naar 2)")
    assert problems[0].text("en") == ("other.yaml:0:0: version: pathway `minimal-referral` version 1 is also in "
                                      "one.yaml with different content (raise `version` to 2)")
    assert check_versions([one, other])[0].file == "minimal-referral@1"


def test_every_problem_is_reported_at_once_and_sorted() -> None:
    text = minimal_text(**{"role: worker": "role: wroker", "next: done": "next: dne", "outcome: helped":
                           "outcome: helpd", "calendar: nl-working-days": "calendar: weekdays"})
    with pytest.raises(PathwayError) as caught:
        load_pathway(text, "many.yaml", KINDS)
    problems = caught.value.problems
    assert [p.path for p in problems] == ["calendar", "steps[0].role", "steps[0].next", "steps[1].outcome"]
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert str(caught.value).startswith("many.yaml:6:11: calendar: ")
    assert str(caught.value).endswith("(en nog 3)")
    assert caught.value.text("en").endswith("(and 3 more)")


def test_kinds_come_from_the_caller() -> None:
    text = minimal_text(**{"next: done": "next: ping\n  - id: ping\n    kind: ping_partner\n    next: done"})
    with pytest.raises(PathwayError, match="onbekende stapsoort `ping_partner`"):
        load_pathway(text, "ping.yaml", KINDS)
    ping = TaskKindSpec("ping_partner", "test kind", {"type": "object", "additionalProperties": False})
    p = load_pathway(text, "ping.yaml", {**KINDS, "ping_partner": ping})
    assert p.step("ping").kind == "ping_partner"


def test_pure_python_parser_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = (FIXTURES / "rich.yaml").read_bytes()
    fast_doc, _ = yaml_source.read_yaml(raw, "rich.yaml")
    fast = load_pathway(raw, "rich.yaml", KINDS)
    monkeypatch.setattr(yaml_source, "_CParser", None)
    slow_doc, _ = yaml_source.read_yaml(raw, "rich.yaml")
    assert (slow_doc.data, slow_doc.values, slow_doc.keys) == (fast_doc.data, fast_doc.values, fast_doc.keys)
    assert load_pathway(raw, "rich.yaml", KINDS) == fast


def test_broken_file_reads_the_same_with_either_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = (Path(__file__).parent / "broken" / "cel_unknown_case_field.yaml").read_bytes()
    with pytest.raises(PathwayError) as fast:
        load_pathway(raw, "x.yaml", KINDS)
    monkeypatch.setattr(yaml_source, "_CParser", None)
    with pytest.raises(PathwayError) as slow:
        load_pathway(raw, "x.yaml", KINDS)
    assert fast.value.problems == slow.value.problems
