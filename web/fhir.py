"""FHIR R5 read access for authorised systems: `GET /fhir/{CarePlan|Task|ServiceRequest}/{id}`.

The same callers and rules as the JSON API (a bearer token or a session of a worker or
coordinator of the case's team); every read is audited like a case view. Answers are
`application/fhir+json`; a resource the caller may not see answers 404 with an
OperationOutcome, exactly like one that does not exist. No personal data is in these
resources (integrations.exchange.fhir.build).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from integrations.exchange.fhir.build import FHIR_VERSION, as_json, find
from web.auth import resolve
from web.i18n_errors import fhir_issue
from web.portal import Hidden, Refused
from web.ui import language, portal_of

router = APIRouter(prefix="/fhir", include_in_schema=False)
MEDIA_TYPE = f"application/fhir+json; fhirVersion={FHIR_VERSION[:3]}"
KINDS = ("CarePlan", "Task", "ServiceRequest")


def _outcome(status: int, code: str, issue: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    """An OperationOutcome: FHIR's issue type in `code`, carepath's error code in `details.coding`,
    the Dutch (or the person's English) text in `diagnostics` (web/i18n_errors.py)."""
    body: dict[str, Any] = {"resourceType": "OperationOutcome",
                            "issue": [{"severity": "error", "code": code, **issue}]}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


@router.get("/{kind}/{resource_id}")
def read(request: Request, kind: str, resource_id: str) -> JSONResponse:
    portal = portal_of(request)
    principal = resolve(request, portal)
    lang = language(request, principal)
    if principal is None:
        return _outcome(401, "login", fhir_issue("fhir.login", lang), {"WWW-Authenticate": "Bearer"})
    if kind not in KINDS:
        return _outcome(404, "not-supported", fhir_issue("fhir.not_supported", lang, kind=kind, kinds=", ".join(KINDS)))
    case_id = resource_id if kind == "CarePlan" else resource_id.rpartition(".")[0]
    try:
        state, cp, _shown = portal.case_summary(principal, case_id)
    except (Hidden, Refused):
        return _outcome(404, "not-found", fhir_issue("fhir.not_found", lang, kind=kind, id=resource_id))
    resource = find(state, cp, kind, resource_id)
    if resource is None:
        return _outcome(404, "not-found", fhir_issue("fhir.not_found", lang, kind=kind, id=resource_id))
    return JSONResponse(as_json(resource), media_type=MEDIA_TYPE)
