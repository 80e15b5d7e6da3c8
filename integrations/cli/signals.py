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

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
MAX_ERRORS_SHOWN = 200


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("signals", help="vroegsignalen (DDAS v1.2) importeren en de levering exporteren",
                                  description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = group.add_subparsers(dest="signals_command", metavar="SUBCOMMAND", required=True)
    load = commands.add_parser("import", help="een DDAS-bestand met vroegsignalen importeren")
    load.add_argument("file", type=Path, metavar="FILE")
    load.add_argument("--route", action="append", default=[], metavar="GM0014=TEAM[@WERKER]",
                      help="gemeente die hier is aangesloten en het team dat haar signalen krijgt (herhaalbaar; "
                           "standaard $CAREPATH_SIGNAL_ROUTES)")
    load.add_argument("--report", type=Path, metavar="FILE", help="het verslag per signaal als JSON wegschrijven")
    load.add_argument("--no-progress", action="store_true", help="geen voortgangsbalk")
    load.set_defaults(handler=_import)
    out = commands.add_parser("export", help="de DDAS-levering van een gemeente over een periode schrijven")
    out.add_argument("--municipality", required=True, metavar="GM0014")
    out.add_argument("--from", dest="first", required=True, metavar="JJJJ-MM-DD")
    out.add_argument("--to", dest="last", required=True, metavar="JJJJ-MM-DD")
    out.add_argument("--out", type=Path, default=Path("."), metavar="MAP", help="map voor de bestanden (standaard .)")
    out.set_defaults(handler=_export)
    keep = commands.add_parser("retention", help="bewaartermijnen uitvoeren: wissen wat over tijd is")
    keep.set_defaults(handler=_retention)


def _routes(given: list[str], service: Any) -> Any:
    from integrations.exchange.ddas.importer import load_routes, parse_routes

    return parse_routes(",".join(given)) if given else load_routes(service)


def _import(args: argparse.Namespace) -> int:
    from engine.errors import CarepathError
    from integrations.exchange.ddas.importer import SignalImporter
    from integrations.exchange.ddas.opener import CaseOpener

    if not args.file.is_file():
        print(f"carepath signals import: bestand {args.file} bestaat niet", file=sys.stderr)
        return EXIT_USAGE
    try:
        service = _service()
        try:
            routes = _routes(args.route, service)
        except ValueError as exc:
            print(f"carepath signals import: {exc}", file=sys.stderr)
            return EXIT_USAGE
        importer = SignalImporter(service, routes, keep_outcomes=args.report is not None)
        print(f"{args.file.name}: controle tegen het DDAS-schema ...", file=sys.stderr)
        checked = importer.check(args.file)
        if not checked.ok:
            _print_errors(args.file.name, checked.errors)
            if args.report is not None:
                args.report.write_text(json.dumps({"bestand": args.file.name, "geweigerd": True, "fouten": [
                    e.to_json() for e in checked.errors]}, ensure_ascii=False, indent=1), encoding="utf-8")
            return EXIT_REFUSED
        with _Progress(checked.signals, "signalen", quiet=args.no_progress) as bar:
            report = importer.import_file(args.file, progress=bar.update, checked=checked)
        if report.errors:  # the file changed between the check and the import
            _print_errors(args.file.name, report.errors)
            return EXIT_REFUSED
        waiting = report.counts["new_case"]
        with _Progress(waiting, "zaken", quiet=args.no_progress or waiting == 0) as bar:
            opened = CaseOpener(service, routes).run(progress=bar.update)
        report.opened = opened.opened
    except CarepathError as exc:
        print(f"carepath signals import: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(report.summary())
    print(f"{opened.opened} zaken geopend, {opened.not_opened} niet te openen (niet opgepakt), "
          f"{opened.feedback} terugmeldingen aan signaalpartners klaargezet ({report.seconds:.1f} s)")
    if args.report is not None:
        args.report.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return EXIT_OK


def _print_errors(name: str, errors: list[Any]) -> None:
    print(f"{name}: geweigerd, {len(errors)} fout(en) tegen het DDAS-schema; er is niets geïmporteerd",
          file=sys.stderr)
    for error in errors[:MAX_ERRORS_SHOWN]:
        print(f"  {error}", file=sys.stderr)
    if len(errors) > MAX_ERRORS_SHOWN:
        print(f"  ... en nog {len(errors) - MAX_ERRORS_SHOWN} fouten (alle fouten: --report FILE)", file=sys.stderr)


def _export(args: argparse.Namespace) -> int:
    from engine.errors import CarepathError
    from integrations.exchange.ddas import codes
    from integrations.exchange.ddas.export import export_pages

    try:
        first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    except ValueError as exc:
        print(f"carepath signals export: datum klopt niet ({exc}); gebruik JJJJ-MM-DD", file=sys.stderr)
        return EXIT_USAGE
    municipality = codes.ddas_municipality(args.municipality)
    if len(municipality) != 6 or not municipality[2:].isdigit():
        print(f"carepath signals export: {args.municipality!r} is geen gemeentecode (GM0014)", file=sys.stderr)
        return EXIT_USAGE
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        service = _service()
        total = 0
        for page in export_pages(service, municipality, first, last):
            path = args.out / f"ddas-{municipality}-{first.isoformat()}-{last.isoformat()}-{page.number}.json"
            path.write_text(json.dumps(page.document, ensure_ascii=False), encoding="utf-8")
            total += page.signals
            print(f"{path}: {page.signals} vroegsignalen, {page.zaken} vroegsignaalzaken (geldig tegen DDAS v1.2)")
    except CarepathError as exc:
        print(f"carepath signals export: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{municipality} {first.isoformat()} t/m {last.isoformat()}: {total} vroegsignalen geëxporteerd")
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
                                 TextColumn("nog"), TimeRemainingColumn(),
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
