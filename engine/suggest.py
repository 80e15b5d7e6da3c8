"""Did-you-mean suggestions for misspelt ids, keys and names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


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


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A hint such as "did you mean `home_visit`?", or "" when nothing is close."""
    match = closest(word, candidates)
    return f"did you mean `{match}`?" if match is not None and match != word else ""


def one_of(candidates: Iterable[str]) -> str:
    """`a`, `b` or `c` — for messages that list what is allowed."""
    return _join(candidates, "or")


def all_of(items: Iterable[str]) -> str:
    """`a`, `b` and `c` — for messages that list what is involved."""
    return _join(items, "and")


def _join(items: Iterable[str], word: str) -> str:
    quoted = [f"`{c}`" for c in items]
    if not quoted:
        return "nothing"
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + f" {word} " + quoted[-1]


def near_miss(wanted: str, present: Iterable[str]) -> str | None:
    """A key in `present` that is probably `wanted` misspelt (not `wanted` itself)."""
    others = [key for key in present if key != wanted]
    return closest(wanted, others, cutoff=0.75)
