"""Every file in tests/unit/broken is an invalid pathway that says, in `# expect:` lines at
its top, exactly which problems the loader must report: line, column, element path,
message and hint, in order, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import PathwayError
from engine.loader import load_pathway
from tasks.registry import default_kinds

BROKEN = Path(__file__).parent / "broken"
FILES = sorted(BROKEN.glob("*.yaml"))
PREFIX = "# expect: "


def expectations(text: str) -> list[str]:
    return [line[len(PREFIX):] for line in text.splitlines() if line.startswith(PREFIX)]


def test_the_corpus_is_large_enough() -> None:
    assert len(FILES) >= 45


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_broken_pathway_reports_exactly_the_expected_problems(path: Path) -> None:
    raw = path.read_bytes()
    expected = expectations(raw.decode("utf-8"))
    assert expected, f"{path.name} has no `# expect:` lines"
    with pytest.raises(PathwayError) as caught:
        load_pathway(raw, path.name, default_kinds())
    reported = [str(problem).removeprefix(f"{path.name}:") for problem in caught.value.problems]
    assert reported == expected
    for problem in caught.value.problems:
        assert problem.file == path.name
        assert problem.line >= 1 and problem.column >= 1, f"unlocated problem: {problem}"
