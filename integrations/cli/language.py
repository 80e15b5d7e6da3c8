"""The language of the `carepath` command: Dutch, or English with `CAREPATH_LANGUAGE=en`.

- `cli_language()` reads the setting; `say(nl, en)` picks the text of a message.
- `DutchArgumentParser` is argparse in the chosen language: the usage line ("gebruik:"), the headings
  ("positionele argumenten", "opties"), `-h/--help` and every error argparse makes ("fout: de volgende
  argumenten zijn verplicht: ..."). Exit code 2 on a usage error, as argparse does.
- `when(moment)` and `day(value)` show a moment as people read it: Europe/Amsterdam wall clock,
  "4 december 2026 14:05" (English: "4 December 2026 14:05").

This module is pure (standard library only) and cheap to import: every command module imports it while
the parser is built. The web app has its own formatters (`web/timefmt.py`, `web/dutch.py`); the edge may
not import `web` (import-linter), so the CLI keeps its own here.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import date, datetime
from typing import Any, NoReturn

LANGUAGE_ENV = "CAREPATH_LANGUAGE"

MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
             "oktober", "november", "december")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")


def cli_language() -> str:
    """"en" when `$CAREPATH_LANGUAGE` starts with en, else "nl" (the default)."""
    return "en" if os.environ.get(LANGUAGE_ENV, "").strip().lower().startswith("en") else "nl"


def say(nl: str, en: str) -> str:
    """The Dutch text, or the English one with `CAREPATH_LANGUAGE=en`."""
    return en if cli_language() == "en" else nl


def _amsterdam() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Amsterdam")


def day(value: date | datetime | None) -> str:
    """`4 december 2026` (a moment: its Amsterdam calendar day); `-` for nothing."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        value = value.astimezone(_amsterdam()).date()
    months = MONTHS_EN if cli_language() == "en" else MONTHS_NL
    return f"{value.day} {months[value.month - 1]} {value.year}"


def when(moment: datetime | None) -> str:
    """`4 december 2026 14:05` on the Amsterdam wall clock; `-` for nothing."""
    if moment is None:
        return "-"
    local = moment.astimezone(_amsterdam())
    return f"{day(local.date())} {local:%H:%M}"


# --- argparse in Dutch ---------------------------------------------------------------------------------

# argparse's own messages (Python 3.11-3.13), each with its Dutch form. The English text is matched with
# its placeholders as wildcards; the Dutch text gets the same values in the same order.
_ARGPARSE_NL: tuple[tuple[str, str], ...] = (
    ("argument %s: %s", "argument %s: %s"),
    ("the following arguments are required: %s", "de volgende argumenten zijn verplicht: %s"),
    ("unrecognized arguments: %s", "onbekende argumenten: %s"),
    ("invalid choice: %s (choose from %s)", "ongeldige keuze: %s (kies uit %s)"),
    ("invalid %s value: %s", "ongeldige waarde (%s): %s"),
    ("expected one argument", "verwacht één waarde"),
    ("expected at most one argument", "verwacht hoogstens één waarde"),
    ("expected at least one argument", "verwacht ten minste één waarde"),
    ("expected %s arguments", "verwacht %s waarden"),
    ("expected %s argument", "verwacht %s waarde"),
    ("not allowed with argument %s", "niet samen met argument %s"),
    ("one of the arguments %s is required", "een van de argumenten %s is verplicht"),
    ("ambiguous option: %s could match %s", "dubbelzinnige optie: %s kan %s zijn"),
    ("ignored explicit argument %s", "genegeerd argument %s"),
    ("unexpected option string: %s", "onverwachte optie: %s"),
    ("unknown parser %s (choices: %s)", "onbekende opdracht %s (keuzes: %s)"),
    ("can't open '%s': %s", "kan '%s' niet openen: %s"),
)
_PATTERNS = tuple(
    (re.compile("^" + re.escape(english).replace("%s", "(.*?)") + "$", re.DOTALL), dutch)
    for english, dutch in _ARGPARSE_NL
)


def translate_argparse(message: str) -> str:
    """argparse's English error message in Dutch (nested: "argument X: invalid choice: ..." too)."""
    for pattern, dutch in _PATTERNS:
        found = pattern.match(message)
        if found is None:
            continue
        values = [translate_argparse(v) if i == len(found.groups()) - 1 else v
                  for i, v in enumerate(found.groups())]
        return dutch % tuple(values)
    return message


class DutchHelpFormatter(argparse.HelpFormatter):
    """"gebruik: " instead of "usage: " (English with the setting)."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix if prefix is not None else say("gebruik: ", "usage: "))


class DutchRawDescriptionHelpFormatter(DutchHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """`DutchHelpFormatter` that keeps the description's line breaks."""


class DutchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that speaks Dutch (English with `CAREPATH_LANGUAGE=en`); its subparsers too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        formatter = kwargs.get("formatter_class")
        if formatter is None or formatter is argparse.HelpFormatter:
            kwargs["formatter_class"] = DutchHelpFormatter
        elif formatter is argparse.RawDescriptionHelpFormatter:
            kwargs["formatter_class"] = DutchRawDescriptionHelpFormatter
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = say("positionele argumenten", "positional arguments")
        self._optionals.title = say("opties", "options")
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help=say("toon deze hulp en stop", "show this help message and exit"))

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("parser_class", DutchArgumentParser)
        return super().add_subparsers(**kwargs)

    def error(self, message: str) -> NoReturn:
        text = message if cli_language() == "en" else translate_argparse(message)
        self.print_usage(sys.stderr)
        label = say("fout", "error")
        self.exit(2, f"{self.prog}: {label}: {text}\n")


class _IsoDate:
    """argparse type: a YYYY-MM-DD date, named "datum" ("date") in argparse's error message."""

    @property
    def __name__(self) -> str:
        return say("datum", "date")

    def __call__(self, text: str) -> date:
        return date.fromisoformat(text)


iso_date = _IsoDate()


def error_text(error: BaseException) -> str:
    """An error as the command line says it: an engine refusal in the chosen language (its catalogue text),
    any other error as it says itself."""
    from engine.messages import text_of

    return text_of(error, cli_language())
