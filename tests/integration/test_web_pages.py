"""The pages as people use them: completing tasks, drafts, conflicts, evaluations, registering and
closing cases, the pathway editor and migrations, the team view, the dashboard, administration.

Completing tasks and conflicts run on SQLite and PostgreSQL; the rest on SQLite.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.clock import ManualClock
from integrations.service import CaseService
from tests.fixtures.visits_pathway import visits_source
from tests.integration.conftest import empty_tables, make_service
from web.app import create_app
from web.testing import MUNICIPALITY, TEAM_A, WebClient, cheap_password_hashing, standard_accounts


@pytest.fixture
def sqlite_service(sqlite_database: tuple[str, Engine], clock: ManualClock, data_dir: Path) -> CaseService:
    empty_tables(sqlite_database[1])
    return make_service(*sqlite_database, clock, data_dir)


def people(service: CaseService, clock: ManualClock, *names: str) -> dict[str, WebClient]:
    cheap_password_hashing()
    accounts = standard_accounts(service.db, clock.now())
    app = create_app(service)
    clients = {}
    for name in names:
        clients[name] = WebClient(app)
        assert clients[name].sign_in(accounts[name].username).status_code == 303
    return clients


def new_case(service: CaseService, name: str = "Jan Jansen") -> tuple[str, str]:
    started = service.start_case("test-visits", "signal", {"client_name": name, "concern": "huurachterstand"},
                                 actor="user:cor", team=TEAM_A, municipality=MUNICIPALITY)
    return started.case_id, started.opened_tasks[0]


def is_checked(html: str, name: str, value: str) -> bool:
    return re.search(rf'name="{name}" value="{value}"\s+checked', html) is not None


def field_error(html: str, field: str) -> str:
    """The error message shown inside a field's wrapper."""
    found = re.search(rf'id="f-{field}-wrap".*?<p class="error-text" id="f-{field}-err">([^<]+)</p>', html, re.S)
    return found.group(1) if found else ""


def test_a_worker_completes_a_task_and_the_next_ones_appear(service: CaseService, clock: ManualClock) -> None:
    clients = people(service, clock, "worker")
    wanda = clients["worker"]
    case_id, task_id = new_case(service)
    page = wanda.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and "Intake" in page.text and 'name="outcome"' in page.text
    refused = wanda.post(f"/tasks/{task_id}/complete", {})
    assert refused.status_code == 422
    assert field_error(refused.text, "outcome") == "Vul dit veld in."
    assert 'id="error-summary"' in refused.text
    done = wanda.post(f"/tasks/{task_id}/complete", {"outcome": "help", "problems": "debts\nhousing"})
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{case_id}"
    case = wanda.get(done.headers["location"])
    assert "Taak afgerond: Intake. Er staat een nieuwe taak klaar." in case.text
    assert "Gesprek over schulden" in case.text and "Gesprek over wonen" in case.text
    work = wanda.get("/work")
    assert "Gesprek over schulden" in work.text
    state = service.case(case_id)
    assert state.records["intake"] == {"outcome": "help", "problems": ["debts", "housing"]}


def test_a_conflict_between_two_workers_is_explained(service: CaseService, clock: ManualClock) -> None:
    clients = people(service, clock, "worker", "worker2")
    case_id, task_id = new_case(service)
    assert clients["worker"].get(f"/tasks/{task_id}").status_code == 200
    assert clients["worker2"].get(f"/tasks/{task_id}").status_code == 200
    first = clients["worker"].post(f"/tasks/{task_id}/complete", {"outcome": "no_help", "bevestigd": "ja"})
    assert first.status_code == 303
    second = clients["worker2"].post(f"/tasks/{task_id}/complete", {"outcome": "help", "problems": "debts"})
    assert second.status_code == 409
    assert "Een collega was je voor" in second.text
    assert "Wanda heeft deze taak al afgerond op" in second.text
    assert is_checked(second.text, "outcome", "help")  # what the second worker chose is still there
    assert service.case(case_id).records["intake"] == {"outcome": "no_help"}


def test_claiming_from_the_queue_is_one_click(service: CaseService, clock: ManualClock) -> None:
    clients = people(service, clock, "worker", "worker2")
    _, task_id = new_case(service)
    response = clients["worker"].post(f"/tasks/{task_id}/claim", {"next": "/work"})
    assert response.status_code == 303 and response.headers["location"] == "/work"
    mine = clients["worker"].get("/work")
    assert re.search(r'id="my-tasks".*Intake', mine.text, re.S)
    taken = clients["worker2"].post(f"/tasks/{task_id}/claim", {"next": "/work"})
    assert "al opgepakt door Wanda" in clients["worker2"].get(taken.headers["location"]).text


def test_drafts_are_kept_until_the_task_is_done(sqlite_service: CaseService, clock: ManualClock) -> None:
    wanda = people(sqlite_service, clock, "worker")["worker"]
    _, task_id = new_case(sqlite_service)
    saved = wanda.post(f"/tasks/{task_id}/draft", {"outcome": "help", "problems": "debts"})
    assert saved.status_code == 303
    page = wanda.get(f"/tasks/{task_id}")
    assert is_checked(page.text, "outcome", "help") and ">debts</textarea>" in page.text
    assert "Concept opgeslagen op" in page.text
    htmx = wanda.post(f"/tasks/{task_id}/draft", {"outcome": "no_help"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx.text.startswith("Concept opgeslagen om")
    wanda.post(f"/tasks/{task_id}/complete", {"outcome": "no_help", "bevestigd": "ja"})
    from integrations.db import accounts
    from integrations.db.engine_factory import read_session

    with read_session(sqlite_service.db) as session:
        assert accounts.get_draft(session, 1, task_id) is None


def test_the_three_weekly_evaluation_reviews_tracks(sqlite_service: CaseService, clock: ManualClock) -> None:
    wanda = people(sqlite_service, clock, "worker")["worker"]
    case_id, task_id = new_case(sqlite_service)
    sqlite_service.complete_task(task_id, {"outcome": "help", "problems": ["debts", "housing"]}, actor="user:wanda")
    clock.advance(timedelta(days=7, hours=1))
    sqlite_service.fire_due()
    wanda.sign_in("wanda")
    state = sqlite_service.case(case_id)
    evaluation = next(t for t in state.open_tasks() if t.type.value == "evaluation")
    page = wanda.get(f"/tasks/{evaluation.id}")
    assert "Voortgang sinds de vorige evaluatie" in page.text and "Schulden" in page.text
    done = wanda.post(f"/tasks/{evaluation.id}/complete", {
        "review.debts": "Post wordt nu wekelijks geopend.", "close.debts": "",
        "review.housing": "Huurachterstand ingelopen.", "close.housing": "achieved", "focus": "debts",
        "bevestigd": "ja"})
    assert done.status_code == 303, done.text[:2000]
    state = sqlite_service.case(case_id)
    assert state.tracks["housing"].status.value == "closed" and state.tracks["housing"].result == "achieved"
    assert state.tracks["debts"].progress[-1]["progress"] == "Post wordt nu wekelijks geopend."
    case = wanda.get(f"/cases/{case_id}")
    assert "Probleemgebied afgesloten: Wonen (behaald)" in case.text


def test_registering_and_closing_a_case_by_hand(sqlite_service: CaseService, clock: ManualClock) -> None:
    cor = people(sqlite_service, clock, "coordinator")["coordinator"]
    form = cor.get("/cases/new?pathway=test-visits")
    assert form.status_code == 200 and 'name="client_name"' in form.text
    refused = cor.post("/cases/new", {"pathway": "test-visits", "trigger": "signal", "team": TEAM_A,
                                      "municipality": MUNICIPALITY, "concern": "x"})
    assert refused.status_code == 422 and field_error(refused.text, "client_name") == "Vul dit veld in."
    made = cor.post("/cases/new", {"pathway": "test-visits", "trigger": "signal", "team": TEAM_A,
                                   "municipality": MUNICIPALITY, "client_name": "Fatma Yilmaz", "concern": "huur",
                                   "client_id": "123456782"})
    assert made.status_code == 303
    case_id = made.headers["location"].rsplit("/", 1)[-1]
    state = sqlite_service.case(case_id)
    assert (state.team, state.municipality, state.data["client_name"]) == (TEAM_A, MUNICIPALITY, "Fatma Yilmaz")
    assert "123456782" not in state.pseudonym
    closed = cor.post(f"/cases/{case_id}/close", {"reason_code": "client_moved", "note": "naar Assen"})
    assert closed.status_code == 303
    page = cor.get(f"/cases/{case_id}")
    assert "Uitkomst: Anders" in page.text and "Verhuisd" in page.text
    assert "Fatma Yilmaz" not in page.text  # a closed case hides personal data until a reason is given
    shown = cor.post(f"/cases/{case_id}/reveal", {"why": "vraag van de cliënt"})
    assert "Fatma Yilmaz" in shown.text


BROKEN = visits_source(2).replace("    due: 2 days\n", "    due: two days\n", 1)


def test_the_editor_shows_problems_at_their_line_then_publishes_and_migrates(sqlite_service: CaseService,
                                                                              clock: ManualClock) -> None:
    cor = people(sqlite_service, clock, "coordinator")["coordinator"]
    case_id, _ = new_case(sqlite_service)
    from integrations.db import ownership
    from integrations.db.engine_factory import write_session

    with write_session(sqlite_service.db) as session:  # only the owner's coordinators publish (docs/security.md)
        ownership.set_owner(session, "test-visits", "AMW Test", clock.now(), "test")
    editor = cor.get("/pathways/editor?from=test-visits")
    assert "version: 2" in editor.text  # an edit starts as the next version
    line = BROKEN.splitlines().index("    due: two days") + 1
    checked = cor.post("/pathways/editor", {"action": "check", "source": BROKEN, "name": "visits.yaml"})
    assert checked.status_code == 422
    # each problem carries its line and column for the editor (web/editor/), which shows it inline
    listed = re.search(rf'<li class="problem-item" data-line="{line}" data-column="(\d+)" data-message="([^"]+)">(.*?)</li>',
                       checked.text, re.S)
    assert listed is not None and f"regel {line}, kolom {listed.group(1)}" in listed.group(3)
    assert "two days" in listed.group(2)
    assert 'id="annotated-source"' not in checked.text  # no read-only copy of the text
    simulated = cor.post("/pathways/editor", {"action": "simulate", "source": visits_source(2, intake_title="Intake 2")})
    assert simulated.status_code == 200 and 'id="simulation"' in simulated.text
    asked = cor.post("/pathways/editor", {"action": "publish", "source": visits_source(2, intake_title="Intake 2"),
                                          "name": "visits.yaml"})
    assert asked.status_code == 200 and 'id="publish-diff"' in asked.text  # the difference first
    published = cor.post("/pathways/editor", {"action": "publish-confirmed", "name": "visits.yaml",
                                              "source": visits_source(2, intake_title="Intake 2")})
    assert published.status_code == 303 and published.headers["location"] == "/pathways/test-visits/migrate?to=2"
    plan = cor.get(published.headers["location"])
    assert case_id in plan.text and "titel «Intake» wordt «Intake 2»" in plan.text
    moved = cor.post("/pathways/test-visits/migrate", {"to": "2", "case": case_id, "reason": "nieuwe versie"})
    assert moved.status_code == 200 and "1 zaken overgezet naar versie 2." in moved.text
    assert sqlite_service.case(case_id).pathway_version == 2
    again = cor.post("/pathways/editor", {"action": "publish", "source": visits_source(9, intake_title="Intake 2"),
                                          "name": "visits.yaml"})
    assert again.status_code == 409  # the content of version 2 again: refused, whatever version the text names
    changed = cor.post("/pathways/editor", {"action": "publish-confirmed", "source": visits_source(2), "name": "visits.yaml"})
    assert changed.status_code == 303 and "to=3" in changed.headers["location"]  # carepath numbers the versions


def test_the_team_view_and_reassigning(sqlite_service: CaseService, clock: ManualClock) -> None:
    clients = people(sqlite_service, clock, "coordinator", "worker")
    case_id, task_id = new_case(sqlite_service)
    clock.advance(timedelta(days=3))
    sqlite_service.fire_due()
    clients["coordinator"].sign_in("cor")
    team = clients["coordinator"].get("/team")
    assert team.status_code == 200 and task_id in team.text and "te laat" in team.text
    moved = clients["coordinator"].post(f"/tasks/{task_id}/reassign", {"worker": "user:wim", "role": "worker",
                                                                        "reason": "Wanda is ziek", "next": "/team"})
    assert moved.status_code == 303 and moved.headers["location"] == "/team"
    assert sqlite_service.case(case_id).tasks[task_id].assignee == "user:wim"


def test_the_municipal_dashboard_and_its_csv(sqlite_service: CaseService, clock: ManualClock) -> None:
    for i in range(12):
        case_id, _ = new_case(sqlite_service, f"Client {i}")
        sqlite_service.close_case(case_id, "client_moved", actor="user:cor")
    ada = people(sqlite_service, clock, "analyst")["analyst"]
    page = ada.get("/reports?pathway=test-visits")
    assert page.status_code == 200
    assert "<svg" in page.text and 'role="img"' in page.text and "<desc" in page.text
    assert "Client 1" not in page.text
    csv = ada.get("/reports/outcomes.csv?pathway=test-visits")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith("\ufeff".encode()) and b"Uitkomstrapportage" in csv.content
    api = ada.get("/api/reports/outcomes?pathway=test-visits")
    assert api.status_code == 200 and api.json()["municipality"] == MUNICIPALITY


def test_administration_of_accounts_and_tokens(sqlite_service: CaseService, clock: ManualClock) -> None:
    adam = people(sqlite_service, clock, "admin")["admin"]
    form = adam.get("/admin/users/new").text
    assert '<select id="organisation" name="organisation"' in form and '>AMW Test</option>' in form
    typed = adam.post("/admin/users/new", {"username": "nina", "display_name": "Nina", "role": "worker",
                                           "organisation": "AMW Tset", "teams": TEAM_A, "pathway_roles": "worker",
                                           "active": "true"})
    assert "Kies een organisatie uit de lijst" in typed.text and "Account nina aangemaakt." not in typed.text
    made = adam.post("/admin/users/new", {"username": "nina", "display_name": "Nina", "role": "worker",
                                          "organisation": "AMW Test", "teams": TEAM_A, "pathway_roles": "worker",
                                          "active": "true"})
    assert made.status_code == 200 and "Account nina aangemaakt." in made.text
    temporary = re.search(r'id="temporary-password-value">([^<]+)<', made.text)
    assert temporary is not None  # made by carepath, shown once; the administrator never picks it
    user_url = re.search(r'action="(/admin/users/\d+)"', made.text)
    assert user_url is not None and temporary.group(1) not in adam.get(user_url.group(1)).text
    assert adam.post(f"{user_url.group(1)}/tokens", {"name": "stiekem"}).status_code in (404, 405)
    nina = WebClient(adam.http.app)  # type: ignore[arg-type]
    assert nina.sign_in("nina", temporary.group(1)).headers["location"] == "/account"
    nina.refresh_csrf()
    new = "paars konijn fietst naar zee"
    assert nina.post("/account/password", {"current": temporary.group(1), "new": new, "repeat": new}).status_code == 303
    nina.refresh_csrf()
    token_page = nina.post("/account/tokens", {"name": "koppeling woningcorporatie"})
    token = re.search(r'id="token-value">(cpt_[^<]+)<', token_page.text)
    assert token is not None
    me = nina.http.get("/api/me", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert me.json()["username"] == "nina"
    assert token.group(1) not in nina.get("/account").text  # shown once only
    assert "koppeling woningcorporatie" in adam.get(user_url.group(1)).text  # the administrator sees and may revoke it


def test_english_is_available(sqlite_service: CaseService, clock: ManualClock) -> None:
    wanda = people(sqlite_service, clock, "worker")["worker"]
    switched = wanda.post("/language", {"language": "en", "next": "/work"})
    assert switched.status_code == 303
    page = wanda.get("/work")
    assert '<html lang="en">' in page.text and "My work" in page.text and "Mijn werk" not in page.text


def test_the_inbox_shows_a_workers_messages_and_marks_them_read(sqlite_service: CaseService,
                                                                  clock: ManualClock) -> None:
    from integrations.db.engine_factory import write_session
    from integrations.runtime.models import InboxMessageRow

    wanda = people(sqlite_service, clock, "worker")["worker"]
    case_id, task_id = new_case(sqlite_service)
    other_case, _ = new_case(sqlite_service, "Els")
    with write_session(sqlite_service.db) as session:
        for n, (to_worker, to_role, team, subject) in enumerate([
            ("user:wanda", None, TEAM_A, "Herinnering: Intake"),
            (None, "worker", TEAM_A, "Nieuwe taak voor je rol"),
            (None, "worker", "team-b", "Niet voor team A"),
            ("user:wim", None, TEAM_A, "Voor Wim"),
        ]):
            session.add(InboxMessageRow(id=f"{case_id}.m{n + 90}", case_id=case_id if n < 3 else other_case,
                                        task_id=task_id, pathway_id="test-visits", team=team, to_role=to_role,
                                        to_worker=to_worker, template="task_reminder", subject=subject, body="Zie de taak.",
                                        link=None, created_at=clock.now(), delivered_at=clock.now(), read_at=None))
    work = wanda.get("/work")
    assert re.search(r'id="count-unread">2<', work.text)
    page = wanda.get("/inbox")
    assert "Herinnering: Intake" in page.text and "Nieuwe taak voor je rol" in page.text
    assert "Niet voor team A" not in page.text and "Voor Wim" not in page.text
    opened = wanda.post(f"/inbox/{case_id}.m90/read", {"next": f"/tasks/{task_id}"})
    assert opened.status_code == 303 and opened.headers["location"] == f"/tasks/{task_id}"
    assert re.search(r'id="count-unread">1<', wanda.get("/work").text)
    assert wanda.post("/inbox/read-all").status_code == 303
    assert re.search(r'id="count-unread">0<', wanda.get("/work").text)
    assert wanda.post(f"/inbox/{case_id}.m92/read").status_code == 303  # another team's: nothing happens
