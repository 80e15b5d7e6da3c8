"""The in-app inbox: reminders, escalations and new tasks the runtime delivered to a person or role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from web import inboxview
from web.i18n import translate
from web.portal import CASE_ROLES
from web.principal import Principal
from web.ui import form_principal, page_principal, portal_of, redirect, render, safe_next

router = APIRouter(include_in_schema=False)


@router.get("/inbox")
def inbox_page(request: Request, principal: Annotated[Principal, Depends(page_principal)],
               unread: Annotated[bool, Query()] = False) -> Response:
    portal = portal_of(request)
    portal.require(principal, *CASE_ROLES)
    items, _unread_count = portal.inbox(principal, unread_only=unread)
    shown = inboxview.lines(portal, items, principal.language)
    news = sum(1 for line in shown if line.unread and line.task_open)
    return render(request, "inbox.html", {"items": items, "lines": shown, "unread": news, "only_unread": unread},
                  principal=principal, title=translate("Berichten", principal.language))


@router.post("/inbox/read-all")
async def read_all(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    done = portal_of(request).mark_read(principal, None)
    return redirect("/inbox", translate("{n} berichten gelezen.", principal.language, n=done))


@router.post("/inbox/{message_id}/read")
async def read_one(request: Request, message_id: str,
                   principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    form = await request.form()
    portal_of(request).mark_read(principal, message_id)
    return redirect(safe_next(str(form.get("next") or ""), "/inbox"))
