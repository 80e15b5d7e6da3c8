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
