"""A worker adds a task the pathway does not name, with a due moment and reminders; completes it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.clock import ManualClock
from engine.state import TaskStatus, TaskType
from integrations.db.engine_factory import read_session
from integrations.db.models import AuditLogRow, OutboxRow
from integrations.service import CaseService
from tests.integration.test_web_pages import new_case, people


def test_a_worker_adds_an_ad_hoc_task_to_a_track_and_completes_it(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    case_id, task_id = new_case(service)
    service.complete_task(task_id, {"outcome": "help", "problems": ["debts"]}, actor="user:wanda")
    page = wanda.get(f"/cases/{case_id}").text
    assert 'id="add-task"' in page and '<option value="debts">Schulden</option>' in page
    added = wanda.post(f"/cases/{case_id}/tasks", {
        "title": "Huisarts bellen over de medicatie", "flow": "debts", "role": "worker",
        "due_date": "2026-03-04", "due_time": "12:00", "reminders": ["2 hours", "1 day"]})
    assert added.status_code == 303, added.text[-3000:]
    case = wanda.get(added.headers["location"]).text
    assert "Taak toegevoegd: Huisarts bellen over de medicatie." in case
    state = service.case(case_id)
    task = next(t for t in state.open_tasks() if t.type is TaskType.AD_HOC)
    assert (task.flow, task.assignee, task.reminders) == ("debts", "user:wanda", ("2 hours", "1 day"))
    assert task.due_at.isoformat() == "2026-03-04T11:00:00+00:00"  # 12:00 Amsterdam
    assert "Huisarts bellen over de medicatie" in case.split('id="open-tasks"', 1)[1].split("</ul>", 1)[0]
    # the reminders come through the ordinary timer sweep: a day and two hours before
    clock.advance(timedelta(days=1, hours=3))  # Tuesday 11:00 UTC
    service.fire_due()
    clock.advance(timedelta(hours=22))  # Wednesday 09:00 UTC
    service.fire_due()
    with read_session(service.db) as session:
        templates = list(session.execute(select(OutboxRow.template).where(OutboxRow.task_id == task.id)).scalars())
    assert templates.count("reminder_before") == 2
    wanda.sign_in("wanda")
    form = wanda.get(f"/tasks/{task.id}").text
    assert 'name="note"' in form and "Wat is er gedaan?" in form
    done = wanda.post(f"/tasks/{task.id}/complete", {"note": "Huisarts gesproken; recept aangepast."})
    assert done.status_code == 303, done.text[:500]
    state = service.case(case_id)
    assert state.tasks[task.id].status is TaskStatus.COMPLETED
    assert state.tracks["debts"].status.value == "active"  # the track did not move
    with read_session(service.db) as session:
        whats = list(session.execute(select(AuditLogRow.what).where(AuditLogRow.case_id == case_id)).scalars())
    assert "added an ad hoc task (2 reminders)" in whats


def test_a_bad_ad_hoc_task_is_refused_in_dutch(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    case_id, _task = new_case(service)
    for form, message in (
        ({"title": "", "due_date": "2026-03-04"}, "Geef de taak een naam."),
        ({"title": "Bellen", "due_date": "2026-03-01"}, "Die datum is al voorbij"),
        ({"title": "Bellen", "due_date": "morgen"}, "Vul een datum in"),
        ({"title": "Bellen", "due_date": "2026-03-04", "flow": "housing"}, "Dat probleemgebied loopt niet"),
    ):
        refused = wanda.post(f"/cases/{case_id}/tasks", form)
        assert refused.status_code == 303, form
        assert message in wanda.get(f"/cases/{case_id}").text, form
    assert not [t for t in service.case(case_id).tasks.values() if t.type is TaskType.AD_HOC]
