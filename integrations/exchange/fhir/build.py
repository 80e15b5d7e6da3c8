"""A case in FHIR R5 (`fhir.resources` 8, FHIR 5.0.0): CarePlan, Task and ServiceRequest + Task.

- the case is a **CarePlan**: `addresses` = its tracks (problem areas) or, without tracks, the
  signal that started it; `activity` = its tasks and referrals; `careTeam` = the team;
  `period` = opened..closed; `status` from the case status.
- each task is a **Task** (status from the task; an open task someone holds is in-progress).
- each referral is the closed-loop pattern: a **ServiceRequest** (what is asked of whom) and a
  **Task** whose status is the referral's FHIR Task status, `basedOn` the ServiceRequest.

No personal data leaves carepath this way: the client is a pseudonym identifier, never a name,
address or case field. Every resource is built and checked by `fhir.resources` (pydantic);
a resource that does not validate raises `ValidationError` naming the resource.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from fhir.resources.bundle import Bundle
from fhir.resources.careplan import CarePlan
from fhir.resources.resource import Resource
from fhir.resources.servicerequest import ServiceRequest
from fhir.resources.task import Task as FhirTask
from pydantic import ValidationError as PydanticError

from engine.compiled import CompiledPathway
from engine.errors import ValidationError
from engine.referrals import DUTCH_STATUS, Referral, ReferralStatus, referrals_of
from engine.state import CaseState, CaseStatus, Task, TaskStatus, TaskType

FHIR_VERSION = "5.0.0"  # R5
PSEUDONYM_SYSTEM = "urn:carepath:pseudonym"
CASE_SYSTEM = "urn:carepath:case"

_CAREPLAN_STATUS = {CaseStatus.OPEN: "active", CaseStatus.SUSPENDED: "on-hold", CaseStatus.CLOSED: "completed"}
_REQUEST_STATUS = {
    ReferralStatus.COMPLETED: "completed", ReferralStatus.REJECTED: "revoked", ReferralStatus.CANCELLED: "revoked",
    ReferralStatus.FAILED: "revoked",
}


R = TypeVar("R", bound=Resource)


def _checked(kind: type[R], data: dict[str, Any]) -> R:
    try:
        return kind.model_validate(data)
    except PydanticError as exc:
        raise ValidationError(f"FHIR {data.get('resourceType')}/{data.get('id')} does not validate: {exc}") from exc


def _subject(state: CaseState) -> dict[str, Any]:
    return {"identifier": {"system": PSEUDONYM_SYSTEM, "value": state.pseudonym}, "type": "Patient"}


def _role_title(cp: CompiledPathway, role: str) -> str:
    found = cp.roles.get(role)
    return found.title if found is not None and found.title else role


def _moment(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def careplan(state: CaseState, cp: CompiledPathway) -> CarePlan:
    tracks = [state.tracks[t] for t in state.track_order if t in state.tracks] or list(state.tracks.values())
    addresses = [{"concept": {"text": cp.tracks[t.id].title if t.id in cp.tracks else t.id}} for t in tracks]
    if not addresses:
        trigger = next((t for t in cp.pathway.triggers if t.type == state.trigger), None)
        addresses = [{"concept": {"text": trigger.label if trigger is not None and trigger.label else state.trigger}}]
    activity = [{"plannedActivityReference": {"reference": f"Task/{t.id}"}} for t in state.tasks.values()]
    activity += [{"plannedActivityReference": {"reference": f"ServiceRequest/{r.task_id}"}}
                 for r in referrals_of(state.referrals)]
    period = {"start": _moment(state.opened_at)}
    if state.closed_at is not None:
        period["end"] = _moment(state.closed_at)
    data: dict[str, Any] = {
        "resourceType": "CarePlan", "id": state.id,
        "identifier": [{"system": CASE_SYSTEM, "value": state.id}],
        "status": _CAREPLAN_STATUS[state.status], "intent": "plan", "title": cp.pathway.title,
        "subject": _subject(state), "period": period, "addresses": addresses,
    }
    if activity:
        data["activity"] = activity
    if state.team:
        data["careTeam"] = [{"display": f"team {state.team}"}]
    if state.outcome:
        outcome = cp.outcomes.get(state.outcome)
        data["note"] = [{"text": f"Uitkomst: {outcome.label if outcome is not None else state.outcome}"}]
    return _checked(CarePlan, data)


def _task_status(task: Task, referral: Referral | None) -> str:
    if referral is not None:
        return referral.status.value
    if task.status is TaskStatus.COMPLETED:
        return "completed"
    if task.status is TaskStatus.CANCELLED:
        return "cancelled"
    return "in-progress" if task.assignee else "ready"


def task_resource(state: CaseState, cp: CompiledPathway, task: Task) -> FhirTask:
    raw = state.referrals.get(task.id)
    referral = Referral.from_json(raw) if raw is not None else None
    data: dict[str, Any] = {
        "resourceType": "Task", "id": task.id, "status": _task_status(task, referral), "intent": "order",
        "description": task.title, "for": _subject(state), "focus": {"reference": f"CarePlan/{state.id}"},
        "authoredOn": _moment(task.created_at), "lastModified": _moment(task.completed_at or task.created_at),
        "restriction": {"period": {"end": _moment(task.due_at)}},
        "owner": {"display": _role_title(cp, task.role)},
        "code": {"text": "verwijzing" if task.type is TaskType.PARTNER else task.type.value},
    }
    if referral is not None:
        data["basedOn"] = [{"reference": f"ServiceRequest/{task.id}"}]
        data["businessStatus"] = {"text": DUTCH_STATUS[referral.status]}
        data["lastModified"] = _moment(referral.since)
        if referral.reason:
            data["statusReason"] = {"concept": {"text": referral.reason}}
        if referral.on_behalf:
            data["note"] = [{"text": "Antwoord telefonisch vastgelegd namens de partner"}]
    return _checked(FhirTask, data)


def service_request(state: CaseState, cp: CompiledPathway, referral: Referral) -> ServiceRequest:
    step = cp.steps.get(referral.step_id)
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest", "id": referral.task_id,
        "status": _REQUEST_STATUS.get(referral.status, "active"), "intent": "order",
        "code": {"concept": {"text": step.title if step is not None and step.title else referral.step_id}},
        "subject": _subject(state), "basedOn": [{"reference": f"CarePlan/{state.id}"}],
        "performer": [{"display": _role_title(cp, referral.partner)}],
    }
    task = state.tasks.get(referral.task_id)
    if task is not None:
        data["authoredOn"] = _moment(task.created_at)
        data["occurrencePeriod"] = {"end": _moment(task.due_at)}
    return _checked(ServiceRequest, data)


def resources(state: CaseState, cp: CompiledPathway) -> Iterator[Resource]:
    """The case's CarePlan, then its Tasks, then a ServiceRequest per referral."""
    yield careplan(state, cp)
    for task in state.tasks.values():
        yield task_resource(state, cp, task)
    for referral in referrals_of(state.referrals):
        yield service_request(state, cp, referral)


def bundle(state: CaseState, cp: CompiledPathway, base_url: str) -> Bundle:
    base = base_url.rstrip("/")
    entries = [{"fullUrl": f"{base}/fhir/{r.get_resource_type()}/{r.id}", "resource": r.model_dump(mode="json",
                                                                                                    exclude_none=True)}
               for r in resources(state, cp)]
    return _checked(Bundle, {"resourceType": "Bundle", "type": "collection", "entry": entries})


def find(state: CaseState, cp: CompiledPathway, kind: str, resource_id: str) -> Resource | None:
    """One resource of the case by type and id, or None."""
    if kind == "CarePlan" and resource_id == state.id:
        return careplan(state, cp)
    if kind == "Task" and resource_id in state.tasks:
        return task_resource(state, cp, state.tasks[resource_id])
    if kind == "ServiceRequest" and resource_id in state.referrals:
        return service_request(state, cp, Referral.from_json(state.referrals[resource_id]))
    return None


def as_json(resource: Resource) -> dict[str, Any]:
    data: dict[str, Any] = resource.model_dump(mode="json", exclude_none=True)
    return data
