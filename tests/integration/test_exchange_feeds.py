"""The iCalendar feed parses with `icalendar` and holds no client data; its URL can be revoked.
Notificaties webhooks validate against schemas/notificatie.schema.json; incidents can be retried
and dismissed from the screen; partner meetings put decisions on each case."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from icalendar import Calendar
from sqlalchemy import Engine, select

from engine.clock import ManualClock
from engine.errors import ValidationError
from integrations.db.engine_factory import read_session
from integrations.db.models import OutboxRow
from integrations.db.partner_tables import CalendarFeedRow  # noqa: F401 - the table, for empty_tables
from integrations.exchange.notificaties.message import check, notificatie
from integrations.runtime import incidents
from integrations.runtime.config import RuntimeConfig
from integrations.runtime.directory import ConfigDirectory
from integrations.runtime.dispatch import Dispatcher
from integrations.service import CaseService, build_service
from tests.integration.conftest import empty_tables
from web.app import create_app
from web.testing import TEAM_A, WebClient, cheap_password_hashing, standard_accounts

ROOT = Path(__file__).resolve().parents[2]
SIGNAL = {"signal_type": "rent", "tenant_name": "Geertje Wolters", "address": "Kerkstraat 7, 9981 AB Uithuizen",
          "phone": "0612345678", "email": "geertje@example.org", "arrears_amount": 980.0, "arrears_months": 3,
          "signal_date": "2026-02-27", "reminder_sent": True}


@pytest.fixture
def eviction(sqlite_database: tuple[str, Engine], clock: ManualClock, data_dir: Path) -> CaseService:
    url, engine = sqlite_database
    empty_tables(engine)
    svc = build_service(url, clock, data_dir=data_dir, db=engine, publish_shipped=False)
    path = ROOT / "pathways" / "eviction-prevention.yaml"
    svc.publish_pathway(path.read_text(encoding="utf-8"), str(path))
    return svc


def _signed_in(service: CaseService, clock: ManualClock, who: str) -> WebClient:
    cheap_password_hashing()
    made = standard_accounts(service.db, clock.now())
    client = WebClient(create_app(service))
    assert client.sign_in(made[who].username).status_code == 303
    return client


def test_the_calendar_feed_parses_and_holds_no_client_data(eviction: CaseService, clock: ManualClock) -> None:
    started = eviction.start_case("eviction-prevention", "rent_arrears", SIGNAL, actor="user:cor", team=TEAM_A,
                                  municipality="GM1966", assignments={"outreach_worker": "user:wanda"})
    wanda = _signed_in(eviction, clock, "worker")
    made = wanda.post("/agenda")
    url = made.text.split('id="feed-url">')[1].split("<")[0]
    path = url.replace("http://testserver", "")
    feed = WebClient(create_app(eviction)).get(path)  # no sign-in: the secret URL is the key
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["uid"]) for e in events] == [f"{started.opened_tasks[0]}@carepath"]
    assert str(events[0]["summary"]).startswith(started.case_id)
    text = feed.content.decode("utf-8")
    for value in SIGNAL.values():
        if isinstance(value, str) and len(value) > 3 and value not in ("rent",):
            assert value not in text, value
    assert "Wolters" not in text and "Kerkstraat" not in text and "0612345678" not in text
    assert wanda.post("/agenda/intrekken").status_code == 303
    assert WebClient(create_app(eviction)).get(path).status_code == 404


def test_webhooks_are_notificaties_with_an_idempotency_key(eviction: CaseService, clock: ManualClock,
                                                            data_dir: Path) -> None:
    started = eviction.start_case("eviction-prevention", "rent_arrears", SIGNAL, actor="user:cor", team=TEAM_A,
                                  municipality="GM1966")
    eviction.complete_task(started.opened_tasks[0], {"contact_result": "spoken", "help_accepted": True,
                                                     "partner_consent": ["credit_bank"]}, actor="user:wanda")
    task = next(t for t in eviction.case(started.case_id).open_tasks() if t.step_id == "call_credit_bank")
    eviction.complete_task(task.id, {"reached": True}, actor="user:wanda")
    clock.advance(timedelta(hours=1))
    Dispatcher(eviction, RuntimeConfig(base_url="https://carepath.test", webhook_sink=True),
               ConfigDirectory(RuntimeConfig()), data_dir).dispatch_once()
    with read_session(eviction.db) as session:
        webhooks = session.execute(select(OutboxRow).where(OutboxRow.channel == "webhook")).scalars().all()
        assert webhooks and {w.status for w in webhooks} == {"sent"}
    for row in webhooks:
        document = json.loads((data_dir / "webhooks" / f"{row.id}.json").read_text(encoding="utf-8"))
        check(document)
        assert document["id"] == row.id  # the idempotency key, also the Idempotency-Key header
        assert document["hoofdObject"] == f"https://carepath.test/fhir/CarePlan/{started.case_id}"
        assert "Wolters" not in json.dumps(document)
    request = next(json.loads((data_dir / "webhooks" / f"{r.id}.json").read_text()) for r in webhooks
                   if r.template == "partner_request")
    assert (request["kanaal"], request["resource"], request["actie"]) == ("verwijzingen", "Task", "create")
    with pytest.raises(ValidationError, match="aanmaakdatum"):
        check({**request, "aanmaakdatum": "gisteren"})
    with pytest.raises(ValidationError, match="kenmerken"):
        check({**request, "kenmerken": {"aantal": 3}})
    assert notificatie(message_id="m1", template="partner_notification", case_id="C1", pathway_id="p", task_id=None,
                       to_role=None, created_at=clock.now(), base_url="https://x.test")["resource"] == "CarePlan"


def test_coordinators_retry_and_dismiss_failed_deliveries(eviction: CaseService, clock: ManualClock,
                                                          data_dir: Path) -> None:
    started = eviction.start_case("eviction-prevention", "rent_arrears", SIGNAL, actor="user:cor", team=TEAM_A,
                                  municipality="GM1966")
    eviction.complete_task(started.opened_tasks[0], {"contact_result": "spoken", "help_accepted": False},
                           actor="user:wanda")  # -> a notify_partner webhook to the housing corporation
    clock.advance(timedelta(hours=1))
    result = Dispatcher(eviction, RuntimeConfig(), ConfigDirectory(RuntimeConfig()), data_dir).dispatch_once()
    assert result.incidents >= 1  # no endpoint and no sink: a person must look
    cor = _signed_in(eviction, clock, "coordinator")
    page = cor.get("/storingen")
    assert page.status_code == 200 and started.case_id in page.text
    with read_session(eviction.db) as session:
        (first, *rest) = incidents.list_incidents(session)
    assert cor.post(f"/storingen/{first.id}/opnieuw").status_code == 303
    for other in rest:
        assert cor.post(f"/storingen/{other.id}/afsluiten", {"note": "partner gebeld"}).status_code == 303
    with read_session(eviction.db) as session:
        assert incidents.list_incidents(session) == []
        assert session.execute(select(OutboxRow.status).where(OutboxRow.id == first.ref)).scalar_one() == "pending"
    assert _signed_in(eviction, clock, "other_worker").get("/storingen").status_code == 403


def test_the_coordinator_holds_a_partner_meeting_and_decisions_land_on_the_cases(
        eviction: CaseService, clock: ManualClock) -> None:
    started = eviction.start_case("eviction-prevention", "rent_arrears", SIGNAL, actor="user:cor", team=TEAM_A,
                                  municipality="GM1966")
    eviction.complete_task(started.opened_tasks[0], {"contact_result": "spoken", "help_accepted": True,
                                                     "partner_consent": ["credit_bank"]}, actor="user:wanda")
    task = next(t for t in eviction.case(started.case_id).open_tasks() if t.step_id == "call_credit_bank")
    eviction.complete_task(task.id, {"reached": True}, actor="user:wanda")
    clock.advance(timedelta(days=10))  # the referral is now overdue
    cor = _signed_in(eviction, clock, "coordinator")
    index = cor.get("/overleg")
    assert index.status_code == 200 and "Tweemaandelijks ketenoverleg" in index.text
    assert "Geertje" not in index.text
    started_meeting = cor.post("/overleg", {"pathway": "eviction-prevention", "team": TEAM_A,
                                            "attendees": ["credit_bank", "housing_corporation"]})
    assert started_meeting.status_code == 303
    meeting_url = started_meeting.headers["location"]
    agenda = cor.get(meeting_url)
    assert agenda.status_code == 200 and started.case_id in agenda.text and "Verwijzingen over de termijn" in agenda.text
    for personal in ("Geertje", "Wolters", "Kerkstraat", "0612345678", "geertje@example.org"):
        assert personal not in agenda.text
    decided = cor.post(f"{meeting_url}/besluit", {"case_id": started.case_id,
                                                  "decision": "Kredietbank belt de huurder deze week"})
    assert decided.status_code == 303
    events = [e for e in eviction.history(started.case_id) if e.type == "meeting_decision_recorded"]
    assert [e.data["decision"] for e in events] == ["Kredietbank belt de huurder deze week"]
    assert "Kredietbank belt de huurder deze week" in cor.get(f"/cases/{started.case_id}").text
    refused = cor.post(f"{meeting_url}/besluit", {"case_id": "NOT-ON-AGENDA", "decision": "x"})
    assert refused.status_code == 303 and "staat niet op de agenda" in unquote(refused.headers["set-cookie"])


def test_the_demo_starts_without_failed_deliveries(sqlite_database: tuple[str, Engine], clock: ManualClock,
                                                   data_dir: Path) -> None:
    from integrations.runtime.server import demo_config
    from web.demo import seed

    url, engine = sqlite_database
    empty_tables(engine)
    service = build_service(url, clock, data_dir=data_dir, db=engine)
    cheap_password_hashing()
    seed(service, cases=40, months=3)
    config = demo_config(RuntimeConfig())  # what `carepath serve --demo` runs with
    result = Dispatcher(service, config, ConfigDirectory(config), data_dir).dispatch_once()
    assert result.sent["webhook"] > 0 and result.failed == 0 and result.incidents == 0
    with read_session(service.db) as session:
        assert incidents.list_incidents(session) == []
    assert sorted((data_dir / "webhooks").glob("*.json"))
