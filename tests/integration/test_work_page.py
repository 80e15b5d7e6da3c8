"""The work page's one statement (`caselists.work_page`): both lists, each soonest due first and
limited on its own, the queue only of the worker's teams, and the cases' personal data for the names."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import ManualClock
from integrations.db import caselists
from integrations.db.engine_factory import read_session
from integrations.service import CaseService


def _case(service: CaseService, name: str, team: str) -> str:
    started = service.start_case("test-visits", "signal", {"client_name": name, "concern": "huur"},
                                 actor="intake", team=team)
    return started.opened_tasks[0]


def test_both_lists_and_the_names_come_in_one_statement(service: CaseService, clock: ManualClock) -> None:
    mine, queue = [], []
    for n in range(3):
        task = _case(service, f"Eigen {n}", "noord")
        service.claim(task, "user:anna")
        mine.append(task)
        clock.advance(timedelta(minutes=1))  # each later task is due later
    for n in range(3):
        queue.append(_case(service, f"Wachtrij {n}", "noord"))
        clock.advance(timedelta(minutes=1))
    other_team = _case(service, "Elders", "zuid")
    with read_session(service.db) as session:
        page = caselists.work_page(session, teams=["noord"], worker="user:anna", roles=["worker"], limit=2,
                                   names=True)
        whole = caselists.work_page(session, teams=["noord"], worker="user:anna", roles=["worker"], limit=10)
        only_queue = caselists.work_page(session, teams=["noord"], worker="user:anna", roles=["worker"],
                                         mine=False, limit=10)
    assert [t.id for t in page.mine] == mine[:2] and [t.id for t in page.queue] == queue[:2]
    assert [t.id for t in whole.mine] == mine and [t.id for t in whole.queue] == queue
    assert other_team not in {t.id for t in whole.queue} and whole.personal == {}
    assert only_queue.mine == [] and [t.id for t in only_queue.queue] == queue
    names = {case_id: data["client_name"] for case_id, (_, _, data) in page.personal.items()}
    assert sorted(names.values()) == ["Eigen 0", "Eigen 1", "Wachtrij 0", "Wachtrij 1"]
    assert all(pathway == "test-visits" and version >= 1 for pathway, version, _ in page.personal.values())
