"""Migrating after a step was renamed: blockers in Dutch, an explicit step mapping, a required reason."""

from __future__ import annotations

from engine.clock import ManualClock
from engine.state import TaskStatus
from integrations.service import CaseService
from tests.fixtures.visits_pathway import visits_source
from tests.integration.test_web_pages import new_case, people


def _renamed() -> str:
    """Version 2: the intake step is now called `first_talk`."""
    return (visits_source(2).replace("  - id: intake\n", "  - id: first_talk\n", 1)
            .replace("steps.intake.problems", "steps.first_talk.problems"))


def test_a_renamed_step_is_mapped_and_the_case_goes_on_there(service: CaseService, clock: ManualClock) -> None:
    cor = people(service, clock, "coordinator")["coordinator"]
    case_id, intake = new_case(service)
    service.publish_pathway(_renamed(), "visits-v2.yaml")
    plan = cor.get("/pathways/test-visits/migrate?to=2").text
    assert ("De zaak staat op stap «Intake» (de hoofdroute); versie 2 heeft die stap daar niet: kies een stap waar de "
            "zaak verdergaat.") in plan
    assert 'name="map.intake"' in plan and '<option value="first_talk">Intake</option>' in plan
    mapped = cor.get("/pathways/test-visits/migrate?to=2&map.intake=first_talk").text
    assert ("De zaak gaat van stap «Intake» naar stap «Intake» (de hoofdroute); de open taak bij «Intake» vervalt."
            in mapped)
    assert f'id="m-{case_id}"' in mapped  # now it can go
    no_reason = cor.post("/pathways/test-visits/migrate", {"to": "2", "case": case_id, "map.intake": "first_talk"})
    assert no_reason.status_code == 422 and "Geef een reden op." in no_reason.text
    assert service.case(case_id).pathway_version == 1
    moved = cor.post("/pathways/test-visits/migrate", {"to": "2", "case": case_id, "map.intake": "first_talk",
                                                       "reason": "stap hernoemd"})
    assert moved.status_code == 200 and "1 zaken overgezet naar versie 2." in moved.text
    state = service.case(case_id)
    assert state.pathway_version == 2 and state.main is not None and state.main.step_id == "first_talk"
    assert state.tasks[intake].status is TaskStatus.CANCELLED
    assert [t.step_id for t in state.open_tasks()] == ["first_talk"]


def test_the_dry_run_reads_in_english_for_an_english_coordinator(service: CaseService, clock: ManualClock) -> None:
    cor = people(service, clock, "coordinator")["coordinator"]
    new_case(service)
    service.publish_pathway(_renamed(), "visits-v2.yaml")
    assert cor.post("/language", {"language": "en", "next": "/"}).status_code == 303
    plan = cor.get("/pathways/test-visits/migrate?to=2").text
    assert ("The case stands on step «Intake» (the main flow), which version 2 does not have there: choose a step "
            "where the case goes on.") in plan
    assert "De zaak staat op stap" not in plan
