"""Cases: the list of a worker's teams' cases, one case as a timeline, registering and closing cases."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from engine.errors import NotFoundError
from engine.state import CaseStatus
from integrations.db import accounts, journal
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session
from web import casejournal, caseview, clientsearch, forms, timeline, trackview
from web.i18n import translate
from web.pages.work import pathway_titles
from web.portal import CASE_ROLES, Conflict, Invalid, Portal
from web.principal import Principal
from web.ui import form_principal, page_principal, portal_of, redirect, render

router = APIRouter(include_in_schema=False)


def _team_names(portal: Portal, ids: list[str] | tuple[str, ...]) -> dict[str, str]:
    with read_session(portal.db) as session:
        return {t.id: t.name for t in accounts.list_teams(session, list(ids))}


@router.get("/cases")
def case_list(request: Request, principal: Annotated[Principal, Depends(page_principal)],
              status: Annotated[str, Query(pattern="^(|open|suspended|closed)$")] = "",
              pathway: Annotated[str, Query(max_length=64)] = "", team: Annotated[str, Query(max_length=100)] = "",
              q: Annotated[str, Query(max_length=64)] = "", page: Annotated[int, Query(ge=1, le=100000)] = 1) -> Response:
    portal = portal_of(request)
    portal.require(principal, *CASE_ROLES)
    rows, total = portal.cases(principal, status=status, pathway=pathway, team=team, query=q, page=page)
    pages = max(1, math.ceil(total / portal.settings.page_size))
    with read_session(portal.db) as session:
        client_names = clientsearch.names_for(
            session, [(r.id, r.pathway_id, r.pathway_version, r.status) for r in rows], portal.service.catalog.lookup)
    return render(request, "cases.html", {
        "client_names": client_names, "rows": rows, "total": total, "page": page, "pages": pages, "pathways": pathway_titles(request),
        "teams": _team_names(portal, principal.teams),
        "filters": {"status": status, "pathway": pathway, "team": team, "q": q},
    }, principal=principal, title=translate("Zaken", principal.language))


def _case_response(request: Request, principal: Principal, case_id: str, why: str | None = None,
                   status_code: int = 200, errors: dict[str, str] | None = None,
                   journal_query: str = "", journal_kind: str = "", timeline_filter: str = "") -> Response:
    portal = portal_of(request)
    bundle = portal.case_page(principal, case_id, why=why)
    view = caseview.build(bundle.state, bundle.history, bundle.cp, bundle.names, portal.now(), principal.language,
                          personal_shown=bundle.personal_shown)
    track_titles = {t.id: t.title for t in bundle.cp.pathway.tracks}
    journal_panel = casejournal.panel(portal, principal, bundle.state, track_titles, query=journal_query,
                                      kind=journal_kind, shown=bundle.personal_shown)
    journal_items = casejournal.timeline_items(portal, bundle.state, principal.language, track_titles,
                                               shown=bundle.personal_shown)
    view.past = sorted(view.past + journal_items, key=lambda item: item.at)
    chosen = timeline_filter if timeline_filter in timeline.FILTERS else ""
    state = bundle.state
    may = {
        "close": portal.may_close(principal, state),
        "coordinate": principal.role is AccountRole.COORDINATOR,
        "add_track": state.status is CaseStatus.OPEN and bool(view.addable_tracks) and (
            principal.role is AccountRole.COORDINATOR or portal.carries_case(principal, state)),
        "origin": bundle.cp.pathway.origin_registration and not state.origin_objection and state.status
        is not CaseStatus.CLOSED and (principal.role is AccountRole.COORDINATOR or portal.carries_case(principal, state)),
    }
    task_rights = {t.id: {"complete": portal.may_complete(principal, t, state) and state.status is CaseStatus.OPEN,
                          "claim": portal.may_take(principal, t, state) and state.status is CaseStatus.OPEN}
                   for t in view.open_tasks}
    return render(request, "case.html", {
        "state": state, "pathway": bundle.cp.pathway, "view": view, "may": may, "task_rights": task_rights,
        "names": bundle.names, "personal_shown": bundle.personal_shown, "errors": errors or {},
        "team_name": _team_names(portal, [state.team] if state.team else []).get(state.team or "", state.team),
        "municipality_name": portal.settings.municipalities.get(state.municipality or "", state.municipality),
        "signals": _signals(portal, case_id),  # early signals (DDAS) that opened or were linked to the case
        "journal": journal_panel, "journal_kinds": journal.KINDS,
        "timeline_days": timeline.by_day(view.past, principal.language, chosen), "timeline_filter": chosen,
        "timeline_filters": timeline.FILTERS, "timeline_counts": timeline.counts(view.past),
        "timeline_total": len(view.past),
        "track_rows": trackview.rows(view.tracks, state, bundle.cp, bundle.names, portal.now()),
        "adhoc": _adhoc_form(bundle, principal, portal.now()), "client": _client_line(bundle, principal.language),
    }, principal=principal, status_code=status_code, title=translate("Zaak {id}", principal.language, id=case_id))


def _adhoc_form(bundle: Any, principal: Principal, now: Any) -> dict[str, Any] | None:
    """What the "Taak toevoegen" form offers (None: the case takes no new tasks)."""
    from datetime import timedelta

    from engine.state import TrackStatus
    from web.pages.adhoc import REMINDERS
    from web.timefmt import local

    state = bundle.state
    if state.status is not CaseStatus.OPEN or principal.role not in CASE_ROLES:
        return None
    roles = [(r.id, r.title) for r in bundle.cp.pathway.roles if r.kind.value in ("worker", "coordinator")]
    mine = next((r for r, _t in roles if r in principal.pathway_roles), roles[0][0] if roles else "")
    flows = [(t.id, bundle.cp.tracks[t.id].title if t.id in bundle.cp.tracks else t.id)
             for t in state.tracks.values() if t.status is TrackStatus.ACTIVE]
    return {"roles": roles, "mine": mine, "flows": flows, "reminders": REMINDERS,
            "default_date": (local(now) + timedelta(days=2)).date().isoformat()}


def _client_line(bundle: Any, lang: str) -> tuple[str, str] | None:
    """(name, key facts) of the case's client for the header; None when personal data is hidden."""
    if not bundle.personal_shown:
        return None
    fields = clientsearch.client_fields(bundle.cp.pathway)
    name = clientsearch.name_of(bundle.state.data, fields)
    facts = clientsearch.facts_of(bundle.state.data, fields, lang)
    return (name, facts) if name or facts else None


def _signals(portal: Any, case_id: str) -> list[Any]:
    from integrations.db.engine_factory import read_session
    from integrations.exchange.ddas.results import signals_of_case

    with read_session(portal.db) as session:
        return signals_of_case(session, case_id)


@router.get("/cases/new")
def new_case(request: Request, principal: Annotated[Principal, Depends(page_principal)],
             pathway: Annotated[str, Query(max_length=64)] = "") -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    return _new_case_page(request, principal, pathway, {}, {}, [])


def _new_case_page(request: Request, principal: Principal, pathway_id: str, raw: dict[str, Any],
                   errors: dict[str, str], general: list[str], status: int = 200) -> Response:
    portal = portal_of(request)
    lang = principal.language
    chosen = None
    fields: list[forms.Field] = []
    if pathway_id:
        try:
            cp, _source = portal.pathway(principal, pathway_id)
        except Exception:
            cp = None
        if cp is not None:
            chosen = cp.pathway
            fields = forms.build_fields(chosen.case_data, raw, errors, lang)
    return render(request, "case_new.html", {
        "pathways": pathway_titles(request), "chosen": chosen, "fields": fields, "errors": errors,
        "general": general, "raw": raw, "teams": _team_names(portal, principal.teams),
        "municipalities": portal.settings.municipalities,
    }, principal=principal, status_code=status, title=translate("Nieuwe zaak", lang))


@router.post("/cases/new")
async def register_case(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    lang = principal.language
    form = await request.form()
    pathway_id = str(form.get("pathway") or "")
    try:
        cp, _source = portal.pathway(principal, pathway_id)
    except Exception:
        return _new_case_page(request, principal, "", {}, {"pathway": translate("Kies een zorgpad.", lang)}, [], 422)
    schema = cp.pathway.case_data
    raw = forms.raw_values(schema, form)
    for key in ("trigger", "team", "municipality", "client_id", "note", "funder"):
        raw[f"_{key}"] = str(form.get(key) or "").strip()
    data, errors = forms.parse(schema, raw, lang)
    field_errors, general = forms.validate(schema, data, lang, cp.validators.get("case_data"))
    for key, message in field_errors.items():
        errors.setdefault(key, message)
    if raw["_trigger"] not in {t.type for t in cp.pathway.triggers}:
        errors["_trigger"] = translate("Kies het soort signaal.", lang)
    if raw["_team"] not in principal.teams:
        errors["_team"] = translate("Kies een van je teams.", lang)
    if not accounts.is_cbs_code(raw["_municipality"]):
        errors["_municipality"] = translate("Kies de gemeente die de zaak betaalt.", lang)
    if errors or general:
        return _new_case_page(request, principal, pathway_id, raw, errors, general, 422)
    try:
        result = portal.start_case(principal, pathway_id=pathway_id, trigger=raw["_trigger"], data=data,
                                   team=raw["_team"], municipality=raw["_municipality"],
                                   client_id=raw["_client_id"] or None, note=raw["_note"] or None,
                                   funder=raw["_funder"] or None)
    except Invalid as exc:
        return _new_case_page(request, principal, pathway_id, raw, exc.fields, [str(exc)], 422)
    return redirect(f"/cases/{result.case_id}", translate("Zaak {id} is geregistreerd.", lang, id=result.case_id))


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, principal: Annotated[Principal, Depends(page_principal)],
              zoek: Annotated[str, Query(max_length=200)] = "",
              soort: Annotated[str, Query(pattern="^(|contact|telefoongesprek|huisbezoek|overleg|notitie)$")] = "",
              tijdlijn: Annotated[str, Query(pattern="^(|taken|journaal|berichten|besluiten)$")] = "",
              ) -> Response:
    """The case; `zoek` and `soort` narrow its journal down (words in the text, kind of entry),
    `tijdlijn` its timeline (tasks, journal, messages, decisions)."""
    return _case_response(request, principal, case_id, journal_query=zoek, journal_kind=soort,
                          timeline_filter=tijdlijn)


@router.post("/cases/{case_id}/reveal")
async def reveal(request: Request, case_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    """Personal data of a closed case: shown with a reason, which goes into the audit log."""
    form = await request.form()
    why = str(form.get("why") or "").strip()[:500]
    if not why:
        return _case_response(request, principal, case_id, None, 422,
                              {"why": translate("Geef een reden op.", principal.language)})
    return _case_response(request, principal, case_id, why)


@router.get("/cases/{case_id}/audit")
def access_log(request: Request, case_id: str, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = portal_of(request)
    entries = portal.access_log(principal, case_id)
    names = portal.names(e.who for e in entries)
    return render(request, "case_audit.html", {"case_id": case_id, "entries": entries, "names": names},
                  principal=principal, title=translate("Toegangslog zaak {id}", principal.language, id=case_id))


async def _form_text(request: Request, name: str, limit: int = 1000) -> str:
    form = await request.form()
    return str(form.get(name) or "").strip()[:limit]


@router.post("/cases/{case_id}/close")
async def close_case(request: Request, case_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    form = await request.form()
    try:
        portal.close_case(principal, case_id, str(form.get("reason_code") or ""), str(form.get("outcome") or "") or None,
                          str(form.get("note") or "").strip()[:1000] or None)
    except (Invalid, Conflict) as exc:
        return redirect(f"/cases/{case_id}", str(exc), "error")
    return redirect(f"/cases/{case_id}", translate("De zaak is gesloten.", principal.language))


@router.post("/cases/{case_id}/suspend")
async def suspend(request: Request, case_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    try:
        portal.suspend(principal, case_id, await _form_text(request, "reason"))
    except (Invalid, Conflict) as exc:
        return redirect(f"/cases/{case_id}", str(exc), "error")
    return redirect(f"/cases/{case_id}", translate("De zaak is gepauzeerd; termijnen staan stil.", principal.language))


@router.post("/cases/{case_id}/origin")
async def register_origin(request: Request, case_id: str,
                          principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    form = await request.form()
    try:
        if form.get("objects"):
            portal.object_to_origin(principal, case_id)
            message = "Het bezwaar is vastgelegd; er wordt geen herkomst bewaard."
        else:
            portal.register_origin(principal, case_id, {key: str(form.get(key) or "")[:2]
                                                        for key in ("client", "mother", "father")})
            message = "Het geboorteland is vastgelegd."
    except (Invalid, Conflict) as exc:
        return redirect(f"/cases/{case_id}", str(exc), "error")
    return redirect(f"/cases/{case_id}", translate(message, principal.language))


@router.post("/cases/{case_id}/resume")
async def resume(request: Request, case_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    try:
        portal.resume(principal, case_id, await _form_text(request, "reason") or None)
    except (Invalid, Conflict) as exc:
        return redirect(f"/cases/{case_id}", str(exc), "error")
    return redirect(f"/cases/{case_id}", translate("De zaak loopt weer; termijnen zijn verschoven.", principal.language))


@router.post("/cases/{case_id}/reopen")
async def reopen(request: Request, case_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    try:
        portal.reopen(principal, case_id, await _form_text(request, "reason"))
    except (Invalid, Conflict) as exc:
        return redirect(f"/cases/{case_id}", str(exc), "error")
    return redirect(f"/cases/{case_id}", translate("De zaak is heropend.", principal.language))


@router.post("/cases/{case_id}/tracks")
async def add_track(request: Request, case_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    form = await request.form()
    try:
        portal.add_track(principal, case_id, str(form.get("track") or ""), str(form.get("reason") or "").strip() or None)
    except (Invalid, Conflict) as exc:
        return redirect(f"/cases/{case_id}", str(exc), "error")
    return redirect(f"/cases/{case_id}", translate("Probleemgebied toegevoegd.", principal.language))


@router.post("/cases/{case_id}/escalations/{escalation_id}/resolve")
async def resolve_escalation(request: Request, case_id: str, escalation_id: str,
                             principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    try:
        portal.resolve_escalation(principal, case_id, escalation_id, await _form_text(request, "note") or None)
    except (Invalid, Conflict, NotFoundError) as exc:
        return redirect(f"/cases/{case_id}", str(exc), "error")
    return redirect(f"/cases/{case_id}", translate("Escalatie afgehandeld.", principal.language))
