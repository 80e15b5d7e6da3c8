"""The checks `carepath case start` and `carepath task complete` make before acting.

- `case start` names the commissioning municipality (a CBS code such as
  GM0344) and, when it names a team, one that exists (the teams the
  administrator made in the web app).
- `task complete` names a worker who may do the task: an active worker or
  coordinator account, in a team that sees the case (the pathway's `access`
  rule included), holding the task's role in that pathway (`role_scope`), or the
  person the task is with. A partner's answer may be recorded by a coordinator.
Every refusal is a `ValidationError` naming what is wrong (exit 1).
"""

from __future__ import annotations

from engine.errors import NotFoundError, ValidationError
from engine.state import TaskStatus, TaskType
from integrations.cli.language import say
from integrations.db import accounts
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session
from integrations.pathway_access import PathwayAccess
from integrations.service import CaseService


def check_start(service: CaseService, team: str | None, municipality: str) -> None:
    if not accounts.is_cbs_code(municipality):
        raise ValidationError(say(f"--municipality {municipality!r} is geen CBS-gemeentecode zoals GM0344",
                                  f"--municipality {municipality!r} is not a CBS municipality code such as GM0344"))
    if team is None:
        return
    with read_session(service.db) as session:
        known = [t.id for t in accounts.list_teams(session)]
    if team not in known:
        teams = ", ".join(sorted(known))
        raise ValidationError(say(f"onbekend team {team!r}; teams: {teams or 'nog geen'} "
                                  "(een beheerder maakt teams aan in de webapp)",
                                  f"unknown team {team!r}; teams: {teams or 'none yet'} "
                                  "(an administrator makes teams in the web app)"))


def check_worker(service: CaseService, task_id: str, worker: str) -> None:
    case_id, dot, _number = task_id.rpartition(".")
    try:
        state = service.case(case_id) if dot else None
    except NotFoundError:
        state = None
    task = state.tasks.get(task_id) if state is not None else None
    if state is None or task is None:
        raise NotFoundError(say(f"geen taak {task_id}", f"no task {task_id}"))
    if task.status is not TaskStatus.OPEN:
        return  # the engine says who did it and when
    username = accounts.username_of(worker) or worker
    with read_session(service.db) as session:
        account = accounts.find_account(session, username)
    if account is None or not account.active:
        raise ValidationError(say(f"{worker} is geen actief account: noem met --worker (of $CAREPATH_WORKER) "
                                  "de gebruikersnaam van wie de taak doet",
                                  f"{worker} is not an active account: name with --worker (or $CAREPATH_WORKER) "
                                  "the username of who does the task"))
    cp = service.catalog.lookup(state.pathway_id, state.pathway_version)
    access = PathwayAccess([cp.pathway])
    if account.role not in (AccountRole.WORKER, AccountRole.COORDINATOR) or not access.sees(
            account.teams, state.team, state.pathway_id, state.pathway_version):
        raise ValidationError(say(f"{username} werkt niet in een team dat zaak {case_id} ziet",
                                  f"{username} does not work in a team that sees case {case_id}"))
    if task.assignee in (worker, account.actor):
        return
    if task.type is TaskType.PARTNER:
        if account.role is not AccountRole.COORDINATOR:
            raise ValidationError(say(f"taak {task_id} is het antwoord van partner {task.role}; "
                                      "alleen een coördinator legt dat vast",
                                      f"task {task_id} is the answer of partner {task.role}; "
                                      "only a coordinator records it"))
        return
    if not access.holds(account.pathway_roles, state.pathway_id, state.pathway_version, task.role):
        role = cp.roles.get(task.role)
        title = f"{role.title} ({task.role})" if role is not None else task.role
        raise ValidationError(say(f"{username} heeft niet de rol {title} van taak {task_id} in {cp.key}",
                                  f"{username} does not hold the role {title} of task {task_id} in {cp.key}"))
