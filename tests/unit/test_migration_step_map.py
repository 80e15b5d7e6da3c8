"""Migrating with an explicit step mapping: a case standing on a removed step goes on where the
coordinator chose; a mapping to a step that is not there is refused by name."""

from __future__ import annotations

import pytest

from engine import commands as c
from engine.errors import ConflictError
from engine.runner import InMemoryRunner
from engine.state import TaskStatus
from tests.unit.engine_support import assert_replays, complete, only_task, start
from tests.unit.test_migration import V1, runner  # noqa: F401 - the fixture


def test_a_mapped_step_moves_the_case_on(runner: InMemoryRunner) -> None:  # noqa: F811
    start(runner, V1, {"months": 3, "client_name": "X"})
    complete(runner, only_task(runner), {"reached": True, "problems": ["debts"]})
    waiting = only_task(runner, step_id="ask_bank")
    plan = runner.engine.plan_migration(runner.case("C1"), 3, {"ask_bank": "closing"})
    assert plan.possible
    assert ("de zaak gaat van stap «Vraag aan de Kredietbank» naar stap «Afsluitend gesprek» (de hoofdroute); "
            "de open taak bij «Vraag aan de Kredietbank» vervalt") in plan.changes
    runner.handle(c.MigrateCase(case_id="C1", actor="coordinator:anna", to_version=3, reason="bank apart",
                                step_map={"ask_bank": "closing"}))
    state = runner.case("C1")
    assert state.pathway_version == 3 and state.main is not None and state.main.step_id == "closing"
    assert state.tasks[waiting.id].status is TaskStatus.CANCELLED
    assert only_task(runner, step_id="closing").status is TaskStatus.OPEN
    assert_replays(runner)


def test_a_mapping_to_a_missing_step_is_refused(runner: InMemoryRunner) -> None:  # noqa: F811
    start(runner, V1, {"months": 3, "client_name": "X"})
    complete(runner, only_task(runner), {"reached": True, "problems": ["debts"]})
    plan = runner.engine.plan_migration(runner.case("C1"), 3, {"ask_bank": "nergens"})
    assert ("stap «nergens», gekozen voor stap «Vraag aan de Kredietbank», bestaat in versie 3 niet in de hoofdroute"
            in plan.blockers)
    with pytest.raises(ConflictError, match="stap «nergens», gekozen voor stap «Vraag aan de Kredietbank»"):
        runner.handle(c.MigrateCase(case_id="C1", actor="coordinator:anna", to_version=3,
                                    step_map={"ask_bank": "nergens"}))
