"""Privacy and roles per pathway in the web app and the API: a pathway with `access.teams` is seen
only by those teams (whatever team registered the case: pages, API, lists, search, work lists,
team view), and with `role_scope: pathway` a plain role id does not take its tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.clock import ManualClock
from integrations.db import accounts
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import write_session
from integrations.service import CaseService
from tests.integration.conftest import empty_tables, make_service
from web.app import create_app
from web.testing import PASSWORD, TEAM_A, WebClient, api_token, cheap_password_hashing, standard_accounts

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
CRISIS_TEAM = "crisis-noord"
DATA = {"client_name": "Sara de Vries", "phone": "0612345678", "address": "Dorpsstraat 1",
        "risk_level": "high", "problem_area": "violence"}


@pytest.fixture
def sqlite_service(sqlite_database: tuple[str, Engine], clock: ManualClock, data_dir: Path) -> CaseService:
    empty_tables(sqlite_database[1])
    service = make_service(*sqlite_database, clock, data_dir)
    for name in ("crisis-chain.yaml", "youth-debt.yaml"):
        service.publish_pathway((EXAMPLES / name).read_text(encoding="utf-8"), str(EXAMPLES / name))
    return service


def _people(service: CaseService, clock: ManualClock) -> dict[str, WebClient]:
    cheap_password_hashing()
    standard_accounts(service.db, clock.now())
    with write_session(service.db) as session:
        accounts.upsert_team(session, CRISIS_TEAM, "Crisisteam Noord", "AMW Test")
        for username, roles in (("kim", ("crisis-chain:front_office", "crisis-chain:case_manager")),
                                ("kees", ("front_office", "case_manager"))):
            accounts.create_account(session, username=username, display_name=username.capitalize(),
                                    password=PASSWORD, role=AccountRole.WORKER, organisation="AMW Test",
                                    now=clock.now(), teams=(CRISIS_TEAM,), pathway_roles=roles)
        # Wanda of team A also holds the crisis roles by their plain ids.
        wanda = accounts.find_account(session, "wanda")
        assert wanda is not None
        accounts.update_account(session, wanda.id, pathway_roles=["worker", "front_office", "case_manager"])
    app = create_app(service)
    clients = {}
    for name in ("wanda", "cor", "kim", "kees"):
        clients[name] = WebClient(app)
        assert clients[name].sign_in(name).status_code == 303
    return clients


def test_a_restricted_pathway_is_seen_only_by_its_teams(sqlite_service: CaseService, clock: ManualClock,
                                                        data_dir: Path) -> None:
    from tests.integration.runtime_support import make_runtime, runtime_config

    service = sqlite_service
    people = _people(service, clock)
    # Registered in the wrong team (team A): still only the crisis team sees it.
    started = service.start_case("crisis-chain", "police_report", DATA, actor="user:cor", team=TEAM_A,
                                 municipality="GM1966")
    case_id, task_id = started.case_id, started.opened_tasks[0]
    make_runtime(service, data_dir, runtime_config()).dispatch_once(clock.now())  # "new task" to the team's inbox
    for name in ("wanda", "cor"):
        client = people[name]
        assert client.get(f"/cases/{case_id}").status_code == 404
        assert client.get(f"/tasks/{task_id}").status_code == 404
        assert case_id not in client.get("/cases").text
        assert case_id not in client.get(f"/cases?q={case_id[:5]}").text
        assert "Sara de Vries" not in client.get("/work").text
        assert case_id not in client.get("/work").text
        assert client.api("GET", f"/api/cases/{case_id}").status_code == 404
        assert client.api("GET", f"/api/cases/{case_id}/history").status_code == 404
        assert case_id not in client.api("GET", "/api/cases").text
        assert task_id not in client.api("GET", "/api/tasks").text
        assert client.api("POST", f"/api/tasks/{task_id}/claim").status_code == 404
    assert case_id not in people["cor"].get("/team").text
    assert case_id not in people["wanda"].get("/inbox").text  # wanda holds front_office by its plain id
    kim = people["kim"]
    page = kim.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "Sara de Vries" in page.text
    assert case_id in kim.get("/cases").text
    assert task_id in kim.api("GET", "/api/tasks").text
    token = api_token(service.db, "kim", clock.now())
    listed = kim.http.get("/api/cases", headers={"Authorization": f"Bearer {token}"})
    assert case_id in listed.text


def test_plain_role_ids_do_not_take_tasks_of_a_pathway_with_its_own_roles(sqlite_service: CaseService,
                                                                          clock: ManualClock) -> None:
    service = sqlite_service
    people = _people(service, clock)
    started = service.start_case("crisis-chain", "police_report", DATA, actor="user:cor", team=CRISIS_TEAM,
                                 municipality="GM1966")
    task_id = started.opened_tasks[0]
    kees, kim = people["kees"], people["kim"]
    assert task_id not in kees.api("GET", "/api/tasks").text  # not in his queue
    assert kees.api("POST", f"/api/tasks/{task_id}/claim").status_code == 403
    assert kees.api("POST", f"/api/tasks/{task_id}/complete", json={"data": {"reached": True}}).status_code == 403
    assert task_id in kim.api("GET", "/api/tasks").text
    assert kim.api("POST", f"/api/tasks/{task_id}/claim").status_code == 200
    done = kim.api("POST", f"/api/tasks/{task_id}/complete", json={"data": {"reached": True}})
    assert done.status_code == 200, done.text
    assert service.case(started.case_id).tasks[task_id].completed_by == "user:kim"


def test_origin_registration_in_the_web_app_and_the_api(sqlite_service: CaseService, clock: ManualClock) -> None:
    service = sqlite_service
    people = _people(service, clock)
    case_id = service.start_case("crisis-chain", "police_report", DATA, actor="user:cor", team=CRISIS_TEAM,
                                 municipality="GM1966").case_id
    kim, kees = people["kim"], people["kees"]
    assert "Herkomst vastleggen" not in kim.get(f"/cases/{case_id}").text  # not on the case (yet)
    assert kim.api("POST", f"/api/cases/{case_id}/origin", json={"client": "NL"}).status_code == 403
    task_id = service.case(case_id).open_tasks()[0].id
    assert kim.api("POST", f"/api/tasks/{task_id}/claim").status_code == 200  # now she carries the case
    page = kim.get(f"/cases/{case_id}")
    assert "Herkomst vastleggen" in page.text and "Cliënt maakt bezwaar" in page.text
    assert kim.api("POST", f"/api/cases/{case_id}/origin", json={"client": "Nederland"}).status_code == 422
    assert kim.api("POST", f"/api/cases/{case_id}/origin", json={}).status_code == 422
    done = kim.post(f"/cases/{case_id}/origin", {"client": "nl", "mother": "MA", "father": ""})
    assert done.status_code == 303
    assert service.case(case_id).origin == {"client": "NL", "mother": "MA"}
    assert kees.api("POST", f"/api/cases/{case_id}/origin", json={"objects": True}).status_code == 403
    assert kim.api("POST", f"/api/cases/{case_id}/origin", json={"objects": True}).status_code == 200
    state = service.case(case_id)
    assert state.origin is None and state.origin_objection
    assert kim.api("POST", f"/api/cases/{case_id}/origin", json={"client": "NL"}).status_code == 409
    assert "Herkomst vastleggen" not in kim.get(f"/cases/{case_id}").text


def test_roles_are_titled_per_pathway_and_offered_as_pathway_roles(sqlite_service: CaseService,
                                                                   clock: ManualClock) -> None:
    service = sqlite_service
    people = _people(service, clock)
    service.start_case("crisis-chain", "police_report", DATA, actor="user:cor", team=CRISIS_TEAM,
                       municipality="GM1966")
    work = people["kim"].get("/work?role=crisis-chain:front_office").text
    assert "Cliënt bellen en risico inschatten" in work and "Frontoffice crisisdienst" in work
    admin = WebClient(create_app(service))
    cheap_password_hashing()
    assert admin.sign_in("adam").status_code == 303
    page = admin.get("/admin/users/new").text
    assert 'value="crisis-chain:case_manager"' in page and "Casemanager huiselijk geweld (Crisisketen huiselijk geweld)" in page
    assert 'value="coordinator"' in page  # the shared catalogue's role keeps its plain id


def test_the_example_pathway_page_and_api(sqlite_service: CaseService, clock: ManualClock) -> None:
    kim = _people(sqlite_service, clock)["kim"]
    page = kim.get("/pathways/crisis-chain")
    assert page.status_code == 200, page.text[:500]
    assert "Gezamenlijk besluit met partner" in page.text and "Overdracht naar ander zorgpad" in page.text
    assert "4 werkweken" in page.text
    version = kim.api("GET", "/api/pathways/crisis-chain/versions/1")
    assert version.status_code == 200 and "Casemanager huiselijk geweld, 4 werkweken" in version.json()["mermaid"]
