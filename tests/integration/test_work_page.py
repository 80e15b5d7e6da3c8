"""The work page's one statement (`caselists.work_page`): both lists, each soonest due first and
limited on its own, the queue only of the worker's teams, and the cases' personal data for the names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.clock import ManualClock
from integrations.db import caselists
from integrations.db.engine_factory import read_session
from integrations.db.models import TaskRow
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


def test_a_kept_statement_is_run_again_for_the_same_worker_and_shape_and_sees_new_tasks(
    service: CaseService, clock: ManualClock
) -> None:
    built: list[str] = []

    def queue_clause() -> Any:
        built.append("queue")
        return TaskRow.role.in_(["worker"])

    def page(worker: str, key: object) -> caselists.WorkPage:
        with read_session(service.db) as session:
            return caselists.work_page(session, teams=["noord"], worker=worker, roles=["worker"], limit=10,
                                       queue_clause=queue_clause, cache_key=key)

    access = object()  # stands for the portal's access rules of the published versions
    first = _case(service, "Eerste", "noord")
    service.claim(first, "user:anna")
    assert [t.id for t in page("user:anna", (access, ("worker",))).mine] == [first]
    assert built == ["queue"]
    clock.advance(timedelta(minutes=1))
    second = _case(service, "Tweede", "noord")
    service.claim(second, "user:anna")
    queued = _case(service, "Derde", "noord")
    again = page("user:anna", (access, ("worker",)))
    assert built == ["queue"]  # the kept statement, not built again ...
    assert [t.id for t in again.mine] == [first, second] and [t.id for t in again.queue] == [queued]  # ... fresh rows
    # another worker, or new access rules (a pathway published), is another statement
    assert page("user:bert", (access, ("worker",))).mine == [] and built == ["queue", "queue"]
    assert [t.id for t in page("user:anna", (object(), ("worker",))).mine] == [first, second]
    assert built == ["queue", "queue", "queue"]
    # without a key nothing is kept
    with read_session(service.db) as session:
        caselists.work_page(session, teams=["noord"], worker="user:anna", roles=["worker"], queue_clause=queue_clause)
    assert len(built) == 4


def test_the_kept_statements_are_bounded_least_recently_used_out_first() -> None:
    kept = caselists._StatementCache(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # a is now the most recent
    kept.put("c", 3)
    assert kept.get("b") is None and kept.get("a") == 1 and kept.get("c") == 3


def test_a_count_comes_in_the_same_statement_with_or_without_tasks(service: CaseService) -> None:
    from sqlalchemy import func, select

    def open_in(team: str) -> Any:
        return lambda: select(func.count()).select_from(TaskRow).where(TaskRow.team == team,
                                                                      TaskRow.status == "open").scalar_subquery()

    own = _case(service, "Eigen", "noord")
    service.claim(own, "user:anna")
    queued = _case(service, "Wachtrij", "noord")
    for n in range(2):
        _case(service, f"Elders {n}", "zuid")
    with read_session(service.db) as session:
        full = caselists.work_page(session, teams=["noord"], worker="user:anna", roles=["worker"], names=True,
                                   count=open_in("zuid"))
        empty = caselists.work_page(session, teams=["noord"], worker="user:bert", roles=[], count=open_in("zuid"))
        nothing_asked = caselists.work_page(session, teams=["noord"], worker="user:bert", roles=[], mine=False,
                                            count=open_in("noord"))
        uncounted = caselists.work_page(session, teams=["noord"], worker="user:anna", roles=["worker"])
    assert [t.id for t in full.mine] == [own] and [t.id for t in full.queue] == [queued] and full.count == 2
    assert {data["client_name"] for _, _, data in full.personal.values()} == {"Eigen", "Wachtrij"}
    assert empty.mine == [] and empty.queue == [] and empty.count == 2  # the count's row alone
    assert nothing_asked.mine == [] and nothing_asked.queue == [] and nothing_asked.count == 2
    assert uncounted.count is None and [t.id for t in uncounted.mine] == [own]


def test_the_page_and_its_count_are_one_statement_that_says_open_itself(service: CaseService) -> None:
    """One round trip; `status = 'open'` written into the SQL, so that a prepared statement's generic plan
    on PostgreSQL can use the partial open-task indexes (a bound value made it plan every request)."""
    from sqlalchemy import event, func, select

    own = _case(service, "Eigen", "noord")
    service.claim(own, "user:anna")
    sent: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement not in ("BEGIN", "COMMIT"):  # SQLite's own transaction statements
            sent.append(statement)

    event.listen(service.db, "before_cursor_execute", seen)
    try:
        with read_session(service.db) as session:
            page = caselists.work_page(session, teams=["noord"], worker="user:anna", roles=["worker"],
                                       count=lambda: select(func.count()).select_from(TaskRow).scalar_subquery())
    finally:
        event.remove(service.db, "before_cursor_execute", seen)
    assert [t.id for t in page.mine] == [own] and page.count == 1
    assert len(sent) == 1 and sent[0].count("tasks.status = 'open'") == 2  # both lists' branches
