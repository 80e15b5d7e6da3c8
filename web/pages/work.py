"""My work: my open tasks and my roles' queue, overdue first, with filters and one-click claiming."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from engine.definition import RoleScope
from integrations.db.caselists import WorkItem
from integrations.pathway_access import qualified
from web.i18n import translate
from web.portal import CASE_ROLES
from web.principal import Principal
from web.ui import is_htmx, language, page_principal, portal_of, render
from web.worklist_rows import WorkRow, work_rows

router = APIRouter(include_in_schema=False)


def pathway_titles(request: Request) -> dict[str, str]:
    """Newest title of every published pathway."""
    portal = portal_of(request)
    titles: dict[str, str] = {}
    for pathway_id, version, _at in portal.published():
        titles[pathway_id] = portal.service.catalog.lookup(pathway_id, version).pathway.title
    return titles


def role_titles(request: Request, *, per_pathway: bool = False) -> dict[str, str]:
    """Role id -> title, for choosing roles on an account; `per_pathway` also gives every role's own
    title under `pathway:role`, for showing a task's role (two pathways may title one id differently)."""
    portal = portal_of(request)
    titles: dict[str, str] = {}
    for pathway_id, version, _at in portal.published():
        pathway = portal.service.catalog.lookup(pathway_id, version).pathway
        for role in pathway.roles:
            if pathway.role_scope is RoleScope.PATHWAY and not role.shared:
                # The pathway's own role: held as `pathway:role`, titled per pathway.
                titles.setdefault(qualified(pathway_id, role.id), f"{role.title} ({pathway.title})")
            else:
                titles.setdefault(role.id, role.title)
            if per_pathway:
                titles[qualified(pathway_id, role.id)] = role.title
    return titles


@router.get("/work")
def work(request: Request, principal: Annotated[Principal, Depends(page_principal)],
         scope: Annotated[str, Query(pattern="^(all|mine|queue)$")] = "all",
         pathway: Annotated[str, Query(max_length=64)] = "", due: Annotated[str, Query(max_length=10)] = "",
         type: Annotated[str, Query(max_length=20)] = "",
         role: Annotated[str, Query(max_length=64)] = "") -> Response:
    portal = portal_of(request)
    portal.require(principal, *CASE_ROLES)
    mine, queue, unread, client_names = portal.work(principal, scope=scope, pathway=pathway, due=due,
                                                    task_type=type, role=role, client_names=True)
    now = portal.now()
    counts = {
        "overdue": sum(1 for t in mine if t.due_at < now),
        "queue_overdue": sum(1 for t in queue if t.due_at < now),
        "reminders": sum(t.reminders_sent for t in mine),
        "escalated": sum(1 for t in mine + queue if t.escalation_level > 0),
        "unread": unread,
    }
    pathways, roles = pathway_titles(request), role_titles(request, per_pathway=True)
    lang = language(request, principal)

    def rows(items: list[WorkItem]) -> list[WorkRow]:
        return work_rows(items, now=now, lang=lang, roles=roles, pathways=pathways, client_names=client_names)

    context = {
        "mine": mine, "queue": queue, "mine_rows": rows(mine), "queue_rows": rows(queue), "counts": counts,
        "pathways": pathways, "roles": roles, "limit": portal.settings.worklist_limit,
        "filters": {"scope": scope, "pathway": pathway, "due": due, "type": type, "role": role},
    }
    template = "_work_lists.html" if is_htmx(request) and request.headers.get("hx-target") == "work-lists" \
        else "work.html"
    return render(request, template, context, principal=principal, title=translate("Mijn werk", principal.language))
