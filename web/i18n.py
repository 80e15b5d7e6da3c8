"""The interface in Dutch, with English available. Texts are written in Dutch; `EN` translates them.

A pathway's own texts (titles, instructions, labels) are shown as written,
whatever the interface language. `tests/integration/test_web_i18n.py` checks
that every text the templates and pages use has an English translation.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = {"nl": "Nederlands", "en": "English"}


def translate(text: str, lang: str = "nl", **values: Any) -> str:
    chosen = EN.get(text, text) if lang == "en" else text
    return chosen.format(**values) if values else chosen


def pick_language(*candidates: str | None, default: str = "nl") -> str:
    for candidate in candidates:
        if candidate:
            code = candidate.strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return default


def from_accept_language(header: str | None) -> str | None:
    """The first of nl/en in an Accept-Language header, if any."""
    if not header:
        return None
    for part in header.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return None


EN: dict[str, str] = {}
