"""Did-you-mean suggestions for misspelt ids, keys and names.

The suggestions are `Text`s of `engine.problem_texts` ("bedoel je `x`?", English "did you mean `x`?"),
rendered in the reader's language with the problem they belong to.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from engine.problem_texts import Text, all_of, one_of, text

__all__ = ["all_of", "closest", "did_you_mean", "near_miss", "one_of"]


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate most like `word` (case-insensitive), or None when nothing is close."""
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    lowered = word.lower()
    if lowered in by_lower:
        return by_lower[lowered]
    match = difflib.get_close_matches(lowered, list(by_lower), n=1, cutoff=cutoff)
    return by_lower[match[0]] if match else None


def did_you_mean(word: str, candidates: Iterable[str]) -> Text | None:
    """The hint "bedoel je `home_visit`?", or None when nothing is close."""
    match = closest(word, candidates)
    return text("hint-bedoel-je", word=match) if match is not None and match != word else None


def near_miss(wanted: str, present: Iterable[str]) -> str | None:
    """A key in `present` that is probably `wanted` misspelt (not `wanted` itself)."""
    others = [key for key in present if key != wanted]
    return closest(wanted, others, cutoff=0.75)
