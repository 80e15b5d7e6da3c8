"""Every route times every role: who may use it, and that everybody else is turned away.

The route list comes from the app itself, so a route added without a rule here
fails `test_every_route_has_a_rule`. "Allowed" means the request got past the
access checks (it may still be refused on its merits: a 409 or 422, or a 303
with a message); "denied" means 403 (a section not for the role) or 404 (an
object not for the caller, answered exactly like one that does not exist).
Anonymous visitors are sent to the sign-in page (pages) or get 401 (API).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from engine.clock import ManualClock
from integrations.db import accounts
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session, write_session
from integrations.exchange.ddas.importer import ROUTES_SETTING
from integrations.service import CaseService
from web.app import create_app, route_table
from web.testing import (
    MUNICIPALITY,
    PEOPLE,
    TEAM_A,
    TEAM_B,
    Person,
    WebClient,
    api_token,
    cheap_password_hashing,
    standard_accounts,
)

ANON = "anonymous"
W, W2, OW, C, A, AD = "worker", "worker2", "other_worker", "coordinator", "analyst", "admin"
SIGNED_IN = frozenset({W, W2, OW, C, A, AD})
EVERYONE = SIGNED_IN | {ANON}
CASE_TEAM = frozenset({W, W2, C})  # the people of the case's team
CASE_PEOPLE = frozenset({W, W2, OW, C})  # workers and coordinators of any team
ORDER = (ANON, A, AD, OW, W2, W, C)  # the denied first: the allowed may change the objects


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    public: bool = False  # anonymous visitors may use it too
    form: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    query: str = ""
    ids: dict[str, str] | None = None  # path parameters taken from other objects (e.g. an account nobody uses)
    # the route's object does not exist in this fixture (no referral in test-visits): everybody gets the
    # same 404; who may use it with a real referral is tested in tests/integration/test_referrals_web.py
    nobody_has_it: bool = False


R = Rule
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/"): R(EVERYONE, public=True),
    ("GET", "/login"): R(EVERYONE, public=True),
    ("POST", "/login"): R(EVERYONE, public=True),
    ("POST", "/logout"): R(SIGNED_IN),
    ("POST", "/language"): R(EVERYONE, public=True, form={"language": "en", "next": "/"}),
    ("GET", "/account"): R(SIGNED_IN),
    ("POST", "/account/password"): R(SIGNED_IN, form={"current": "x", "new": "y", "repeat": "z"}),
    ("POST", "/account/tokens"): R(SIGNED_IN, form={"name": "koppeling", "operations": "tasks.read"}),
    ("POST", "/account/tokens/{token_id}/revoke"): R(SIGNED_IN),  # only one's own: others get "does not exist"
    ("GET", "/health"): R(EVERYONE, public=True),
    ("GET", "/work"): R(CASE_PEOPLE),
    ("GET", "/cases"): R(CASE_PEOPLE),
    ("GET", "/inbox"): R(CASE_PEOPLE),
    ("POST", "/inbox/read-all"): R(CASE_PEOPLE),
    ("POST", "/inbox/{message_id}/read"): R(CASE_PEOPLE),
    ("GET", "/clients"): R(CASE_PEOPLE),
    ("POST", "/clients"): R(CASE_PEOPLE, form={"naam": "Jansen", "reden": "cliënt belt"}),
    ("GET", "/cases/new"): R(frozenset({C})),
    ("POST", "/cases/new"): R(frozenset({C}), form={"pathway": "test-visits"}),
    ("GET", "/cases/{case_id}"): R(CASE_TEAM),
    ("POST", "/cases/{case_id}/reveal"): R(CASE_TEAM, form={"why": "complaint"}),
    ("GET", "/cases/{case_id}/audit"): R(frozenset({C})),
    ("POST", "/cases/{case_id}/close"): R(frozenset({C}), form={"reason_code": "client_moved"}),
    ("POST", "/cases/{case_id}/suspend"): R(frozenset({C}), form={"reason": "opname"}),
    ("POST", "/cases/{case_id}/resume"): R(frozenset({C})),
    ("POST", "/cases/{case_id}/reopen"): R(frozenset({C}), form={"reason": "terug"}),
    ("POST", "/cases/{case_id}/tracks"): R(frozenset({C}), form={"track": "debts"}),
    ("POST", "/cases/{case_id}/origin"): R(frozenset({C}), form={"client": "NL"}),
    ("POST", "/cases/{case_id}/escalations/{escalation_id}/resolve"): R(frozenset({C})),
    ("POST", "/cases/{case_id}/journal"): R(CASE_TEAM, form={"kind": "notitie", "text": "gebeld"}),
    ("POST", "/cases/{case_id}/journal/{entry_id}"): R(CASE_TEAM, form={"kind": "notitie", "text": "gebeld"}),
    ("POST", "/cases/{case_id}/export"): R(frozenset({C}), form={"why": "inzage"}),
    ("POST", "/cases/{case_id}/tasks"): R(CASE_TEAM, form={"title": "Huisarts bellen", "due_date": "2026-03-04"}),
    ("GET", "/tasks/{task_id}"): R(CASE_TEAM),
    ("POST", "/tasks/{task_id}/claim"): R(frozenset({W, W2})),
    ("POST", "/tasks/{task_id}/release"): R(CASE_TEAM),
    ("POST", "/tasks/{task_id}/complete"): R(frozenset({W, W2}), form={"outcome": "help"}),
    ("POST", "/tasks/{task_id}/draft"): R(frozenset({W, W2}), form={"outcome": "help"}),
    ("POST", "/tasks/{task_id}/reassign"): R(frozenset({C}), form={"worker": "", "role": "coordinator"}),
    ("GET", "/team"): R(frozenset({C})),
    ("GET", "/pathways"): R(CASE_PEOPLE),
    ("GET", "/pathways/editor"): R(frozenset({C})),
    ("POST", "/pathways/editor"): R(frozenset({C}), form={"action": "check", "source": "id: x\n"}),
    ("GET", "/pathways/editor/schema.json"): R(frozenset({C})),
    ("GET", "/pathways/{pathway_id}"): R(CASE_PEOPLE),
    ("GET", "/pathways/{pathway_id}/migrate"): R(frozenset({C}), query="?to=1"),
    ("POST", "/pathways/{pathway_id}/migrate"): R(frozenset({C}), form={"to": "1"}),
    ("GET", "/reports"): R(frozenset({A})),
    ("GET", "/reports/outcomes.csv"): R(frozenset({A})),
    ("GET", "/admin/users"): R(frozenset({AD})),
    ("GET", "/admin/users/new"): R(frozenset({AD})),
    ("POST", "/admin/users/new"): R(frozenset({AD}), form={"username": "nieuw", "role": "worker"}),
    ("GET", "/admin/users/{user_id}"): R(frozenset({AD})),
    ("POST", "/admin/users/{user_id}"): R(frozenset({AD}), form={"role": "worker", "teams": TEAM_A,
                                                               "organisation": "AMW Test", "active": "true"}),
    ("POST", "/admin/users/{user_id}/password"): R(frozenset({AD}), ids={"user_id": "spare_user_id"}),
    ("POST", "/admin/users/{user_id}/unlock"): R(frozenset({AD})),
    ("POST", "/admin/tokens/{token_id}/revoke"): R(frozenset({AD})),
    ("GET", "/admin/teams"): R(frozenset({AD})),
    ("POST", "/admin/teams"): R(frozenset({AD}), form={"id": "team-c", "name": "C", "organisation": "AMW"}),
    # --- the API ---
    ("GET", "/api/me"): R(SIGNED_IN),
    ("GET", "/api/tasks"): R(CASE_PEOPLE),
    ("GET", "/api/tasks/{task_id}"): R(CASE_TEAM),
    ("POST", "/api/tasks/{task_id}/claim"): R(frozenset({W, W2})),
    ("POST", "/api/tasks/{task_id}/release"): R(CASE_TEAM),
    ("POST", "/api/tasks/{task_id}/complete"): R(frozenset({W, W2}), json={"data": {"outcome": "no_help"}}),
    ("POST", "/api/tasks/{task_id}/reassign"): R(frozenset({C}), json={"role": "coordinator"}),
    ("GET", "/api/cases"): R(CASE_PEOPLE),
    ("POST", "/api/cases"): R(frozenset({C}), json={"pathway_id": "test-visits", "trigger": "signal", "team": TEAM_A,
                                                    "municipality": MUNICIPALITY,
                                                    "data": {"client_name": "X", "concern": "y"}}),
    ("GET", "/api/cases/{case_id}"): R(CASE_TEAM),
    ("POST", "/api/cases/{case_id}/reveal"): R(CASE_TEAM, json={"reason": "klacht van de cliënt"}),
    ("GET", "/api/cases/{case_id}/history"): R(CASE_TEAM),
    ("GET", "/api/cases/{case_id}/audit"): R(frozenset({C})),
    ("POST", "/api/cases/{case_id}/close"): R(frozenset({C}), json={"reason_code": "client_moved"}),
    ("POST", "/api/cases/{case_id}/suspend"): R(frozenset({C}), json={"reason": "opname"}),
    ("POST", "/api/cases/{case_id}/resume"): R(frozenset({C}), json={}),
    ("POST", "/api/cases/{case_id}/reopen"): R(frozenset({C}), json={"reason": "terug"}),
    ("POST", "/api/cases/{case_id}/tracks"): R(frozenset({C}), json={"track_id": "debts"}),
    ("POST", "/api/cases/{case_id}/origin"): R(frozenset({C}), json={"client": "NL"}),
    ("POST", "/api/cases/{case_id}/escalations/{escalation_id}/resolve"): R(frozenset({C}), json={}),
    ("GET", "/api/team/caseload"): R(frozenset({C})),
    ("GET", "/api/pathways"): R(CASE_PEOPLE),
    ("GET", "/api/pathways/{pathway_id}/versions/{version}"): R(CASE_PEOPLE),
    ("POST", "/api/pathways/check"): R(frozenset({C}), json={"source": "id: x\n"}),
    ("POST", "/api/pathways"): R(frozenset({C}), json={"source": "id: x\n"}),
    ("GET", "/api/pathways/{pathway_id}/migrations"): R(frozenset({C}), query="?to=1"),
    ("POST", "/api/pathways/{pathway_id}/migrations"): R(frozenset({C}), json={"to_version": 1, "case_ids": []}),
    ("GET", "/api/reports/outcomes"): R(frozenset({A})),
    ("GET", "/api/reports/outcomes.csv"): R(frozenset({A})),
    ("GET", "/api/audit/export"): R(frozenset({AD}), query="?start=2026-01-01&end=2026-12-31"),
    # --- early signals (web/signals.py; team A takes the signals of the analyst's municipality) ---
    ("GET", "/signalen"): R(frozenset({C, A})),
    ("POST", "/signalen"): R(frozenset({C})),
    ("GET", "/signalen/levering.json"): R(frozenset({C, A}), query=f"?municipality={MUNICIPALITY}"),
    ("POST", "/api/signals"): R(frozenset({C})),
    ("GET", "/api/signals/export"): R(frozenset({C, A}), query=f"?municipality={MUNICIPALITY}"),
    # --- partners in the loop (docs/partners.md) ---
    ("GET", "/verwijzingen"): R(CASE_PEOPLE),
    ("GET", "/verwijzingen/{task_id}"): R(frozenset(), nobody_has_it=True),
    ("POST", "/verwijzingen/{task_id}"): R(frozenset(), form={"status": "accepted"}, nobody_has_it=True),
    ("GET", "/verwijzing/{token}"): R(frozenset(), public=True, nobody_has_it=True),
    ("POST", "/verwijzing/{token}"): R(frozenset(), public=True, form={"status": "accepted"}, nobody_has_it=True),
    ("POST", "/cases/{case_id}/toestemming"): R(CASE_TEAM, form={"partner": "bank"}),
    ("GET", "/agenda"): R(CASE_PEOPLE),
    ("POST", "/agenda"): R(CASE_PEOPLE),
    ("POST", "/agenda/intrekken"): R(CASE_PEOPLE),
    ("GET", "/agenda/{token}.ics"): R(frozenset(), public=True, nobody_has_it=True),
    ("GET", "/storingen"): R(frozenset({C, AD})),
    ("POST", "/storingen/{incident_id}/opnieuw"): R(frozenset(), nobody_has_it=True),
    ("POST", "/storingen/{incident_id}/afsluiten"): R(frozenset(), nobody_has_it=True),
    ("GET", "/overleg"): R(frozenset({C})),
    ("POST", "/overleg"): R(frozenset({C}), form={"pathway": "test-visits", "team": TEAM_A}),
    ("GET", "/overleg/{meeting_id}"): R(frozenset(), nobody_has_it=True),
    ("POST", "/overleg/{meeting_id}/besluit"): R(frozenset(), form={"case_id": "x", "decision": "y"},
                                                 nobody_has_it=True),
    ("GET", "/fhir/{kind}/{resource_id}"): R(CASE_TEAM),  # FHIR for systems: 401 without a token, like /api/
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {(method, path) for method, path, _ in route_table(app)}


SPARE = "spare"  # an account nobody signs in with: the administrator resets its password


@pytest.fixture
def world(service: CaseService, clock: ManualClock) -> dict[str, Any]:
    cheap_password_hashing()
    people = standard_accounts(service.db, clock.now(), {**PEOPLE, SPARE: Person("sven", AccountRole.WORKER, (TEAM_A,))})
    with write_session(service.db) as session:  # early signals of the analyst's municipality go to team A
        accounts.put_setting(session, ROUTES_SETTING, {"routes": f"{MUNICIPALITY}={TEAM_A}"}, clock.now())
    app = create_app(service)
    sessions: dict[str, WebClient] = {ANON: WebClient(app)}
    tokens: dict[str, str] = {}
    for key, account in people.items():
        if key == SPARE:
            continue
        sessions[key] = WebClient(app)
        assert sessions[key].sign_in(account.username).status_code == 303
        tokens[key] = api_token(service.db, account.username, clock.now())
    return {"app": app, "service": service, "people": people, "sessions": sessions, "tokens": tokens}


def test_every_route_has_a_rule(world: dict[str, Any]) -> None:
    routes = app_routes(world["app"])
    assert routes - set(RULES) == set(), "routes without an access rule: add them to RULES"
    assert set(RULES) - routes == set(), "rules for routes that do not exist"


def _objects(service: CaseService, people: dict[str, accounts.Account], clock: ManualClock) -> dict[str, str]:
    """A fresh case of team A (its intake task waits in the worker queue) and the admin's objects."""
    started = service.start_case("test-visits", "signal", {"client_name": "Jan Jansen", "concern": "huur"},
                                 actor="user:cor", team=TEAM_A, municipality=MUNICIPALITY)
    with read_session(service.db) as session:
        token = accounts.list_tokens(session, people[W].id)[0]
    return {"case_id": started.case_id, "task_id": started.opened_tasks[0], "escalation_id": f"{started.case_id}.e9",
            "pathway_id": "test-visits", "version": "1", "message_id": f"{started.case_id}.m1", "entry_id": "1", "user_id": str(people[W2].id), "token_id": str(token.id),
            "spare_user_id": str(people[SPARE].id),
            "token": "no-such-link", "incident_id": "999999", "meeting_id": "999999", "kind": "CarePlan",
            "resource_id": started.case_id}


def _call(world: dict[str, Any], role: str, method: str, path: str, rule: Rule) -> Any:
    if path.startswith(("/api/", "/fhir/")):
        client = world["sessions"][ANON]
        headers = {} if role == ANON else {"Authorization": f"Bearer {world['tokens'][role]}"}
        return client.http.request(method, path + rule.query, headers=headers,
                                   json=rule.json if method == "POST" else None)
    client = world["sessions"][role]
    if method == "GET":
        return client.get(path + rule.query)
    return client.post(path + rule.query, rule.form or {})


@pytest.mark.parametrize("key", sorted(RULES), ids=lambda k: f"{k[0]} {k[1]}")
def test_route_by_role(world: dict[str, Any], clock: ManualClock, key: tuple[str, str]) -> None:
    method, template = key
    rule = RULES[key]
    objects = _objects(world["service"], world["people"], clock)
    path = template.format(**{**objects, **{k: objects[v] for k, v in (rule.ids or {}).items()}})
    for role in ORDER:
        if role in (W, W2, C) and key == ("POST", "/logout"):
            continue  # signing out would end the session the next routes use
        response = _call(world, role, method, path, rule)
        status = response.status_code
        where = f"{method} {path} as {role}: {status}"
        assert status < 500, where
        if rule.nobody_has_it and (role != ANON or rule.public):
            assert status in (403, 404), where
            continue
        if role == ANON and not rule.public:
            if path.startswith(("/api/", "/fhir/")):
                assert status == 401, where
            else:
                assert status == 303 and response.headers["location"].startswith("/login"), where
        elif role in rule.allowed or (role == ANON and rule.public):
            assert status not in (401, 403, 404, 405), where
        else:
            assert status in (403, 404), where


@pytest.mark.parametrize("who", [OW, A, AD])
def test_objects_of_other_teams_answer_exactly_like_missing_ones(world: dict[str, Any], clock: ManualClock,
                                                                 who: str) -> None:
    objects = _objects(world["service"], world["people"], clock)
    case_id, task_id = objects["case_id"], objects["task_id"]
    pairs: list[tuple[str, str, Callable[[str], Any]]] = []
    client = world["sessions"][who]
    token = world["tokens"][who]
    for template in ("/cases/{}", "/tasks/{}"):
        real = template.format(case_id if "cases" in template else task_id)
        pairs.append((real, template.format("DOESNOTEXIST" if "cases" in template else "DOESNOTEXIST.1"),
                      client.get))
    for template in ("/api/cases/{}", "/api/cases/{}/history", "/api/tasks/{}"):
        real = template.format(case_id if "cases" in template else task_id)
        missing = template.format("DOESNOTEXIST" if "cases" in template else "DOESNOTEXIST.1")
        pairs.append((real, missing, lambda url: world["sessions"][ANON].http.get(
            url, headers={"Authorization": f"Bearer {token}"})))
    for real, missing, get in pairs:
        seen, absent = get(real), get(missing)
        assert seen.status_code == absent.status_code == 404, (real, seen.status_code)
        assert seen.text.replace(real, "") == absent.text.replace(missing, ""), real
    # And a case of team B is just as invisible to the people of team A.
    other = world["service"].start_case("test-visits", "signal", {"client_name": "Els", "concern": "x"},
                                        actor="user:cor", team=TEAM_B, municipality=MUNICIPALITY)
    for viewer in (W, C):
        assert world["sessions"][viewer].get(f"/cases/{other.case_id}").status_code == 404
        assert world["sessions"][viewer].get(f"/tasks/{other.opened_tasks[0]}").status_code == 404


def test_the_analyst_sees_aggregates_only(world: dict[str, Any], clock: ManualClock) -> None:
    objects = _objects(world["service"], world["people"], clock)
    analyst = world["sessions"][A]
    report = analyst.get("/reports")
    assert report.status_code == 200 and "<svg" in report.text
    assert "Jan Jansen" not in report.text and objects["case_id"] not in report.text
    assert analyst.get(f"/cases/{objects['case_id']}").status_code == 404
    assert analyst.get("/cases").status_code == 403
    assert analyst.get("/work").status_code == 403
