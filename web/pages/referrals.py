"""Referrals in the web app: the partner's own list and answer screen, the single-use link
screen for a partner without an account, the worker recording a phone answer on the partner's
behalf, and recording the client's consent. All answers go through the referral desk
(integrations.partners.desk), so they end in the same `referral_updated` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from engine.errors import CarepathError, NotFoundError
from engine.referrals import DUTCH_STATUS, AnswerChannel, ReferralStatus
from integrations.db.accounts import AccountRole
from integrations.partners.desk import ReferralDesk, ReferralView
from web import forms
from web.i18n import translate
from web.portal import CASE_ROLES, Hidden
from web.principal import Principal
from web.ui import form_principal, page_principal, portal_of, redirect, render

router = APIRouter(include_in_schema=False)
REFERRAL_ROLES = (*CASE_ROLES, AccountRole.PARTNER)


def desk_of(request: Request) -> ReferralDesk:
    desk: ReferralDesk = request.app.state.referral_desk
    return desk


def install(app: FastAPI) -> None:
    """The partner pages on the app (referrals, calendar feed, incidents, partner meetings), the
    referral desk, and the helpers the case page uses for its referrals panel."""
    portal = app.state.portal
    desk = ReferralDesk(portal.service)
    app.state.referral_desk = desk
    env = app.state.templates.env
    env.globals["referral_cards"] = lambda state: desk.cards_of_case(state, portal.now())
    env.globals["held_referrals"] = desk.held_of_case
    env.globals["consent_candidates"] = desk.consent_candidates
    env.globals["REFERRAL_STATUS"] = {s.value: label for s, label in DUTCH_STATUS.items()}
    from web.pages import agenda, incidents, meetings

    for module in (router, agenda.router, incidents.router, meetings.router):
        app.include_router(module)


def _may_see(p: Principal, view: ReferralView) -> bool:
    card = view.card
    if p.role is AccountRole.PARTNER:
        return card.referral.partner in p.pathway_roles and card.team in p.teams
    return p.role in CASE_ROLES and card.team in p.teams


def _view_for(request: Request, p: Principal, task_id: str) -> ReferralView:
    portal = portal_of(request)
    try:
        view, _state = desk_of(request).view(task_id, portal.now())
    except NotFoundError:
        raise Hidden(task_id) from None
    if not _may_see(p, view):
        raise Hidden(task_id)  # the same answer as a referral that does not exist
    return view


def _context(view: ReferralView, lang: str, raw: Mapping[str, Any] | None = None,
             errors: Mapping[str, str] | None = None, general: list[str] | None = None) -> dict[str, Any]:
    return {
        "view": view, "card": view.card,
        "fields": forms.build_fields(view.answer_schema, raw or {}, errors or {}, lang, prefix="answer."),
        "statuses": [(s.value, DUTCH_STATUS[s]) for s in view.next_statuses],
        "chosen": (raw or {}).get("status", ""), "reason": (raw or {}).get("reason", ""),
        "errors": dict(errors or {}), "general": general or [],
    }


def _read(form: FormData, view: ReferralView, lang: str) -> tuple[dict[str, Any], str, str, dict[str, Any],
                                                                dict[str, str]]:
    raw = forms.raw_values(view.answer_schema, form, prefix="answer.")
    status = str(form.get("status") or "")
    reason = str(form.get("reason") or "").strip()
    raw_all: dict[str, Any] = {**raw, "status": status, "reason": reason}
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    if status not in {s.value for s in view.next_statuses}:
        errors["status"] = translate("Kies wat u antwoordt.", lang)
    elif status == ReferralStatus.REJECTED.value and not reason:
        errors["reason"] = translate("Geef de reden van de afwijzing.", lang)
    elif status == ReferralStatus.COMPLETED.value:
        parsed, field_errors = forms.parse(view.answer_schema, raw, lang, prefix="answer.")
        errors.update(field_errors)
        if not field_errors:
            data = parsed
            invalid, whole = forms.validate(view.answer_schema, data, lang)
            errors.update({f"answer.{name}": message for name, message in invalid.items()})
            if whole:
                errors["answer"] = "; ".join(whole)
    return raw_all, status, reason, data, errors


@router.get("/verwijzingen")
def referral_list(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, *REFERRAL_ROLES)
    desk = desk_of(request)
    if principal.role is AccountRole.PARTNER:
        cards = desk.for_partner(principal.pathway_roles, principal.teams, portal.now())
    elif principal.role is AccountRole.COORDINATOR:
        cards = desk.for_team(principal.teams, portal.now())
    else:
        cards = desk.for_worker(principal.actor, principal.teams, portal.now())
    portal.audit(principal, "list", f"verwijzingen ({len(cards)})")
    return render(request, "referrals.html", {"cards": cards, "partner": principal.role is AccountRole.PARTNER},
                  principal=principal, title=translate("Verwijzingen", principal.language))


@router.get("/verwijzingen/{task_id}")
def referral_page(request: Request, task_id: str, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, *REFERRAL_ROLES)
    view = _view_for(request, principal, task_id)
    if principal.role is AccountRole.PARTNER and desk_of(request).mark_received(
            view, AnswerChannel.ACCOUNT, actor=principal.actor):
        view = _view_for(request, principal, task_id)
    portal.audit(principal, "read", f"verwijzing {task_id}", case_id=view.card.case_id)
    return render(request, "referral.html", {**_context(view, principal.language), "on_behalf":
                                             principal.role is not AccountRole.PARTNER, "action":
                                             f"/verwijzingen/{task_id}"},
                  principal=principal, title=view.card.title)


@router.post("/verwijzingen/{task_id}")
async def referral_answer(request: Request, task_id: str,
                          principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, *REFERRAL_ROLES)
    view = _view_for(request, principal, task_id)
    lang = principal.language
    raw, status, reason, data, errors = _read(await request.form(), view, lang)
    on_behalf = principal.role is not AccountRole.PARTNER
    context = {"on_behalf": on_behalf, "action": f"/verwijzingen/{task_id}"}
    if errors:
        return render(request, "referral.html", {**_context(view, lang, raw, errors), **context},
                      principal=principal, title=view.card.title, status_code=422)
    channel = AnswerChannel.PHONE if on_behalf else AnswerChannel.ACCOUNT
    try:
        desk_of(request).answer(task_id, status, channel, actor=principal.actor, reason=reason, data=data)
    except CarepathError as exc:
        return render(request, "referral.html", {**_context(view, lang, raw, None, [str(exc)]), **context},
                      principal=principal, title=view.card.title, status_code=422)
    portal.audit(principal, "answer", f"verwijzing {task_id}: {status}", case_id=view.card.case_id)
    message = translate("Antwoord vastgelegd: {status}.", lang, status=DUTCH_STATUS[ReferralStatus(status)])
    target = f"/cases/{view.card.case_id}" if on_behalf else "/verwijzingen"
    return redirect(target, message)


@router.get("/verwijzing/{token}")
def link_page(request: Request, token: str) -> Response:
    portal = portal_of(request)
    desk = desk_of(request)
    target = desk.link_target(token, portal.now())  # NotFoundError -> the ordinary 404 page
    view, _state = desk.view(target.task_id, portal.now())
    if desk.mark_received(view, AnswerChannel.LINK, actor=f"partner-link:{target.partner}"):
        view, _state = desk.view(target.task_id, portal.now())
    portal.service.record_access(who=f"partner-link:{target.partner}", role="partner", organisation=target.partner,
                                 case_id=view.card.case_id, action="read", what=f"verwijzing {target.task_id} (link)")
    return render(request, "referral.html", {**_context(view, "nl"), "on_behalf": False,
                                             "action": f"/verwijzing/{token}", "by_link": True},
                  title=view.card.title)


@router.post("/verwijzing/{token}")
async def link_answer(request: Request, token: str) -> Response:
    portal = portal_of(request)
    desk = desk_of(request)
    target = desk.link_target(token, portal.now())
    view, _state = desk.view(target.task_id, portal.now())
    raw, status, reason, data, errors = _read(await request.form(), view, "nl")
    context = {"on_behalf": False, "action": f"/verwijzing/{token}", "by_link": True}
    if errors:
        return render(request, "referral.html", {**_context(view, "nl", raw, errors), **context},
                      title=view.card.title, status_code=422)
    try:
        desk.answer_by_link(token, status, reason=reason, data=data)
    except NotFoundError:
        raise
    except CarepathError as exc:
        return render(request, "referral.html", {**_context(view, "nl", raw, None, [str(exc)]), **context},
                      title=view.card.title, status_code=422)
    return render(request, "referral_done.html", {"card": view.card, "status": DUTCH_STATUS[ReferralStatus(status)],
                                                  "final": ReferralStatus(status) in (
                                                      ReferralStatus.COMPLETED, ReferralStatus.REJECTED)},
                  title=translate("Antwoord ontvangen", "nl"))


@router.post("/cases/{case_id}/toestemming")
async def record_consent(request: Request, case_id: str,
                         principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, *CASE_ROLES)
    state, _cp, _shown = portal.case_summary(principal, case_id)  # the team check: Hidden when not theirs
    form = await request.form()
    partner = str(form.get("partner") or "")
    if partner not in {p for p, _title in desk_of(request).consent_candidates(state)}:
        return redirect(f"/cases/{case_id}", translate("Voor deze partner wacht geen verwijzing op toestemming.",
                                                       principal.language), "error")
    desk_of(request).record_consent(case_id, partner, actor=principal.actor)
    portal.audit(principal, "consent", f"toestemming {partner}", case_id=case_id)
    return redirect(f"/cases/{case_id}", translate("Toestemming vastgelegd; de verwijzing is verstuurd.",
                                                   principal.language))
