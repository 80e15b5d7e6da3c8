"""Finding a client (Cliënt zoeken): by name, date of birth, postcode + house number or BSN, with a reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from integrations.db import accounts
from integrations.db.engine_factory import read_session
from web import clientsearch
from web.i18n import translate
from web.pages.work import pathway_titles
from web.portal import CASE_ROLES
from web.principal import Principal
from web.ui import form_principal, page_principal, portal_of, render

router = APIRouter(include_in_schema=False)
FIELDS = ("naam", "geboortedatum", "postcode", "huisnummer", "bsn", "reden", "gesloten")


@router.get("/clients")
def search_form(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal_of(request).require(principal, *CASE_ROLES)
    return _page(request, principal, {}, {}, None, False)


@router.post("/clients")
async def search(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    """Search the cases of the person's teams; the reason and the kinds of criteria go into the audit log."""
    portal = portal_of(request)
    portal.require(principal, *CASE_ROLES)
    form = await request.form()
    raw = {name: str(form.get(name) or "")[:200] for name in FIELDS}
    criteria, errors = clientsearch.parse_criteria(raw)
    reason = " ".join(raw["reden"].split())[:500]
    if not reason:
        errors["reden"] = "Geef een reden op: elke zoekvraag wordt vastgelegd."
    if errors:
        return _page(request, principal, raw, errors, None, False, status=422)
    include_closed = raw["gesloten"] == "ja"
    with portal._reading(principal) as (session, record):
        found, more = clientsearch.search(session, principal.teams, criteria, portal.service.catalog.lookup,
                                          include_closed=include_closed)
        record("search", f"client search on {criteria.described()}"
               + (", closed cases included" if include_closed else "") + f" ({len(found)} found)", None, reason)
    return _page(request, principal, raw, {}, found, more)


def _page(request: Request, principal: Principal, raw: dict[str, str], errors: dict[str, str],
          found: list[clientsearch.Found] | None, more: bool, status: int = 200) -> Response:
    portal = portal_of(request)
    with read_session(portal.db) as session:
        teams = {t.id: t.name for t in accounts.list_teams(session, list(principal.teams))}
    return render(request, "clients.html", {
        "raw": raw, "errors": errors, "found": found, "more": more, "teams": teams,
        "pathway_titles": pathway_titles(request),
    }, principal=principal, status_code=status, title=translate("Cliënt zoeken", principal.language))
