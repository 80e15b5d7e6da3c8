"""Inbox messages as a worker reads them: what happened in plain Dutch, which task, whose role.

The stored subject and body were written for e-mail (with links and role ids);
on the inbox page a message about a task says what happened to which task by
its name, for whom (a person, or a role by its title in that pathway), and
whether the task is still open: a message about finished work is no news.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from integrations.db.engine_factory import read_session
from integrations.db.models import TaskRow
from web.dutch import long_date
from web.i18n import translate
from web.timefmt import local


@dataclass(frozen=True)
class InboxLine:
    id: str
    case_id: str
    task_id: str | None
    text: str  # what happened, in plain Dutch
    detail: str  # the body without links
    to: str  # "jou" or the role's title
    delivered_at: datetime
    unread: bool
    task_open: bool  # False: the task is done or lapsed (no news any more)
    target: str  # where "Openen" leads


def lines(portal: Any, items: Sequence[Any], lang: str) -> list[InboxLine]:
    task_ids = sorted({i.task_id for i in items if i.task_id})
    tasks: dict[str, tuple[str, str, datetime]] = {}
    if task_ids:
        with read_session(portal.db) as session:
            for task_id, title, status, due in session.execute(
                    select(TaskRow.id, TaskRow.title, TaskRow.status, TaskRow.due_at).where(TaskRow.id.in_(task_ids))):
                tasks[task_id] = (title, status, due)
    role_titles: dict[tuple[str, str], str] = {}
    for pathway_id, version, _at in portal.published():
        for role in portal.service.catalog.lookup(pathway_id, version).pathway.roles:
            role_titles[(pathway_id, role.id)] = role.title  # the newest version's title wins
    found = []
    for item in items:
        task = tasks.get(item.task_id or "")
        title = task[0] if task else ""
        due_text = (long_date(task[2], lang) + " " + local(task[2]).strftime("%H:%M")) if task else ""
        role = role_titles.get((item.pathway_id, item.to_role or ""), item.to_role or "")
        to = translate("jou", lang) if item.to_worker else role
        if item.template == "task_opened" and task:
            text = translate("Nieuwe taak voor jou: {title}, uiterlijk {due}", lang, title=title, due=due_text) \
                if item.to_worker else translate("Nieuwe taak voor {role}: {title}, uiterlijk {due}", lang,
                                                 role=role, title=title, due=due_text)
        elif item.template == "task_reassigned" and task:
            text = translate("Taak aan jou overgedragen: {title}, uiterlijk {due}", lang, title=title, due=due_text) \
                if item.to_worker else translate("Taak overgedragen aan {role}: {title}", lang, role=role, title=title)
        else:
            text = item.subject
        detail = "\n".join(line for line in item.body.splitlines()
                           if not line.strip().lower().startswith(("http://", "https://"))).strip()
        if item.template in ("task_opened", "task_reassigned") and task:
            detail = ""  # the line says it all
        target = f"/tasks/{item.task_id}" if item.task_id else f"/cases/{item.case_id}"
        found.append(InboxLine(item.id, item.case_id, item.task_id, text, detail, to, item.delivered_at,
                               item.read_at is None, task is None or task[1] == "open", target))
    return found
