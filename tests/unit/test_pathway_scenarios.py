"""Every shipped pathway end to end: the scenarios of tests/scenarios, in memory and reloaded.

Each scenario runs twice on the engine's in-memory runner and its controllable clock: with the
state kept in memory, and with the state written to JSON and read back between commands. The
database runs them too (tests/integration/test_pathway_scenarios_db.py). The scenario language is
documented in tests/scenarios/README.md.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.events import Event
from tests.scenario_driver import MemoryDriver, check_invariants, play
from tests.scenario_language import (
    PATHWAYS_DIR,
    ScenarioError,
    compiled_pathway,
    load_scenario,
    scenario_files,
    scenario_params,
)

SCENARIOS = scenario_files()
PATHWAY_FILES = sorted(PATHWAYS_DIR.glob("*.yaml"))


@pytest.mark.parametrize("reload", [False, True], ids=["memory", "reloaded"])
@pytest.mark.parametrize("path", scenario_params())
def test_scenario(path: Path, reload: bool) -> None:
    play(load_scenario(path), MemoryDriver(reload=reload))


# --- coverage -------------------------------------------------------------------------------------


def test_every_outcome_of_every_pathway_is_reached_by_a_scenario() -> None:
    reached: dict[str, set[str]] = {}
    for path in SCENARIOS:
        scenario = load_scenario(path)
        reached.setdefault(scenario.pathway.id, set()).update(scenario.expected_outcomes())
    missing = {}
    for pathway_file in PATHWAY_FILES:
        cp = compiled_pathway(pathway_file)
        gap = set(cp.outcomes) - reached.get(cp.pathway.id, set())
        if gap:
            missing[cp.pathway.id] = sorted(gap)
    assert not missing, f"outcomes no scenario reaches: {missing}"


def test_there_are_scenarios_for_every_shipped_pathway_and_only_those() -> None:
    assert {p.parent.name for p in SCENARIOS} == {p.stem for p in PATHWAY_FILES}
    assert len(SCENARIOS) >= 20


# --- the language is strict ---------------------------------------------------------------------

GOOD = """\
title: t
pathway: eviction-prevention.yaml
start: 2026-03-02T09:00+01:00
trigger: rent_arrears
case:
  signal_type: rent
  tenant_name: Jan Jansen
  address: Hoofdstraat 1
  arrears_amount: 1450.0
  arrears_months: 2
  signal_date: 2026-02-27
  reminder_sent: true
steps:
  - expect: {open_tasks: [doorstep_visit], due: {doorstep_visit: 2026-03-05 17:00}}
"""


def _write(tmp_path: Path, text: str, directory: str = "eviction-prevention") -> Path:
    folder = tmp_path / directory
    folder.mkdir(exist_ok=True)
    path = folder / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_scenario_loads_and_plays(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, GOOD))
    assert [s.action for s in scenario.steps] == ["expect"]
    assert scenario.case["signal_date"] == "2026-02-27"  # dates stay text, as case data wants them
    play(scenario, MemoryDriver(reload=False))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("title: t\n", "title: t\ncolour: blue\n"), r"line 2: unknown key 'colour' in the scenario"),
        (("  - expect:", "  - complete: {step: doorstep_visit, dat: {}}\n  - expect:"),
         r"line 14: unknown key 'dat' in `complete` \(known: by, data, refused, step\)"),
        (("  - expect:", "  - jump: 3 weeks\n  - expect:"), r"line 14: unknown action 'jump'"),
        (("open_tasks: [doorstep_visit]", "open_task: [doorstep_visit]"), r"unknown key 'open_task' in `expect`"),
        (("open_tasks: [doorstep_visit]", "open_tasks: [doorstep_vist]"), r"has no task step 'doorstep_vist'"),
        (("  - expect:", "  - complete: {step: revisit_pause}\n  - expect:"), r"has no human task step 'revisit_pause'"),
        (("  - expect:", "  - close: {reason: bored}\n  - expect:"), r"has no close reason 'bored'"),
        (("  - expect:", "  - expect: {tracks: {credit_bank: done}}\n  - expect:"), r"planned, active, or closed"),
        (("  - expect:", "  - expect: {outcome: evicted}\n  - expect:"), r"has no outcome 'evicted'"),
        (("  - expect:", "  - expect: {messages: {reminder: 1}}\n  - expect:"), r"no message template 'reminder'"),
        (("  - expect:", "  - advance: 3 fortnights\n  - expect:"), r"onbekende eenheid 'fortnights'"),
        (("  - expect:", "  - advance_to: 2026-04-27T09:00\n  - expect:"), r"has no UTC offset"),
        (("start: 2026-03-02T09:00+01:00", "start: 2026-03-02T09:00"), r"line 3: start: .* has no UTC offset"),
        (("2026-03-05 17:00", "5 March, 17:00"), r"local time is written 'YYYY-MM-DD HH:MM'"),
        (("trigger: rent_arrears", "trigger: fax"), r"has no trigger 'fax'"),
        (("pathway: eviction-prevention.yaml", "pathway: eviction.yaml"), r"is not a file in pathways/"),
        (("title: t\n", "title: t\ntitle: u\n"), r"line 2: not valid YAML: found duplicate key \"title\""),
        (("  - expect:", "  - expect: {}\n  - expect:"), r"`expect` is empty"),
        (("  - expect:", "  - complete: {step: doorstep_visit, refused: '('}\n  - expect:"), r"is not a regex"),
    ],
)
def test_scenario_files_are_checked_strictly(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ScenarioError, match=message) as caught:
        load_scenario(path)
    assert str(path) in str(caught.value) or "eviction-prevention/bad.yaml" in str(caught.value)


def test_a_scenario_lives_in_the_folder_of_its_pathway(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"belongs in tests/scenarios/eviction-prevention/"):
        load_scenario(_write(tmp_path, GOOD, directory="school-social-work"))


# --- the checks can fail ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("due: {doorstep_visit: 2026-03-05 17:00}", "due: {doorstep_visit: 2026-03-06 17:00}",
         r"line 14 \(step 1: expect\) \[memory\]: due: doorstep_visit: expected 2026-03-06 17:00, "
         r"due Thu 2026-03-05 17:00 Amsterdam \(\+0100\)"),
        ("open_tasks: [doorstep_visit]", "open_tasks: [doorstep_visit, doorstep_visit]", r"open_tasks: expected"),
        ("open_tasks: [doorstep_visit]", "status: closed", r"status: expected 'closed', got 'open'"),
    ],
)
def test_a_wrong_expectation_fails_with_file_line_and_both_values(tmp_path: Path, old: str, new: str,
                                                                 message: str) -> None:
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(AssertionError, match=message):
        play(load_scenario(path), MemoryDriver(reload=False))


def test_a_command_the_engine_refuses_fails_the_scenario_unless_expected(tmp_path: Path) -> None:
    bad = GOOD + "  - complete: {step: doorstep_visit, data: {contact_result: maybe}}\n"
    with pytest.raises(Exception, match=r"fout in het formulier") as caught:
        play(load_scenario(_write(tmp_path, bad)), MemoryDriver(reload=False))
    assert any("bad.yaml, line 15" in note for note in getattr(caught.value, "__notes__", []))
    expected = GOOD + "  - complete: {step: doorstep_visit, data: {contact_result: maybe}, refused: fout in het formulier}\n"
    play(load_scenario(_write(tmp_path, expected)), MemoryDriver(reload=False))
    accepted = GOOD + "  - complete: {step: doorstep_visit, data: {contact_result: not_home}, refused: x}\n"
    with pytest.raises(AssertionError, match=r"expected the engine to refuse"):
        play(load_scenario(_write(tmp_path, accepted)), MemoryDriver(reload=False))


def test_the_invariants_catch_a_timer_that_fired_early_or_twice(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, GOOD))
    driver = MemoryDriver(reload=False)
    driver.start(scenario)
    check_invariants(scenario, driver)
    runner = driver.runner
    state = runner.case("C1")
    timer = min(state.pending_timers(), key=lambda t: t.due_at)
    early = timer.due_at - timedelta(minutes=1)
    fired = Event(case_id="C1", seq=state.version + 1, type="timer_fired", at=early, actor="system:timer",
                  data={"timer_id": timer.id, "kind": timer.kind.value})
    runner.histories["C1"].append(fired)
    from engine.events import apply

    apply(state, fired)
    runner.clock.set(timer.due_at)
    with pytest.raises(AssertionError, match=re.escape(f"timer {timer.id} ({timer.kind.value}) fired at")):
        check_invariants(scenario, driver)
    twice = Event(case_id="C1", seq=state.version + 1, type="timer_fired", at=timer.due_at, actor="system:timer",
                  data={"timer_id": timer.id, "kind": timer.kind.value})
    runner.histories["C1"].append(twice)
    apply(state, twice)
    with pytest.raises(AssertionError, match=f"timer {re.escape(timer.id)} fired 2 times"):
        check_invariants(scenario, driver)


def test_the_invariants_catch_a_history_that_does_not_replay(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, GOOD))
    driver = MemoryDriver(reload=False)
    driver.start(scenario)
    driver.runner.case("C1").evaluations_held = 7  # a state change no event explains
    with pytest.raises(AssertionError, match="does not replay to the stored state"):
        check_invariants(scenario, driver)


def test_the_invariants_catch_a_missed_timer(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, GOOD))
    driver = MemoryDriver(reload=False)
    driver.start(scenario)
    driver.runner.clock.set(datetime(2026, 3, 31, tzinfo=UTC))  # moved without firing anything
    with pytest.raises(AssertionError, match=r"was due at .* and has not fired"):
        check_invariants(scenario, driver)
