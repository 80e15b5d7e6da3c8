"""The example pathway docs/examples/crisis-chain.yaml in a browser: only the crisis team sees its
cases; a 24/7 front-office task, a joint decision with the police, a safety plan in working weeks,
a hand-over to docs/examples/youth-debt.yaml shown as a linked case, and origin registration."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.clock import ManualClock
from engine.state import TaskType
from tests.e2e.conftest import NOW, Site, console_errors

pytestmark = pytest.mark.timeout(400)
SLOW = 60_000  # ms: a shared CI machine can take a while to answer a form
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
DATA = {"client_name": "Sara de Vries", "phone": "0612345678", "address": "Dorpsstraat 1, Uithuizen",
        "risk_level": "high", "problem_area": "violence"}


@pytest.fixture(scope="module")
def crisis_site(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Site]:
    from integrations.db import accounts
    from integrations.db.accounts import AccountRole
    from integrations.db.engine_factory import write_session
    from integrations.service import build_service
    from web.app import create_app
    from web.testing import PASSWORD, cheap_password_hashing, live_server

    data = tmp_path_factory.mktemp("carepath-crisis")
    clock = ManualClock(NOW)
    service = build_service(f"sqlite:///{data / 'carepath.db'}", clock, data_dir=data, publish_shipped=False)
    for name in ("crisis-chain.yaml", "youth-debt.yaml"):
        service.publish_pathway((EXAMPLES / name).read_text(encoding="utf-8"), str(EXAMPLES / name))
    cheap_password_hashing()
    with write_session(service.db) as session:
        accounts.upsert_team(session, "crisis-noord", "Crisisteam Noord", "Crisisdienst")
        accounts.upsert_team(session, "wijkteam", "Wijkteam", "Crisisdienst")
        for username, team, roles in (
                ("kim", "crisis-noord", ["crisis-chain:front_office", "crisis-chain:case_manager", "debt_worker"]),
                ("wanda", "wijkteam", ["front_office", "case_manager"])):
            accounts.create_account(session, username=username, display_name=username.capitalize(),
                                    password=PASSWORD, role=AccountRole.WORKER, organisation="Crisisdienst",
                                    now=clock.now(), teams=[team], pathway_roles=roles)
    with live_server(create_app(service)) as url:
        yield Site(url, service, clock)


def sign_in(page: Any, site: Site, username: str) -> None:
    from web.testing import PASSWORD

    page.goto(f"{site.url}/login")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


def open_task(page: Any, site: Site, case_id: str, title: str) -> None:
    """The task of this case from the work list: the crisis team also sees the case of the first test
    (registered in the wrong team, still the crisis team's), with the same task titles."""
    page.goto(f"{site.url}/work")
    page.locator("tbody tr").filter(has_text=case_id).get_by_role("link", name=title).first.click()
    page.wait_for_url(re.compile(r"/tasks/"), timeout=SLOW)


def partner_answers(site: Site, case_id: str, step_id: str, data: dict[str, Any]) -> None:
    state = site.service.case(case_id)
    task = next(t for t in state.open_tasks() if t.step_id == step_id and t.type is TaskType.PARTNER)
    site.service.complete_task(task.id, data, actor="partner:police")


def test_only_the_crisis_team_sees_a_crisis_case(crisis_site: Site, context: Any) -> None:
    site = crisis_site
    case_id = site.service.start_case("crisis-chain", "police_report", DATA, actor="user:carla", team="wijkteam",
                                      municipality="GM1966").case_id  # registered in the wrong team
    page = context.new_page()
    sign_in(page, site, "wanda")
    page.goto(f"{site.url}/cases")
    assert case_id not in page.content()
    page.goto(f"{site.url}/work")
    assert "Sara de Vries" not in page.content() and "Cliënt bellen" not in page.content()
    answer = page.goto(f"{site.url}/cases/{case_id}")
    assert answer is not None and answer.status == 404
    assert "Sara de Vries" not in page.content()


def test_the_crisis_chain_from_the_call_to_the_hand_over(crisis_site: Site, context: Any) -> None:
    from integrations.runtime.context import build_runtime

    site = crisis_site
    case_id = site.service.start_case("crisis-chain", "police_report", DATA, actor="user:carla",
                                      team="crisis-noord", municipality="GM1966").case_id
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, site, "kim")
    open_task(page, site, case_id, "Cliënt bellen en risico inschatten")
    page.locator("#f-reached-wrap").get_by_label("Ja").check()
    page.get_by_role("button", name="Afronden").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}$"), timeout=SLOW)
    assert "Veiligheidscheck door de politie" in page.locator("#open-tasks").inner_text()

    # Herkomst: kim carries the case now.
    page.get_by_label("Cliënt", exact=True).fill("NL")
    page.get_by_label("Moeder").fill("MA")
    page.get_by_role("button", name="Herkomst vastleggen").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}$"), timeout=SLOW)
    assert "Het geboorteland is vastgelegd." in page.locator(".flash").inner_text()
    assert site.service.case(case_id).origin == {"client": "NL", "mother": "MA"}

    partner_answers(site, case_id, "safety_check", {"safe": False})
    open_task(page, site, case_id, "Samen besluiten over de maatregel")
    assert "Welke maatregel nemen we?" in page.content()
    page.locator("#f-measure-wrap").get_by_label("Veiligheidsplan").check()
    page.get_by_role("button", name="Afronden").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}$"), timeout=SLOW)
    partner_answers(site, case_id, "safety_decision", {"measure": "safety_plan", "name": "Wijkagent De Boer"})

    page.goto(f"{site.url}/cases/{case_id}")
    timeline = page.content()
    assert "Gezamenlijk besluit: Samen besluiten over de maatregel" in timeline and "Wijkagent De Boer" in timeline
    open_task(page, site, case_id, "Veiligheidsplan maken")
    page.locator("#f-debts_found-wrap").get_by_label("Ja").check()
    page.get_by_role("button", name="Afronden").click()
    page.wait_for_url(re.compile(f"/cases/{case_id}$"), timeout=SLOW)

    data_dir = Path(str(site.service.db.url.database)).parent
    build_runtime(data_dir=data_dir, service=site.service).dispatch_once(site.clock.now())  # the hand-over
    child = site.service.case(case_id).links[0]["case_id"]
    page.goto(f"{site.url}/cases/{case_id}")
    links = page.locator("#links-h").locator("..").inner_text()
    assert "Overgedragen naar" in links and child in links
    page.get_by_role("link", name=child).click()
    page.wait_for_url(re.compile(f"/cases/{child}$"), timeout=SLOW)
    assert "Gestart vanuit" in page.content() and "Intakegesprek schulden" in page.content()
    assert errors == [], errors
