"""The inbox: read state per person, plain Dutch lines that name the task, stale messages are no news."""

from __future__ import annotations

import re

from engine.clock import ManualClock
from integrations.db.engine_factory import write_session
from integrations.runtime.models import InboxMessageRow
from integrations.service import CaseService
from tests.integration.test_web_pages import new_case, people
from web.testing import TEAM_A


def _message(n: int, case_id: str, task_id: str, clock: ManualClock, *, to_worker: str | None = None,
             to_role: str | None = "worker") -> InboxMessageRow:
    return InboxMessageRow(id=f"{case_id}.m{n}", case_id=case_id, task_id=task_id, pathway_id="test-visits",
                           team=TEAM_A, to_role=to_role, to_worker=to_worker, template="task_opened",
                           subject="Nieuwe taak: Intake", body="Open de taak:\nhttps://carepath.test/tasks/x",
                           link=None, created_at=clock.now(), delivered_at=clock.now(), read_at=None)


def test_role_messages_are_read_per_person_and_say_what_happened(service: CaseService, clock: ManualClock) -> None:
    clients = people(service, clock, "worker", "worker2")
    wanda, wim = clients["worker"], clients["worker2"]
    case_id, task_id = new_case(service)
    done_case, done_task = new_case(service, "Els")
    service.complete_task(done_task, {"outcome": "help", "problems": ["debts"]}, actor="user:wim")
    with write_session(service.db) as session:
        session.add(_message(1, case_id, task_id, clock))
        session.add(_message(2, done_case, done_task, clock))  # about a task that is done already
    page = wanda.get("/inbox").text
    assert "Nieuwe taak voor Maatschappelijk werker: Intake, uiterlijk 4 maart 2026 09:00" in page
    assert "https://" not in page.split('id="inbox"', 1)[1]  # no raw links
    assert "taak is al afgehandeld" in page
    assert re.search(r'id="count-unread">1<', wanda.get("/work").text)  # the stale one is no news
    wanda.post(f"/inbox/{case_id}.m1/read", {"next": f"/tasks/{task_id}"})
    assert re.search(r'id="count-unread">0<', wanda.get("/work").text)
    assert re.search(r'id="count-unread">1<', wim.get("/work").text)  # still unread for Wim
