"""The pathway diagram: server-side SVG for every shipped pathway, steps by title, conditions in words."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine.loader import load_pathway
from tasks.registry import default_kinds
from web.diagram import svg

PATHWAYS = sorted((Path(__file__).resolve().parents[2] / "pathways").glob("*.yaml"))
NS = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("path", PATHWAYS, ids=[p.stem for p in PATHWAYS])
def test_every_flow_is_drawn_as_valid_svg(path: Path) -> None:
    pathway = load_pathway(path.read_text(encoding="utf-8"), str(path), default_kinds())
    drawn = svg(pathway)
    assert len(drawn) == 1 + len(pathway.tracks)
    for (_title, drawing), steps in zip(drawn, [pathway.steps] + [t.steps for t in pathway.tracks], strict=True):
        root = ET.fromstring(str(drawing))
        text = " ".join(t.text or "" for t in root.iter(f"{NS}text"))
        ids = {g.get("id") for g in root.iter(f"{NS}g")}
        assert ids == {f"d-{s.id}" for s in steps}
        for step in steps:
            if step.title:
                assert step.title[:20] in text, step.id
        assert "==" not in text and "&&" not in text  # conditions in words


def test_eviction_prevention_shows_branches_timers_and_escalations() -> None:
    path = next(p for p in PATHWAYS if p.stem == "eviction-prevention")
    pathway = load_pathway(path.read_text(encoding="utf-8"), str(path), default_kinds())
    main = str(svg(pathway)[0][1])
    words = " ".join(t.text or "" for t in ET.fromstring(main).iter(f"{NS}text"))
    assert "«Resultaat van het bezoek» is niet «Huurder gesproken»" in words
    assert "bij «Met wie mag je nu bellen?» niets gekozen" in words
    assert "◷" in main and "⚠ na" in main and "herinnering" in main
    assert 'class="d-edge d-back"' in main  # the revisit loop goes back up
