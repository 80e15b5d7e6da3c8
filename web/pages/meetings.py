"""The partner meeting (ketenoverleg): the coordinator sees the generated agenda of a team's cases,
holds the meeting (the agenda is fixed) and records decisions per case, which become events on
each case. The agenda holds case codes, steps, partners and statuses only: no client data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from engine.compiled import CompiledPathway
from engine.errors import CarepathError, NotFoundError
from engine.meetings import SECTION_TITLES, SECTIONS
from integrations.db.accounts import AccountRole
from integrations.partners import meetings
from web.i18n import translate
from web.portal import Hidden
from web.principal import Principal
from web.ui import form_principal, page_principal, portal_of, redirect, render

router = APIRouter(include_in_schema=False)


def _pathway(request: Request, pathway_id: str) -> CompiledPathway:
    for cp in meetings.meeting_pathways(portal_of(request).service):
        if cp.pathway.id == pathway_id:
            return cp
    raise Hidden(pathway_id)


@router.get("/overleg")
def meeting_index(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    plans = []
    for cp in meetings.meeting_pathways(portal.service):
        for team in principal.teams:
            generated = meetings.agenda(portal.service, cp, team, portal.now())
            if generated.items or generated.counts:
                plans.append((cp, team, generated))
    return render(request, "meetings.html", {
        "plans": plans, "sections": SECTIONS, "titles": SECTION_TITLES,
        "held": meetings.recent_meetings(portal.service, principal.teams)},
        principal=principal, title=translate("Ketenoverleg", principal.language))


@router.post("/overleg")
async def meeting_start(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    form = await request.form()
    team = str(form.get("team") or "")
    if team not in principal.teams:
        raise Hidden(team)
    try:
        cp = _pathway(request, str(form.get("pathway") or ""))
    except Hidden:
        return redirect("/overleg", translate("Dit zorgpad heeft geen ketenoverleg.", principal.language), "error")
    attendees = [str(a) for a in form.getlist("attendees")]
    try:
        meeting_id = meetings.start_meeting(portal.service, cp, team, chair=principal.actor, attendees=attendees,
                                            now=portal.now())
    except CarepathError as exc:
        return redirect("/overleg", str(exc), "error")
    portal.audit(principal, "meeting", f"ketenoverleg {meeting_id} gestart ({cp.pathway.id}, {team})")
    return redirect(f"/overleg/{meeting_id}", translate("Overleg gestart; de agenda staat vast.", principal.language))


def _meeting_for(request: Request, principal: Principal, meeting_id: int) -> meetings.Meeting:
    try:
        found = meetings.get_meeting(portal_of(request).service, meeting_id)
    except NotFoundError:
        raise Hidden(str(meeting_id)) from None
    if found.team not in principal.teams:
        raise Hidden(str(meeting_id))
    return found


@router.get("/overleg/{meeting_id}")
def meeting_page(request: Request, meeting_id: int, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    held = _meeting_for(request, principal, meeting_id)
    cp = _pathway(request, held.pathway_id)
    assert held.team is not None
    generated = meetings.agenda(portal.service, cp, held.team, held.held_on)
    decisions = {}
    for case_id in sorted(held.case_ids):
        decisions[case_id] = [e.data.get("decision", "") for e in portal.service.history(case_id)
                              if e.type == "meeting_decision_recorded" and e.data.get("meeting") == str(held.id)]
    return render(request, "meeting.html", {
        "meeting": held, "cp": cp, "agenda": generated, "sections": SECTIONS, "titles": SECTION_TITLES,
        "decisions": decisions,
        "attendee_titles": [cp.roles[a].title if a in cp.roles else a for a in held.attendees]},
        principal=principal, title=translate("Ketenoverleg", principal.language))


@router.post("/overleg/{meeting_id}/besluit")
async def meeting_decision(request: Request, meeting_id: int,
                           principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    held = _meeting_for(request, principal, meeting_id)
    form = await request.form()
    case_id = str(form.get("case_id") or "")
    try:
        meetings.record_decision(portal.service, held, case_id, str(form.get("decision") or ""),
                                 actor=principal.actor)
    except CarepathError as exc:
        return redirect(f"/overleg/{meeting_id}", str(exc), "error")
    portal.audit(principal, "meeting", f"besluit ketenoverleg {meeting_id}", case_id=case_id)
    return redirect(f"/overleg/{meeting_id}#case-{case_id}",
                    translate("Besluit vastgelegd bij zaak {case}.", principal.language, case=case_id))
