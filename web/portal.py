"""What the web pages and the JSON API may do, for whom, and the audit entry each writes.

Every read or change of case data goes through a method here, which (1) checks
the principal may see the object, answering exactly as for an object that does
not exist when not (`Hidden`, a 404), (2) calls the application service, and
(3) writes one audit entry: who, in which role and organisation, which case,
what was read or changed, and why when the user gave a reason. Pages and API
share these methods, so they cannot drift apart on who may see what.

The access rules:
- a worker sees the cases of their teams; acts on tasks given to them or
  waiting in the queue of a pathway role they carry;
- a coordinator sees the cases of their teams and may also reassign, close,
  suspend, resume, reopen, resolve escalations, register cases, read a case's
  access log, and change and publish pathways (migrating only their teams' cases);
- an analyst sees aggregates of the cases their municipality commissions,
  never a case, a task or a name;
- an administrator manages accounts, teams and API tokens, and sees no case data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Engine as Database
from sqlalchemy.orm import Session

from engine import commands as c
from engine.compiled import EVALUATION_STEP, CompiledPathway, evaluation_form_schema
from engine.definition import Pathway, Step
from engine.errors import ConflictError, NotFoundError, ValidationError
from engine.events import Event
from engine.migration import MigrationPlan
from engine.state import CaseState, CaseStatus, Task, TaskStatus, TaskType
from integrations.db import accounts, audit, caselists, repository
from integrations.db.accounts import AccountRole
from integrations.db.audit import AuditEntry
from integrations.db.engine_factory import is_sqlite, read_session, snapshot_read, write_session
from integrations.pathway_access import PathwayAccess
from integrations.service import CaseService, CommandResult
from web import input_limits
from web.principal import Principal
from web.settings import WebSettings

CASE_ROLES = (AccountRole.WORKER, AccountRole.COORDINATOR)
Recorder = Callable[..., None]  # record(action, what, case_id=None, why=None): an audit entry in the same transaction


class Hidden(Exception):
    """Not there, or not for this principal: both answer the same 404."""


class Said(Exception):
    """An error whose text is a Dutch template of web/i18n (with `values`), said in a person's language."""

    def __init__(self, message: str = "", values: Mapping[str, object] | None = None) -> None:
        self.template = message
        self.values = dict(values or {})
        super().__init__(message.format(**self.values) if self.values else message)

    def text(self, lang: str) -> str:
        from web.i18n import translate

        return translate(self.template, lang, **self.values)


class Refused(Said):
    """A section this principal's role does not use (403), or an action they may not take."""


class Invalid(Said):
    """Input that cannot be used; `fields` maps form fields to messages (Dutch templates too)."""

    def __init__(self, message: str, fields: Mapping[str, str] | None = None,
                 values: Mapping[str, object] | None = None) -> None:
        super().__init__(message, values)
        self.fields = dict(fields or {})

    def field_texts(self, lang: str) -> dict[str, str]:
        from web.i18n import translate

        return {name: translate(text, lang) for name, text in self.fields.items()}


class Conflict(Exception):
    """Someone else changed the object first; `task` is the task as it is now, when there is one."""

    def __init__(self, message: str, task: Task | None = None, by: str | None = None) -> None:
        super().__init__(message)
        self.task = task
        self.by = by


@dataclass
class CaseBundle:
    state: CaseState
    history: list[Event]
    cp: CompiledPathway
    names: dict[str, str]
    personal_shown: bool = True


@dataclass
class TaskBundle:
    task: Task
    state: CaseState
    cp: CompiledPathway
    step: Step | None  # None for an evaluation
    schema: dict[str, Any]
    names: dict[str, str]
    draft: accounts.Draft | None = None
    may_complete: bool = False
    may_claim: bool = False
    may_release: bool = False
    question: str | None = None  # a partner request's question


class WorkLists(NamedTuple):
    mine: list[caselists.WorkItem]
    queue: list[caselists.WorkItem]
    unread: int  # unread messages in the in-app inbox
    client_names: dict[str, str]  # case id -> client name (running cases; only when asked for)


@dataclass
class TeamView:
    teams: list[accounts.Team]
    members: list[accounts.Account]
    load: dict[str | None, caselists.Caseload]
    overdue: list[caselists.WorkItem]
    queue: list[caselists.WorkItem]
    escalations: list[caselists.OpenEscalation]
    names: dict[str, str] = field(default_factory=dict)


class Portal:
    PUBLISHED_TTL = timedelta(seconds=30)  # pathways published by another process show up this fast

    def __init__(self, service: CaseService, db: Database, settings: WebSettings) -> None:
        self.service = service
        self.db = db
        self.settings = settings
        self._published: tuple[datetime, list[tuple[str, int, datetime]]] | None = None
        self._names: dict[str, str] = {}
        self._names_at: datetime | None = None
        self._access: tuple[list[tuple[str, int, datetime]], PathwayAccess] | None = None

    def now(self) -> datetime:
        return self.service.clock.now()

    # --- rules ------------------------------------------------------------------------------------
    @staticmethod
    def require(p: Principal, *roles: AccountRole) -> None:
        if p.role not in roles:
            raise Refused("Dit deel van carepath is niet voor jouw rol.")

    @staticmethod
    def sees_team(p: Principal, team: str | None) -> bool:
        return p.role in CASE_ROLES and team is not None and team in p.teams

    def access(self) -> PathwayAccess:
        """The access rules of the published pathway versions (rebuilt when that list changes)."""
        published = self.published()
        cached = self._access
        if cached is None or cached[0] is not published:
            pathways = []
            for pathway_id, version, _at in published:
                try:
                    pathways.append(self.service.catalog.lookup(pathway_id, version).pathway)
                except NotFoundError:
                    continue
            cached = (published, PathwayAccess(pathways))
            self._access = cached
        return cached[1]

    def sees_case(self, p: Principal, team: str | None, pathway: tuple[str, int] | None) -> bool:
        """The team rule, and the `access` rule of the case's pathway version."""
        if p.role not in CASE_ROLES or pathway is None:
            return False
        return self.access().sees(p.teams, team, *pathway)

    def visibility(self, p: Principal, teams: Sequence[str] | None = None) -> caselists.Visibility:
        """The list condition for `p` (or for some of their teams, then without other teams' cases)."""
        return self.access().visibility(list(teams) if teams is not None else p.teams, admit=teams is None)

    def holds_role(self, p: Principal, state: CaseState, role_id: str) -> bool:
        return self.access().holds(p.pathway_roles, state.pathway_id, state.pathway_version, role_id)

    def _case_access(self, p: Principal, case_id: str) -> tuple[str | None, str]:
        if p.role not in CASE_ROLES:
            raise Hidden(case_id)
        with read_session(self.db) as session:
            found = caselists.case_team(session, case_id)
            pathway = caselists.case_pathway(session, case_id)
        if found is None or not self.sees_case(p, found[0], pathway):
            raise Hidden(case_id)
        return found

    def _task_access(self, p: Principal, task_id: str) -> str:
        if p.role not in CASE_ROLES:
            raise Hidden(task_id)
        with read_session(self.db) as session:
            found = caselists.task_case(session, task_id)
            pathway = caselists.case_pathway(session, found[0]) if found is not None else None
        if found is None or not self.sees_case(p, found[1], pathway):
            raise Hidden(task_id)
        return found[0]

    @staticmethod
    def carries_case(p: Principal, state: CaseState) -> bool:
        """A worker is on the case: carries one of its roles or has one of its open tasks."""
        if p.actor in state.assignments.values():
            return True
        return any(t.assignee == p.actor for t in state.open_tasks())

    def may_close(self, p: Principal, state: CaseState) -> bool:
        return state.status is not CaseStatus.CLOSED and (
            p.role is AccountRole.COORDINATOR or (p.role is AccountRole.WORKER and self.carries_case(p, state)))

    def _holds(self, p: Principal, task: Task, state: CaseState | None) -> bool:
        if state is None:
            return task.role in p.pathway_roles
        return self.holds_role(p, state, task.role)

    def may_take(self, p: Principal, task: Task, state: CaseState | None = None) -> bool:
        return task.status is TaskStatus.OPEN and task.assignee is None and self._holds(p, task, state)

    def require_task_role(self, p: Principal, task: Task, state: CaseState | None = None) -> None:
        """Refused unless the task is the principal's or belongs to a role they carry in its pathway."""
        if task.assignee != p.actor and not self._holds(p, task, state):
            raise Refused("Je hebt de rol «{role}» van deze taak niet.", {"role": task.role})

    def may_complete(self, p: Principal, task: Task, state: CaseState | None = None) -> bool:
        if task.status is not TaskStatus.OPEN:
            return False
        return task.assignee == p.actor or (task.assignee is None and self._holds(p, task, state))

    # --- audit ------------------------------------------------------------------------------------
    def audit(self, p: Principal, action: str, what: str, case_id: str | None = None, why: str | None = None) -> None:
        with write_session(self.db) as session:
            self.record_in(session, p, action, what, case_id, why)

    def record_in(self, session: Session, p: Principal, action: str, what: str, case_id: str | None = None,
                why: str | None = None) -> None:
        """One audit entry in `session`: the person, and the API token when one was used (its own id)."""
        audit.record_access(session, at=self.now(), who=p.actor, role=p.role.value, organisation=p.organisation,
                            case_id=case_id, action=action, what=what, why=why or None, token_id=p.token_id)

    @contextmanager
    def _reading(self, p: Principal, *, audited: bool = True,
                 statements: bool = False) -> Iterator[tuple[Session, Recorder]]:
        """One transaction for what a page reads and the audit entry of that reading: the entry is
        written exactly when the reading succeeded, and a page costs one commit instead of two.

        `statements`: on PostgreSQL each statement its own transaction instead (autocommit), for a page
        whose reads need no common snapshot (under READ COMMITTED they have none anyway) and that
        records one entry: two round trips fewer (BEGIN, COMMIT). The entry still follows the reading
        and the page is shown only once it is written."""
        opener = write_session if audited else read_session
        if statements and not is_sqlite(self.db):
            opener = snapshot_read
        with opener(self.db) as session:
            def record(action: str, what: str, case_id: str | None = None, why: str | None = None) -> None:
                self.record_in(session, p, action, what, case_id, why)

            yield session, record

    def _visible_in(self, session: Session, p: Principal, case_id: str, *, partner_task: bool = False) -> CaseState:
        if p.role not in CASE_ROLES or (p.partner is not None and not partner_task):
            raise Hidden(case_id)  # a partner-limited token sees no case, only its partner requests
        try:
            state = repository.load_case(session, case_id)
        except NotFoundError:
            raise Hidden(case_id) from None
        if not self.sees_case(p, state.team, (state.pathway_id, state.pathway_version)):
            raise Hidden(case_id)
        return state

    NAMES_TTL = timedelta(minutes=5)

    def names(self, actors: Iterable[str | None]) -> dict[str, str]:
        """Display names of `user:` actors (others as they are); remembered for a few minutes."""
        wanted = {a for a in actors if a}
        now = self.now()
        if self._names_at is None or not self._names_at <= now < self._names_at + self.NAMES_TTL:
            self._names, self._names_at = {}, now
        usernames = {accounts.username_of(a) for a in wanted} - {None} - set(self._names)
        if usernames:
            with read_session(self.db) as session:
                self._names.update(accounts.display_names(session, [u for u in usernames if u]))
        return {a: self._names.get(accounts.username_of(a) or "", a) for a in wanted}

    def _lookup(self, state: CaseState) -> CompiledPathway:
        return self.service.catalog.lookup(state.pathway_id, state.pathway_version)

    def _load(self, case_id: str) -> CaseState:
        try:
            return self.service.case(case_id)
        except NotFoundError:
            raise Hidden(case_id) from None

    # --- work lists -------------------------------------------------------------------------------
    def work(self, p: Principal, *, scope: str = "all", pathway: str | None = None, due: str | None = None,
             task_type: str | None = None, role: str | None = None, client_names: bool = False) -> WorkLists:
        """My tasks and my roles' queue, soonest due first, and my unread messages; with
        `client_names`, the names of their clients too, read in the same transaction."""
        self.require(p, *CASE_ROLES)
        if p.partner is not None:  # a partner-limited token: only the partner requests of its roles
            task_type = "partner_request"
        if role and ":" in role:  # a role of one pathway (`pathway:role`)
            pathway, _, role = role.partition(":")
        now = self.now()
        due_before = {"overdue": now, "today": _end_of_day(now), "week": now + timedelta(days=7)}.get(due or "")
        limit = self.settings.worklist_limit
        access = self.access()
        with self._reading(p, statements=True) as (session, record):  # the most asked page: fewest round trips
            page = caselists.work_page(
                session, teams=p.teams, worker=p.actor, roles=p.pathway_roles, mine=scope != "queue",
                queue=scope != "mine", pathway=pathway or None, due_before=due_before, task_type=task_type or None,
                role=role or None, limit=limit, visibility=self.visibility(p),
                queue_clause=lambda: access.queue_clause(p.pathway_roles), names=client_names,
                cache_key=(access, tuple(p.pathway_roles)), count=self._unread_query(p))
            mine, queue = page.mine, page.queue
            unread = page.count if page.count is not None else self.unread_messages(session, p)
            names = {}
            if client_names:
                from web.clientsearch import names_of_cases

                names = names_of_cases(page.personal, self.service.catalog.lookup)
            record("list", f"work list ({len(mine)} own tasks, {len(queue)} in queue)")
        return WorkLists(mine, queue, unread, names)

    def cases(self, p: Principal, *, status: str | None, pathway: str | None, team: str | None,
              query: str | None, page: int) -> tuple[list[caselists.CaseListRow], int]:
        self.require(p, *CASE_ROLES)
        if p.partner is not None:
            raise Refused("een token voor een partnerorganisatie ziet geen zakenlijst")
        size = self.settings.page_size
        with self._reading(p) as (session, record):
            rows, total = caselists.case_list(session, p.teams, status=status or None, pathway=pathway or None,
                                              team=team or None, case_id_prefix=query or None, limit=size,
                                              offset=max(0, page - 1) * size, visibility=self.visibility(p))
            record("list", f"case list ({len(rows)} of {total} cases)")
        return rows, total

    # --- the in-app inbox (delivered by the runtime's dispatch) ------------------------------------
    def inbox(self, p: Principal, *, unread_only: bool = False, limit: int = 100) -> tuple[list[Any], int]:
        """(the newest messages for the person or their pathway roles in their teams, unread count)."""
        from integrations.runtime import inbox

        self.require(p, *CASE_ROLES)
        found: dict[str, Any] = {}
        unread = 0
        with self._reading(p) as (session, record):
            for team in p.teams:
                for item in inbox.inbox(session, p.actor, p.pathway_roles, team, unread_only=unread_only,
                                        limit=limit):
                    if self.access().sees_pathway(p.teams, item.team, item.pathway_id):  # the pathway's `access`
                        found.setdefault(item.id, item)
            unread = len({i.id for i in found.values() if i.read_at is None}) if unread_only else sum(
                1 for i in found.values() if i.read_at is None)
            record("list", f"inbox ({len(found)} messages)")
        items = sorted(found.values(), key=lambda i: (i.delivered_at, i.id), reverse=True)[:limit]
        return items, unread

    @staticmethod
    def _unread_query(p: Principal) -> Callable[[], Any] | None:
        """The unread count as a query to read along with a page (one team: one COUNT), else None."""
        from integrations.runtime import inbox

        if len(p.teams) != 1:
            return None
        return lambda: inbox.unread_query(p.actor, p.pathway_roles, p.teams[0])

    def unread_messages(self, session: Session, p: Principal) -> int:
        from integrations.runtime import inbox

        if len(p.teams) == 1:  # one COUNT; with several teams a message without a team would count twice
            return inbox.unread_count(session, p.actor, p.pathway_roles, p.teams[0])
        return len({item.id for team in p.teams
                    for item in inbox.inbox(session, p.actor, p.pathway_roles, team, unread_only=True, limit=500)})

    def mark_read(self, p: Principal, message_id: str | None) -> int:
        """Mark one message (or, with None, every unread one) the person may see as read."""
        from integrations.runtime import inbox

        self.require(p, *CASE_ROLES)
        now = self.now()
        done = 0
        with write_session(self.db) as session:
            ids = [message_id] if message_id else sorted({
                item.id for team in p.teams
                for item in inbox.inbox(session, p.actor, p.pathway_roles, team, unread_only=True, limit=500)})
            for one in ids:
                for team in p.teams:
                    if inbox.mark_read(session, one, p.actor, p.pathway_roles, team, now):
                        done += 1
                        break
        return done

    # --- one case ---------------------------------------------------------------------------------
    def case_page(self, p: Principal, case_id: str, *, why: str | None = None) -> CaseBundle:
        with self._reading(p) as (session, record):
            state = self._visible_in(session, p, case_id)
            history = repository.history(session, case_id)
            # Personal data of a closed case is an exception: shown only with a reason, which is logged.
            show_personal = self.shows_personal(state, why)
            what = "case page: case data with personal data, timeline, tasks" if show_personal else \
                "case page: timeline and tasks (personal data hidden: case closed)"
            record("view", what, case_id, why)
        cp = self._lookup(state)
        actors = [e.actor for e in history] + list(state.assignments.values()) + [
            t.assignee for t in state.tasks.values()] + [t.completed_by for t in state.tasks.values()]
        return CaseBundle(state, history, cp, self.names(actors), personal_shown=show_personal)

    @staticmethod
    def shows_personal(state: CaseState, why: str | None) -> bool:
        """One rule for pages, API and exports: personal data of a closed case only with a reason."""
        return state.status is not CaseStatus.CLOSED or bool((why or "").strip())

    @staticmethod
    def without_personal(state: CaseState, cp: CompiledPathway) -> CaseState:
        """The case with its personal fields left out (a closed case viewed without a reason)."""
        import dataclasses

        personal = set(cp.pathway.personal_data)
        return dataclasses.replace(state, data={k: v for k, v in state.data.items() if k not in personal})

    def case_summary(self, p: Principal, case_id: str, *, why: str | None = None
                     ) -> tuple[CaseState, CompiledPathway, bool]:
        """The case for the API (`GET /api/cases/{id}`): state, pathway and whether personal data is
        in it (a closed case's only with a reason, which is logged), audited as a view."""
        with self._reading(p) as (session, record):
            state = self._visible_in(session, p, case_id)
            shown = self.shows_personal(state, why)
            record("view", "case (API): case data with personal data, tasks, tracks" if shown else
                   "case (API): tasks and tracks (personal data hidden: case closed)", case_id,
                   why if state.status is CaseStatus.CLOSED else None)
        cp = self._lookup(state)
        return (state if shown else self.without_personal(state, cp)), cp, shown

    def _team_check(self, session: Session, p: Principal, case_id: str) -> None:
        found = caselists.case_team(session, case_id) if p.role in CASE_ROLES and p.partner is None else None
        pathway = caselists.case_pathway(session, case_id) if found is not None else None
        if found is None or not self.sees_case(p, found[0], pathway):
            raise Hidden(case_id)

    def case_history(self, p: Principal, case_id: str) -> list[Event]:
        with self._reading(p) as (session, record):
            self._team_check(session, p, case_id)
            history = repository.history(session, case_id)
            record("view", f"case history ({len(history)} events)", case_id)
        return history

    def access_log(self, p: Principal, case_id: str) -> list[AuditEntry]:
        self.require(p, AccountRole.COORDINATOR)
        with self._reading(p) as (session, record):
            self._team_check(session, p, case_id)
            entries = audit.entries_for_case(session, case_id)
            record("view", f"access log ({len(entries)} entries)", case_id)
        return entries

    # --- one task ---------------------------------------------------------------------------------
    def task_schema(self, cp: CompiledPathway, task: Task) -> tuple[Step | None, dict[str, Any], str | None]:
        if task.type is TaskType.EVALUATION:
            return None, evaluation_form_schema(cp.pathway), None
        if task.type is TaskType.AD_HOC:
            from engine.adhoc import FORM

            return None, dict(FORM), None
        step = cp.steps[task.step_id]
        if step.kind == "joint_decision":  # both sides record the same decision; the partner names who confirms
            decision = dict(step.params.get("decision") or {"type": "object", "properties": {}})
            if task.type is TaskType.PARTNER:
                decision["properties"] = {**decision.get("properties", {}), "name": {
                    "type": "string", "title": "Naam van wie bevestigt", "minLength": 1, "maxLength": 200}}
                decision["required"] = [*decision.get("required", []), "name"]
            return step, decision, str(step.params.get("question") or "") or None
        if task.type is TaskType.PARTNER:
            answer = step.params.get("answer")
            question = step.params.get("question")
            return step, dict(answer) if isinstance(answer, Mapping) else {"type": "object"}, \
                str(question) if question else None
        return step, dict(step.form or {"type": "object", "properties": {}}), None

    def task_page(self, p: Principal, task_id: str, *, audit: bool = True) -> TaskBundle:
        case_id, dot, number = task_id.rpartition(".")  # task ids are `<case id>.<n>` (the engine's)
        if not dot or not case_id or not number.isdigit():
            raise Hidden(task_id)
        with self._reading(p, audited=audit) as (session, record):
            state = self._visible_in(session, p, case_id, partner_task=True)
            task = state.tasks.get(task_id)
            if task is None or (p.partner is not None and task.type is not TaskType.PARTNER):
                raise Hidden(task_id)
            draft = accounts.get_draft(session, p.account.id, task_id)
            shown = self.shows_personal(state, None)
            if audit:
                record("view", f"task {task_id} ({task.step_id}): form and case summary" + (
                    "" if shown else " (personal data hidden: case closed)"), case_id)
        cp = self._lookup(state)
        if not shown or p.partner is not None:  # the task page of a closed case shows no personal data
            state = self.without_personal(state, cp)
        step, schema, question = self.task_schema(cp, task)
        names = self.names([task.assignee, task.completed_by, *state.assignments.values()])
        open_case = state.status is CaseStatus.OPEN
        return TaskBundle(
            task=task, state=state, cp=cp, step=step, schema=schema, names=names, draft=draft,
            may_complete=open_case and self.may_complete(p, task, state),
            may_claim=open_case and self.may_take(p, task, state),
            may_release=task.status is TaskStatus.OPEN and task.assignee == p.actor, question=question,
        )

    def _conflict(self, case_id: str, task_id: str, exc: Exception) -> Conflict:
        """A ConflictError as the user should read it: who got there first, and when."""
        try:
            state = self.service.case(case_id)
        except NotFoundError:
            return Conflict(str(exc))
        task = state.tasks.get(task_id)
        by = None
        if task is not None:
            by = task.completed_by if task.status is TaskStatus.COMPLETED else task.assignee
        return Conflict(str(exc), task, self.names([by]).get(by or "", by) if by else None)

    def claim(self, p: Principal, task_id: str) -> CommandResult:
        case_id = self._task_access(p, task_id)
        state = self._load(case_id)
        task = state.tasks.get(task_id)
        if task is None:
            raise Hidden(task_id)
        if p.partner is not None and task.type is not TaskType.PARTNER:
            raise Hidden(task_id)
        if task.assignee == p.actor and task.status is TaskStatus.OPEN:
            return CommandResult(case_id, state.version, (), ())
        if not self.holds_role(p, state, task.role):
            raise Refused("Je hebt de rol «{role}» van deze taak niet.", {"role": task.role})
        try:
            result = self.service.claim(task_id, p.actor)
        except ConflictError as exc:
            raise self._conflict(case_id, task_id, exc) from None
        self.audit(p, "change", f"claimed task {task_id} ({task.step_id})", case_id)
        return result

    def release(self, p: Principal, task_id: str) -> CommandResult:
        case_id = self._task_access(p, task_id)
        if p.partner is not None:
            found = self._load(case_id).tasks.get(task_id)
            if found is None or found.type is not TaskType.PARTNER:
                raise Hidden(task_id)
        try:
            result = self.service.release(task_id, p.actor)
        except ConflictError as exc:
            raise self._conflict(case_id, task_id, exc) from None
        self.audit(p, "change", f"released task {task_id} to its role's queue", case_id)
        return result

    def check_completer(self, p: Principal, case_id: str, task: Task, state: CaseState | None = None) -> None:
        """Role and assignee, checked before any form is read: someone who may not complete the task
        learns nothing about its form (no 422 listing its fields)."""
        if p.partner is not None and task.type is not TaskType.PARTNER:
            raise Hidden(task.id)
        self.require_task_role(p, task, state)
        if task.status is TaskStatus.OPEN and task.assignee not in (None, p.actor):
            raise self._conflict(case_id, task.id, ConflictError(f"task {task.id} is with {task.assignee}"))

    def complete(self, p: Principal, task_id: str, data: Mapping[str, Any]) -> CommandResult:
        """Complete a task (claiming it first when it waits in a queue of the worker's role)."""
        case_id = self._task_access(p, task_id)
        state = self._load(case_id)
        task = state.tasks.get(task_id)
        if task is None:
            raise Hidden(task_id)
        self.check_completer(p, case_id, task, state)
        check_input(data, "formuliergegevens")

        def with_the_completion(session: Session, _result: CommandResult) -> None:
            # The draft goes and the audit entry comes in the completion's own transaction.
            accounts.delete_drafts(session, task_id)
            audit.record_access(session, at=self.now(), who=p.actor, role=p.role.value, organisation=p.organisation,
                                case_id=case_id, action="change", what=f"completed task {task_id} ({task.step_id})")

        try:
            if task.status is TaskStatus.OPEN and task.assignee is None:
                self.service.claim(task_id, p.actor)
            result = self.service.complete_task(task_id, dict(data), actor=p.actor, within=with_the_completion)
        except ConflictError as exc:
            raise self._conflict(case_id, task_id, exc) from None
        except ValidationError as exc:
            raise Invalid(str(exc)) from None
        return result

    def save_draft(self, p: Principal, task_id: str, fields: dict[str, Any]) -> datetime:
        case_id = self._task_access(p, task_id)
        state = self._load(case_id)
        task = state.tasks.get(task_id)
        if task is None:
            raise Hidden(task_id)
        self.require_task_role(p, task, state)
        check_input(fields, "conceptgegevens")
        now = self.now()
        with write_session(self.db) as session:
            accounts.save_draft(session, p.account.id, task_id, case_id, fields, now)
        self.audit(p, "draft", f"saved a draft of task {task_id}", case_id)
        return now

    def reassign(self, p: Principal, task_id: str, *, worker: str | None, role: str | None,
                 reason: str | None, carry_case: bool = False) -> CommandResult:
        self.require(p, AccountRole.COORDINATOR)
        case_id = self._task_access(p, task_id)
        if worker:
            with read_session(self.db) as session:
                member = accounts.find_account(session, accounts.username_of(worker) or worker)
            if member is None or not member.active or not set(member.teams) & set(p.teams):
                raise Invalid("Kies een collega uit je teams.", {"worker": "Onbekende collega."})
            worker = member.actor
        try:
            result = self.service.reassign(task_id, actor=p.actor, worker=worker or None, role=role or None,
                                           carry_case=carry_case, reason=reason or None)
        except ConflictError as exc:
            raise self._conflict(case_id, task_id, exc) from None
        except ValidationError as exc:
            raise Invalid(str(exc)) from None
        self.audit(p, "change", f"reassigned task {task_id} to {worker or 'the queue of ' + (role or 'its role')}",
                   case_id, reason)
        return result

    # --- case commands ----------------------------------------------------------------------------
    def _case_command(self, p: Principal, case_id: str, what: str, why: str | None, run: Any) -> CommandResult:
        try:
            result: CommandResult = run()
        except ConflictError as exc:
            raise Conflict(str(exc)) from None
        except ValidationError as exc:
            raise Invalid(str(exc)) from None
        except NotFoundError as exc:
            raise Invalid(str(exc)) from None
        self.audit(p, "change", what, case_id, why)
        return result

    def close_case(self, p: Principal, case_id: str, reason_code: str, outcome: str | None,
                   note: str | None) -> CommandResult:
        self._case_access(p, case_id)
        state = self._load(case_id)
        if not self.may_close(p, state):
            raise Refused("Alleen een coördinator of een medewerker van de zaak sluit haar.")
        cp = self._lookup(state)
        if reason_code not in cp.close_reasons:
            raise Invalid("Kies een reden.", {"reason_code": "Kies een van de redenen."})
        if outcome and outcome not in cp.outcomes:
            raise Invalid("Kies een uitkomst.", {"outcome": "Kies een van de uitkomsten."})
        return self._case_command(
            p, case_id, f"closed the case ({reason_code}, outcome {outcome or cp.close_reasons[reason_code].outcome})",
            note, lambda: self.service.close_case(case_id, reason_code, actor=p.actor, outcome=outcome or None,
                                                  reason=note or None))

    def suspend(self, p: Principal, case_id: str, reason: str) -> CommandResult:
        self.require(p, AccountRole.COORDINATOR)
        self._case_access(p, case_id)
        if not reason.strip():
            raise Invalid("Geef een reden.", {"reason": "Waarom wordt de zaak gepauzeerd?"})
        return self._case_command(p, case_id, "suspended the case", reason,
                                  lambda: self.service.suspend(case_id, actor=p.actor, reason=reason))

    def resume(self, p: Principal, case_id: str, reason: str | None) -> CommandResult:
        self.require(p, AccountRole.COORDINATOR)
        self._case_access(p, case_id)
        return self._case_command(p, case_id, "resumed the case", reason,
                                  lambda: self.service.resume(case_id, actor=p.actor, reason=reason or None))

    def reopen(self, p: Principal, case_id: str, reason: str) -> CommandResult:
        self.require(p, AccountRole.COORDINATOR)
        self._case_access(p, case_id)
        if not reason.strip():
            raise Invalid("Geef een reden.", {"reason": "Waarom wordt de zaak heropend?"})
        return self._case_command(p, case_id, "reopened the case", reason,
                                  lambda: self.service.reopen(case_id, actor=p.actor, reason=reason))

    def add_track(self, p: Principal, case_id: str, track_id: str, reason: str | None) -> CommandResult:
        self._case_access(p, case_id)
        state = self._load(case_id)
        if not (p.role is AccountRole.COORDINATOR or self.carries_case(p, state)):
            raise Refused("Alleen een coördinator of een medewerker van de zaak voegt een probleemgebied toe.")
        return self._case_command(p, case_id, f"added track {track_id}", reason,
                                  lambda: self.service.add_track(case_id, track_id, actor=p.actor,
                                                                 reason=reason or None))

    def register_origin(self, p: Principal, case_id: str, origin: Mapping[str, str | None]) -> CommandResult:
        """Country of birth of client and parents (ISO 3166 codes), where the pathway registers origin."""
        state = self._origin_access(p, case_id)
        codes = {k: v.strip().upper() for k, v in origin.items() if v and v.strip()}
        if not codes:
            raise Invalid("Geef minstens één geboorteland.", {"client": "Een landcode zoals NL."})
        if not self._lookup(state).pathway.origin_registration:
            raise Invalid("Zorgpad {pathway} registreert geen herkomst.", values={"pathway": state.pathway_id})
        return self._case_command(p, case_id, "registered origin (country of birth)", None,
                                  lambda: self.service.register_origin(case_id, codes, actor=p.actor))

    def object_to_origin(self, p: Principal, case_id: str) -> CommandResult:
        """The client objects: nothing about origin is kept, and nothing can be added."""
        self._origin_access(p, case_id)
        return self._case_command(p, case_id, "recorded the client's objection to registering origin", None,
                                  lambda: self.service.object_to_origin(case_id, actor=p.actor))

    def _origin_access(self, p: Principal, case_id: str) -> CaseState:
        self.require(p, *CASE_ROLES)
        self._case_access(p, case_id)
        state = self._load(case_id)
        if p.role is not AccountRole.COORDINATOR and not self.carries_case(p, state):
            raise Refused("Alleen een coördinator of een medewerker van de zaak legt de herkomst vast.")
        return state

    def resolve_escalation(self, p: Principal, case_id: str, escalation_id: str, note: str | None) -> CommandResult:
        self.require(p, AccountRole.COORDINATOR)
        self._case_access(p, case_id)
        return self._case_command(p, case_id, f"resolved escalation {escalation_id}", note,
                                  lambda: self.service.resolve_escalation(case_id, escalation_id, actor=p.actor,
                                                                          reason=note or None))

    def start_case(self, p: Principal, *, pathway_id: str, trigger: str, data: Mapping[str, Any], team: str,
                   municipality: str, client_id: str | None, note: str | None,
                   funder: str | None = None) -> CommandResult:
        self.require(p, AccountRole.COORDINATOR)
        if team not in p.teams:
            raise Invalid("Kies een van je teams.", {"team": "Kies een van je teams."})
        if not _is_cbs_code(municipality):
            raise Invalid("Kies de opdrachtgevende gemeente.", {"municipality": "Een CBS-code zoals GM0344."})
        check_input(data, "zaakgegevens")
        try:
            result = self.service.start_case(pathway_id, trigger, data, actor=p.actor, client_id=client_id or None,
                                             team=team, municipality=municipality, reason=note or None,
                                             funder=funder or None)
        except ValidationError as exc:
            raise Invalid(str(exc)) from None
        except NotFoundError as exc:
            raise Invalid(str(exc)) from None
        self.audit(p, "change", f"registered the case on {pathway_id} ({trigger})", result.case_id, note)
        return result

    # --- team -------------------------------------------------------------------------------------
    def team_view(self, p: Principal, team: str | None = None) -> TeamView:
        self.require(p, AccountRole.COORDINATOR)
        if team and team not in p.teams:
            raise Hidden(team)
        teams = [team] if team else list(p.teams)
        now = self.now()
        with self._reading(p) as (session, record):
            team_rows = accounts.list_teams(session, teams)
            members = [a for a in accounts.list_accounts(session, teams=teams)
                       if a.role in CASE_ROLES and a.active]
            visibility = self.visibility(p, teams)
            load = {row.assignee: row for row in caselists.caseload(session, teams, now, visibility)}
            overdue = caselists.team_tasks(session, teams, overdue_at=now, limit=200, visibility=visibility)
            queue = [t for t in caselists.team_tasks(session, teams, limit=500, visibility=visibility)
                     if t.assignee is None][:200]
            escalations = caselists.open_escalations(session, teams, visibility=visibility)
            record("list", f"team view ({', '.join(teams)}): caseload, {len(overdue)} overdue tasks, "
                           f"{len(escalations)} open escalations")
        names = self.names([t.assignee for t in overdue] + list(load))
        return TeamView(team_rows, members, load, overdue, queue, escalations, names)

    # --- pathways ---------------------------------------------------------------------------------
    def published(self) -> list[tuple[str, int, datetime]]:
        """Every published (pathway, version, moment); read again after PUBLISHED_TTL or a publish here."""
        now = self.now()
        cached = self._published
        if cached is not None and cached[0] <= now < cached[0] + self.PUBLISHED_TTL:
            return cached[1]
        with read_session(self.db) as session:
            found = self.service.catalog.published(session)
        self._published = (now, found)
        return found

    def pathway(self, p: Principal, pathway_id: str, version: int | None = None) -> tuple[CompiledPathway, str]:
        """A published version (default the newest) and its source text."""
        self.require(p, *CASE_ROLES)
        from integrations.db.models import PathwayVersionRow

        with read_session(self.db) as session:
            try:
                version = version or self.service.catalog.latest_version(session, pathway_id)
            except NotFoundError:
                raise Hidden(pathway_id) from None
            row = session.get(PathwayVersionRow, (pathway_id, version))
            if row is None:
                raise Hidden(f"{pathway_id}@{version}")
            source = row.source
        return self.service.catalog.lookup(pathway_id, version), source

    def parse_pathway(self, text: str, source: str) -> Pathway:
        return self.service.catalog.parse(text, source)

    def check_may_publish(self, p: Principal, pathway_id: str) -> None:
        """Refused when `p` may not publish a version of `pathway_id` (another organisation owns it, or
        nobody does yet): checked before the difference is shown, and again when publishing."""
        from integrations.db import ownership

        self.require(p, AccountRole.COORDINATOR)
        with read_session(self.db) as session:
            owner = ownership.owner_of(session, pathway_id)
            unowned_but_published = owner is None and ownership.is_published(session, pathway_id)
        if unowned_but_published:
            raise Refused(f"zorgpad {pathway_id} heeft nog geen eigenaar; een beheerder legt de organisatie "
                          f"vast (carepath owner {pathway_id} ORGANISATIE); kopieer het zolang "
                          "onder een eigen id")
        if owner is not None and owner.organisation != p.organisation:
            raise Refused(f"zorgpad {pathway_id} is van {owner.organisation}; alleen coördinatoren van "
                          f"{owner.organisation} publiceren een nieuwe versie; kopieer het onder een eigen id")

    def publish(self, p: Principal, pathway: Pathway, text: str, source: str) -> Any:
        """Publish the next version of a pathway id owned by the coordinator's organisation (a new id
        becomes theirs). The version is carepath's next number, not the one in the text."""
        from sqlalchemy.exc import IntegrityError

        from integrations.db import ownership

        self.require(p, AccountRole.COORDINATOR)
        try:
            with write_session(self.db) as session:
                owner = ownership.owner_of(session, pathway.id, for_update=True)
                if owner is None and ownership.is_published(session, pathway.id):
                    raise Refused(f"zorgpad {pathway.id} heeft nog geen eigenaar; een beheerder legt de organisatie "
                                  f"vast (carepath owner {pathway.id} ORGANISATIE); kopieer het zolang "
                                  "onder een eigen id")
                if owner is not None and owner.organisation != p.organisation:
                    raise Refused(f"zorgpad {pathway.id} is van {owner.organisation}; alleen coördinatoren van "
                                  f"{owner.organisation} publiceren een nieuwe versie; kopieer het onder een eigen id")
                if owner is None:
                    ownership.set_owner(session, pathway.id, p.organisation, self.now(), p.actor)
                published, _stored = self.service.catalog.publish_next(session, pathway, text, source, self.now())
                self.record_in(session, p, "change", f"published pathway {published.pathway_id}@{published.version}"
                             + ("" if published.new else " (already there)"))
        except IntegrityError:
            raise Conflict(f"zorgpad {pathway.id} werd tegelijk door iemand anders gepubliceerd; "
                           "probeer het opnieuw") from None
        except ValidationError as exc:
            raise Invalid(str(exc)) from None
        self._published = None
        return published

    def plan_migrations(self, p: Principal, pathway_id: str, to_version: int,
                        limit: int = 2000, step_map: Mapping[str, str] | None = None) -> list[MigrationPlan]:
        """The dry run for the coordinator's teams' running cases on older versions."""
        self.require(p, AccountRole.COORDINATOR)
        with read_session(self.db) as session:
            running = caselists.running_cases(session, pathway_id, to_version, p.teams, limit)
        plans = []
        for case_id, version, team in running:
            if not self.sees_case(p, team, (pathway_id, version)):
                continue  # a case of a version that admits other teams only
            try:
                state = self.service.case(case_id)
                plans.append(self.service.engine.plan_migration(state, to_version, step_map))
            except NotFoundError:
                continue
        self.audit(p, "list", f"migration dry run of {len(plans)} cases to {pathway_id}@{to_version}")
        return plans

    def migrate(self, p: Principal, pathway_id: str, to_version: int, case_ids: Sequence[str],
                reason: str | None, step_map: Mapping[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
        """Migrate the chosen cases; (migrated, {case: why not})."""
        self.require(p, AccountRole.COORDINATOR)
        done: list[str] = []
        refused: dict[str, str] = {}
        for case_id in case_ids:
            try:
                self._case_access(p, case_id)
                self.service.execute(c.MigrateCase(case_id=case_id, actor=p.actor, to_version=to_version,
                                                   reason=reason or None, step_map=dict(step_map or {})))
            except Hidden:
                refused[case_id] = "not found"
                continue
            except (ConflictError, ValidationError, NotFoundError) as exc:
                refused[case_id] = str(exc)
                continue
            self.audit(p, "change", f"migrated the case to {pathway_id}@{to_version}", case_id, reason)
            done.append(case_id)
        return done, refused

    # --- reports ----------------------------------------------------------------------------------
    def report(self, p: Principal, pathway_id: str | None, period: Any) -> Any:
        """The protected report of the analyst's municipality or funder for a fixed, ended period;
        at most `settings.reports_per_hour` an hour (web/reports.py)."""
        self.require(p, AccountRole.ANALYST)
        from web import reports

        scope = reports.scope_of(p)
        reports.check_rate(self.db, p.actor, self.now(), self.settings.reports_per_hour)
        try:
            found = reports.build(self.db, scope, pathway_id, period, now=self.now())
        except ValidationError as exc:
            raise Invalid(str(exc), {"period": str(exc)}) from None
        self.audit(p, "report", f"outcome report {scope} {pathway_id or 'all pathways'} {period.code}")
        return found


def check_input(data: Any, what: str) -> None:
    """`Invalid` (with a Dutch message naming the field) for data beyond web.input_limits."""
    try:
        input_limits.check_data(data, what)
    except input_limits.DataRefused as exc:
        raise Invalid(str(exc), {exc.field or "data": str(exc)}) from None


def _end_of_day(now: datetime) -> datetime:
    from web.timefmt import AMSTERDAM

    local = now.astimezone(AMSTERDAM)
    return (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).astimezone(now.tzinfo)


def _is_cbs_code(code: str) -> bool:
    return len(code) == 6 and code.startswith("GM") and code[2:].isdigit()


def evaluation_step_id() -> str:
    return EVALUATION_STEP
