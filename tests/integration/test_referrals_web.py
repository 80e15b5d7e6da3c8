"""Closed-loop referrals through the web app, on SQLite and PostgreSQL: the partner's own account,
the single-use e-mail link, and the worker recording a phone answer, all ending in the same event."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.clock import ManualClock
from integrations.db.accounts import AccountRole
from integrations.db.partner_tables import ReferralLinkRow  # noqa: F401 - the table, for empty_tables
from integrations.runtime.config import RuntimeConfig
from integrations.runtime.directory import ConfigDirectory
from integrations.runtime.dispatch import Dispatcher
from integrations.service import CaseService, build_service
from tests.integration.conftest import empty_tables
from web.app import create_app
from web.testing import PEOPLE, TEAM_A, WebClient, cheap_password_hashing, standard_accounts
from web.testing import Person as WebPerson

ROOT = Path(__file__).resolve().parents[2]
PARTNERS = {
    **PEOPLE,
    "kredietbank": WebPerson("kredietbank", AccountRole.PARTNER, (TEAM_A,), ("credit_bank",), organisation="Kredietbank"),
    "corporatie": WebPerson("corporatie", AccountRole.PARTNER, (TEAM_A,), ("housing_corporation",),
                            organisation="Woonbron"),
}
SIGNAL = {"signal_type": "rent", "tenant_name": "Jan Jansen", "address": "Hoofdstraat 1, 9981 AA Uithuizen",
          "email": "jan@example.org", "arrears_amount": 1450.0, "arrears_months": 2, "signal_date": "2026-02-27",
          "reminder_sent": True}


@pytest.fixture
def eviction(database: tuple[str, Engine], clock: ManualClock, data_dir: Path) -> CaseService:
    url, engine = database
    empty_tables(engine)
    svc = build_service(url, clock, data_dir=data_dir, db=engine, publish_shipped=False)
    path = ROOT / "pathways" / "eviction-prevention.yaml"
    svc.publish_pathway(path.read_text(encoding="utf-8"), str(path))
    return svc


def _clients(service: CaseService, clock: ManualClock, *names: str) -> dict[str, WebClient]:
    cheap_password_hashing()
    made = standard_accounts(service.db, clock.now(), PARTNERS)
    app = create_app(service)
    clients = {}
    for name in names:
        clients[name] = WebClient(app)
        assert clients[name].sign_in(made[name].username).status_code == 303, name
    return clients


def _to_referrals(service: CaseService, partners: list[str]) -> tuple[str, dict[str, str]]:
    """A case whose doorstep calls are done: one open referral per partner (step -> task id)."""
    started = service.start_case("eviction-prevention", "rent_arrears", SIGNAL, actor="user:cor", team=TEAM_A,
                                 municipality="GM1966", assignments={"outreach_worker": "user:wanda"})
    case_id = started.case_id
    service.complete_task(started.opened_tasks[0], {"contact_result": "spoken", "help_accepted": True,
                                                    "partner_consent": partners}, actor="user:wanda")
    calls = {"credit_bank": ("call_credit_bank", {"reached": True}),
             "housing_corporation": ("call_housing_corporation", {"reached": True})}
    for partner in partners:
        step, data = calls[partner]
        task = next(t for t in service.case(case_id).open_tasks() if t.step_id == step)
        service.complete_task(task.id, data, actor="user:wanda")
    referrals = {r["step_id"]: task_id for task_id, r in service.case(case_id).referrals.items()}
    return case_id, referrals


def test_the_partner_answers_from_its_own_account_and_sees_only_what_the_step_shares(
        eviction: CaseService, clock: ManualClock) -> None:
    clients = _clients(eviction, clock, "kredietbank", "corporatie", "worker")
    case_id, refs = _to_referrals(eviction, ["credit_bank", "housing_corporation"])
    bank, corp = clients["kredietbank"], clients["corporatie"]
    task_id = refs["request_debt_help"]

    listing = bank.get("/verwijzingen")
    assert listing.status_code == 200 and task_id in listing.text
    assert refs["request_payment_plan"] not in listing.text  # addressed to the housing corporation
    assert corp.get(f"/verwijzingen/{task_id}").status_code == 404
    assert bank.get(f"/cases/{case_id}").status_code in (403, 404)  # a partner never sees the case itself

    page = bank.get(f"/verwijzingen/{task_id}")
    assert page.status_code == 200 and "Jan Jansen" in page.text and "1450,00" in page.text
    assert "jan@example.org" not in page.text  # e-mail is not in the step's `shares`
    assert "Ontvangen" in page.text  # opening it marked it received (FHIR)

    assert bank.post(f"/verwijzingen/{task_id}", {"status": "rejected"}).status_code == 422  # no reason
    accepted = bank.post(f"/verwijzingen/{task_id}", {"status": "accepted"})
    assert accepted.status_code == 303
    incomplete = bank.post(f"/verwijzingen/{task_id}", {"status": "completed"})
    assert incomplete.status_code == 422 and "Vul dit veld in." in incomplete.text
    done = bank.post(f"/verwijzingen/{task_id}", {"status": "completed", "answer.debt_help_started": "true"})
    assert done.status_code == 303
    state = eviction.case(case_id)
    assert state.referrals[task_id]["status"] == "completed" and state.referrals[task_id]["channel"] == "account"
    assert state.tracks["credit_bank"].result == "achieved"

    case_page = clients["worker"].get(f"/cases/{case_id}")
    assert 'id="referral-list"' in case_page.text and "Afgerond" in case_page.text and "Kredietbank" in case_page.text


def test_a_partner_without_an_account_answers_through_single_use_links(
        eviction: CaseService, clock: ManualClock, data_dir: Path) -> None:
    case_id, refs = _to_referrals(eviction, ["credit_bank"])
    task_id = refs["request_debt_help"]
    dispatcher = Dispatcher(eviction, RuntimeConfig(base_url="https://carepath.test", webhook_sink=True),
                            ConfigDirectory(RuntimeConfig()), data_dir)
    clock.advance(timedelta(hours=1))
    dispatcher.dispatch_once()

    def link() -> str:
        mails = sorted((data_dir / "mail").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        links = []
        for path in mails:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body()
            text = body.get_content() if body is not None else ""
            found = re.search(r"https://carepath\.test(/verwijzing/[\w-]+)", text)
            if found:
                links.append(found.group(1))
        assert links, "no referral link e-mail"
        return links[-1]

    first = link()
    visitor = WebClient(create_app(eviction))  # nobody signed in
    page = visitor.get(first)
    assert page.status_code == 200 and "Jan Jansen" in page.text
    assert visitor.post(first, {"status": "accepted"}, csrf=False).status_code == 200
    assert visitor.get(first).status_code == 404  # single use
    assert eviction.case(case_id).referrals[task_id]["status"] == "accepted"

    clock.advance(timedelta(hours=1))
    dispatcher.dispatch_once()  # the fresh link for the outcome
    second = link()
    assert second != first
    answered = visitor.post(second, {"status": "completed", "answer.debt_help_started": "false"}, csrf=False)
    assert answered.status_code == 200 and "vastgelegd" in answered.text
    state = eviction.case(case_id)
    assert state.referrals[task_id]["channel"] == "link" and state.tracks["credit_bank"].result == "not_achieved"
    assert (data_dir / "webhooks").is_dir()  # partner_request webhooks went to the sink, not to incidents
    history = _clients(eviction, clock, "worker")["worker"].get(f"/verwijzingen/{task_id}")
    assert "link in e-mail" in history.text


def test_the_worker_records_a_phone_answer_on_behalf_of_the_partner(eviction: CaseService, clock: ManualClock) -> None:
    clients = _clients(eviction, clock, "worker", "other_worker")
    case_id, refs = _to_referrals(eviction, ["housing_corporation"])
    task_id = refs["request_payment_plan"]
    wanda = clients["worker"]
    assert clients["other_worker"].get(f"/verwijzingen/{task_id}").status_code == 404  # another team
    page = wanda.get(f"/verwijzingen/{task_id}")
    assert "namens de partner" in page.text
    done = wanda.post(f"/verwijzingen/{task_id}", {"status": "completed", "answer.payment_plan_agreed": "true",
                                                    "answer.collection_paused": "true"})
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{case_id}"
    record = eviction.case(case_id).referrals[task_id]
    assert (record["channel"], record["by"]) == ("phone", "user:wanda")
    assert "telefonisch vastgelegd namens de partner" in wanda.get(f"/cases/{case_id}").text
