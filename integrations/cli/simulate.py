"""`carepath simulate`: a coordinator's dry run of a pathway on a virtual clock.

Standard output is byte-identical for the same pathway, options and seed;
timings go to standard error.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    from integrations.cli.language import iso_date, say

    sim = subparsers.add_parser(
        "simulate", help=say("gesimuleerde zaken door een zorgpad laten lopen (proefrun)",
                             "run simulated cases through a pathway (dry run)"),
        description=say("Laat N gesimuleerde zaken D dagen lang door een zorgpad lopen op een virtuele klok, met "
                        "medewerkers die doen wat docs/simulation.md beschrijft; toon het verloop van één zaak en "
                        "een samenvatting.",
                        "Run N simulated cases through a pathway for D days on a virtual clock, with workers "
                        "behaving as docs/simulation.md describes; print one case's timeline and a summary."))
    sim.add_argument("path", type=Path, metavar=say("ZORGPAD", "PATHWAY"), help=say("zorgpadbestand", "pathway file"))
    sim.add_argument("--cases", type=int, default=100, metavar="N",
                     help=say("aantal zaken (standaard 100)", "number of cases (default 100)"))
    sim.add_argument("--days", type=int, default=365, metavar="D",
                     help=say("dagen virtuele tijd (standaard 365)", "days of virtual time (default 365)"))
    sim.add_argument("--seed", type=int, default=1, help=say("startgetal van het toeval (standaard 1)",
                                                             "random seed (default 1)"))
    sim.add_argument("--start", type=iso_date, default=date(2026, 1, 5), metavar=say("JJJJ-MM-DD", "YYYY-MM-DD"),
                     help=say("eerste dag (standaard 2026-01-05)", "first day (default 2026-01-05)"))
    sim.add_argument("--model", type=Path, default=None, metavar=say("BESTAND", "FILE"),
                     help=say("YAML-bestand met instellingen van het medewerkersmodel (zie docs/simulation.md)",
                              "YAML file with worker-model settings (see docs/simulation.md)"))
    sim.add_argument("--timeline", default=None, metavar=say("ZAAK", "CASE"),
                     help=say("zaak waarvan het verloop wordt getoond (standaard de eerste, C00001)",
                              "case id whose timeline is printed (default the first, C00001)"))
    sim.set_defaults(handler=run_simulate)


def _model(path: Path | None) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from engine.simulate import WorkerModel
    from integrations.cli.language import say

    if path is None:
        return WorkerModel()
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        raise ValueError(say(f"{path}: kan het medewerkersmodel niet lezen: {exc}",
                             f"{path}: cannot read the worker model: {exc}")) from exc
    if not isinstance(data, dict):
        raise ValueError(say(f"{path}: het medewerkersmodel moet een lijst van instellingen (mapping) zijn",
                             f"{path}: the worker model must be a mapping of settings"))
    return WorkerModel.from_mapping(data)


def run_simulate(args: argparse.Namespace) -> int:
    from engine.compiled import compile_pathway
    from engine.errors import CarepathError, PathwayError
    from engine.simulate import simulate
    from integrations.cli.language import cli_language, say
    from integrations.pathway_files import load_file
    from tasks.handlers import default_handlers

    if args.cases < 1 or args.days < 1:
        print(say("carepath simulate: --cases en --days moeten ten minste 1 zijn",
                  "carepath simulate: --cases and --days must be at least 1"), file=sys.stderr)
        return EXIT_USAGE
    if not args.path.is_file():
        print(say(f"carepath simulate: bestand bestaat niet: {args.path}",
                  f"carepath simulate: no such file: {args.path}"), file=sys.stderr)
        return EXIT_USAGE
    began = time.perf_counter()
    try:
        model = _model(args.model)
        pathway = load_file(args.path)
    except PathwayError as exc:
        for problem in exc.problems:
            print(problem.text(cli_language()), file=sys.stderr)
        return EXIT_INVALID
    except (ValueError, CarepathError) as exc:
        from integrations.cli.language import error_text

        print(f"carepath simulate: {error_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    start = datetime(args.start.year, args.start.month, args.start.day, 7, 0, tzinfo=UTC)
    try:
        result = simulate(compile_pathway(pathway), default_handlers(), cases=args.cases, days=args.days,
                          seed=args.seed, start=start, model=model, timeline_case=args.timeline,
                          lang=cli_language())
    except CarepathError as exc:
        from integrations.cli.language import error_text

        print(f"carepath simulate: {args.path}: {error_text(exc)}", file=sys.stderr)
        return EXIT_INVALID
    out = sys.stdout
    out.write("\n".join(result.timeline) + "\n\n" + "\n".join(result.summary) + "\n")
    seconds = time.perf_counter() - began
    print(say(f"{args.cases} zaken gesimuleerd over {args.days} dagen in {seconds:.2f} s".replace(".", ","),
              f"simulated {args.cases} cases over {args.days} days in {seconds:.2f} s"), file=sys.stderr)
    return EXIT_OK
