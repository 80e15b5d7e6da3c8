"""Read-only lists for the web app: work lists, case lists, a team's caseload, escalations.

Everything here is a query over the projections (`cases`, `tasks`) without the
case state JSON, except `open_escalations`, which reads the escalations in the
state of the open cases that have any (`cases.escalations_open`). Nothing here returns personal
data, except what `work_page(names=True)` is asked for: the personal data of the
cases on a worker's own work page, for the client names it shows (audited as the
page is); lists show case ids, pathways, tasks and due moments.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, Select, and_, func, literal, not_, or_, select, true, union_all
from sqlalchemy import case as when
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from integrations.db.models import OPEN_TASK, CasePersonalDataRow, CaseRow, TaskRow


@dataclass(frozen=True)
class Visibility:
    """Which cases a person sees: their teams' cases, except those of pathway versions that admit
    only other teams (`hidden`), plus every case of the versions that admit one of their teams
    (`admitted`), whatever team registered it. Built by the web app from the pathways' `access`."""

    teams: tuple[str, ...]
    hidden: tuple[tuple[str, int], ...] = ()
    admitted: tuple[tuple[str, int], ...] = ()

    @property
    def reads_cases(self) -> bool:
        """Whether `clause(team)` needs `cases` joined (for pathway versions), whatever `team` says."""
        return bool(self.hidden or self.admitted)

    def clause(self, team: Any = None) -> ColumnElement[bool]:
        """The condition on `cases` (joined wherever it is used). `team`: the column to take the team
        from instead of `cases.team`: `tasks.team` for task lists, so that the open-task indexes
        (`ix_tasks_queue` is role, team, due) find a team's tasks without visiting other teams'."""
        clause: ColumnElement[bool] = (CaseRow.team if team is None else team).in_(list(self.teams))
        if self.hidden:
            clause = and_(clause, not_(_versions(self.hidden)))
        if self.admitted:
            clause = or_(clause, _versions(self.admitted))
        return clause


def _versions(pairs: Sequence[tuple[str, int]]) -> ColumnElement[bool]:
    return or_(*[and_(CaseRow.pathway_id == p, CaseRow.pathway_version == v) for p, v in pairs])


def _teams_clause(teams: Sequence[str], visibility: Visibility | None, column: Any) -> ColumnElement[bool]:
    """`column` (a team column) in `teams`, or the visibility with its teams taken from `column`.
    A task row carries its case's team (written with every task row; a case keeps its team)."""
    return visibility.clause(column) if visibility is not None else column.in_(list(teams))


@dataclass(frozen=True)
class WorkItem:
    """One open task in a work list, with the pathway of its case."""

    id: str
    case_id: str
    pathway_id: str
    type: str
    step: str
    flow: str
    title: str
    role: str
    assignee: str | None
    team: str | None
    due_at: datetime
    created_at: datetime
    reminders_sent: int
    escalation_level: int


_WORK_COLUMNS = (TaskRow.id, TaskRow.case_id, CaseRow.pathway_id, TaskRow.type, TaskRow.step, TaskRow.flow,
                 TaskRow.title, TaskRow.role, TaskRow.assignee, TaskRow.team, TaskRow.due_at, TaskRow.created_at,
                 TaskRow.reminders_sent, TaskRow.escalation_level)


def _items(rows: Any) -> list[WorkItem]:
    return [WorkItem(*row) for row in rows]


@dataclass(frozen=True)
class WorkPage:
    """Both lists of a work page; with `names`, the personal data of their cases (for the client names
    the page shows, read in the same statement)."""

    mine: list[WorkItem]
    queue: list[WorkItem]
    personal: dict[str, tuple[str, int, dict[str, Any]]]  # case id -> (pathway, version, personal data)
    count: int | None = None  # the value of `work_page(count=...)`, when it was asked for


@dataclass(frozen=True)
class _Filters:
    pathway: str | None = None
    due_before: datetime | None = None
    task_type: str | None = None
    role: str | None = None


def work_page(
    session: Session, *, teams: Sequence[str], worker: str | None, roles: Sequence[str] = (),
    mine: bool = True, queue: bool = True, pathway: str | None = None, due_before: datetime | None = None,
    task_type: str | None = None, role: str | None = None, limit: int = 500,
    visibility: Visibility | None = None,
    queue_clause: ColumnElement[bool] | Callable[[], ColumnElement[bool]] | None = None, names: bool = False,
    cache_key: Hashable | None = None, count: Callable[[], ScalarSelect[Any]] | None = None,
) -> WorkPage:
    """Open tasks of cases in `teams`: the worker's own (`mine`) and the unclaimed ones of `roles` or
    `queue_clause` (`queue`), each list soonest due first (so overdue first, then due soon) and at most
    `limit`, in one statement (the two lists as one UNION ALL): the page most asked for costs one round
    trip for both lists and their client names instead of three.

    `queue_clause` may be given as a function that builds it, called only when the statement is built.
    `cache_key`: whatever `queue_clause` was built from (the caller's access rules and roles). With it,
    the statement is kept (the last 512, all arguments in the key but a `due_before`, which moves
    with the clock) and the next request of the same worker and shape runs the same statement object:
    SQLAlchemy then neither builds it again nor maps a new statement's columns onto its compiled
    form, a fifth of a work-list request's CPU (bench_worklist.py).

    `count`: a function building a scalar query (the page's unread messages) read in the same
    statement, as the first column of a one-row query the lists are outer-joined to: the page then
    costs one round trip for the lists and the count, and `WorkPage.count` is its value. Whatever
    it depends on must be in `cache_key` or the other arguments."""
    filters = _Filters(pathway, due_before, task_type, role)
    key = None if cache_key is None or due_before is not None else (
        cache_key, tuple(teams), worker, tuple(roles), mine, queue, filters, limit, visibility, names, count is not None)
    query = _STATEMENTS.get(key) if key is not None else None
    if query is None:
        clause = queue_clause if queue_clause is None or isinstance(queue_clause, ColumnElement) else queue_clause()
        query = _work_statement(teams=teams, worker=worker, roles=roles, mine=mine, queue=queue, filters=filters,
                                limit=limit, visibility=visibility, queue_clause=clause, names=names)
        if count is not None:
            query = _counted(query, count())
        if query is None:
            return WorkPage([], [], {})
        if key is not None:
            _STATEMENTS.put(key, query)
    lists: tuple[list[WorkItem], list[WorkItem]] = ([], [])
    personal: dict[str, tuple[str, int, dict[str, Any]]] = {}
    skip = 0 if count is None else 1
    width = skip + len(_WORK_COLUMNS)
    counted: int | None = None
    for row in session.execute(query):
        if skip:
            counted = int(row[0])
            if len(row) == 1 or row[1] is None:  # the count's one row, with no task (or no list) to it
                continue
        item = WorkItem(*row[skip:width])
        lists[row[width]].append(item)
        if names:
            personal[item.case_id] = (item.pathway_id, row[width + 1], row[width + 2] or {})
    for items in lists:  # each branch came sorted; the union keeps no order of its own
        items.sort(key=lambda t: (t.due_at, t.id))
    return WorkPage(lists[0], lists[1], personal, counted)


def _counted(page: Any, count: ScalarSelect[Any]) -> Any:
    """`SELECT count, page.* FROM (SELECT count) LEFT JOIN page ON true`: one row at least (the
    count with no task when the lists are empty), the count repeated on every task row."""
    one = select(count.label("counted")).subquery("counted")
    if page is None:
        return select(one.c.counted)
    lists = page.subquery("page")
    return select(one.c.counted, *lists.c).select_from(one.outerjoin(lists, true()))


def _work_statement(*, teams: Sequence[str], worker: str | None, roles: Sequence[str], mine: bool, queue: bool,
                    filters: _Filters, limit: int, visibility: Visibility | None,
                    queue_clause: ColumnElement[bool] | None, names: bool) -> Any:
    """`work_page`'s statement (None when it asks for nothing): one branch or a UNION ALL of two."""
    branches = []
    if teams and mine and worker is not None:
        branches.append(_work_query(teams, visibility, TaskRow.assignee == worker, filters, limit, names, part=0))
    queue_part = _queue_part(roles, queue_clause) if queue else None
    if teams and queue_part is not None:
        branches.append(_work_query(teams, visibility, queue_part, filters, limit, names, part=1))
    if not branches:
        return None
    return branches[0] if len(branches) == 1 else union_all(*(select(branch.subquery()) for branch in branches))


class _StatementCache:
    """A bounded map of built statements, least recently used out first; safe across threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, statement: Any) -> None:
        with self._lock:
            self._items[key] = statement
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_STATEMENTS = _StatementCache(512)


def _queue_part(roles: Sequence[str], queue_clause: ColumnElement[bool] | None) -> ColumnElement[bool] | None:
    if queue_clause is not None:
        return and_(TaskRow.assignee.is_(None), queue_clause)
    if roles:
        return and_(TaskRow.assignee.is_(None), TaskRow.role.in_(list(roles)))
    return None


def _work_query(teams: Sequence[str], visibility: Visibility | None, who: ColumnElement[bool], filters: _Filters,
                limit: int, names: bool = False, part: int | None = None) -> Select[Any]:
    """Open tasks of `who` in the teams, soonest due first; `part` numbers the list in `work_page`."""
    columns: list[Any] = list(_WORK_COLUMNS)
    if part is not None:
        columns.append(literal(part).label("part"))
    if names:
        columns += [CaseRow.pathway_version.label("pathway_version"), CasePersonalDataRow.data.label("personal")]
    query = (
        select(*columns).join(CaseRow, CaseRow.id == TaskRow.case_id)
        .where(OPEN_TASK, _teams_clause(teams, visibility, TaskRow.team), who)
    )
    if names:
        query = query.outerjoin(CasePersonalDataRow, CasePersonalDataRow.case_id == TaskRow.case_id)
    if filters.pathway:
        query = query.where(CaseRow.pathway_id == filters.pathway)
    if filters.due_before is not None:
        query = query.where(TaskRow.due_at < filters.due_before)
    if filters.task_type:
        query = query.where(TaskRow.type == filters.task_type)
    if filters.role:
        query = query.where(TaskRow.role == filters.role)
    return query.order_by(TaskRow.due_at, TaskRow.id).limit(limit)


def team_tasks(session: Session, teams: Sequence[str], *, overdue_at: datetime | None = None,
               limit: int = 500, visibility: Visibility | None = None) -> list[WorkItem]:
    """Open tasks of the teams' cases (only those due before `overdue_at`, when given)."""
    if not teams:
        return []
    query = (
        select(*_WORK_COLUMNS).join(CaseRow, CaseRow.id == TaskRow.case_id)
        .where(OPEN_TASK, _teams_clause(teams, visibility, TaskRow.team))
    )
    if overdue_at is not None:
        query = query.where(TaskRow.due_at < overdue_at)
    return _items(session.execute(query.order_by(TaskRow.due_at, TaskRow.id).limit(limit)))


@dataclass(frozen=True)
class Caseload:
    """Open work of one assignee (None: the unclaimed queues) in the given teams."""

    assignee: str | None
    open_tasks: int
    overdue_tasks: int
    cases: int
    reminders: int
    escalated: int


def caseload(session: Session, teams: Sequence[str], now: datetime,
             visibility: Visibility | None = None) -> list[Caseload]:
    if not teams:
        return []
    query = (
        select(
            TaskRow.assignee,
            func.count(),
            func.sum(when((TaskRow.due_at < now, 1), else_=0)),
            func.count(func.distinct(TaskRow.case_id)),
            func.sum(TaskRow.reminders_sent),
            func.sum(when((TaskRow.escalation_level > 0, 1), else_=0)),
        )
        .where(OPEN_TASK)
        .group_by(TaskRow.assignee)
    )
    if visibility is not None and visibility.reads_cases:
        query = query.join(CaseRow, CaseRow.id == TaskRow.case_id)
    query = query.where(_teams_clause(teams, visibility, TaskRow.team))
    rows = session.execute(query)
    return [Caseload(a, int(n), int(o or 0), int(c), int(r or 0), int(e or 0)) for a, n, o, c, r, e in rows]


@dataclass(frozen=True)
class CaseListRow:
    id: str
    pathway_id: str
    pathway_version: int
    status: str
    team: str | None
    opened_at: datetime
    closed_at: datetime | None
    outcome: str | None
    open_tasks: int
    next_due: datetime | None


def case_list(
    session: Session, teams: Sequence[str], *, status: str | None = None, pathway: str | None = None,
    team: str | None = None, case_id_prefix: str | None = None, limit: int = 50, offset: int = 0,
    visibility: Visibility | None = None,
) -> tuple[list[CaseListRow], int]:
    """A page of the teams' cases, newest first, and how many there are in all."""
    if not teams:
        return [], 0
    where: list[ColumnElement[bool]] = [_teams_clause(teams, visibility, CaseRow.team)]
    if status:
        where.append(CaseRow.status == status)
    if pathway:
        where.append(CaseRow.pathway_id == pathway)
    if team:
        where.append(CaseRow.team == team)
    if case_id_prefix:
        where.append(CaseRow.id.startswith(case_id_prefix.strip().upper(), autoescape=True))
    total = int(session.execute(select(func.count()).select_from(CaseRow).where(*where)).scalar_one())
    open_tasks = (
        select(TaskRow.case_id.label("case_id"), func.count().label("n"), func.min(TaskRow.due_at).label("due"))
        .where(OPEN_TASK)
        .group_by(TaskRow.case_id)
        .subquery()
    )
    page = (
        select(CaseRow.id, CaseRow.pathway_id, CaseRow.pathway_version, CaseRow.status, CaseRow.team,
               CaseRow.opened_at, CaseRow.closed_at, CaseRow.outcome)
        .where(*where).order_by(CaseRow.opened_at.desc(), CaseRow.id).limit(limit).offset(offset)
        .subquery()
    )
    rows = session.execute(
        select(page, func.coalesce(open_tasks.c.n, 0), open_tasks.c.due)
        .outerjoin(open_tasks, open_tasks.c.case_id == page.c.id)
        .order_by(page.c.opened_at.desc(), page.c.id)
    )
    return [CaseListRow(*row) for row in rows], total


def case_team(session: Session, case_id: str) -> tuple[str | None, str] | None:
    """(team, status) of a case, or None when there is no such case: the cheap access check."""
    row = session.execute(select(CaseRow.team, CaseRow.status).where(CaseRow.id == case_id)).first()
    return None if row is None else (row[0], row[1])


def case_pathway(session: Session, case_id: str) -> tuple[str, int] | None:
    """(pathway id, version) of a case, or None: for the pathway's access rule."""
    row = session.execute(select(CaseRow.pathway_id, CaseRow.pathway_version).where(CaseRow.id == case_id)).first()
    return None if row is None else (row[0], row[1])


def task_case(session: Session, task_id: str) -> tuple[str, str | None] | None:
    """(case id, team) of a task, or None when there is no such task."""
    row = session.execute(select(TaskRow.case_id, TaskRow.team).where(TaskRow.id == task_id)).first()
    return None if row is None else (row[0], row[1])


@dataclass(frozen=True)
class OpenEscalation:
    case_id: str
    pathway_id: str
    team: str | None
    escalation: dict[str, Any]


def open_escalations(session: Session, teams: Sequence[str], limit: int = 200,
                     visibility: Visibility | None = None) -> list[OpenEscalation]:
    """Escalations raised and not yet answered in the teams' open cases, oldest first."""
    if not teams:
        return []
    # The partial index on team (escalations_open > 0) finds the few cases with any; only their states
    # are read and unpacked (packed: SQL cannot look inside, models.PackedJson).
    rows = session.execute(
        select(CaseRow.id, CaseRow.pathway_id, CaseRow.team, CaseRow.state)
        .where(_teams_clause(teams, visibility, CaseRow.team), CaseRow.escalations_open > 0,
               CaseRow.status != "closed")
        .limit(limit)
    )
    found = [
        OpenEscalation(case_id, pathway_id, team, dict(e))
        for case_id, pathway_id, team, state in rows
        for e in (state.get("open_escalations") or [])
    ]
    return sorted(found, key=lambda e: (str(e.escalation.get("raised_at", "")), e.case_id))


def running_cases(session: Session, pathway_id: str, below_version: int, teams: Sequence[str] | None = None,
                  limit: int = 5000) -> list[tuple[str, int, str | None]]:
    """(case id, version, team) of cases not closed on an older version of a pathway."""
    query = (
        select(CaseRow.id, CaseRow.pathway_version, CaseRow.team)
        .where(CaseRow.pathway_id == pathway_id, CaseRow.pathway_version < below_version, CaseRow.status != "closed")
    )
    if teams is not None:
        query = query.where(CaseRow.team.in_(list(teams)))
    return [(i, v, t) for i, v, t in session.execute(query.order_by(CaseRow.opened_at, CaseRow.id).limit(limit))]


def cases_per_version(session: Session, teams: Sequence[str] | None = None) -> dict[tuple[str, int], dict[str, int]]:
    """{(pathway, version): {status: count}} of the teams' cases (all cases when `teams` is None)."""
    query = select(CaseRow.pathway_id, CaseRow.pathway_version, CaseRow.status, func.count())
    if teams is not None:
        query = query.where(CaseRow.team.in_(list(teams)))
    found: dict[tuple[str, int], dict[str, int]] = {}
    for pathway_id, version, status, n in session.execute(
        query.group_by(CaseRow.pathway_id, CaseRow.pathway_version, CaseRow.status)
    ):
        found.setdefault((pathway_id, version), {})[status] = int(n)
    return found
