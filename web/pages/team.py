"""The coordinator's team view: caseload per worker, overdue tasks, open escalations, reassigning."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from integrations.db.accounts import AccountRole
from web.i18n import translate
from web.pages.work import pathway_titles, role_titles
from web.principal import Principal
from web.ui import page_principal, portal_of, render

router = APIRouter(include_in_schema=False)


@router.get("/team")
def team(request: Request, principal: Annotated[Principal, Depends(page_principal)],
         team: Annotated[str, Query(max_length=100)] = "") -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    view = portal.team_view(principal, team or None)
    rows: list[dict[str, Any]] = []
    for member in view.members:
        load = view.load.get(member.actor)
        rows.append({"account": member, "open": load.open_tasks if load else 0,
                     "overdue": load.overdue_tasks if load else 0, "cases": load.cases if load else 0,
                     "reminders": load.reminders if load else 0, "escalated": load.escalated if load else 0})
    rows.sort(key=lambda r: (-r["overdue"], -r["open"], r["account"].display_name))
    queue = view.load.get(None)
    others = [(actor, load) for actor, load in view.load.items()
              if actor is not None and actor not in {m.actor for m in view.members}]
    return render(request, "team.html", {
        "view": view, "rows": rows, "queue_load": queue, "others": others, "team": team,
        "pathways": pathway_titles(request), "roles": role_titles(request, per_pathway=True),
        "members": [m for m in view.members],
    }, principal=principal, title=translate("Team", principal.language))
