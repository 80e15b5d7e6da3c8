"""Every route that reads or changes case data writes exactly the audit entry it should.

Each case below calls one route as someone allowed to use it and compares the
audit log before and after: exactly one new entry (per case touched), naming
the person, their role and organisation, the case, what was read or changed,
and the reason when one was given. Refused requests write nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from engine.clock import ManualClock
from integrations.db import caselists
from integrations.db.engine_factory import read_session
from integrations.db.models import AuditLogRow
from integrations.service import CaseService
from tests.fixtures.visits_pathway import visits_source
from web.app import create_app
from web.testing import (
    MUNICIPALITY,
    TEAM_A,
    WebClient,
    api_token,
    cheap_password_hashing,
    standard_accounts,
)

RAISE_PATHWAY = "test-visits-raise"


def raise_source() -> str:
    """The visits pathway with a last escalation rung that raises an escalation to the manager."""
    text = visits_source().replace("id: test-visits\n", f"id: {RAISE_PATHWAY}\n", 1)
    return text.replace("      - {after: 8 hours, action: reassign, to: coordinator}\n",
                        "      - {after: 8 hours, action: reassign, to: coordinator}\n"
                        "      - {after: 12 hours, action: raise, to: manager}\n", 1)


@dataclass
class World:
    app: FastAPI
    service: CaseService
    clock: ManualClock
    clients: dict[str, WebClient]
    tokens: dict[str, str]

    def case(self, pathway: str = "test-visits") -> tuple[str, str]:
        started = self.service.start_case(pathway, "signal", {"client_name": "Jan Jansen", "concern": "huur"},
                                          actor="user:cor", team=TEAM_A, municipality=MUNICIPALITY)
        return started.case_id, started.opened_tasks[0]

    def api(self, who: str, method: str, url: str, json: dict[str, Any] | None = None) -> Any:
        return self.clients["anon"].http.request(method, url, json=json,
                                                 headers={"Authorization": f"Bearer {self.tokens[who]}"})


@pytest.fixture
def world(service: CaseService, clock: ManualClock) -> World:
    cheap_password_hashing()
    people = standard_accounts(service.db, clock.now())
    service.publish_pathway(raise_source(), "raise.yaml")
    app = create_app(service)
    clients = {"anon": WebClient(app)}
    tokens = {}
    for key in ("worker", "coordinator", "other_worker"):
        clients[key] = WebClient(app)
        clients[key].sign_in(people[key].username)
        tokens[key] = api_token(service.db, people[key].username, clock.now())
    return World(app, service, clock, clients, tokens)


def entries(service: CaseService) -> list[AuditLogRow]:
    with read_session(service.db) as session:
        return list(session.execute(select(AuditLogRow).order_by(AuditLogRow.id)).scalars())


@dataclass(frozen=True)
class Expect:
    who: str  # "worker" | "coordinator"
    action: str
    what: str  # a part of the `what` text
    case: bool = True  # the entry names the case
    why: str | None = None


PEOPLE = {"worker": ("user:wanda", "worker", "AMW Test"), "coordinator": ("user:cor", "coordinator", "AMW Test")}
Act = Callable[[World, str, str], Any]


def _claimed(w: World, case_id: str, task_id: str) -> None:
    w.service.claim(task_id, "user:wanda")


def _closed(w: World, case_id: str, task_id: str) -> None:
    w.service.close_case(case_id, "client_moved", actor="user:cor")


def _suspended(w: World, case_id: str, task_id: str) -> None:
    w.service.suspend(case_id, actor="user:cor", reason="opname")


def _escalated(w: World, case_id: str, task_id: str) -> str:
    w.clock.advance(timedelta(days=2, hours=13))  # due after two days, raised twelve hours later
    w.service.fire_due()
    state = w.service.case(case_id)
    return str(state.open_escalations[0]["id"])


def _to_work_on(w: World, case_id: str, task_id: str) -> None:
    w.service.complete_task(task_id, {"outcome": "help", "problems": ["debts"]}, actor="user:wanda")


CASES: dict[str, tuple[Callable[[World, str, str], Any] | None, Act, Expect]] = {
    "page: case": (None, lambda w, c, t: w.clients["worker"].get(f"/cases/{c}"),
                   Expect("worker", "view", "case page: case data with personal data")),
    "page: closed case, personal data with a reason": (
        _closed, lambda w, c, t: w.clients["worker"].post(f"/cases/{c}/reveal", {"why": "klacht van de cliënt"}),
        Expect("worker", "view", "case page: case data with personal data", why="klacht van de cliënt")),
    "page: closed case without a reason": (
        _closed, lambda w, c, t: w.clients["worker"].get(f"/cases/{c}"),
        Expect("worker", "view", "personal data hidden")),
    "page: access log": (None, lambda w, c, t: w.clients["coordinator"].get(f"/cases/{c}/audit"),
                         Expect("coordinator", "view", "access log")),
    "page: task": (None, lambda w, c, t: w.clients["worker"].get(f"/tasks/{t}"),
                   Expect("worker", "view", "form and case summary")),
    "page: claim": (None, lambda w, c, t: w.clients["worker"].post(f"/tasks/{t}/claim"),
                    Expect("worker", "change", "claimed task")),
    "page: release": (_claimed, lambda w, c, t: w.clients["worker"].post(f"/tasks/{t}/release"),
                      Expect("worker", "change", "released task")),
    "page: complete": (None, lambda w, c, t: w.clients["worker"].post(f"/tasks/{t}/complete",
                                                                  {"outcome": "no_help", "bevestigd": "ja"}),
                       Expect("worker", "change", "completed task")),
    "page: complete with errors": (None, lambda w, c, t: w.clients["worker"].post(f"/tasks/{t}/complete", {}),
                                   Expect("worker", "view", "form returned with errors")),
    "page: draft": (None, lambda w, c, t: w.clients["worker"].post(f"/tasks/{t}/draft", {"outcome": "help"}),
                    Expect("worker", "draft", "saved a draft")),
    "page: reassign": (None, lambda w, c, t: w.clients["coordinator"].post(
        f"/tasks/{t}/reassign", {"worker": "user:wim", "role": "worker", "reason": "verlof"}),
        Expect("coordinator", "change", "reassigned task", why="verlof")),
    "page: close": (None, lambda w, c, t: w.clients["coordinator"].post(
        f"/cases/{c}/close", {"reason_code": "client_moved", "note": "verhuisd naar Assen"}),
        Expect("coordinator", "change", "closed the case", why="verhuisd naar Assen")),
    "page: suspend": (None, lambda w, c, t: w.clients["coordinator"].post(f"/cases/{c}/suspend", {"reason": "opname"}),
                      Expect("coordinator", "change", "suspended", why="opname")),
    "page: resume": (_suspended, lambda w, c, t: w.clients["coordinator"].post(f"/cases/{c}/resume", {}),
                     Expect("coordinator", "change", "resumed")),
    "page: reopen": (_closed, lambda w, c, t: w.clients["coordinator"].post(f"/cases/{c}/reopen", {"reason": "terug"}),
                     Expect("coordinator", "change", "reopened", why="terug")),
    "page: add track": (_to_work_on, lambda w, c, t: w.clients["coordinator"].post(
        f"/cases/{c}/tracks", {"track": "housing"}), Expect("coordinator", "change", "added track housing")),
    "api: case": (None, lambda w, c, t: w.api("worker", "GET", f"/api/cases/{c}"),
                  Expect("worker", "view", "case (API)")),
    "api: history": (None, lambda w, c, t: w.api("worker", "GET", f"/api/cases/{c}/history"),
                     Expect("worker", "view", "case history")),
    "api: access log": (None, lambda w, c, t: w.api("coordinator", "GET", f"/api/cases/{c}/audit"),
                        Expect("coordinator", "view", "access log")),
    "api: task": (None, lambda w, c, t: w.api("worker", "GET", f"/api/tasks/{t}"),
                  Expect("worker", "view", "form and case summary")),
    "api: claim": (None, lambda w, c, t: w.api("worker", "POST", f"/api/tasks/{t}/claim"),
                   Expect("worker", "change", "claimed task")),
    "api: release": (_claimed, lambda w, c, t: w.api("worker", "POST", f"/api/tasks/{t}/release"),
                     Expect("worker", "change", "released task")),
    "api: complete": (None, lambda w, c, t: w.api("worker", "POST", f"/api/tasks/{t}/complete",
                                                  {"data": {"outcome": "no_help"}}),
                      Expect("worker", "change", "completed task")),
    "api: reassign": (None, lambda w, c, t: w.api("coordinator", "POST", f"/api/tasks/{t}/reassign",
                                                  {"role": "coordinator", "reason": "spoed"}),
                      Expect("coordinator", "change", "reassigned task", why="spoed")),
    "api: close": (None, lambda w, c, t: w.api("coordinator", "POST", f"/api/cases/{c}/close",
                                               {"reason_code": "client_moved"}),
                   Expect("coordinator", "change", "closed the case")),
    "api: suspend": (None, lambda w, c, t: w.api("coordinator", "POST", f"/api/cases/{c}/suspend", {"reason": "x"}),
                     Expect("coordinator", "change", "suspended", why="x")),
    "api: resume": (_suspended, lambda w, c, t: w.api("coordinator", "POST", f"/api/cases/{c}/resume", {}),
                    Expect("coordinator", "change", "resumed")),
    "api: reopen": (_closed, lambda w, c, t: w.api("coordinator", "POST", f"/api/cases/{c}/reopen", {"reason": "y"}),
                    Expect("coordinator", "change", "reopened", why="y")),
    "api: add track": (_to_work_on, lambda w, c, t: w.api("coordinator", "POST", f"/api/cases/{c}/tracks",
                                                          {"track_id": "housing"}),
                       Expect("coordinator", "change", "added track housing")),
    "page: journal entry": (None, lambda w, c, t: w.clients["worker"].post(
        f"/cases/{c}/journal", {"kind": "huisbezoek", "text": "Thuis getroffen."}),
        Expect("worker", "change", "journal entry")),
    "page: client data export": (None, lambda w, c, t: w.clients["coordinator"].post(
        f"/cases/{c}/export", {"why": "inzageverzoek"}),
        Expect("coordinator", "export", "client data export", why="inzageverzoek")),
    "page: ad hoc task": (None, lambda w, c, t: w.clients["worker"].post(
        f"/cases/{c}/tasks", {"title": "Huisarts bellen", "due_date": "2026-03-04", "reminders": "1 day"}),
        Expect("worker", "change", "added an ad hoc task (1 reminders)")),
    "page: client search": (None, lambda w, c, t: w.clients["worker"].post(
        "/clients", {"naam": "Jansen", "reden": "cliënt belt"}),
        Expect("worker", "search", "client search on name (1 found)", case=False, why="cliënt belt")),
    "page: work list": (None, lambda w, c, t: w.clients["worker"].get("/work"),
                        Expect("worker", "list", "work list", case=False)),
    "page: case list": (None, lambda w, c, t: w.clients["worker"].get("/cases"),
                        Expect("worker", "list", "case list", case=False)),
    "page: inbox": (None, lambda w, c, t: w.clients["worker"].get("/inbox"),
                    Expect("worker", "list", "inbox", case=False)),
    "page: team": (None, lambda w, c, t: w.clients["coordinator"].get("/team"),
                   Expect("coordinator", "list", "team view", case=False)),
    "api: tasks": (None, lambda w, c, t: w.api("worker", "GET", "/api/tasks"),
                   Expect("worker", "list", "work list", case=False)),
    "api: cases": (None, lambda w, c, t: w.api("worker", "GET", "/api/cases"),
                   Expect("worker", "list", "case list", case=False)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_route_writes_exactly_its_audit_entry(world: World, name: str) -> None:
    prepare, act, expect = CASES[name]
    case_id, task_id = world.case()
    if prepare is not None:
        prepare(world, case_id, task_id)
    before = len(entries(world.service))
    response = act(world, case_id, task_id)
    assert response.status_code < 400 or name.endswith("with errors"), (name, response.status_code, response.text[:300])
    new = entries(world.service)[before:]
    assert len(new) == 1, [(e.action, e.what) for e in new]
    entry = new[0]
    who, role, organisation = PEOPLE[expect.who]
    assert (entry.who, entry.role, entry.organisation) == (who, role, organisation)
    assert entry.action == expect.action
    assert expect.what in entry.what, entry.what
    assert entry.case_id == (case_id if expect.case else None)
    assert entry.why == expect.why
    assert entry.at == world.clock.now()


def test_resolving_an_escalation_and_registering_a_case(world: World) -> None:
    case_id, task_id = world.case(RAISE_PATHWAY)
    escalation = _escalated(world, case_id, task_id)
    with read_session(world.service.db) as session:  # the team view's list (a packed state on SQLite)
        listed = caselists.open_escalations(session, [TEAM_A])
    assert [(e.case_id, e.escalation["id"]) for e in listed] == [(case_id, escalation)]
    world.clients["coordinator"].sign_in("cor")  # the session ended while the clock ran on
    before = len(entries(world.service))
    response = world.clients["coordinator"].post(f"/cases/{case_id}/escalations/{escalation}/resolve",
                                                 {"note": "besproken"})
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case_id}"
    [entry] = entries(world.service)[before:]
    assert (entry.action, entry.case_id, entry.why) == ("change", case_id, "besproken")
    assert world.service.case(case_id).open_escalations == []
    assert "resolved escalation" in entry.what
    with read_session(world.service.db) as session:
        assert caselists.open_escalations(session, [TEAM_A]) == []

    before = len(entries(world.service))
    response = world.clients["coordinator"].post("/cases/new", {
        "pathway": "test-visits", "trigger": "signal", "team": TEAM_A, "municipality": MUNICIPALITY,
        "client_name": "Fatma Yilmaz", "concern": "huurachterstand", "note": "telefonisch gemeld"})
    assert response.status_code == 303, response.text[:500]
    new_case = response.headers["location"].rsplit("/", 1)[-1]
    [entry] = entries(world.service)[before:]
    assert (entry.action, entry.case_id, entry.why) == ("change", new_case, "telefonisch gemeld")
    assert "registered the case" in entry.what


def test_migrating_writes_one_entry_per_case(world: World) -> None:
    first, _ = world.case()
    second, _ = world.case()
    world.service.publish_pathway(visits_source(2, intake_title="Intake (nieuw)"), "visits-v2.yaml")
    before = len(entries(world.service))
    response = world.clients["coordinator"].post("/pathways/test-visits/migrate",
                                                 {"to": "2", "case": [first, second], "reason": "nieuwe versie"})
    assert response.status_code == 200
    new = [e for e in entries(world.service)[before:] if e.action == "change"]
    assert sorted(e.case_id or "" for e in new) == sorted([first, second])
    assert all("migrated the case" in e.what and e.why == "nieuwe versie" for e in new)


def test_refused_requests_write_nothing(world: World) -> None:
    case_id, task_id = world.case()
    before = len(entries(world.service))
    other = world.clients["other_worker"]
    assert other.get(f"/cases/{case_id}").status_code == 404
    assert other.get(f"/tasks/{task_id}").status_code == 404
    assert other.post(f"/tasks/{task_id}/claim").status_code == 404
    assert world.api("other_worker", "GET", f"/api/cases/{case_id}").status_code == 404
    assert world.clients["worker"].post(f"/cases/{case_id}/suspend", {"reason": "x"}).status_code == 403
    assert entries(world.service)[before:] == []


def test_the_work_list_is_shown_only_once_its_entry_is_written(world: World) -> None:
    """On PostgreSQL the work list reads and records in autocommit (no BEGIN and COMMIT round trips),
    on SQLite in one transaction: the entry follows the reading, and an entry the database refuses
    means no page (and no entry)."""
    world.case()
    db = world.service.db
    if db.dialect.name == "sqlite":
        refuse = ("CREATE TRIGGER refuse_lists BEFORE INSERT ON audit_log WHEN NEW.action = 'list' "
                  "BEGIN SELECT RAISE(ABORT, 'the audit log refused the entry'); END")
        allow = "DROP TRIGGER refuse_lists"
    else:
        refuse = "ALTER TABLE audit_log ADD CONSTRAINT refuse_lists CHECK (action <> 'list') NOT VALID"
        allow = "ALTER TABLE audit_log DROP CONSTRAINT refuse_lists"
    with db.begin() as connection:
        connection.execute(text(refuse))
    before = len(entries(world.service))
    try:
        refused = world.clients["worker"].get("/work")
        assert refused.status_code == 503 and "Jan Jansen" not in refused.text  # the database refused: no page
    finally:
        with db.begin() as connection:
            connection.execute(text(allow))
    assert len(entries(world.service)) == before
    page = world.clients["worker"].get("/work")
    assert page.status_code == 200 and "Jan Jansen" in page.text
    [entry] = entries(world.service)[before:]
    assert entry.action == "list" and entry.what == "work list (0 own tasks, 1 in queue)"
    assert (entry.who, entry.role, entry.activity, entry.operation, entry.status) == (
        "user:wanda", "worker", "werkoverzicht", "read", "ok")
    assert entry.trace_id is not None and len(entry.trace_id) == 32 and entry.at == world.clock.now()
