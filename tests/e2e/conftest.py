"""Browser tests: carepath under uvicorn with demo data, driven by Playwright in Debian's Chromium.

Chromium is `$CAREPATH_CHROMIUM` or /usr/bin/chromium (no browser download).
Without it the tests skip and say why, except under `CAREPATH_REQUIRE_BROWSER=1`
(CI), where they fail. The server runs on a manual clock fixed at a Monday
morning, so deadlines, badges and screenshots are the same on every run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.clock import ManualClock

CHROMIUM = os.environ.get("CAREPATH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=nl-NL"]
NOW = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # Monday 23 November 2026, 09:30 in Amsterdam
DEMO_CASES = 160


def _unavailable(reason: str) -> None:
    if os.environ.get("CAREPATH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; CAREPATH_REQUIRE_BROWSER=1 makes the browser tests mandatory")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: Playwright's event loop is gone again before other test modules run."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the dev dependencies include it
        _unavailable(f"the playwright package is not installed ({exc})")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium, or set CAREPATH_CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
    _forget_playwright_loop()


def _forget_playwright_loop() -> None:
    """Playwright's sync API leaves its event loop set on the main thread; close it, so tests that
    run after these do not find a stray loop."""
    import asyncio
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running():
        loop.close()
        asyncio.set_event_loop(None)


@dataclass
class Site:
    url: str
    service: Any
    clock: ManualClock


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Site]:
    from integrations.service import build_service
    from web.app import create_app
    from web.demo import seed
    from web.testing import cheap_password_hashing, live_server

    data = tmp_path_factory.mktemp("carepath-e2e")
    clock = ManualClock(NOW)
    service = build_service(f"sqlite:///{data / 'carepath.db'}", clock, data_dir=data)
    cheap_password_hashing()
    seed(service, cases=DEMO_CASES)
    with live_server(create_app(service)) as url:
        yield Site(url, service, clock)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    made = browser.new_context(viewport={"width": 1366, "height": 900}, locale="nl-NL",
                               timezone_id="Europe/Amsterdam")
    made.set_default_timeout(15_000)
    try:
        yield made
    finally:
        made.close()


def sign_in(page: Any, site: Site, username: str) -> None:
    from web.demo import DEMO_PASSWORD

    page.goto(f"{site.url}/login")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


def console_errors(page: Any) -> list[str]:
    """Collects errors from the browser console (CSP violations show up here), script errors and
    static files that did not load. HTTP statuses of pages (a 422 form, a 404 case) are answers, not
    errors, so the console's "Failed to load resource" lines are left out."""
    found: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            found.append(message.text)

    def on_response(response: Any) -> None:
        if "/static/" in response.url and response.status >= 400:
            found.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(str(error)))
    page.on("response", on_response)
    return found
