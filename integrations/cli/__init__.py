"""The `carepath` command: a thin argparse shell around command modules.

Each command module has `register(subparsers)`, which adds its subcommands
and sets `handler` (a function `(argparse.Namespace) -> int`, the exit code)
as a default. To add commands, write a module with `register` and list it in
`COMMAND_MODULES`. Command modules import their heavy dependencies inside
their handlers, so `carepath validate` never pays for Prefect or SQLAlchemy.
Help and messages are Dutch, English with `CAREPATH_LANGUAGE=en` (`language.py`:
`say(nl, en)` and `DutchArgumentParser`, which every subcommand parser is too).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = (
    "integrations.cli.pathways", "integrations.cli.cases", "integrations.cli.simulate", "integrations.cli.runtime",
    "integrations.cli.security",
    "integrations.cli.cohort",
    "integrations.cli.signals",
    "integrations.cli.coordinator",
    "integrations.cli.exchange",
)


def build_parser() -> argparse.ArgumentParser:
    from integrations.cli.language import DutchArgumentParser, say

    parser = DutchArgumentParser(
        prog="carepath", description=say("Zorgpaden voor het maatschappelijk werk: controleren, tekenen en uitvoeren.",
                                         "Care pathways for Dutch social work: check, draw and run them."))
    subparsers = parser.add_subparsers(dest="command", metavar=say("OPDRACHT", "COMMAND"), required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns (and as a console script exits with) its exit code."""
    args = build_parser().parse_args(argv)
    from integrations.cli.speed import cache_cel_grammar

    cache_cel_grammar()
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
