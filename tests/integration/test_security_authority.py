"""Issue #9, "Ownership and authority", sign-in and the processing log: each attack that found a hole,
played again, and shown to fail now. Ownership runs on SQLite and PostgreSQL; the rest on SQLite.

The attackers are the standard test people (`web/testing.py`): a coordinator of "AMW Test" (cor),
a coordinator of another organisation (cora, "AMW Elders"), workers, the administrator (adam).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from engine.clock import ManualClock
from engine.errors import ValidationError
from integrations.db import accounts, ownership, processing_log, signin_throttle
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import AuditLogRow
from integrations.service import CaseService
from tests.fixtures.visits_pathway import visits_source
from tests.integration.conftest import empty_tables, make_service
from web.app import create_app
from web.testing import (
    MUNICIPALITY,
    PASSWORD,
    PEOPLE,
    TEAM_A,
    TEAM_B,
    Person,
    WebClient,
    cheap_password_hashing,
    standard_accounts,
)

OTHER_COORDINATOR = Person("cora", AccountRole.COORDINATOR, (TEAM_B,), ("coordinator",), organisation="AMW Elders")
ROLELESS = Person("rik", AccountRole.WORKER, (TEAM_A,), ("manager",))
CAST = {**PEOPLE, "other_coordinator": OTHER_COORDINATOR, "roleless": ROLELESS}


@pytest.fixture
def sqlite_service(sqlite_database: tuple[str, Engine], clock: ManualClock, data_dir: Path) -> CaseService:
    empty_tables(sqlite_database[1])
    return make_service(*sqlite_database, clock, data_dir)


class World:
    def __init__(self, service: CaseService, clock: ManualClock) -> None:
        cheap_password_hashing()
        self.service, self.clock = service, clock
        self.people = standard_accounts(service.db, clock.now(), CAST)
        self.app = create_app(service)
        with write_session(service.db) as session:  # the test pathway belongs to team A's organisation
            ownership.set_owner(session, "test-visits", "AMW Test", clock.now(), "test")

    def client(self, key: str) -> WebClient:
        client = WebClient(self.app)
        assert client.sign_in(self.people[key].username).status_code == 303
        return client

    def bearer(self, key: str, **scope: Any) -> dict[str, str]:
        with write_session(self.service.db) as session:
            secret, _ = accounts.create_token(session, self.people[key].id, "test", self.clock.now(), **scope)
        return {"Authorization": f"Bearer {secret}"}

    def api(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> Any:
        return WebClient(self.app).http.request(method, url, headers=headers, **kwargs)

    def new_case(self, name: str = "Jan Jansen", team: str = TEAM_A) -> tuple[str, str]:
        started = self.service.start_case("test-visits", "signal", {"client_name": name, "concern": "huur"},
                                          actor="user:cor", team=team, municipality=MUNICIPALITY)
        return started.case_id, started.opened_tasks[0]

    def audit_rows(self) -> list[AuditLogRow]:
        with read_session(self.service.db) as session:
            return list(session.execute(select(AuditLogRow).order_by(AuditLogRow.id)).scalars())


@pytest.fixture
def world(service: CaseService, clock: ManualClock) -> World:
    return World(service, clock)


@pytest.fixture
def sqlite_world(sqlite_service: CaseService, clock: ManualClock) -> World:
    return World(sqlite_service, clock)


# --- pathways belong to an organisation; carepath numbers the versions -------------------------------


def test_a_coordinator_of_another_organisation_cannot_publish_the_owners_pathway(world: World) -> None:
    attacker = world.bearer("other_coordinator")
    hijack = world.api("POST", "/api/pathways", attacker, json={"source": visits_source(2, intake_title="Kaping")})
    assert hijack.status_code == 403 and "is van AMW Test" in hijack.json()["error"]["message"]
    editor = world.client("other_coordinator").post("/pathways/editor", {
        "action": "publish", "source": visits_source(2, intake_title="Kaping"), "name": "visits.yaml"})
    assert editor.status_code == 403 and "kopieer het onder een eigen id" in editor.text
    with read_session(world.service.db) as session:
        assert world.service.catalog.latest_version(session, "test-visits") == 1
    case_id, _ = world.new_case()  # the owner's cases still start on the owner's version
    assert world.service.case(case_id).pathway_version == 1


def test_a_version_number_in_the_text_can_never_block_the_owner(world: World) -> None:
    owner = world.bearer("coordinator")
    for huge in ("9223372036854775807", str(2**64 + 1)):  # (a 5,000-digit number is the input checks' part)
        text = visits_source(1, intake_title="Intake groot").replace("\nversion: 1\n", f"\nversion: {huge}\n", 1)
        answer = world.api("POST", "/api/pathways", owner, json={"source": text})
        assert answer.status_code in (201, 422), answer.text  # numbered by carepath, or refused: never a 500
    first = world.api("POST", "/api/pathways", owner, json={"source": visits_source(7, intake_title="Intake 2")})
    assert first.status_code == 201 and first.json()["version"] in (2, 3)  # the next number, not 7
    number = first.json()["version"]
    again = world.api("POST", "/api/pathways", owner, json={"source": visits_source(1, intake_title="Intake 2")})
    assert again.json() == {"pathway_id": "test-visits", "version": number, "new": False}  # same text: nothing new
    with read_session(world.service.db) as session:
        stored = ownership.latest(session, "test-visits")
    assert stored is not None and f"\nversion: {number}\n" in stored.source
    assert world.service.catalog.lookup("test-visits", number).pathway.steps[0].title == "Intake 2"


def test_others_copy_a_pathway_under_an_id_of_their_own(sqlite_world: World) -> None:
    cora = sqlite_world.client("other_coordinator")
    editor = cora.get("/pathways/editor?from=test-visits")
    assert "Je bewerkt een kopie met een eigen id: test-visits-amw-elders" in editor.text
    source = re.search(r'<textarea[^>]*name="source"[^>]*>(.*?)</textarea>', editor.text, re.S)
    assert source is not None and "id: test-visits-amw-elders" in source.group(1)
    copy = visits_source(1).replace("id: test-visits\n", "id: test-visits-amw-elders\n", 1)
    published = cora.post("/pathways/editor", {"action": "publish", "source": copy, "name": "kopie.yaml"})
    assert published.status_code == 303
    with read_session(sqlite_world.service.db) as session:
        assert ownership.owners(session)["test-visits-amw-elders"] == "AMW Elders"


def test_a_coordinators_organisation_is_that_of_their_teams(sqlite_world: World) -> None:
    with write_session(sqlite_world.service.db) as session, pytest.raises(ValidationError, match="organisatie"):
        accounts.create_account(session, username="mallory", display_name="M", password=PASSWORD,
                                role=AccountRole.COORDINATOR, organisation="AMW Elders", now=sqlite_world.clock.now(),
                                teams=[TEAM_A], pathway_roles=["coordinator"])
    adam = sqlite_world.client("admin")
    made = adam.post("/admin/users/new", {"username": "mallory", "role": "coordinator", "teams": TEAM_A,
                                          "organisation": "Verzonnen BV"})
    assert made.status_code == 422 and "Kies een organisatie uit de lijst" in made.text


# --- tokens: made by their holder, audited with their own id, scoped ----------------------------------


def test_an_administrator_cannot_mint_a_token_for_someone_else(sqlite_world: World) -> None:
    adam = sqlite_world.client("admin")
    wanda_id = sqlite_world.people["worker"].id
    assert adam.post(f"/admin/users/{wanda_id}/tokens", {"name": "stiekem"}).status_code in (404, 405)
    assert "Token maken" not in adam.get(f"/admin/users/{wanda_id}").text
    made = adam.post("/account/tokens", {"name": "eigen"})  # the administrator's own token is their own
    assert made.status_code == 200
    with read_session(sqlite_world.service.db) as session:
        assert accounts.list_tokens(session, wanda_id) == []


def test_every_api_call_is_audited_with_its_token_id(sqlite_world: World) -> None:
    wanda = sqlite_world.client("worker")
    created = wanda.post("/account/tokens", {"name": "koppeling"})
    secret = re.search(r'<code id="token-value">([^<]+)</code>', created.text)
    assert secret is not None
    with read_session(sqlite_world.service.db) as session:
        token = accounts.list_tokens(session, sqlite_world.people["worker"].id)[0]
    case_id, _ = sqlite_world.new_case()
    read = sqlite_world.api("GET", f"/api/cases/{case_id}", {"Authorization": f"Bearer {secret.group(1)}"})
    assert read.status_code == 200
    entry = [r for r in sqlite_world.audit_rows() if r.case_id == case_id][-1]
    assert (entry.who, entry.token_id) == ("user:wanda", token.id)
    page = wanda.get(f"/cases/{case_id}")
    assert page.status_code == 200 and sqlite_world.audit_rows()[-1].token_id is None  # a session: no token


def test_a_token_limited_to_operations_does_nothing_else(sqlite_world: World) -> None:
    reports_only = sqlite_world.bearer("coordinator", operations=["pathways.read"])
    assert sqlite_world.api("GET", "/api/pathways", reports_only).status_code == 200
    assert sqlite_world.api("GET", "/api/me", reports_only).status_code == 200
    refused = sqlite_world.api("GET", "/api/cases", reports_only)
    assert refused.status_code == 403 and "niet bedoeld voor deze handeling (cases.read)" in refused.text
    case_id, _ = sqlite_world.new_case()
    assert sqlite_world.api("POST", f"/api/cases/{case_id}/suspend", reports_only,
                            json={"reason": "x"}).status_code == 403


def test_a_partner_system_never_sees_the_teams_cases(sqlite_world: World) -> None:
    with write_session(sqlite_world.service.db) as session:
        partner = accounts.create_account(
            session, username="woonstede", display_name="Woonstede (koppeling)", password=PASSWORD,
            role=AccountRole.WORKER, organisation="AMW Test", now=sqlite_world.clock.now(), teams=[TEAM_A],
            pathway_roles=["worker"], system=True)
        secret, token = accounts.create_token(session, partner.id, "koppeling", sqlite_world.clock.now())
    assert token.partner_organisation == "AMW Test"  # a system account's token is always partner-limited
    headers = {"Authorization": f"Bearer {secret}"}
    case_id, task_id = sqlite_world.new_case(name="Geheime Naam")
    for method, url in (("GET", "/api/cases"), ("GET", f"/api/cases/{case_id}"),
                        ("GET", f"/api/cases/{case_id}/history"), ("GET", "/api/team/caseload")):
        answer = sqlite_world.api(method, url, headers)
        assert answer.status_code in (403, 404) and "Geheime Naam" not in answer.text, url
    work = sqlite_world.api("GET", "/api/tasks", headers)
    assert work.status_code == 200 and work.json() == {"mine": [], "queue": []}  # only partner requests
    assert sqlite_world.api("GET", f"/api/tasks/{task_id}", headers).status_code == 404
    assert sqlite_world.api("POST", f"/api/tasks/{task_id}/complete", headers,
                            json={"data": {}}).status_code == 404
    pages = WebClient(sqlite_world.app)
    assert pages.sign_in("woonstede").status_code == 303
    assert pages.get("/cases").status_code == 403  # and no pages: a system account uses the API


# --- one rule for the personal data of a closed case -------------------------------------------------


def test_a_closed_cases_personal_data_needs_a_recorded_reason_everywhere(sqlite_world: World) -> None:
    case_id, task_id = sqlite_world.new_case(name="Fatma Yilmaz")
    sqlite_world.service.close_case(case_id, "client_moved", actor="user:cor")
    token = sqlite_world.bearer("worker")
    hidden = sqlite_world.api("GET", f"/api/cases/{case_id}", token)
    assert hidden.status_code == 200 and hidden.json()["personal_data_hidden"] is True
    assert "Fatma Yilmaz" not in hidden.text and "client_name" not in hidden.json()["data"]
    no_reason = sqlite_world.api("POST", f"/api/cases/{case_id}/reveal", token, json={"reason": " "})
    assert no_reason.status_code == 422 and "Fatma Yilmaz" not in no_reason.text
    shown = sqlite_world.api("POST", f"/api/cases/{case_id}/reveal", token, json={"reason": "klacht van de cliënt"})
    assert shown.json()["data"]["client_name"] == "Fatma Yilmaz" and shown.json()["personal_data_hidden"] is False
    assert sqlite_world.audit_rows()[-1].why == "klacht van de cliënt"
    task_page = sqlite_world.client("worker").get(f"/tasks/{task_id}")
    assert task_page.status_code == 200 and "Fatma Yilmaz" not in task_page.text and "personal-hidden" in task_page.text
    task_api = sqlite_world.api("GET", f"/api/tasks/{task_id}", token)
    assert task_api.status_code == 200 and "Fatma Yilmaz" not in task_api.text


# --- completing a task: who may, before what the form holds ------------------------------------------


def test_a_stranger_learns_nothing_about_a_form(sqlite_world: World) -> None:
    _case_id, task_id = sqlite_world.new_case()
    bad_form = {"data": {"nonsense": 1}}  # today's 422 would list the form's own fields
    roleless = sqlite_world.api("POST", f"/api/tasks/{task_id}/complete", sqlite_world.bearer("roleless"),
                                json=bad_form)
    assert roleless.status_code == 403 and "outcome" not in roleless.text
    other_team = sqlite_world.api("POST", f"/api/tasks/{task_id}/complete", sqlite_world.bearer("other_worker"),
                                  json=bad_form)
    assert other_team.status_code == 404 and "outcome" not in other_team.text
    sqlite_world.service.claim(task_id, "user:wanda")
    colleague = sqlite_world.api("POST", f"/api/tasks/{task_id}/complete", sqlite_world.bearer("worker2"),
                                 json=bad_form)
    assert colleague.status_code == 409 and "outcome" not in colleague.text
    page = sqlite_world.client("roleless").post(f"/tasks/{task_id}/complete", {"nonsense": "1"})
    assert page.status_code == 403
    owner = sqlite_world.api("POST", f"/api/tasks/{task_id}/complete", sqlite_world.bearer("worker"), json=bad_form)
    assert owner.status_code == 422 and "outcome" in owner.text  # the one who may complete it hears why


# --- passwords: the holder's own, strong, an administrator's only temporary --------------------------


def test_a_password_an_administrator_sets_is_temporary(sqlite_world: World) -> None:
    adam = sqlite_world.client("admin")
    wanda_id = sqlite_world.people["worker"].id
    reset = adam.post(f"/admin/users/{wanda_id}/password", {"password": "the admin's choice"})
    temporary = re.search(r'<code id="temporary-password-value">([^<]+)</code>', reset.text)
    assert reset.status_code == 200 and temporary is not None
    wanda = WebClient(sqlite_world.app)
    signed_in = wanda.sign_in("wanda", temporary.group(1))
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account"
    forced = wanda.get("/work")
    assert forced.status_code == 303 and forced.headers["location"] == "/account"
    assert wanda.api("GET", "/api/tasks").status_code == 403
    weak = wanda.post("/account/password", {"current": temporary.group(1), "new": "Wachtwoord123",
                                            "repeat": "Wachtwoord123"})
    assert weak.status_code == 422 and "Dit wachtwoord is te zwak" in weak.text
    new = "paars konijn fietst naar zee"
    changed = wanda.post("/account/password", {"current": temporary.group(1), "new": new, "repeat": new})
    assert changed.status_code == 303 and changed.headers["location"] == "/work"
    assert wanda.get("/work").status_code == 200


@pytest.mark.parametrize("password", ["Wachtwoord123", "welkom01welkom", "qwertyuiop12", "wanda2026wanda",
                                      "Rotterdam2026"])
def test_common_passwords_are_refused_in_dutch(password: str) -> None:
    with pytest.raises(ValidationError, match=r"te zwak|gebruikersnaam"):
        accounts.check_password_rules(password, "wanda")


# --- signing in: no hashing inside a transaction, delays instead of a lock -------------------------


def test_the_password_is_checked_with_no_database_connection_held(sqlite_world: World,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    db = sqlite_world.service.db
    held: list[int] = []
    real = accounts.verify_hash

    def watching(password_hash: str | None, password: str) -> bool:
        held.append(db.pool.checkedout())  # type: ignore[attr-defined]
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "verify_hash", watching)
    assert WebClient(sqlite_world.app).sign_in("wanda", "wrong guess").status_code == 401
    assert WebClient(sqlite_world.app).sign_in("wanda").status_code == 303
    assert held == [0, 0]


def test_nobody_can_lock_anyone_out(sqlite_world: World) -> None:
    """Guessing from many addresses slows the account down a minute at most; one address slows down a lot."""
    policy = signin_throttle.ThrottlePolicy()
    now = sqlite_world.clock.now()
    with write_session(sqlite_world.service.db) as session:
        for attempt in range(40):
            signin_throttle.record_failure(session, f"10.0.0.{attempt}", "adam", now, policy)
        for _ in range(40):
            signin_throttle.record_failure(session, "192.0.2.66", f"name{_}", now, policy)
    with read_session(sqlite_world.service.db) as session:
        account_wait = signin_throttle.wait_needed(session, [signin_throttle.account_key("adam")], now)
        source_wait = signin_throttle.wait_needed(session, [signin_throttle.source_key("192.0.2.66")], now)
    assert account_wait is not None and account_wait <= timedelta(seconds=60)
    assert source_wait == timedelta(minutes=15)
    sqlite_world.clock.advance(timedelta(seconds=61))
    assert WebClient(sqlite_world.app).sign_in("adam").status_code == 303


# --- the processing log (Logboek Dataverwerkingen) ---------------------------------------------------


def test_audit_entries_follow_the_processing_log_standard_and_export(sqlite_world: World) -> None:
    case_id, _ = sqlite_world.new_case()
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    token = sqlite_world.bearer("worker")
    answer = sqlite_world.api("GET", f"/api/cases/{case_id}", {**token, "traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
    assert answer.headers["traceparent"].startswith(f"00-{trace}-")
    entry = sqlite_world.audit_rows()[-1]
    assert (entry.trace_id, entry.activity, entry.operation, entry.status) == (trace, "casusinzage", "read", "ok")
    day = sqlite_world.clock.now().date().isoformat()
    refused = sqlite_world.api("GET", f"/api/audit/export?start={day}&end={day}", token)
    assert refused.status_code == 403
    export = sqlite_world.api("GET", f"/api/audit/export?start={day}&end={day}&case_id={case_id}",
                              sqlite_world.bearer("admin"))
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    mine = next(line for line in lines if line["trace_id"] == trace)
    assert mine["name"] == "read" and mine["status_code"] == "OK" and mine["resource"]["object"] == f"zaak/{case_id}"
    assert mine["attributes"]["dpl.core.processing_activity_id"] == "casusinzage"
    assert mine["attributes"]["dpl.core.data_subject_id"] == case_id
    assert "Jan Jansen" not in export.text  # the log names cases, never clients
    assert sqlite_world.audit_rows()[-1].action == "export"  # exporting is itself logged
    csv_export = sqlite_world.api("GET", f"/api/audit/export?start={day}&end={day}&format=csv",
                                  sqlite_world.bearer("admin"))
    assert csv_export.text.splitlines()[0].startswith("trace_id,span_id,moment,operation,activity")
    with read_session(sqlite_world.service.db) as session:
        rows = list(processing_log.records(session, sqlite_world.clock.now() - timedelta(days=1),
                                           sqlite_world.clock.now() + timedelta(days=1)))
    assert len(rows) == len(sqlite_world.audit_rows())


def test_a_burst_of_sign_ins_builds_no_queue_of_hashes() -> None:
    """At most `per_source` sign-ins of one address and `in_all` in all wait for argon2; the rest are
    answered at once (the sign-in page says 429), so 100 at once cannot queue a minute of hashing."""
    from contextlib import ExitStack

    from web.password_work import _InFlight

    flight = _InFlight()
    with ExitStack() as stack:
        first = [stack.enter_context(flight.admit("10.0.0.1", 5, 8)) for _ in range(7)]
        assert first == [True] * 5 + [False] * 2  # one address: five at a time
        others = [stack.enter_context(flight.admit(f"10.0.1.{i}", 5, 8)) for i in range(5)]
        assert others == [True] * 3 + [False] * 2  # in all: eight at a time
    assert flight.total == 0 and flight.by_source == {}  # every admitted one is let go again
