"""An answer that ends the case or a problem area asks for confirmation and says what will happen."""

from __future__ import annotations

from sqlalchemy import select

from engine.clock import ManualClock
from integrations.db.engine_factory import read_session
from integrations.db.models import AuditLogRow
from integrations.service import CaseService
from tests.integration.test_web_pages import is_checked, new_case, people


def test_an_answer_that_closes_the_case_is_confirmed_first(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    case_id, task_id = new_case(service)
    asked = wanda.post(f"/tasks/{task_id}/complete", {"outcome": "no_help"})
    assert asked.status_code == 200 and 'id="confirm-ending"' in asked.text
    assert "De zaak wordt gesloten met uitkomst «Anders»." in asked.text
    assert "Heropenen kan daarna alleen een coördinator, met een reden." in asked.text
    assert is_checked(asked.text, "outcome", "no_help")  # the answers stay on screen
    assert service.case(case_id).status.value == "open"  # nothing stored yet
    with read_session(service.db) as session:
        asked_entry = session.execute(select(AuditLogRow.what).order_by(AuditLogRow.id.desc())).scalars().first()
    assert asked_entry is not None and "asked to confirm" in asked_entry
    done = wanda.post(f"/tasks/{task_id}/complete", {"outcome": "no_help", "bevestigd": "ja"})
    assert done.status_code == 303
    assert service.case(case_id).status.value == "closed"


def test_an_answer_that_goes_on_needs_no_confirmation(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    case_id, task_id = new_case(service)
    done = wanda.post(f"/tasks/{task_id}/complete", {"outcome": "help", "problems": "debts"})
    assert done.status_code == 303 and service.case(case_id).status.value == "open"


def test_closing_a_problem_area_is_confirmed_too(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    case_id, task_id = new_case(service)
    service.complete_task(task_id, {"outcome": "help", "problems": ["debts", "housing"]}, actor="user:wanda")
    talk = next(t for t in service.case(case_id).open_tasks() if t.step_id == "housing_talk")
    asked = wanda.post(f"/tasks/{talk.id}/complete", {})
    assert asked.status_code == 200 and "Het probleemgebied «Wonen» (behaald) wordt afgesloten." in asked.text
    assert "De zaak wordt gesloten" not in asked.text
    assert wanda.post(f"/tasks/{talk.id}/complete", {"bevestigd": "ja"}).status_code == 303
    assert service.case(case_id).tracks["housing"].status.value == "closed"
