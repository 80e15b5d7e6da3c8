"""The JSON API: the same operations as the pages, under /api/, described at /openapi.json.

Systems authenticate with `Authorization: Bearer <token>`; a browser session
works too, but then every state-changing call must send the session's CSRF
token in `X-CSRF-Token`. Errors are `{"error": {"code", "message", "fields"?}}`;
an object the caller may not see is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from engine.errors import ConflictError, PathwayError
from engine.mermaid import to_mermaid
from engine.state import CaseState, Task, TaskStatus
from integrations.db.accounts import AccountRole
from integrations.service import CommandResult
from web import forms, token_scope
from web.auth import CSRF_HEADER, SAFE_METHODS, AuthError, Principal, check_csrf, resolve
from web.portal import CASE_ROLES, Conflict, Hidden, Invalid, Portal, Refused
from web.ui import portal_of

ID = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
PATHWAY_ID = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
TEXT = Annotated[str, Field(max_length=1000)]


# --- models -----------------------------------------------------------------------------------------


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str = Field(description="not_found, unauthenticated, forbidden, csrf, invalid, conflict, refused, ...")
    message: str
    fields: dict[str, str] | None = Field(default=None, description="per input field, what is wrong")
    detail: dict[str, Any] | None = Field(default=None, description="an engine refusal's stable code and named "
                                          "arguments, ids included: {code, args} (engine/messages.py)")
    reference: str | None = Field(default=None, description="of a 500: quote it to the administrator (it is in the log)")


class ErrorBody(BaseModel):
    error: ErrorDetail


class Me(BaseModel):
    username: str
    actor: str
    display_name: str
    role: str
    organisation: str
    teams: list[str]
    pathway_roles: list[str]
    municipality: str | None


class TaskOut(BaseModel):
    id: str
    case_id: str
    pathway_id: str | None = None
    type: str
    step: str
    flow: str
    title: str
    role: str
    assignee: str | None
    status: str
    due_at: datetime
    created_at: datetime
    completed_at: datetime | None = None
    reminders_sent: int
    escalation_level: int
    overdue: bool


class TaskDetail(TaskOut):
    completed_by: str | None
    instructions: str
    question: str | None
    form_schema: dict[str, Any]
    data: dict[str, Any] | None
    may_complete: bool
    may_claim: bool


class TaskLists(BaseModel):
    mine: list[TaskOut]
    queue: list[TaskOut]


class CommandOut(BaseModel):
    case_id: str
    version: int
    events: list[str]
    opened_tasks: list[str]


class CompleteIn(Model):
    data: dict[str, Any] = Field(default_factory=dict, description="the form, as the step's JSON Schema describes it")


class ReassignIn(Model):
    worker: Annotated[str | None, Field(max_length=200)] = Field(default=None, description="user:<name>; none = queue")
    role: Annotated[str | None, Field(max_length=64)] = None
    reason: Annotated[str | None, Field(max_length=1000)] = None
    carry_case: bool = False


class CaseRowOut(BaseModel):
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


class CaseList(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[CaseRowOut]


class TrackOut(BaseModel):
    id: str
    status: str
    started_at: datetime | None
    closed_at: datetime | None
    result: str | None
    progress: list[dict[str, Any]]


class HandoverLinkOut(BaseModel):
    direction: Literal["from", "to"] = Field(description=(
        "from: this case was handed over from `case_id` (the case that started it); "
        "to: this case handed over to `case_id` (a case it started on another pathway)"))
    case_id: str
    pathway_id: str = Field(description="the pathway of the other case")
    step_id: str = Field(description="the hand-over step of the first case")
    waits: bool = Field(description="the first case waits at that step for the other case's outcome")
    href: str = Field(description="the other case in this API")


class CaseOut(BaseModel):
    id: str
    pathway_id: str
    pathway_version: int
    pathway_title: str
    status: str
    team: str | None
    municipality: str | None
    trigger: str
    opened_at: datetime
    closed_at: datetime | None
    outcome: str | None
    close_reason: str | None
    data: dict[str, Any]
    personal_fields: list[str]
    assignments: dict[str, str]
    tasks: list[TaskOut]
    tracks: list[TrackOut]
    open_escalations: list[dict[str, Any]]
    evaluations_held: int
    version: int
    personal_data_hidden: bool = Field(
        default=False, description="true for a closed case read without a reason: its personal fields are left out; "
                                   "POST /api/cases/{id}/reveal with a reason shows them (and logs the reason)")
    handovers: list[HandoverLinkOut] = Field(
        default_factory=list, description="hand-over links: the case this one was handed over from, and the cases "
                                          "it handed over to (engine/handover.py)")


class StartCaseIn(Model):
    pathway_id: Annotated[str, Field(min_length=1, max_length=64)]
    trigger: Annotated[str, Field(min_length=1, max_length=64)]
    data: dict[str, Any]
    team: Annotated[str, Field(min_length=1, max_length=100)]
    municipality: Annotated[str, Field(pattern=r"^GM[0-9]{4}$")]
    client_id: Annotated[str | None, Field(max_length=64)] = None
    note: Annotated[str | None, Field(max_length=1000)] = None
    funder: Annotated[str | None, Field(max_length=100, description=(
        "Who pays for this case when not the pathway's funder or the municipality: kind:code, e.g. "
        "health_insurer:3311 (kinds: municipality, health_insurer, school_board, housing_corporation)"))] = None


class CloseIn(Model):
    reason_code: Annotated[str, Field(min_length=1, max_length=64)]
    outcome: Annotated[str | None, Field(max_length=64)] = None
    note: Annotated[str | None, Field(max_length=1000)] = None


class ReasonIn(Model):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class OptionalReasonIn(Model):
    reason: Annotated[str | None, Field(max_length=1000)] = None


class TrackIn(Model):
    track_id: Annotated[str, Field(min_length=1, max_length=64)]
    reason: Annotated[str | None, Field(max_length=1000)] = None


class EventOut(BaseModel):
    seq: int
    type: str
    at: datetime
    actor: str
    reason: str | None
    data: dict[str, Any]


class AuditOut(BaseModel):
    at: datetime
    who: str
    role: str | None
    organisation: str | None
    action: str
    what: str
    why: str | None


class PathwayOut(BaseModel):
    id: str
    title: str
    latest_version: int
    versions: list[int]


class PathwayVersionOut(BaseModel):
    id: str
    version: int
    title: str
    description: str
    source: str
    mermaid: str


class PathwayTextIn(Model):
    source: Annotated[str, Field(min_length=1, max_length=1_000_000)]
    name: Annotated[str, Field(min_length=1, max_length=200)] = "pathway.yaml"


class ProblemOut(BaseModel):
    line: int
    column: int
    path: str
    code: str  # stable, whatever the language (docs/pathway-language.md, "Foutcodes")
    message: str
    hint: str


class CheckOut(BaseModel):
    valid: bool
    key: str | None
    problems: list[ProblemOut]


class PublishOut(BaseModel):
    pathway_id: str
    version: int
    new: bool


class PlanOut(BaseModel):
    case_id: str
    from_version: int
    to_version: int
    possible: bool
    changes: list[str]
    blockers: list[str]


class MigrateIn(Model):
    to_version: Annotated[int, Field(ge=1, le=1_000_000)]
    case_ids: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=5000)]
    reason: Annotated[str | None, Field(max_length=1000)] = None


class MigrateOut(BaseModel):
    migrated: list[str]
    refused: dict[str, str]


class CaseloadOut(BaseModel):
    assignee: str | None
    open_tasks: int
    overdue_tasks: int
    cases: int
    reminders: int
    escalated: int


class ReportCell(BaseModel):
    value: float | int | None
    suppressed: bool
    note: str | None = None


class ReportRow(BaseModel):
    key: str
    label: str
    kind: str
    cells: list[ReportCell]


class ReportSum(BaseModel):
    total: str
    parts: list[str]


class ReportTable(BaseModel):
    key: str
    title: str
    columns: list[str]
    units: list[str]
    notes: list[str]
    sums: list[ReportSum]
    rows: list[ReportRow]


class ReportOut(BaseModel):
    municipality: str
    pathway_id: str | None
    pathway_title: str | None
    start: date
    end: date
    min_cell: int
    as_of: datetime
    notes: list[str]
    tables: list[ReportTable]
    perturbed: bool = False  # counts carry cell-key perturbation (docs/reporting.md)


# --- plumbing ---------------------------------------------------------------------------------------


def api_principal(request: Request) -> Principal:
    """Bearer token or session; 401 without; CSRF checked for a session's state change."""
    principal = resolve(request, portal_of(request))
    if principal is None:
        raise AuthError("sign in or send 'Authorization: Bearer <token>'")
    if request.method not in SAFE_METHODS:
        check_csrf(principal, request.headers.get(CSRF_HEADER))
    if principal.via == "session" and (principal.account.must_change_password or principal.account.system):
        raise Refused("kies eerst een eigen wachtwoord" if principal.account.must_change_password else
                      "een systeemaccount gebruikt een eigen API-token, geen sessie")
    token_scope.check(principal, token_scope.operation_of(request))  # a limited token: only its operations
    return principal


Caller = Annotated[Principal, Depends(api_principal)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    words = {400: "Bad request", 401: "Not signed in, or the token is not valid",
             403: "Not for the caller's role, or CSRF token missing", 404: "Not found (or not for the caller)",
             409: "Someone else changed it first", 413: "Too large", 422: "The input cannot be used",
             429: "Too many reports this hour (CAREPATH_WEB_REPORTS_PER_HOUR)",
             503: "The database is not available"}
    return {code: {"model": ErrorBody, "description": words[code]} for code in codes}


COMMON = _errors(400, 401, 403, 404, 422, 503)
CHANGE = _errors(400, 401, 403, 404, 409, 422, 503)

def single_query_values(request: Request) -> None:
    """Every query parameter of the API takes one value: a repeated one is refused, not guessed."""
    seen: set[str] = set()
    for key, _value in request.query_params.multi_items():
        if key in seen:
            raise Invalid("De queryparameter «{key}» staat er meer dan één keer in.", {key: "Geef hem één keer."},
                          values={"key": key})
        seen.add(key)


router = APIRouter(prefix="/api", tags=["api"], responses=COMMON, dependencies=[Depends(single_query_values)])


def _task_out(task: Task, case_id: str, now: datetime, pathway_id: str | None = None) -> TaskOut:
    return TaskOut(id=task.id, case_id=case_id, pathway_id=pathway_id, type=task.type.value, step=task.step_id,
                   flow=task.flow, title=task.title, role=task.role, assignee=task.assignee,
                   status=task.status.value, due_at=task.due_at, created_at=task.created_at,
                   completed_at=task.completed_at, reminders_sent=task.reminders_sent,
                   escalation_level=task.escalation_level,
                   overdue=task.status is TaskStatus.OPEN and task.due_at < now)


def _command(result: CommandResult) -> CommandOut:
    return CommandOut(case_id=result.case_id, version=result.version, events=list(result.events),
                      opened_tasks=list(result.opened_tasks))


def _portal(request: Request) -> Portal:
    return portal_of(request)


# --- me ---------------------------------------------------------------------------------------------


@router.get("/me", response_model=Me, summary="The caller")
def me(principal: Caller) -> Me:
    return Me(username=principal.username, actor=principal.actor, display_name=principal.account.display_name,
              role=principal.role.value, organisation=principal.organisation, teams=list(principal.teams),
              pathway_roles=list(principal.pathway_roles), municipality=principal.municipality)


# --- tasks ------------------------------------------------------------------------------------------


@router.get("/tasks", response_model=TaskLists, summary="My open tasks and my roles' queue, soonest due first")
def tasks(request: Request, principal: Caller,
          scope: Annotated[str, Query(pattern="^(all|mine|queue)$")] = "all",
          pathway: Annotated[str | None, Query(max_length=64)] = None,
          due: Annotated[str | None, Query(pattern="^(overdue|today|week)$")] = None,
          type: Annotated[str | None, Query(pattern="^(human_task|evaluation|partner_request)$")] = None,
          role: Annotated[str | None, Query(max_length=64)] = None) -> TaskLists:
    portal = _portal(request)
    lists = portal.work(principal, scope=scope, pathway=pathway, due=due, task_type=type, role=role)
    mine, queue = lists.mine, lists.queue
    now = portal.now()

    def out(item: Any) -> TaskOut:
        return TaskOut(id=item.id, case_id=item.case_id, pathway_id=item.pathway_id, type=item.type, step=item.step,
                       flow=item.flow, title=item.title, role=item.role, assignee=item.assignee, status="open",
                       due_at=item.due_at, created_at=item.created_at, reminders_sent=item.reminders_sent,
                       escalation_level=item.escalation_level, overdue=item.due_at < now)

    return TaskLists(mine=[out(t) for t in mine], queue=[out(t) for t in queue])


@router.get("/tasks/{task_id}", response_model=TaskDetail, summary="One task with its form's JSON Schema")
def task(request: Request, task_id: ID, principal: Caller) -> TaskDetail:
    portal = _portal(request)
    bundle = portal.task_page(principal, task_id)
    base = _task_out(bundle.task, bundle.state.id, portal.now(), bundle.state.pathway_id)
    instructions = bundle.step.instructions if bundle.step else (
        bundle.cp.pathway.evaluation.instructions if bundle.cp.pathway.evaluation else "")
    return TaskDetail(**base.model_dump(), completed_by=bundle.task.completed_by, instructions=instructions,
                      question=bundle.question, form_schema=bundle.schema, data=bundle.task.data,
                      may_complete=bundle.may_complete, may_claim=bundle.may_claim)


@router.post("/tasks/{task_id}/claim", response_model=CommandOut, responses=CHANGE, summary="Take a task from the queue")
def claim(request: Request, task_id: ID, principal: Caller) -> CommandOut:
    return _command(_portal(request).claim(principal, task_id))


@router.post("/tasks/{task_id}/release", response_model=CommandOut, responses=CHANGE,
             summary="Hand a task back to its role's queue")
def release(request: Request, task_id: ID, principal: Caller) -> CommandOut:
    return _command(_portal(request).release(principal, task_id))


@router.post("/tasks/{task_id}/complete", response_model=CommandOut, responses=CHANGE,
             summary="Complete a task with its form data (claims it first from the queue)")
def complete(request: Request, task_id: ID, body: CompleteIn, principal: Caller) -> CommandOut:
    portal = _portal(request)
    bundle = portal.task_page(principal, task_id, audit=False)
    portal.check_completer(principal, bundle.state.id, bundle.task, bundle.state)  # before the form: strangers learn nothing
    if bundle.task.type.value != "evaluation":
        fields, general = forms.validate(bundle.schema, body.data, principal.language)
        if fields or general:
            raise Invalid("the form is not valid: " + "; ".join([*general, *(f"{k}: {v}" for k, v in fields.items())]),
                          fields)
    return _command(portal.complete(principal, task_id, body.data))


@router.post("/tasks/{task_id}/reassign", response_model=CommandOut, responses=CHANGE,
             summary="Move a task to a colleague or a role's queue (coordinators)")
def reassign(request: Request, task_id: ID, body: ReassignIn, principal: Caller) -> CommandOut:
    return _command(_portal(request).reassign(principal, task_id, worker=body.worker, role=body.role,
                                              reason=body.reason, carry_case=body.carry_case))


# --- cases ------------------------------------------------------------------------------------------


@router.get("/cases", response_model=CaseList, summary="The cases of the caller's teams, newest first")
def cases(request: Request, principal: Caller,
          status: Annotated[str | None, Query(pattern="^(open|suspended|closed)$")] = None,
          pathway: Annotated[str | None, Query(max_length=64)] = None,
          team: Annotated[str | None, Query(max_length=100)] = None,
          q: Annotated[str | None, Query(max_length=64, description="case id prefix")] = None,
          page: Annotated[int, Query(ge=1, le=100000)] = 1) -> CaseList:
    portal = _portal(request)
    rows, total = portal.cases(principal, status=status, pathway=pathway, team=team, query=q, page=page)
    return CaseList(total=total, page=page, page_size=portal.settings.page_size,
                    items=[CaseRowOut(**r.__dict__) for r in rows])


@router.post("/cases", response_model=CommandOut, status_code=201, responses=CHANGE,
             summary="Register a case or referral (coordinators)")
def start_case(request: Request, body: StartCaseIn, principal: Caller) -> CommandOut:
    return _command(_portal(request).start_case(
        principal, pathway_id=body.pathway_id, trigger=body.trigger, data=body.data, team=body.team,
        municipality=body.municipality, client_id=body.client_id, note=body.note, funder=body.funder))


def _case_out(state: CaseState, title: str, personal: tuple[str, ...], now: datetime) -> CaseOut:
    return CaseOut(
        id=state.id, pathway_id=state.pathway_id, pathway_version=state.pathway_version, pathway_title=title,
        status=state.status.value, team=state.team, municipality=state.municipality, trigger=state.trigger,
        opened_at=state.opened_at, closed_at=state.closed_at, outcome=state.outcome, close_reason=state.close_reason,
        data=dict(state.data), personal_fields=list(personal), assignments=dict(state.assignments),
        tasks=[_task_out(t, state.id, now, state.pathway_id) for t in sorted(state.tasks.values(),
                                                                             key=lambda t: t.created_at)],
        tracks=[TrackOut(id=t.id, status=t.status.value, started_at=t.started_at, closed_at=t.closed_at,
                         result=t.result, progress=list(t.progress)) for t in state.tracks.values()],
        open_escalations=list(state.open_escalations), evaluations_held=state.evaluations_held,
        version=state.version, handovers=[_handover_out(link) for link in state.links])


def _handover_out(link: dict[str, Any]) -> HandoverLinkOut:
    other = str(link["case_id"])
    return HandoverLinkOut(direction="from" if link.get("relation") == "parent" else "to", case_id=other,
                           pathway_id=str(link.get("pathway") or ""), step_id=str(link.get("step_id") or ""),
                           waits=bool(link.get("wait")), href=f"/api/cases/{other}")


@router.get("/cases/{case_id}", response_model=CaseOut,
            summary="One case (audited); a closed case without its personal data (see /reveal)")
def case(request: Request, case_id: ID, principal: Caller) -> CaseOut:
    portal = _portal(request)
    state, cp, shown = portal.case_summary(principal, case_id)
    out = _case_out(state, cp.pathway.title, cp.pathway.personal_data, portal.now())
    out.personal_data_hidden = not shown
    return out


@router.post("/cases/{case_id}/reveal", response_model=CaseOut, responses=CHANGE,
             summary="One case with its personal data, also when closed: the reason is required and logged")
def reveal(request: Request, case_id: ID, body: ReasonIn, principal: Caller) -> CaseOut:
    portal = _portal(request)
    if not body.reason.strip():
        raise Invalid("Geef een reden.", {"reason": "Waarom heb je de persoonsgegevens van deze zaak nodig?"})
    state, cp, shown = portal.case_summary(principal, case_id, why=body.reason.strip())
    out = _case_out(state, cp.pathway.title, cp.pathway.personal_data, portal.now())
    out.personal_data_hidden = not shown
    return out


@router.get("/cases/{case_id}/history", response_model=list[EventOut], summary="The case's events (audited)")
def history(request: Request, case_id: ID, principal: Caller) -> list[EventOut]:
    events = _portal(request).case_history(principal, case_id)
    return [EventOut(seq=e.seq, type=e.type, at=e.at, actor=e.actor, reason=e.reason, data=e.data) for e in events]


@router.get("/cases/{case_id}/audit", response_model=list[AuditOut], summary="Who read or changed the case (coordinators)")
def audit_log(request: Request, case_id: ID, principal: Caller) -> list[AuditOut]:
    entries = _portal(request).access_log(principal, case_id)
    return [AuditOut(at=e.at, who=e.who, role=e.role, organisation=e.organisation, action=e.action, what=e.what,
                     why=e.why) for e in entries]


@router.post("/cases/{case_id}/close", response_model=CommandOut, responses=CHANGE, summary="Close a case")
def close(request: Request, case_id: ID, body: CloseIn, principal: Caller) -> CommandOut:
    return _command(_portal(request).close_case(principal, case_id, body.reason_code, body.outcome, body.note))


@router.post("/cases/{case_id}/suspend", response_model=CommandOut, responses=CHANGE, summary="Pause a case")
def suspend(request: Request, case_id: ID, body: ReasonIn, principal: Caller) -> CommandOut:
    return _command(_portal(request).suspend(principal, case_id, body.reason))


@router.post("/cases/{case_id}/resume", response_model=CommandOut, responses=CHANGE, summary="Resume a paused case")
def resume(request: Request, case_id: ID, body: OptionalReasonIn, principal: Caller) -> CommandOut:
    return _command(_portal(request).resume(principal, case_id, body.reason))


@router.post("/cases/{case_id}/reopen", response_model=CommandOut, responses=CHANGE, summary="Reopen a closed case")
def reopen(request: Request, case_id: ID, body: ReasonIn, principal: Caller) -> CommandOut:
    return _command(_portal(request).reopen(principal, case_id, body.reason))


@router.post("/cases/{case_id}/tracks", response_model=CommandOut, responses=CHANGE,
             summary="Add a problem track to a case")
def add_track(request: Request, case_id: ID, body: TrackIn, principal: Caller) -> CommandOut:
    return _command(_portal(request).add_track(principal, case_id, body.track_id, body.reason))


class OriginIn(Model):
    """Country of birth as ISO 3166 alpha-2 codes, or the client's objection (then nothing else)."""

    client: Annotated[str | None, Field(pattern="^[A-Za-z]{2}$")] = None
    mother: Annotated[str | None, Field(pattern="^[A-Za-z]{2}$")] = None
    father: Annotated[str | None, Field(pattern="^[A-Za-z]{2}$")] = None
    objects: bool = False


@router.post("/cases/{case_id}/origin", response_model=CommandOut, responses=CHANGE,
             summary="Record country of birth of client and parents, or the client's objection")
def register_origin(request: Request, case_id: ID, body: OriginIn, principal: Caller) -> CommandOut:
    portal = _portal(request)
    if body.objects:
        return _command(portal.object_to_origin(principal, case_id))
    return _command(portal.register_origin(principal, case_id,
                                           {"client": body.client, "mother": body.mother, "father": body.father}))


@router.post("/cases/{case_id}/escalations/{escalation_id}/resolve", response_model=CommandOut, responses=CHANGE,
             summary="Answer an open escalation (coordinators)")
def resolve_escalation(request: Request, case_id: ID, escalation_id: ID, body: OptionalReasonIn,
                       principal: Caller) -> CommandOut:
    return _command(_portal(request).resolve_escalation(principal, case_id, escalation_id, body.reason))


# --- team -------------------------------------------------------------------------------------------


@router.get("/team/caseload", response_model=list[CaseloadOut], summary="Open work per worker (coordinators)")
def caseload(request: Request, principal: Caller,
             team: Annotated[str | None, Query(max_length=100)] = None) -> list[CaseloadOut]:
    view = _portal(request).team_view(principal, team)
    return [CaseloadOut(**load.__dict__) for load in view.load.values()]


# --- pathways ---------------------------------------------------------------------------------------


@router.get("/pathways", response_model=list[PathwayOut], summary="Published pathways")
def pathways(request: Request, principal: Caller) -> list[PathwayOut]:
    portal = _portal(request)
    portal.require(principal, *CASE_ROLES)
    found: dict[str, list[int]] = {}
    for pathway_id, version, _at in portal.published():
        found.setdefault(pathway_id, []).append(version)
    return [PathwayOut(id=pid, title=portal.service.catalog.lookup(pid, max(vs)).pathway.title,
                       latest_version=max(vs), versions=sorted(vs)) for pid, vs in sorted(found.items())]


@router.get("/pathways/{pathway_id}/versions/{version}", response_model=PathwayVersionOut,
            summary="One published version: source and Mermaid diagram")
def pathway_version(request: Request, pathway_id: PATHWAY_ID, version: Annotated[int, Path(ge=1, le=1_000_000)],
                    principal: Caller) -> PathwayVersionOut:
    cp, source = _portal(request).pathway(principal, pathway_id, version)
    p = cp.pathway
    return PathwayVersionOut(id=p.id, version=p.version, title=p.title, description=p.description, source=source,
                             mermaid=to_mermaid(p))


def _problems(exc: PathwayError) -> list[ProblemOut]:
    return [ProblemOut(line=p.line, column=p.column, path=p.path, code=p.code, message=p.message, hint=p.hint)
            for p in exc.problems]


@router.post("/pathways/check", response_model=CheckOut, responses=_errors(413), summary="Check a pathway file (nothing is stored)")
def check_pathway(request: Request, body: PathwayTextIn, principal: Caller) -> CheckOut:
    portal = _portal(request)
    portal.require(principal, AccountRole.COORDINATOR)
    try:
        pathway = _checked_pathway(request, body)
    except PathwayError as exc:
        return CheckOut(valid=False, key=None, problems=_problems(exc))
    return CheckOut(valid=True, key=pathway.key, problems=[])


def _checked_pathway(request: Request, body: PathwayTextIn) -> Any:
    """The pathway in `body`, checked in a worker process within the limits (web.pathway_work)."""
    from web.pathway_work import pathway_work_of

    return pathway_work_of(request).parse(body.source, body.name)


@router.post("/pathways", response_model=PublishOut, status_code=201, responses={**CHANGE, **_errors(413)},
             summary="Publish the next version of a pathway of the caller's organisation (coordinators); "
                     "carepath numbers the version; 403 for another organisation's pathway; 422 lists the problems")
def publish(request: Request, body: PathwayTextIn, principal: Caller) -> PublishOut:
    portal = _portal(request)
    portal.require(principal, AccountRole.COORDINATOR)
    try:
        pathway = _checked_pathway(request, body)
    except PathwayError as exc:
        raise Invalid(str(exc), {f"line {p.line}": p.message for p in exc.problems}) from None
    try:
        published = portal.publish(principal, pathway, body.source, body.name)
    except ConflictError as exc:
        raise Conflict(str(exc)) from None
    return PublishOut(pathway_id=published.pathway_id, version=published.version, new=published.new)


@router.get("/pathways/{pathway_id}/migrations", response_model=list[PlanOut],
            summary="Dry run: what moving the teams' running cases to a version would change")
def migration_plan(request: Request, pathway_id: PATHWAY_ID, principal: Caller,
                   to: Annotated[int, Query(ge=1, le=1_000_000)]) -> list[PlanOut]:
    portal = _portal(request)
    portal.require(principal, AccountRole.COORDINATOR)
    portal.pathway(principal, pathway_id, to)
    return [PlanOut(case_id=p.case_id, from_version=p.from_version, to_version=p.to_version, possible=p.possible,
                    changes=list(p.changes), blockers=list(p.blockers))
            for p in portal.plan_migrations(principal, pathway_id, to)]


@router.post("/pathways/{pathway_id}/migrations", response_model=MigrateOut, responses=CHANGE,
             summary="Move the chosen running cases to a version (coordinators)")
def migrate(request: Request, pathway_id: PATHWAY_ID, body: MigrateIn, principal: Caller) -> MigrateOut:
    portal = _portal(request)
    portal.require(principal, AccountRole.COORDINATOR)
    portal.pathway(principal, pathway_id, body.to_version)
    done, refused = portal.migrate(principal, pathway_id, body.to_version, body.case_ids, body.reason)
    return MigrateOut(migrated=done, refused=refused)


# --- reports ----------------------------------------------------------------------------------------


def _report_args(period: str | None, start: date | None, end: date | None, request: Request) -> Any:
    from web.pages.reports import chosen_period

    return chosen_period(request, period or "", start.isoformat() if start else "", end.isoformat() if end else "")


@router.get("/reports/outcomes", response_model=ReportOut, responses=_errors(429),
            summary="Outcome report of the analyst's municipality or funder (fixed ended periods, small cells "
                    "suppressed, counts perturbed; at most CAREPATH_WEB_REPORTS_PER_HOUR an hour)")
def report(request: Request, principal: Caller, pathway: Annotated[str | None, Query(max_length=64)] = None,
           period: Annotated[str | None, Query(max_length=10, description="2026-03, 2026-K1 or 2026")] = None,
           start: date | None = None, end: date | None = None) -> ReportOut:
    from web import reports

    chosen = _report_args(period, start, end, request)
    found = _portal(request).report(principal, pathway, chosen)
    return ReportOut.model_validate(reports.as_dict(found))


@router.get("/reports/outcomes.csv", summary="The same report as CSV for Excel (formula-safe)",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **_errors(429)})
def report_csv(request: Request, principal: Caller, pathway: Annotated[str | None, Query(max_length=64)] = None,
               period: Annotated[str | None, Query(max_length=10, description="2026-03, 2026-K1 or 2026")] = None,
               start: date | None = None, end: date | None = None) -> Response:
    from web import reports

    chosen = _report_args(period, start, end, request)
    found = _portal(request).report(principal, pathway, chosen)
    return Response(reports.to_csv(found).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="uitkomsten.csv"'})


# --- the processing log (Logboek Dataverwerkingen) ----------------------------------------------------


@router.get("/audit/export", summary="The processing log of a period, for a privacy officer (administrators)",
            responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}},
                                         "text/csv": {"schema": {"type": "string"}}}}})
def audit_export(request: Request, principal: Caller,
                 start: Annotated[date, Query(description="first day (Europe/Amsterdam)")],
                 end: Annotated[date, Query(description="last day (Europe/Amsterdam), at most 366 days on")],
                 format: Annotated[str, Query(pattern="^(jsonl|csv)$")] = "jsonl",
                 case_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")] = None) -> Response:
    from fastapi.responses import StreamingResponse

    from integrations.db import processing_log
    from integrations.db.engine_factory import read_session

    portal = _portal(request)
    portal.require(principal, AccountRole.ADMIN)
    first, after = _export_period(start, end)
    portal.audit(principal, "export", f"processing log {start.isoformat()}..{end.isoformat()}"
                 + (f" of case {case_id}" if case_id else "") + f" ({format})")

    def lines() -> Any:
        with read_session(portal.db) as session:
            items = processing_log.records(session, first, after, case_id=case_id)
            yield from (processing_log.as_csv(items) if format == "csv" else processing_log.as_jsonl(items))

    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    name = f"verwerkingenlogboek-{start.isoformat()}-{end.isoformat()}.{format}"
    return StreamingResponse(lines(), media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _export_period(start: date, end: date) -> tuple[datetime, datetime]:
    """[first moment, moment after the last day) in UTC, from Dutch calendar days; refused when odd."""
    from datetime import UTC, time, timedelta

    from web.timefmt import AMSTERDAM

    if not date(2000, 1, 1) <= start <= end <= date(2999, 12, 30) or (end - start).days > 366:
        raise Invalid("choose a period of at most 366 days with start <= end",
                      {"start": "a day from 2000 on", "end": "on or after start, within 366 days"})
    first = datetime.combine(start, time(0), AMSTERDAM).astimezone(UTC)
    after = datetime.combine(end + timedelta(days=1), time(0), AMSTERDAM).astimezone(UTC)
    return first, after


# --- the description --------------------------------------------------------------------------------


def install_openapi(app: FastAPI) -> None:
    """/openapi.json describes the API only (not the pages), with bearer authentication."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        # The pages are left out of the description (include_in_schema=False).
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
            "type": "http", "scheme": "bearer",
            "description": "an API token (cpt_...) made by its holder on 'Mijn account', possibly limited to named "
                           "operations or to a partner organisation's referrals"}
        schema["security"] = [{"bearer": []}]
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.get("responses", {})
                if "422" in responses:  # our own error body, not FastAPI's default
                    responses["422"] = {"description": "The input cannot be used",
                                        "content": {"application/json": {
                                            "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        components = schema.get("components", {}).get("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]


_ = Hidden  # re-exported for tests that import the API's error types
