"""Migrating running cases to a new pathway version: a dry run first, refusals named."""

from __future__ import annotations

import pytest

from engine import commands as c
from engine.clock import ManualClock
from engine.compiled import CompiledPathway, compile_pathway
from engine.decide import Engine
from engine.errors import ConflictError
from engine.loader import load_pathway
from engine.runner import InMemoryRunner
from tasks.handlers import default_handlers
from tasks.registry import default_kinds
from tests.unit.engine_support import FIXTURES, MONDAY, assert_replays, complete, only_task, start

TEXT = (FIXTURES / "all-constructs.yaml").read_text(encoding="utf-8")
V1 = load_pathway(TEXT, "v1.yaml", default_kinds())
V2 = load_pathway(
    TEXT.replace("version: 1", "version: 2").replace("title: Huisbezoek", "title: Huisbezoek (nieuw)")
    .replace("every: 3 weeks", "every: 4 weeks"),
    "v2.yaml", default_kinds())
# Version 3 drops the partner request: a case waiting there cannot move.
V3 = load_pathway(
    TEXT.replace("version: 1", "version: 3").replace("      - {goto: ask_bank}", "      - {goto: problems}")
    .split("  - id: ask_bank")[0] + "  - id: problems" + TEXT.split("  - id: problems", 1)[1],
    "v3.yaml", default_kinds())


@pytest.fixture
def runner() -> InMemoryRunner:
    compiled = {p.version: compile_pathway(p) for p in (V1, V2, V3)}

    def lookup(pathway_id: str, version: int) -> CompiledPathway:
        return compiled[version]

    return InMemoryRunner(Engine(lookup, default_handlers()), ManualClock(MONDAY))


def test_dry_run_lists_changes_and_migration_pins_new_version(runner: InMemoryRunner) -> None:
    state = start(runner, V1, {"months": 3, "client_name": "X"})
    plan = runner.engine.plan_migration(state, 2)
    assert plan.possible
    assert plan.changes == ("open taak bij «Huisbezoek»: titel «Huisbezoek» wordt «Huisbezoek (nieuw)»",
                            "evaluaties elke 3 weken worden elke 4 weken (vanaf de volgende)")
    assert plan.texts("changes", "en") == ("open task at «Huisbezoek»: title «Huisbezoek» becomes «Huisbezoek (nieuw)»",
                                           "evaluations every 3 weeks become every 4 weeks (from the next one on)")
    assert [(m.code, m.args.get("task_id")) for m in plan.change_messages] == [
        ("migration.title", "C1.2"), ("migration.evaluations_change", None)]
    assert runner.case("C1").pathway_version == 1  # a dry run changes nothing
    runner.handle(c.MigrateCase(case_id="C1", actor="coordinator:anna", to_version=2, reason="nieuwe versie"))
    assert runner.case("C1").pathway_version == 2
    complete(runner, only_task(runner), {"reached": True, "problems": ["debts"]})
    assert only_task(runner).step_id == "ask_bank"
    assert_replays(runner)


def test_case_on_a_removed_step_is_refused_whole(runner: InMemoryRunner) -> None:
    start(runner, V1, {"months": 3, "client_name": "X"})
    complete(runner, only_task(runner), {"reached": True, "problems": ["debts"]})
    plan = runner.engine.plan_migration(runner.case("C1"), 3)
    assert not plan.possible
    assert plan.blockers == ("de zaak staat op stap «Vraag aan de Kredietbank» (de hoofdroute); versie 3 heeft die "
                             "stap daar niet: kies een stap waar de zaak verdergaat",)
    ((code, args),) = [(m.code, m.args) for m in plan.blocker_messages]
    assert code == "migration.stands_on" and (args["step_id"], args["flow_id"]) == ("ask_bank", "main")
    with pytest.raises(ConflictError, match=r"kan niet over naar versie 3 van zorgpad «Engine test»: de zaak staat "
                                            r"op stap «Vraag aan de Kredietbank»") as refused:
        runner.handle(c.MigrateCase(case_id="C1", actor="coordinator:anna", to_version=3))
    assert refused.value.code == "migration.refused"
    assert runner.case("C1").pathway_version == 1


def test_older_version_and_closed_cases_are_refused(runner: InMemoryRunner) -> None:
    start(runner, V1, {"months": 3, "client_name": "X"})
    runner.handle(c.MigrateCase(case_id="C1", actor="coordinator:anna", to_version=2))
    assert runner.engine.plan_migration(runner.case("C1"), 1).blockers[0] == "versie 1 is niet nieuwer dan die van de zaak (2)"
    runner.handle(c.CloseCase(case_id="C1", actor="w", reason_code="moved"))
    assert "de zaak is gesloten" in runner.engine.plan_migration(runner.case("C1"), 3).blockers
