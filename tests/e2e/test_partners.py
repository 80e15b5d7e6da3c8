"""Partners in the loop, in a real browser: a worker sends referrals; the credit bank answers from
its own account and the housing corporation through the single-use e-mail links, each first
accepting and later reporting the outcome, and the case moves on; a second case's referral gets
no answer and escalates on the fake clock; the coordinator runs the partner meeting from the
generated agenda and records a decision on the case."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.clock import ManualClock
from tests.e2e.conftest import NOW, Site, console_errors, sign_in
from tests.e2e.test_browser import UNLABELLED

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def partner_site(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[tuple[Site, Path]]:
    from integrations.service import build_service
    from web.app import create_app
    from web.demo import seed
    from web.testing import cheap_password_hashing, live_server

    data = tmp_path_factory.mktemp("carepath-e2e-partners")
    clock = ManualClock(NOW)
    service = build_service(f"sqlite:///{data / 'carepath.db'}", clock, data_dir=data)
    cheap_password_hashing()
    seed(service, cases=24)
    with live_server(create_app(service)) as url:
        yield Site(url, service, clock), data


def _deliver(site: Site, data: Path) -> None:
    """The runtime's dispatch (no SMTP: e-mails are kept as files in <data>/mail)."""
    from integrations.runtime.config import RuntimeConfig
    from integrations.runtime.directory import ConfigDirectory
    from integrations.runtime.dispatch import Dispatcher

    config = RuntimeConfig(base_url="http://base.invalid", webhook_sink=True)
    site.clock.advance(timedelta(minutes=5))
    Dispatcher(site.service, config, ConfigDirectory(config), data).dispatch_once()


def _link_for(data: Path, case_id: str, seen: set[str], title: str) -> str:
    """The newest link e-mailed about referral `title` of `case_id` that was not used yet in this test."""
    found = []
    for path in sorted((data / "mail").glob(f"{case_id}.*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if title not in str(message["Subject"]):
            continue
        body = message.get_body()
        match = re.search(r"http://base\.invalid(/verwijzing/[\w-]+)", body.get_content() if body else "")
        if match and match.group(1) not in seen:
            found.append(match.group(1))
    assert found, f"no referral link e-mail for {case_id}"
    seen.add(found[-1])
    return found[-1]


def _new_case(site: Site, name: str) -> tuple[str, str]:
    started = site.service.start_case(
        "eviction-prevention", "rent_arrears",
        {"signal_type": "rent", "tenant_name": name, "address": "Molenweg 4, 9981 Uithuizen", "arrears_amount": 1200.0,
         "arrears_months": 2, "signal_date": "2026-11-20", "reminder_sent": True},
        actor="user:carla", team="noord-groningen", municipality="GM1966")
    return started.case_id, started.opened_tasks[0]


def _worker_sends_referrals(page: Any, site: Site, case_id: str, task_id: str, partners: list[str]) -> None:
    page.goto(f"{site.url}/tasks/{task_id}")
    page.locator("#f-contact_result-wrap").get_by_label("Huurder gesproken").check()
    page.locator("#f-help_accepted-wrap").get_by_label("Ja").check()
    for label in partners:
        page.locator("#f-partner_consent-wrap").get_by_label(label).check()
    page.get_by_role("button", name="Afronden").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}$"))
    for call in [f"{p} gebeld vanaf de voordeur" for p in partners]:
        page.locator("#open-tasks").get_by_role("link", name=call).click()
        page.locator("#f-reached-wrap").get_by_label("Ja").check()
        page.get_by_role("button", name="Afronden").click()
        page.wait_for_url(re.compile(f"/cases/{case_id}$"))
    badges = page.locator("#referral-list .badge").all_inner_texts()
    assert badges == ["Verstuurd"] * len(partners), badges


def test_referrals_come_back_escalate_and_reach_the_partner_meeting(partner_site: tuple[Site, Path],
                                                                     browser: Any) -> None:
    site, data = partner_site
    case_id, first_task = _new_case(site, "Hanneke Brouwer")
    silent_id, silent_task = _new_case(site, "Gerrit Postma")
    contexts = [browser.new_context(viewport={"width": 1366, "height": 900}, locale="nl-NL",
                                    timezone_id="Europe/Amsterdam") for _ in range(4)]
    anna, bank, visitor, carla = (c.new_page() for c in contexts)
    errors = [console_errors(p) for p in (anna, bank, visitor, carla)]
    try:
        # 1. The worker sends referrals to the credit bank and the housing corporation.
        sign_in(anna, site, "anna")
        _worker_sends_referrals(anna, site, case_id, first_task, ["Kredietbank", "Woningcorporatie"])
        _worker_sends_referrals(anna, site, silent_id, silent_task, ["Kredietbank"])
        state = site.service.case(case_id)
        by_step = {r["step_id"]: task for task, r in state.referrals.items()}

        # 2. The credit bank answers from its own account: it sees its referrals only, accepts.
        sign_in(bank, site, "kredietbank")
        bank.goto(f"{site.url}/verwijzingen")
        table = bank.locator("#referrals-table").inner_text()
        assert case_id in table and by_step["request_payment_plan"] not in table
        bank.locator(f"#refrow-{by_step['request_debt_help'].replace('.', '-')}").get_by_role("link").click()
        bank.wait_for_url(re.compile(r"/verwijzingen/.+$"))
        assert "Hanneke Brouwer" in bank.locator("#shared-data").inner_text()
        assert bank.evaluate(UNLABELLED) == []
        bank.get_by_label("Geaccepteerd").check()
        bank.get_by_role("button", name="Antwoord versturen").click()
        bank.wait_for_url(re.compile(r"/verwijzingen$"))
        assert "Geaccepteerd" in bank.locator(".flash").inner_text()

        # 3. The housing corporation has no account: it answers through the e-mailed link.
        _deliver(site, data)
        seen: set[str] = set()
        plan = "Betalingsregeling aanvragen bij de woningcorporatie"
        link = _link_for(data, case_id, seen, plan)
        visitor.goto(site.url + link)
        assert "Betalingsregeling aanvragen bij de woningcorporatie" in visitor.locator("h1").inner_text()
        visitor.get_by_label("Geaccepteerd").check()
        visitor.get_by_role("button", name="Antwoord versturen").click()
        assert "vastgelegd: Geaccepteerd" in visitor.locator("#referral-done").inner_text()
        visitor.goto(site.url + link)
        assert visitor.locator("h1").inner_text() == "Niet gevonden"  # single use

        # 4. Later both report the outcome; the tracks close and the case moves on.
        site.clock.advance(timedelta(hours=2))
        sign_in(bank, site, "kredietbank")
        bank.goto(f"{site.url}/verwijzingen/{by_step['request_debt_help']}")
        bank.get_by_label("Afgerond").check()
        bank.locator("#f-answer-debt_help_started-wrap").get_by_label("Ja").check()
        bank.get_by_role("button", name="Antwoord versturen").click()
        bank.wait_for_url(re.compile(r"/verwijzingen$"))
        _deliver(site, data)
        outcome_link = _link_for(data, case_id, seen, plan)
        visitor.goto(site.url + outcome_link)
        visitor.get_by_label("Afgerond").check()
        visitor.locator("#f-answer-payment_plan_agreed-wrap").get_by_label("Ja").check()
        visitor.locator("#f-answer-collection_paused-wrap").get_by_label("Ja").check()
        visitor.get_by_role("button", name="Antwoord versturen").click()
        assert "vastgelegd: Afgerond" in visitor.locator("#referral-done").inner_text()
        sign_in(anna, site, "anna")
        anna.goto(f"{site.url}/cases/{case_id}")
        assert anna.locator("#referral-list .badge").all_inner_texts() == ["Afgerond", "Afgerond"]
        assert "Totaalafspraak met de huurder" in anna.locator("#open-tasks").inner_text()

        # 5. The second case's referral gets no answer: partner, then worker, then coordinator.
        silent = site.service.case(silent_id)
        (silent_ref,) = silent.referrals
        due = silent.tasks[silent_ref].due_at
        site.clock.advance(due - site.clock.now() + timedelta(days=4))
        site.service.fire_due()
        escalated = site.service.case(silent_id).tasks[silent_ref]
        assert escalated.reminders_sent == 1 and escalated.escalation_level == 2
        sign_in(anna, site, "anna")
        anna.goto(f"{site.url}/cases/{silent_id}")
        assert "escalatie 2" in anna.locator("#open-tasks").inner_text()

        # 6. The coordinator runs the partner meeting from the generated agenda.
        sign_in(carla, site, "carla")
        carla.goto(f"{site.url}/overleg")
        carla.get_by_role("button", name="Overleg starten").first.click()
        carla.wait_for_url(re.compile(r"/overleg/\d+$"))
        assert carla.evaluate(UNLABELLED) == []
        overdue = carla.locator("#section-overdue").inner_text()
        assert silent_id in overdue and "Gerrit" not in carla.content() and "Postma" not in carla.content()
        row = carla.locator(f"#case-{silent_id}-overdue")
        row.get_by_label("Besluit").fill("Coördinator belt de Kredietbank; terug op de agenda")
        row.get_by_role("button", name="Besluit vastleggen").click()
        carla.wait_for_url(re.compile(r"/overleg/\d+"))
        assert "Besluit vastgelegd" in carla.locator(".flash").inner_text()
        carla.goto(f"{site.url}/cases/{silent_id}")
        assert "Coördinator belt de Kredietbank" in carla.content()
        assert all(found == [] for found in errors), errors
    finally:
        for made in contexts:
            made.close()
