"""The case timeline: what comes on top, then newest first, grouped per day, with four filters."""

from __future__ import annotations

import re
from datetime import timedelta

from engine.clock import ManualClock
from integrations.service import CaseService
from tests.integration.test_web_pages import new_case, people
from web.dutch import amount, long_date, plural


def _days(html: str) -> list[str]:
    part = html.split('id="timeline"', 1)[1]
    return re.findall(r'<h3 class="timeline-day"><time datetime="([\d-]+)">', part)


def test_newest_first_per_day_with_filters(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    case_id, task_id = new_case(service)  # Monday 2 March 2026
    clock.advance(timedelta(days=1))
    service.complete_task(task_id, {"outcome": "help", "problems": ["debts"]}, actor="user:wanda")
    clock.advance(timedelta(days=1))
    wanda.sign_in("wanda")  # the session idled out over the two days
    wanda.post(f"/cases/{case_id}/journal", {"kind": "telefoongesprek", "text": "Schuldeiser gebeld."})
    page = wanda.get(f"/cases/{case_id}").text
    assert _days(page) == ["2026-03-04", "2026-03-03", "2026-03-02"]
    assert "woensdag 4 maart 2026" in page
    # what comes is above what happened
    assert page.index('id="upcoming"') < page.index('id="timeline"')
    assert "Uiterlijk: Gesprek over schulden" in page.split('id="timeline"')[0]
    tasks_only = wanda.get(f"/cases/{case_id}?tijdlijn=taken").text.split('id="timeline"', 1)[1]
    assert "Afgerond: Intake" in tasks_only and "Schuldeiser gebeld." not in tasks_only
    journal_only = wanda.get(f"/cases/{case_id}?tijdlijn=journaal").text.split('id="timeline"', 1)[1]
    assert "Schuldeiser gebeld." in journal_only and "Afgerond: Intake" not in journal_only
    decisions = wanda.get(f"/cases/{case_id}?tijdlijn=besluiten").text.split('id="timeline"', 1)[1]
    assert "Zaak gestart" in decisions and "Probleemgebied gestart: Schulden" in decisions
    assert "Niets in deze selectie." in wanda.get(f"/cases/{case_id}?tijdlijn=berichten").text
    assert wanda.get(f"/cases/{case_id}?tijdlijn=roddels").status_code == 400


def test_dutch_dates_amounts_and_plurals() -> None:
    from datetime import date

    assert long_date(date(2026, 12, 4)) == "4 december 2026"
    assert long_date(date(2026, 12, 4), weekday=True) == "vrijdag 4 december 2026"
    assert amount(1234.56) == "€ 1.234,56" and amount(-5) == "-€ 5,00" and amount(1_000_000) == "€ 1.000.000,00"
    assert amount(0.005) == "€ 0,01"
    assert plural(1, "taak", "taken") == "1 taak" and plural(0, "taak", "taken") == "0 taken"
