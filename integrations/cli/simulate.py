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
    sim = subparsers.add_parser(
        "simulate", help="run simulated cases through a pathway (dry run)",
        description="Run N simulated cases through a pathway for D days on a virtual clock, with workers "
                    "behaving as docs/simulation.md describes; print one case's timeline and a summary.")
    sim.add_argument("path", type=Path, metavar="PATHWAY", help="pathway file")
    sim.add_argument("--cases", type=int, default=100, help="number of cases (default 100)")
    sim.add_argument("--days", type=int, default=365, help="days of virtual time (default 365)")
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 5),
                     help="first day, YYYY-MM-DD (default 2026-01-05)")
    sim.add_argument("--model", type=Path, default=None,
                     help="YAML file with worker-model settings (see docs/simulation.md)")
    sim.add_argument("--timeline", default=None, metavar="CASE",
                     help="case id whose timeline is printed (default the first, C00001)")
    sim.set_defaults(handler=run_simulate)


def _model(path: Path | None) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from engine.simulate import WorkerModel

    if path is None:
        return WorkerModel()
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the worker model: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the worker model must be a mapping of settings")
    return WorkerModel.from_mapping(data)


def run_simulate(args: argparse.Namespace) -> int:
    from engine.compiled import compile_pathway
    from engine.errors import CarepathError, PathwayError
    from engine.simulate import simulate
    from integrations.pathway_files import load_file
    from tasks.handlers import default_handlers

    if args.cases < 1 or args.days < 1:
        print("carepath simulate: --cases and --days must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if not args.path.is_file():
        print(f"carepath simulate: no such file: {args.path}", file=sys.stderr)
        return EXIT_USAGE
    began = time.perf_counter()
    try:
        model = _model(args.model)
        pathway = load_file(args.path)
    except PathwayError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except (ValueError, CarepathError) as exc:
        print(f"carepath simulate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from integrations.cli.language import cli_language

    start = datetime(args.start.year, args.start.month, args.start.day, 7, 0, tzinfo=UTC)
    try:
        result = simulate(compile_pathway(pathway), default_handlers(), cases=args.cases, days=args.days,
                          seed=args.seed, start=start, model=model, timeline_case=args.timeline,
                          lang=cli_language())
    except CarepathError as exc:
        print(f"carepath simulate: {args.path}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    out = sys.stdout
    out.write("\n".join(result.timeline) + "\n\n" + "\n".join(result.summary) + "\n")
    print(f"simulated {args.cases} cases over {args.days} days in {time.perf_counter() - began:.2f} s",
          file=sys.stderr)
    return EXIT_OK
