"""The pathway editor in a browser: CodeMirror on the page's textarea (web/editor/), completion and hover
help from the pathway JSON Schema, the check's problems inline and "regel N" putting the cursor in the
editable text, all under the strict CSP (its <style> elements carry the page's nonce; no violation)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Site, console_errors, sign_in
from tests.e2e.editor_helpers import cursor_line

pytestmark = pytest.mark.timeout(240)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TABLET = {"width": 820, "height": 1180}

# every CSP violation of the page, recorded before any of its scripts runs
RECORD_VIOLATIONS = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
  e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber + ':' + e.columnNumber + ' ' + (e.sample || '')));"""


def shoot(page: Any, path: Path, width: int) -> None:
    """The page from the top (the problem list) down to below the editor, with the hover or tooltip open."""
    height = min(int(page.evaluate("document.documentElement.scrollHeight")), 1600)
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})


def line_of(page: Any, pattern: str) -> Any:
    return page.locator("#source-editor .cm-line").filter(has_text=re.compile(pattern)).first


def test_a_coordinator_edits_with_completion_help_inline_errors_and_jumps(site: Site, context: Any,
                                                                         tmp_path: Path) -> None:
    from playwright.sync_api import expect

    target = SCREENSHOTS if os.environ.get("CAREPATH_UPDATE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    page = context.new_page()
    errors = console_errors(page)
    page.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, site, "carla")
    response = page.goto(f"{site.url}/pathways/editor?from=eviction-prevention")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and re.search(r"style-src 'self' 'nonce-[0-9a-f]{32}';", csp)
    editor = page.locator("#source-editor")
    editor.wait_for()
    assert page.locator("#source").is_hidden()  # the textarea stays in the form, hidden
    original = page.locator("#source").input_value()
    assert editor.locator(".cm-lineNumbers").is_visible()  # line numbers
    assert editor.locator(".cm-line").filter(has_text="owner:").first.locator("span").count() >= 1  # highlighted
    # completion of a key from the schema, then of its values
    line_of(page, r"^owner: ").click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("role_s")
    options = editor.locator(".cm-tooltip-autocomplete li")
    expect(options).to_have_count(1)  # the list for all of "role_s" (a quicker Enter would take an older list)
    assert options.inner_text().startswith("role_scope")
    page.wait_for_timeout(150)  # CodeMirror ignores Enter for 75 ms after the list changed (its interactionDelay)
    page.keyboard.press("Enter")  # "role_scope: ", and its values are offered at once
    expect(line_of(page, r"^role_sc")).to_have_text(re.compile(r"^role_scope:\s*$"))
    values = editor.locator(".cm-tooltip-autocomplete li")
    values.filter(has_text="pathway").first.wait_for()
    assert {v.strip() for v in values.all_inner_texts()} >= {"shared", "pathway"}
    values.filter(has_text="shared").first.click()
    assert line_of(page, r"^role_scope:").inner_text() == "role_scope: shared"
    assert "\nrole_scope: shared\n" in page.locator("#source").input_value()  # the form posts the editor's text
    # hover help: the schema's description, in Dutch
    line_of(page, r"^calendar:").locator("span").first.hover()
    hover = editor.locator(".cp-hover")
    hover.wait_for()
    assert "werkdagen" in hover.inner_text() and "calendar" in hover.inner_text()
    # a key the schema does not know: an inline error in Dutch while typing
    page.keyboard.press("End")
    line_of(page, r"^role_scope:").click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("ownr: Team Noord")
    page.keyboard.press("Escape")
    marked = editor.locator(".cm-lintRange-error").filter(has_text="ownr")
    marked.wait_for()
    bad_line = next(i for i, text in enumerate(page.locator("#source").input_value().splitlines(), 1)
                    if text.startswith("ownr:"))
    marked.hover()
    tip = editor.locator(".cm-tooltip-lint")
    tip.wait_for()
    assert "Onbekend veld «ownr» op deze plek. Bedoel je «owner»?" in tip.inner_text()
    # the server's check: the problem in the list and inline; "regel N" puts the cursor there, in the editor
    page.get_by_role("button", name="Controleren").click()
    problems = page.locator("#problems")
    problems.wait_for()
    assert "onbekend veld `ownr`" in problems.inner_text()
    editor.wait_for()
    assert page.locator("#annotated-source").count() == 0  # no read-only copy of the text any more
    page.keyboard.press("Control+Home")
    assert cursor_line(page) == 1
    link = problems.locator(".jump-to-line").first
    assert f"regel {bad_line}," in link.inner_text()
    link.click()
    assert cursor_line(page) == bad_line
    editor.locator(".cm-lint-marker-error").first.wait_for()  # marked in the gutter too
    assert page.evaluate("() => document.activeElement.classList.contains('cm-content')")
    assert page.evaluate("() => document.activeElement.isContentEditable")
    editor.locator(".cm-lintRange-error").first.hover()
    editor.locator(".cm-tooltip-lint").wait_for()
    assert "Uit de laatste controle: ownr: onbekend veld `ownr` (bedoel je `owner`?)" in editor.locator(
        ".cm-tooltip-lint").inner_text()
    shoot(page, target / "pathway-editor.png", 1366)
    page.set_viewport_size(TABLET)
    link.click()
    page.mouse.move(0, 0)
    editor.locator(".cm-lintRange-error").first.hover()
    editor.locator(".cm-tooltip-lint").wait_for()
    shoot(page, target / "pathway-editor-tablet.png", TABLET["width"])
    page.set_viewport_size({"width": 1366, "height": 900})
    link.click()
    # fix it where the cursor is (the editable text), then check again: in order
    page.keyboard.press("Home")
    page.keyboard.press("Shift+End")
    page.keyboard.press("Delete")
    page.keyboard.press("Backspace")
    assert page.locator("#source").input_value() == original.replace("\ncalendar: ", "\nrole_scope: shared\ncalendar: ", 1)
    page.get_by_role("button", name="Controleren").click()
    page.locator("#check-ok").wait_for()
    assert "Het zorgpad is in orde" in page.locator("#check-ok").inner_text()
    assert "\nrole_scope: shared\n" in page.locator("#source").input_value()
    assert "ownr" not in page.locator("#source").input_value()
    assert page.evaluate("() => window.__cspViolations") == []
    assert errors == [], errors


def test_without_javascript_the_textarea_is_the_editor(site: Site, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, site, "carla")
        page.goto(f"{site.url}/pathways/editor?from=eviction-prevention")
        assert page.locator("#source").is_visible()
        assert page.locator(".cm-editor").count() == 0
        text = page.locator("#source").input_value()
        page.locator("#source").fill(text.replace("\nowner: ", "\nownr: ", 1))
        page.get_by_role("button", name="Controleren").click()
        assert "ownr" in page.locator("#problems").inner_text()
        assert "ownr" in page.locator("#source").input_value()
    finally:
        context.close()
