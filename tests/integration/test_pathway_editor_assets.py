"""The pathway editor's assets: the committed CodeMirror bundle (built by web/editor/build.sh, so tests and CI
need no npm), its licences, the page that loads it, the schema it reads, and the CSP nonce only on that page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from engine.clock import ManualClock
from engine.schema_check import SCHEMA_FILE
from integrations.service import CaseService
from tests.integration.test_web_pages import people

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
EDITOR = Path(__file__).resolve().parents[2] / "web" / "editor"


def test_the_bundle_and_its_licences_are_committed() -> None:
    bundle = (STATIC / "editor.bundle.js").read_text(encoding="utf-8")
    assert len(bundle) > 100_000 and "cm-editor" in bundle and "data-pathway-editor" in bundle
    licences = (STATIC / "editor.LICENSES.txt").read_text(encoding="utf-8")
    locked = json.loads((EDITOR / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    for name in ("codemirror", "@codemirror/view", "@codemirror/lang-yaml", "@codemirror/lint",
                 "@codemirror/autocomplete", "@lezer/yaml", "style-mod"):
        version = locked[f"node_modules/{name}"]["version"]
        assert f"{name} {version} (MIT)" in licences, name  # the licence of the version the bundle was built from
    assert (EDITOR / "build.sh").exists() and (EDITOR / "src" / "editor.js").exists()


def test_the_editor_page_loads_the_bundle_with_a_style_nonce_of_its_own(service: CaseService,
                                                                        clock: ManualClock) -> None:
    cor = people(service, clock, "coordinator")["coordinator"]
    first, second = cor.get("/pathways/editor"), cor.get("/pathways/editor")
    assert first.status_code == 200
    assert '<script src="/static/editor.bundle.js" defer></script>' in first.text
    assert 'data-schema-url="/pathways/editor/schema.json"' in first.text
    nonces = []
    for page in (first, second):
        nonce = re.search(r'data-style-nonce="([0-9a-f]{32})"', page.text)
        assert nonce is not None
        csp = page.headers["content-security-policy"]
        assert f"style-src 'self' 'nonce-{nonce.group(1)}';" in csp and "script-src 'self';" in csp
        assert "unsafe" not in csp
        nonces.append(nonce.group(1))
    assert nonces[0] != nonces[1]  # a nonce per response
    other = cor.get("/pathways")  # every other page keeps the plain policy
    assert "style-src 'self';" in other.headers["content-security-policy"]
    assert "nonce" not in other.headers["content-security-policy"]
    bundle = cor.get("/static/editor.bundle.js")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert "nonce" not in bundle.headers["content-security-policy"]


def test_the_schema_is_served_to_the_editor(service: CaseService, clock: ManualClock) -> None:
    cor = people(service, clock, "coordinator")["coordinator"]
    served = cor.get("/pathways/editor/schema.json")
    assert served.status_code == 200 and served.headers["content-type"].startswith("application/schema+json")
    assert served.json() == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


MISTAKES = [  # a mistake in the shipped school pathway, and what the editor page says about it
    ("calendar: nl-school-weeks", "calendar: nl-werkdagen",
     "de tekst `nl-werkdagen` is hier niet toegestaan; gebruik `nl-working-days`, `24x7` of `nl-school-weeks`"),
    ("reopen_within: 3 months", "reopen_within: drie maanden",
     "'drie maanden' is geen duur: schrijf een heel getal en een eenheid, bijvoorbeeld '5 werkdagen', '3 weken', '48 uur'"),
    ("version: 1", "version: een", "moet een geheel getal zijn, niet de tekst `een`"),
    ("\ntitle: Schoolmaatschappelijk werk", "\ntitel: Schoolmaatschappelijk werk",
     "onbekend veld `titel` <span class=\"muted\">(bedoel je `title`?)</span>"),
    ("    next: help_route\n", "    next: nergens\n", "onbekende stap `nergens`"),
]


def test_the_checks_problems_are_said_in_dutch_at_their_line(service: CaseService, clock: ManualClock) -> None:
    from html import unescape

    source = (Path(__file__).resolve().parents[2] / "pathways" / "school-social-work.yaml").read_text(encoding="utf-8")
    cor = people(service, clock, "coordinator")["coordinator"]
    for before, after, said in MISTAKES:
        assert before in source, before
        broken = source.replace(before, after, 1)
        line = broken[:broken.index(after.strip())].count("\n") + 1
        page = cor.post("/pathways/editor", {"action": "check", "source": broken, "name": "smw.yaml"})
        assert page.status_code == 422
        item = re.search(rf'<li class="problem-item" data-line="{line}" data-column="\d+" data-message="([^"]*)">(.*?)</li>',
                         page.text, re.S)
        assert item is not None, (after, page.text[:3000])
        assert said in unescape(item.group(2)), item.group(2)
        assert unescape(item.group(1)).split(": ", 1)[1].startswith(said.split(" <span")[0])  # the inline text too


def test_the_editor_says_a_problem_in_the_coordinators_language() -> None:
    from engine.errors import Problem
    from engine.problem_texts import text
    from web.pathway_work import in_language

    problem = Problem.of("x.yaml", 3, 1, "titel", text("onbekend-veld", key="titel"),
                         text("hint-bedoel-je", word="title"))
    dutch, english = in_language(problem, "nl"), in_language(problem, "en")
    assert (dutch.line, dutch.column, dutch.path, dutch.code) == (3, 1, "titel", problem.code)
    assert (dutch.message, dutch.hint) == (problem.message, problem.hint)
    assert (english.message, english.hint) == (problem.message_in("en"), problem.hint_in("en"))
    assert english.message != dutch.message
