"""What people do in a browser: complete a task, lose a race to a colleague, fix and publish a
pathway, look at the municipal dashboard; plus screenshots of the main pages."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Site, console_errors, sign_in
from tests.e2e.editor_helpers import cursor_line, replace_source

pytestmark = pytest.mark.timeout(240)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def eviction_case(site: Site, name: str) -> tuple[str, str]:
    started = site.service.start_case(
        "eviction-prevention", "rent_arrears",
        {"signal_type": "rent", "tenant_name": name, "address": "Hoofdstraat 12, 9981 Uithuizen",
         "arrears_amount": 1450.0, "arrears_months": 2, "signal_date": "2026-11-20", "reminder_sent": True},
        actor="user:carla", team="noord-groningen", municipality="GM1966")
    return started.case_id, started.opened_tasks[0]


def row_id(task_id: str) -> str:
    return task_id.replace(".", "-")


def fill_doorstep_visit(page: Any) -> None:
    page.locator("#f-contact_result-wrap").get_by_label("Huurder gesproken").check()
    page.locator("#f-help_accepted-wrap").get_by_label("Ja").check()
    page.locator("#f-partner_consent-wrap").get_by_label("Kredietbank").check()
    page.locator("#f-partner_consent-wrap").get_by_label("Woningcorporatie").check()


def test_a_worker_completes_a_task_and_the_next_one_appears(site: Site, context: Any) -> None:
    case_id, task_id = eviction_case(site, "Petra Kuiper")
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, site, "anna")
    assert page.locator("html").get_attribute("lang") == "nl"
    queued = page.locator(f"#qrow-{row_id(task_id)}")
    queued.get_by_role("button", name="Oppakken").click()
    page.wait_for_url(re.compile(r"/work$"))
    assert "Taak opgepakt" in page.locator(".flash").inner_text()
    page.locator(f"#row-{row_id(task_id)}").get_by_role("link", name="Onaangekondigd bezoek aan de voordeur").click()
    page.wait_for_url(re.compile(f"/tasks/{re.escape(task_id)}$"))
    page.get_by_role("button", name="Afronden").click()  # nothing filled in yet
    assert page.locator("#f-contact_result-err").inner_text() == "Vul dit veld in."
    assert page.locator("#error-summary").is_visible()
    fill_doorstep_visit(page)
    page.get_by_role("button", name="Afronden").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}$"))
    assert "Taak afgerond: Onaangekondigd bezoek aan de voordeur." in page.locator(".flash").inner_text()
    open_tasks = page.locator("#open-tasks").inner_text()
    assert "Kredietbank gebeld vanaf de voordeur" in open_tasks
    assert "Woningcorporatie gebeld vanaf de voordeur" in open_tasks
    assert errors == [], errors


def test_two_workers_race_for_a_task_and_the_second_hears_why(site: Site, browser: Any) -> None:
    case_id, task_id = eviction_case(site, "Kees Bosma")
    anna_context = browser.new_context(viewport={"width": 1366, "height": 900})
    bram_context = browser.new_context(viewport={"width": 1024, "height": 768})  # a tablet
    try:
        anna, bram = anna_context.new_page(), bram_context.new_page()
        sign_in(anna, site, "anna")
        sign_in(bram, site, "bram")
        anna.goto(f"{site.url}/tasks/{task_id}")
        bram.goto(f"{site.url}/tasks/{task_id}")
        fill_doorstep_visit(anna)
        bram.locator("#f-contact_result-wrap").get_by_label("Niemand thuis").check()
        anna.get_by_role("button", name="Afronden").click()
        anna.wait_for_url(re.compile(f"/cases/{case_id}$"))
        bram.get_by_role("button", name="Afronden").click()
        alert = bram.locator("#conflict")
        assert "Een collega was je voor" in alert.inner_text()
        assert "Anna de Vries heeft deze taak al afgerond" in alert.inner_text()
        assert bram.locator("#f-contact_result-wrap").get_by_label("Niemand thuis").is_checked()
        assert site.service.case(case_id).records["doorstep_visit"]["contact_result"] == "spoken"
    finally:
        anna_context.close()
        bram_context.close()


def test_a_coordinator_sees_a_broken_pathway_at_its_line_then_publishes_it(site: Site, context: Any) -> None:
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, site, "ingrid")
    page.goto(f"{site.url}/pathways/editor?from=school-social-work")
    source = page.locator("#source").input_value()
    assert "\nversion: 2\n" in source
    lines = source.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if re.fullmatch(r"\s+due: \d+ working days", text))
    broken = "\n".join(text.replace("working days", "werkdagen of zo") if i == line else text
                       for i, text in enumerate(lines, 1)) + "\n"
    replace_source(page, broken)
    page.get_by_role("button", name="Controleren").click()
    assert page.locator("#problems").is_visible()
    page.locator("#problems .jump-to-line").filter(has_text=f"regel {line},").first.click()
    assert cursor_line(page) == line  # at the problem, in the editable text, marked there
    assert page.locator("#source-editor .cm-lintRange-error").first.is_visible()
    replace_source(page, source.replace("title: Schoolmaatschappelijk werk", "title: Schoolmaatschappelijk werk (2027)", 1))
    page.get_by_role("button", name="Publiceren").click()
    assert "Stap gewijzigd" in page.locator("#publish-diff").inner_text() or "Titel" in page.locator(
        "#publish-diff").inner_text()  # the difference with version 1 first
    page.locator("#publish-confirm-btn").click()
    page.wait_for_url(re.compile(r"/pathways/school-social-work"))
    assert "school-social-work@2 is gepubliceerd" in page.locator(".flash").inner_text()
    assert errors == [], errors


def test_an_analyst_sees_the_dashboard_and_cannot_reach_a_case(site: Site, context: Any) -> None:
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, site, "henk")
    page.wait_for_url(re.compile(r"/reports$"))
    assert "Uitkomsten · Het Hogeland" in page.locator("h1").inner_text()
    assert page.locator("svg.chart").count() >= 2
    assert page.locator("svg.chart title").first.text_content()
    with page.expect_download() as download:
        page.locator("#csv-link").click()
    assert download.value.suggested_filename.startswith("uitkomsten-GM1966")
    response = page.goto(f"{site.url}/cases/DEP001")
    assert response is not None and response.status == 404
    assert "Niet gevonden" in page.locator("h1").inner_text()
    assert "DEP001" not in page.content().split("<main", 1)[1].replace("/cases/DEP001", "")
    response = page.goto(f"{site.url}/api/cases/DEP001")
    assert response is not None and response.status == 404
    assert errors == [], errors


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]):not([aria-hidden=true]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.closest('label'))
  .map(el => el.name || el.id)"""

PAGES = [
    ("login", None, "/login"),
    ("work", "anna", "/work"),
    ("case", "sanne", "CASE"),
    ("task-form", "anna", "TASK"),
    ("cases", "carla", "/cases"),
    ("team", "carla", "/team"),
    ("evaluation", "dirk", "EVALUATION"),
    ("pathway", "carla", "/pathways/eviction-prevention"),
    ("pathway-editor-error", "carla", "EDITOR"),
    ("new-case", "carla", "/cases/new?pathway=eviction-prevention"),
    ("reports", "henk", "/reports"),
    ("admin-users", "beheer", "/admin/users"),
]


def test_main_pages_render_cleanly_and_screenshots(site: Site, browser: Any, tmp_path: Path) -> None:
    """Every main page: no console error (the CSP holds), every control labelled; a screenshot each
    (into docs/screenshots/ with CAREPATH_UPDATE_SCREENSHOTS=1)."""
    target = SCREENSHOTS if os.environ.get("CAREPATH_UPDATE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    _case_id, task_id = eviction_case(site, "Sanne de Wit")
    evaluation = next((t.id for c in (f"DTC{n:03d}" for n in range(1, 40))
                       for t in _open_tasks(site, c) if t.type.value == "evaluation"), None)
    busy_case = next((c for c in (f"DTC{n:03d}" for n in range(1, 40))
                      if any(t.flow != "main" for t in _open_tasks(site, c))), "DTC001")
    for name, user, path in PAGES:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="nl-NL",
                                      timezone_id="Europe/Amsterdam")
        try:
            page = context.new_page()
            errors = console_errors(page)
            if user:
                sign_in(page, site, user)
            if path == "TASK":
                page.goto(f"{site.url}/tasks/{task_id}")
                page.get_by_role("button", name="Afronden").click()  # shows the messages next to the fields
            elif path == "CASE":
                page.goto(f"{site.url}/cases/{busy_case}")
            elif path == "EVALUATION":
                if evaluation is None:
                    continue
                page.goto(f"{site.url}/tasks/{evaluation}")
            elif path == "EDITOR":
                page.goto(f"{site.url}/pathways/editor?from=eviction-prevention")
                text = page.locator("#source").input_value().replace("    due: 3 working days", "    due: drie dagen", 1)
                replace_source(page, text)
                page.get_by_role("button", name="Controleren").click()
                page.locator("#problems .jump-to-line").first.click()
            else:
                page.goto(f"{site.url}{path}")
            assert page.evaluate(UNLABELLED) == [], name
            height = min(int(page.evaluate("document.documentElement.scrollHeight")), 2400)
            page.screenshot(path=str(target / f"{name}.png"), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1366, "height": height})
            assert errors == [], (name, errors)
        finally:
            context.close()
    tablet = browser.new_context(viewport={"width": 820, "height": 1180}, locale="nl-NL")
    try:
        page = tablet.new_page()
        sign_in(page, site, "anna")
        page.screenshot(path=str(target / "work-tablet.png"), full_page=False)
    finally:
        tablet.close()


def _open_tasks(site: Site, case_id: str) -> list[Any]:
    try:
        return list(site.service.case(case_id).open_tasks())
    except Exception:
        return []
