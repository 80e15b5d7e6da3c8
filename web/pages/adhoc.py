"""Ad hoc tasks on the case page: a worker adds work the pathway does not name, with a due moment
and reminders, to the case or one of its problem areas (engine/adhoc.py decides)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from engine import commands as c
from engine import messages
from engine.errors import ConflictError, ValidationError
from engine.state import CaseStatus
from web.i18n import translate
from web.portal import CASE_ROLES, Invalid
from web.principal import Principal
from web.timefmt import AMSTERDAM
from web.ui import form_principal, portal_of, redirect

router = APIRouter(include_in_schema=False)

# what the form offers -> the engine's duration before the due moment
REMINDERS: dict[str, str] = {"2 hours": "2 uur vooraf", "1 day": "1 dag vooraf", "3 days": "3 dagen vooraf",
                             "1 week": "1 week vooraf"}


def due_moment(day: str, clock: str) -> datetime:
    """The due moment from a date and a time (Amsterdam wall clock); 17:00 when no time is given."""
    try:
        on = datetime.strptime(day.strip(), "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar date
        at = time.fromisoformat(clock.strip()) if clock.strip() else time(17, 0)
    except ValueError:
        raise Invalid("Vul een datum in (en eventueel een tijd).", {"due_date": "Vul een datum in."}) from None
    return datetime.combine(on, at, tzinfo=AMSTERDAM)


_REASONS = {
    "adhoc.title_needed": "Geef de taak een naam.",
    "adhoc.due_passed": "Die datum is al voorbij; kies een moment in de toekomst.",
    "adhoc.no_track": "Dat probleemgebied loopt niet (meer); kies de zaak of een lopend probleemgebied.",
    "adhoc.unknown_role": "Kies een rol uit dit zorgpad.",
    "adhoc.title_long": "De naam van de taak is te lang (hoogstens 200 tekens).",
}


def _dutch(exc: ValidationError, lang: str) -> str:
    """The engine's reason in the words a worker reads, by its code (engine/messages.py)."""
    if lang == "en":
        return messages.text_of(exc, "en")
    return _REASONS.get(exc.code) or "De taak kon niet worden toegevoegd: " + str(exc)


@router.post("/cases/{case_id}/tasks")
async def add_task(request: Request, case_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, *CASE_ROLES)
    form = await request.form()
    lang = principal.language
    with portal._reading(principal, audited=False) as (session, _record):
        state = portal._visible_in(session, principal, case_id)
    if state.status is not CaseStatus.OPEN:
        return redirect(f"/cases/{case_id}", translate("Alleen een lopende zaak krijgt nieuwe taken.", lang), "error")
    cp = portal.service.catalog.lookup(state.pathway_id, state.pathway_version)
    role = str(form.get("role") or "")
    if role not in {r.id for r in cp.pathway.roles}:
        role = next((r for r in principal.pathway_roles if r in {x.id for x in cp.pathway.roles}), "")
    reminders = tuple(r for r in (str(v) for v in form.getlist("reminders")) if r in REMINDERS)
    try:
        due = due_moment(str(form.get("due_date") or ""), str(form.get("due_time") or ""))
        title = str(form.get("title") or "")[:300]
        flow = str(form.get("flow") or "main")
        portal.service.execute(c.AddTask(case_id=case_id, actor=principal.actor, title=title, role=role or "?",
                                         due_at=due, flow=flow, reminders=reminders))
    except Invalid as exc:
        return redirect(f"/cases/{case_id}#add-task", str(exc), "error")
    except ValidationError as exc:
        return redirect(f"/cases/{case_id}#add-task", _dutch(exc, lang), "error")
    except ConflictError:
        return redirect(f"/cases/{case_id}", translate("De zaak is intussen gewijzigd; probeer het opnieuw.", lang),
                        "error")
    portal.audit(principal, "change", f"added an ad hoc task ({len(reminders)} reminders)", case_id)
    return redirect(f"/cases/{case_id}", translate("Taak toegevoegd: {title}.", lang, title=" ".join(title.split())))
