"""Every pathway carepath ships validates, round-trips and carries the editor modeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.loader import SCHEMA_MODELINE, dump_pathway, load_pathway
from tasks.registry import default_kinds

PATHWAYS = Path(__file__).parents[2] / "pathways"
FILES = sorted(PATHWAYS.glob("*.yaml"))


def test_the_four_pathways_are_shipped() -> None:
    assert len(FILES) >= 4, f"expected at least 4 pathways in {PATHWAYS}, found {[f.name for f in FILES]}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_shipped_pathway_validates_and_round_trips(path: Path) -> None:
    pathway = load_pathway(path.read_bytes(), str(path), default_kinds())
    assert pathway.id == path.stem, "the file name should be the pathway id"
    again = load_pathway(dump_pathway(pathway), f"{path.name} (dumped)", default_kinds())
    assert again == pathway


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_shipped_pathway_has_the_schema_modeline(path: Path) -> None:
    first_lines = path.read_text(encoding="utf-8").splitlines()[:3]
    assert SCHEMA_MODELINE in first_lines
