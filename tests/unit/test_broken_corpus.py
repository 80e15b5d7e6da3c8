"""Every file in tests/unit/broken is an invalid pathway that says, in `# expect:` lines at
its top, exactly which problems the loader must report: line, column, element path,
message and hint, in order, and nothing else. The messages are Dutch (the default); the
`# expect-en:` lines at the end say the same in English (`CAREPATH_LANGUAGE=en`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.errors import PathwayError, Problem
from engine.loader import load_pathway
from engine.problem_texts import TEXTS
from tasks.registry import default_kinds

BROKEN = Path(__file__).parent / "broken"
FILES = sorted(BROKEN.glob("*.yaml"))
PREFIX = "# expect: "
PREFIX_EN = "# expect-en: "
WORD = re.compile(r"[^\W\d_]+")


def expectations(text: str, prefix: str = PREFIX) -> list[str]:
    return [line[len(prefix):] for line in text.splitlines() if line.startswith(prefix)]


def problems_of(path: Path) -> tuple[bytes, tuple[Problem, ...]]:
    raw = path.read_bytes()
    with pytest.raises(PathwayError) as caught:
        load_pathway(raw, path.name, default_kinds())
    return raw, caught.value.problems


def _words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text)}


def _only_in(language: int) -> set[str]:
    """Words that appear in the catalogue's templates of one language (0 Dutch, 1 English) only."""
    mine = set().union(*(_words(pair[language]) for pair in TEXTS.values()))
    other = set().union(*(_words(pair[1 - language]) for pair in TEXTS.values()))
    return mine - other


DUTCH_ONLY = _only_in(0)
ENGLISH_ONLY = _only_in(1)


def test_the_corpus_is_large_enough() -> None:
    assert len(FILES) >= 45


def test_the_word_lists_tell_the_languages_apart() -> None:
    assert {"onbekende", "bedoel", "ontbreekt", "moet"} <= DUTCH_ONLY
    assert {"unknown", "mean", "missing", "must"} <= ENGLISH_ONLY


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_broken_pathway_reports_exactly_the_expected_problems(path: Path) -> None:
    raw, problems = problems_of(path)
    expected = expectations(raw.decode("utf-8"))
    assert expected, f"{path.name} has no `# expect:` lines"
    reported = [str(problem).removeprefix(f"{path.name}:") for problem in problems]
    assert reported == expected
    for problem in problems:
        assert problem.file == path.name
        assert problem.line >= 1 and problem.column >= 1, f"unlocated problem: {problem}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_broken_pathway_reads_the_same_in_english(path: Path) -> None:
    raw, problems = problems_of(path)
    text = raw.decode("utf-8")
    expected = expectations(text, PREFIX_EN)
    assert len(expected) == len(expectations(text)), f"{path.name}: one `# expect-en:` line per `# expect:` line"
    reported = [problem.text("en").removeprefix(f"{path.name}:") for problem in problems]
    assert reported == expected
    # what the file itself says (its titles are Dutch, its ids English) may be quoted in either language
    own = _words("\n".join(line for line in text.splitlines() if not line.startswith("#")))
    for problem in problems:
        english, dutch = _said(problem, "en") - own, _said(problem, "nl") - own
        assert not english & DUTCH_ONLY, f"Dutch in English: {problem.text('en')}"
        assert not dutch & ENGLISH_ONLY, f"English in Dutch: {problem.text('nl')}"


def _said(problem: Problem, language: str) -> set[str]:
    """The words of the message and hint, leaving out what is quoted in backticks (ids, keys, values)."""
    return _words(re.sub(r"`[^`]*`", " ", f"{problem.message_in(language)} {problem.hint_in(language)}"))
