"""The worker's iCalendar feed: a secret URL to subscribe to (made, shown once, revoked here),
and the feed itself, which carries case codes and step titles only (no client data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from integrations.db.engine_factory import read_session, write_session
from integrations.exchange.calendar.feeds import (
    FEED_PATH,
    create_feed,
    feed_owner,
    has_feed,
    revoke_feeds,
    worker_calendar,
)
from web.i18n import translate
from web.portal import CASE_ROLES
from web.principal import Principal
from web.ui import form_principal, page_principal, portal_of, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/agenda")
def agenda_page(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, *CASE_ROLES)
    with read_session(portal.db) as session:
        active = has_feed(session, principal.username)
    return render(request, "agenda.html", {"active": active, "url": None}, principal=principal,
                  title=translate("Agenda-koppeling", principal.language))


@router.post("/agenda")
async def agenda_create(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, *CASE_ROLES)
    with write_session(portal.db) as session:
        token = create_feed(session, principal.username, portal.now())
    url = str(request.base_url).rstrip("/") + FEED_PATH.format(token=token)
    portal.audit(principal, "calendar", "agenda-adres aangemaakt")
    return render(request, "agenda.html", {"active": True, "url": url}, principal=principal,
                  title=translate("Agenda-koppeling", principal.language))


@router.post("/agenda/intrekken")
async def agenda_revoke(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, *CASE_ROLES)
    with write_session(portal.db) as session:
        revoke_feeds(session, principal.username, portal.now())
    portal.audit(principal, "calendar", "agenda-adres ingetrokken")
    return redirect("/agenda", translate("Het agenda-adres werkt niet meer.", principal.language))


@router.get("/agenda/{token}.ics")
def agenda_feed(request: Request, token: str) -> Response:
    portal = portal_of(request)
    with read_session(portal.db) as session:
        username = feed_owner(session, token)  # NotFoundError -> 404
        body = worker_calendar(session, f"user:{username}", portal.now())
    return Response(body, media_type="text/calendar; charset=utf-8")
