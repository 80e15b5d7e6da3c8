"""The case journal (rapportage): writing and correcting entries, and the client's data export."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from web import casejournal
from web.i18n import translate
from web.portal import Invalid
from web.principal import Principal
from web.ui import form_principal, portal_of, redirect

router = APIRouter(include_in_schema=False)


def _text(form: object, name: str, limit: int) -> str:
    value = form.get(name) if hasattr(form, "get") else None
    return str(value or "")[:limit]


@router.post("/cases/{case_id}/journal")
async def write_entry(request: Request, case_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    form = await request.form()
    try:
        casejournal.write(portal_of(request), principal, case_id, kind=_text(form, "kind", 20),
                          text=_text(form, "text", 20_000), happened_at=_text(form, "happened_at", 40),
                          link=_text(form, "link", 200), corrects=_text(form, "corrects", 12))
    except Invalid as exc:
        return redirect(f"/cases/{case_id}#journal", str(exc), "error")
    return redirect(f"/cases/{case_id}#journal", translate("Journaalregel opgeslagen.", principal.language))


@router.post("/cases/{case_id}/journal/{entry_id}")
async def change_entry(request: Request, case_id: str, entry_id: int,
                       principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    form = await request.form()
    try:
        casejournal.change(portal_of(request), principal, case_id, entry_id, kind=_text(form, "kind", 20),
                           text=_text(form, "text", 20_000))
    except Invalid as exc:
        return redirect(f"/cases/{case_id}#journal", str(exc), "error")
    return redirect(f"/cases/{case_id}#journal", translate("Journaalregel gewijzigd.", principal.language))


@router.post("/cases/{case_id}/export")
async def export_client_data(request: Request, case_id: str,
                             principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    """The client's data as a JSON download (inzageverzoek); the reason goes into the audit log."""
    form = await request.form()
    try:
        found = casejournal.export(portal_of(request), principal, case_id, _text(form, "why", 500))
    except Invalid as exc:
        return redirect(f"/cases/{case_id}", str(exc), "error")
    body = json.dumps(found, ensure_ascii=False, indent=2)
    return Response(body, media_type="application/json", headers={
        "content-disposition": f'attachment; filename="clientgegevens-{case_id}.json"'})
