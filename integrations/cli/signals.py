"""`carepath signals import FILE` and `carepath signals export`: early signals (DDAS v1.2) in and out.

Import checks the whole file against the shared DDAS schema first (every error, in Dutch, nothing
imported when there is one), then stores, matches and routes the signals with a progress bar
(count, rate, time left), opens their cases and queues the partners' feedback. Which municipalities
this installation serves, and which team takes their signals, comes from `--route` or
`$CAREPATH_SIGNAL_ROUTES` (`GM0014=noord-groningen@user:anna`: warm transfers go to anna).
Export writes the DDAS delivery of one municipality and period, 50,000 signals a page, each page
validated against the schema. Exit codes: 0 done, 1 refused (the file or the export has errors),
2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from integrations.cli.language import say

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
MAX_ERRORS_SHOWN = 200
DESCRIPTION_NL = """`carepath signals import BESTAND` en `carepath signals export`: vroegsignalen (DDAS v1.2) in en uit.

Import controleert eerst het hele bestand tegen het gedeelde DDAS-schema (elke fout, in het Nederlands; niets
geïmporteerd zolang er één is), bewaart, matcht en routeert dan de signalen met een voortgangsbalk (aantal,
tempo, resterende tijd), opent hun zaken en zet de terugmeldingen aan de partners klaar. Welke gemeenten deze
installatie bedient, en welk team hun signalen krijgt, komt uit `--route` of `$CAREPATH_SIGNAL_ROUTES`
(`GM0014=noord-groningen@user:anna`: warme overdrachten gaan naar anna).
Export schrijft de DDAS-levering van één gemeente en periode, 50.000 signalen per bestand, elk bestand
gecontroleerd tegen het schema. Exitcodes: 0 klaar, 1 geweigerd (het bestand of de export heeft fouten),
2 gebruiksfout.
"""


def register(subparsers: Any) -> None:
    from integrations.cli.language import DutchRawDescriptionHelpFormatter, say

    group = subparsers.add_parser(
        "signals", help=say("vroegsignalen (DDAS v1.2) importeren en de levering exporteren",
                            "import early signals (DDAS v1.2) and export the delivery"),
        description=say(DESCRIPTION_NL, __doc__), formatter_class=DutchRawDescriptionHelpFormatter)
    commands = group.add_subparsers(dest="signals_command", metavar=say("ACTIE", "ACTION"), required=True)
    load = commands.add_parser("import", help=say("een DDAS-bestand met vroegsignalen importeren",
                                                  "import a DDAS file of early signals"),
                               description=say("Controleer een DDAS-bestand tegen het schema en importeer het.",
                                               "Check a DDAS file against the schema and import it."))
    load.add_argument("file", type=Path, metavar=say("BESTAND", "FILE"), help=say("het DDAS-bestand (JSON)",
                                                                                  "the DDAS file (JSON)"))
    load.add_argument("--route", action="append", default=[], metavar=say("GM0014=TEAM[@MEDEWERKER]", "GM0014=TEAM[@WORKER]"),
                      help=say("gemeente die hier is aangesloten en het team dat haar signalen krijgt (herhaalbaar; "
                               "standaard $CAREPATH_SIGNAL_ROUTES)",
                               "a municipality served here and the team that gets its signals (repeatable; "
                               "default $CAREPATH_SIGNAL_ROUTES)"))
    load.add_argument("--report", type=Path, metavar=say("BESTAND", "FILE"),
                      help=say("het verslag per signaal als JSON wegschrijven", "write the per-signal report as JSON"))
    load.add_argument("--no-progress", action="store_true", help=say("geen voortgangsbalk", "no progress bar"))
    load.set_defaults(handler=_import)
    out = commands.add_parser("export", help=say("de DDAS-levering van een gemeente over een periode schrijven",
                                                 "write a municipality's DDAS delivery for a period"),
                              description=say("Schrijf de DDAS-levering, 50.000 signalen per bestand, elk bestand "
                                              "gecontroleerd tegen het schema.",
                                              "Write the DDAS delivery, 50,000 signals per file, each file checked "
                                              "against the schema."))
    day = say("JJJJ-MM-DD", "YYYY-MM-DD")
    out.add_argument("--municipality", required=True, metavar="GM0014",
                     help=say("CBS-code van de gemeente", "CBS code of the municipality"))
    out.add_argument("--from", dest="first", required=True, metavar=day, help=say("eerste dag", "first day"))
    out.add_argument("--to", dest="last", required=True, metavar=day, help=say("laatste dag", "last day"))
    out.add_argument("--out", type=Path, default=Path("."), metavar=say("MAP", "DIR"),
                     help=say("map voor de bestanden (standaard .)", "directory for the files (default .)"))
    out.set_defaults(handler=_export)
    keep = commands.add_parser("retention", help=say("bewaartermijnen uitvoeren: wissen wat over tijd is",
                                                     "apply retention periods: erase what is past its time"),
                               description=say("Wis signalen en zaken waarvan de bewaartermijn voorbij is.",
                                               "Erase signals and cases whose retention period has passed."))
    keep.set_defaults(handler=_retention)


def _routes(given: list[str], service: Any) -> Any:
    from integrations.exchange.ddas.importer import load_routes, parse_routes

    return parse_routes(",".join(given)) if given else load_routes(service)


def _import(args: argparse.Namespace) -> int:
    from engine.errors import CarepathError
    from integrations.exchange.ddas.importer import SignalImporter
    from integrations.exchange.ddas.opener import CaseOpener

    if not args.file.is_file():
        print(say(f"carepath signals import: bestand {args.file} bestaat niet",
                  f"carepath signals import: file {args.file} does not exist"), file=sys.stderr)
        return EXIT_USAGE
    try:
        service = _service()
        try:
            routes = _routes(args.route, service)
        except ValueError as exc:
            print(f"carepath signals import: {exc}", file=sys.stderr)
            return EXIT_USAGE
        importer = SignalImporter(service, routes, keep_outcomes=args.report is not None)
        print(say(f"{args.file.name}: controle tegen het DDAS-schema ...",
                  f"{args.file.name}: checking against the DDAS schema ..."), file=sys.stderr)
        checked = importer.check(args.file)
        if not checked.ok:
            _print_errors(args.file.name, checked.errors)
            if args.report is not None:
                args.report.write_text(json.dumps({"bestand": args.file.name, "geweigerd": True, "fouten": [
                    e.to_json() for e in checked.errors]}, ensure_ascii=False, indent=1), encoding="utf-8")
            return EXIT_REFUSED
        with _Progress(checked.signals, say("signalen", "signals"), quiet=args.no_progress) as bar:
            report = importer.import_file(args.file, progress=bar.update, checked=checked)
        if report.errors:  # the file changed between the check and the import
            _print_errors(args.file.name, report.errors)
            return EXIT_REFUSED
        waiting = report.counts["new_case"]
        with _Progress(waiting, say("zaken", "cases"), quiet=args.no_progress or waiting == 0) as bar:
            opened = CaseOpener(service, routes).run(progress=bar.update)
        report.opened = opened.opened
    except CarepathError as exc:
        from integrations.cli.language import error_text

        print(f"carepath signals import: {error_text(exc)}", file=sys.stderr)
        return EXIT_REFUSED
    print(report.summary())
    seconds = f"{report.seconds:.1f} s"
    print(say(f"{opened.opened} zaken geopend, {opened.not_opened} niet te openen (niet opgepakt), "
              f"{opened.feedback} terugmeldingen aan signaalpartners klaargezet ({seconds.replace('.', ',')})",
              f"{opened.opened} cases opened, {opened.not_opened} could not be opened (not taken up), "
              f"{opened.feedback} feedback messages to signal partners queued ({seconds})"))
    if args.report is not None:
        args.report.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return EXIT_OK


def _print_errors(name: str, errors: list[Any]) -> None:
    print(say(f"{name}: geweigerd, {len(errors)} fout(en) tegen het DDAS-schema; er is niets geïmporteerd",
              f"{name}: refused, {len(errors)} error(s) against the DDAS schema; nothing was imported"),
          file=sys.stderr)
    for error in errors[:MAX_ERRORS_SHOWN]:
        print(f"  {error}", file=sys.stderr)
    if len(errors) > MAX_ERRORS_SHOWN:
        more = len(errors) - MAX_ERRORS_SHOWN
        print(say(f"  ... en nog {more} fouten (alle fouten: --report BESTAND)",
                  f"  ... and {more} more errors (all errors: --report FILE)"), file=sys.stderr)


def _export(args: argparse.Namespace) -> int:
    from engine.errors import CarepathError
    from integrations.exchange.ddas import codes
    from integrations.exchange.ddas.export import export_pages

    try:
        first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    except ValueError as exc:
        print(say(f"carepath signals export: datum klopt niet ({exc}); gebruik JJJJ-MM-DD",
                  f"carepath signals export: wrong date ({exc}); use YYYY-MM-DD"), file=sys.stderr)
        return EXIT_USAGE
    municipality = codes.ddas_municipality(args.municipality)
    if len(municipality) != 6 or not municipality[2:].isdigit():
        print(say(f"carepath signals export: {args.municipality!r} is geen gemeentecode (GM0014)",
                  f"carepath signals export: {args.municipality!r} is not a municipality code (GM0014)"),
              file=sys.stderr)
        return EXIT_USAGE
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        service = _service()
        total = 0
        for page in export_pages(service, municipality, first, last):
            path = args.out / f"ddas-{municipality}-{first.isoformat()}-{last.isoformat()}-{page.number}.json"
            path.write_text(json.dumps(page.document, ensure_ascii=False), encoding="utf-8")
            total += page.signals
            print(say(f"{path}: {page.signals} vroegsignalen, {page.zaken} vroegsignaalzaken (geldig tegen DDAS v1.2)",
                      f"{path}: {page.signals} early signals, {page.zaken} early-signal cases (valid against DDAS "
                      "v1.2)"))
    except CarepathError as exc:
        from integrations.cli.language import error_text

        print(f"carepath signals export: {error_text(exc)}", file=sys.stderr)
        return EXIT_REFUSED
    from integrations.cli.language import day

    print(say(f"{municipality} {day(first)} t/m {day(last)}: {total} vroegsignalen geëxporteerd",
              f"{municipality} {day(first)} to {day(last)}: {total} early signals exported"))
    return EXIT_OK


def _retention(args: argparse.Namespace) -> int:
    from integrations.exchange.ddas.retention import erase_due

    report = erase_due(_service())
    print(report.summary())
    return EXIT_OK


def _service() -> Any:
    from integrations.clock import SystemClock
    from integrations.db.engine_factory import database_url
    from integrations.service import build_service

    return build_service(database_url(), SystemClock())


class _Progress:
    """A rich progress bar on stderr: count, rate and time left (or nothing when quiet)."""

    def __init__(self, total: int, unit: str, *, quiet: bool = False) -> None:
        self.total, self.unit, self.quiet = total, unit, quiet
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if not self.quiet:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(TextColumn(f"[bold]{self.unit}"), BarColumn(), MofNCompleteColumn(),
                                 TaskProgressColumn(), TextColumn("{task.fields[rate]}/s"),
                                 TextColumn(say("nog", "left")), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=False)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.unit, total=self.total, rate="-")
        return self

    def update(self, done: int) -> None:
        if self._bar is None:
            return
        task = self._bar.tasks[0]
        rate = task.speed
        self._bar.update(self._task, completed=done, rate=f"{rate:,.0f}".replace(",", ".") if rate else "-")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
