"""A worker's day and a coordinator's change, walked in a real browser on demo data, with screenshots
of each screen on a laptop (1366 px) and a tablet (820 px) into docs/screenshots/ (with
CAREPATH_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from integrations.db.engine_factory import read_session
from tests.e2e.conftest import Site, console_errors, sign_in
from tests.e2e.editor_helpers import cursor_line, replace_source

pytestmark = pytest.mark.timeout(300)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TABLET = {"width": 820, "height": 1180}
LAPTOP = {"width": 1366, "height": 900}


def _target(tmp_path: Path) -> Path:
    target = SCREENSHOTS if os.environ.get("CAREPATH_UPDATE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    return target


def shoot(page: Any, target: Path, name: str) -> None:
    """The screen as it is, on a laptop and on a tablet (then back to the laptop)."""
    height = min(int(page.evaluate("document.documentElement.scrollHeight")), 2600)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": LAPTOP["width"], "height": height})
    page.set_viewport_size(TABLET)
    height = min(int(page.evaluate("document.documentElement.scrollHeight")), 3200)
    page.screenshot(path=str(target / f"{name}-tablet.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": TABLET["width"], "height": height})
    page.set_viewport_size(LAPTOP)


def test_a_workers_day(site: Site, context: Any, tmp_path: Path) -> None:
    target = _target(tmp_path)
    started = site.service.start_case(
        "eviction-prevention", "rent_arrears",
        {"signal_type": "rent", "tenant_name": "Petra Kuiper", "address": "Hoofdstraat 12, 9981 AB Uithuizen",
         "arrears_amount": 1450.0, "arrears_months": 2, "signal_date": "2026-11-20", "reminder_sent": True},
        actor="user:carla", team="noord-groningen", municipality="GM1966")
    case_id = started.case_id
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, site, "anna")
    # 1. find the client
    page.get_by_role("link", name="Cliënt zoeken").first.click()
    page.locator("#c-postcode").fill("9981 ab")
    page.locator("#c-huisnummer").fill("12")
    page.locator("#c-reden").fill("Huurder belt over de brief")
    page.locator("#client-search button[type=submit]").click()
    results = page.locator("#client-results")
    assert "Petra Kuiper" in results.inner_text()
    shoot(page, target, "client-search")
    results.get_by_role("link", name="Petra Kuiper").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}$"))
    assert "Petra Kuiper" in page.locator("#client-line").inner_text()
    # 2. write the journal
    page.select_option("#journal-new-kind", "huisbezoek")
    page.locator("#journal-new-text").fill("Aangebeld, mevrouw Kuiper was thuis. Huurachterstand besproken.")
    page.locator("#journal-new button[type=submit]").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}"))
    assert "Journaalregel opgeslagen." in page.locator(".flash").inner_text()
    page.locator("#journal-new summary").click()
    page.select_option("#journal-new-kind", "telefoongesprek")
    page.locator("#journal-new-text").fill("Kredietbank gebeld: intake volgende week.")
    page.locator("#journal-new button[type=submit]").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}"))
    assert page.locator("#journal-entries li").count() == 2
    page.locator("#journal-q").fill("kredietbank")
    page.locator(".journal-search button[type=submit]").click()
    assert page.locator("#journal-entries li").count() == 1
    # 3. an ad hoc task with a reminder
    page.goto(f"{site.url}/cases/{case_id}")
    page.locator("#add-task summary").click()
    page.locator("#adhoc-title").fill("Huisarts bellen over de medicatie")
    page.locator("#adhoc-date").fill("2026-11-25")
    page.locator("#add-task button[type=submit]").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}"))
    assert "Taak toegevoegd: Huisarts bellen over de medicatie." in page.locator(".flash").inner_text()
    assert "Huisarts bellen over de medicatie" in page.locator("#open-tasks").inner_text()
    assert "Huisbezoek" in page.locator("#timeline").inner_text()  # the journal on the timeline
    shoot(page, target, "case-journal")
    # 4. complete the doorstep visit: an answer that closes the case asks first
    page.locator("#open-tasks").get_by_role("link", name="Onaangekondigd bezoek aan de voordeur").click()
    page.wait_for_url(re.compile(r"/tasks/"))
    page.locator("#f-contact_result-wrap").get_by_label("Huurder gesproken").check()
    page.locator("#f-help_accepted-wrap").get_by_label("Ja").check()
    page.get_by_role("button", name="Afronden").click()
    confirm = page.locator("#confirm-ending")
    assert "De zaak wordt gesloten met uitkomst" in confirm.inner_text()
    shoot(page, target, "task-confirm-ending")
    page.locator("#confirm-btn").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}$"))
    assert "gesloten" in page.locator("h1").inner_text()
    assert site.service.case(case_id).status.value == "closed"
    assert errors == [], errors


def test_a_coordinators_change(site: Site, context: Any, tmp_path: Path) -> None:
    target = _target(tmp_path)
    site.service.start_case(
        "eviction-prevention", "rent_arrears",
        {"signal_type": "rent", "tenant_name": "Kees Bosma", "address": "Dorpsweg 3, 9981 CD Uithuizen",
         "arrears_amount": 980.0, "arrears_months": 2, "signal_date": "2026-11-20", "reminder_sent": True},
        actor="user:carla", team="noord-groningen", municipality="GM1966")
    page = context.new_page()
    errors = console_errors(page)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, site, "carla")
    # 1. the pathway as a diagram
    page.goto(f"{site.url}/pathways/eviction-prevention")
    drawing = page.locator("#diagram svg.diagram").first
    assert drawing.is_visible() and "Huurder gesproken" in drawing.text_content()
    shoot(page, target, "pathway-diagram")
    # 2. edit: the doorstep visit becomes "front_door_visit" with a new title
    page.goto(f"{site.url}/pathways/editor?from=eviction-prevention")
    source = page.locator("#source").input_value()
    changed = source.replace("doorstep_visit", "front_door_visit").replace(
        "title: Onaangekondigd bezoek aan de voordeur", "title: Bezoek aan de voordeur", 1)
    assert changed != source
    # a mistake first: "regel N" puts the cursor on that line of the editable text
    lines = changed.splitlines()
    wrong = next(i for i, text in enumerate(lines) if re.fullmatch(r"\s+due: \d+ working days", text))
    lines[wrong] = lines[wrong].replace("working days", "werkdagen of zo")
    replace_source(page, "\n".join(lines) + "\n")
    page.get_by_role("button", name="Controleren").click()
    page.locator("#problems .jump-to-line").first.click()
    assert cursor_line(page) == wrong + 1
    assert page.evaluate("() => document.activeElement.classList.contains('cm-content')")
    replace_source(page, changed)
    page.get_by_role("button", name="Publiceren").click()
    diff = page.locator("#publish-diff")
    assert "Stap toegevoegd" in diff.inner_text() and "Stap verwijderd" in diff.inner_text()
    assert "lopende zaken van je teams blijven op hun versie" in diff.inner_text()
    shoot(page, target, "publish-diff")
    # 3. publish after the confirmation, then migrate with a step mapping and a reason; carepath numbers
    # the version (the next after the newest published one), whatever `version:` the text says
    with read_session(site.service.db) as session:
        new_version = site.service.catalog.latest_version(session, "eviction-prevention") + 1
    page.locator("#publish-confirm-btn").click()
    page.wait_for_url(re.compile(rf"/pathways/eviction-prevention/migrate\?to={new_version}$"))
    mapping = page.locator("#step-mapping")
    assert "Onaangekondigd bezoek aan de voordeur" in mapping.inner_text()
    page.select_option("#map-doorstep_visit", "front_door_visit")
    page.get_by_role("button", name="Proefrun opnieuw berekenen").click()
    page.wait_for_url(re.compile(r"map\.doorstep_visit=front_door_visit"))
    assert "de open taak bij «Onaangekondigd bezoek aan de voordeur» vervalt" in page.locator(
        "#migration-plan").inner_text()
    page.locator("#mig-reason").fill("Stap hernoemd: bezoek aan de voordeur")
    shoot(page, target, "migrate-mapping")
    page.get_by_role("button", name="Aangevinkte zaken overzetten").click()
    page.wait_for_load_state()
    assert f"overgezet naar versie {new_version}" in page.locator(".flash").first.inner_text()
    assert errors == [], errors
