"""The language of command-line output: Dutch, or English with `CAREPATH_LANGUAGE=en`."""

from __future__ import annotations

import os

LANGUAGE_ENV = "CAREPATH_LANGUAGE"


def cli_language() -> str:
    """"en" when `$CAREPATH_LANGUAGE` starts with en, else "nl" (the default)."""
    return "en" if os.environ.get(LANGUAGE_ENV, "").strip().lower().startswith("en") else "nl"
