"""Failed deliveries made visible: the incidents screen for coordinators (their teams) and
administrators (all): failed e-mails, webhooks and timers, with retry and dismiss."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from engine.errors import CarepathError
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session, write_session
from integrations.runtime import incidents
from web.i18n import translate
from web.portal import Hidden
from web.principal import Principal
from web.ui import form_principal, page_principal, portal_of, redirect, render

router = APIRouter(include_in_schema=False)
ROLES = (AccountRole.COORDINATOR, AccountRole.ADMIN)


def _visible(principal: Principal, incident: incidents.Incident) -> bool:
    return principal.role is AccountRole.ADMIN or (incident.team is not None and incident.team in principal.teams)


@router.get("/storingen")
def incident_list(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, *ROLES)
    with read_session(portal.db) as session:
        found = [i for i in incidents.list_incidents(session) if _visible(principal, i)]
    return render(request, "incidents.html", {"incidents": found}, principal=principal,
                  title=translate("Storingen", principal.language))


async def _act(request: Request, principal: Principal, incident_id: int, retry: bool) -> Response:
    portal = portal_of(request)
    portal.require(principal, *ROLES)
    form = await request.form()
    note = str(form.get("note") or "").strip() or "afgehandeld buiten carepath"
    with write_session(portal.db) as session:
        known = {i.id: i for i in incidents.list_incidents(session)}
        incident = known.get(incident_id)
        if incident is None or not _visible(principal, incident):
            raise Hidden(str(incident_id))
        try:
            if retry:
                incidents.retry(session, incident_id, by=principal.actor, now=portal.now())
            else:
                incidents.resolve(session, incident_id, by=principal.actor, note=note, now=portal.now())
        except CarepathError as exc:
            return redirect("/storingen", str(exc), "error")
    lang = principal.language
    return redirect("/storingen", translate("Opnieuw in de rij gezet." if retry else "Storing afgesloten.", lang))


@router.post("/storingen/{incident_id}/opnieuw")
async def incident_retry(request: Request, incident_id: int,
                         principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    return await _act(request, principal, incident_id, retry=True)


@router.post("/storingen/{incident_id}/afsluiten")
async def incident_dismiss(request: Request, incident_id: int,
                           principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    return await _act(request, principal, incident_id, retry=False)
