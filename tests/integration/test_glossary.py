"""One term per concept: no interface text uses a word docs/glossary.md says not to use."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.test_web_i18n_demo import interface_texts

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"


def avoided_words() -> set[str]:
    words: set[str] = set()
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("concept", "---"):
            for word in cells[2].split(","):
                word = re.sub(r"\(.*?\)", "", word).strip()
                if word:
                    words.add(word.lower())
    return words


def test_the_glossary_names_words_to_avoid() -> None:
    assert {"dossier", "klant", "deadline", "migreren", "notificatie"} <= avoided_words()


def test_no_interface_text_uses_an_avoided_word() -> None:
    found = []
    for text in interface_texts():
        for word in avoided_words():
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
                found.append((word, text))
    assert found == []
