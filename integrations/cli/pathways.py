"""`carepath validate`, `carepath graph` and `carepath schema`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    from integrations.cli.language import say

    validate = subparsers.add_parser(
        "validate", help=say("zorgpadbestanden controleren en elk probleem melden",
                             "check pathway files and report every problem"),
        description=say("Controleer zorgpadbestanden (of mappen ervan). Exitcode 0 als alle geldig zijn, 1 als er "
                        "een ongeldig is, 2 bij een gebruiksfout zoals een ontbrekend bestand.",
                        "Check pathway files (or directories of them). Exit 0 when all are valid, "
                        "1 when any is invalid, 2 on a usage error such as a missing file."))
    validate.add_argument("paths", nargs="+", type=Path, metavar=say("PAD", "PATH"),
                          help=say("zorgpadbestand of map", "pathway file or directory"))
    validate.add_argument("--json", action="store_true",
                          help=say("een JSON-verslag voor machines", "print a JSON report for machines"))
    validate.add_argument("--max-bytes", type=int, default=None, metavar="BYTES",
                          help=say("grootste bestand dat wordt aangenomen (standaard 1 MiB)",
                                   "largest file accepted (default 1 MiB)"))
    validate.set_defaults(handler=run_validate)

    graph = subparsers.add_parser(
        "graph", help=say("een zorgpad als Mermaid-stroomschema tonen", "print a pathway as a Mermaid flowchart"),
        description=say("Toon het zorgpad als Mermaid `flowchart TD` (met roltitels en termijnen).",
                        "Print the pathway as a Mermaid `flowchart TD` (with role titles and deadlines)."))
    graph.add_argument("path", type=Path, metavar=say("PAD", "PATH"), help=say("zorgpadbestand", "pathway file"))
    graph.set_defaults(handler=run_graph)

    schema = subparsers.add_parser(
        "schema", help=say("het JSON Schema van zorgpadbestanden tonen", "print the JSON Schema of pathway files"),
        description=say("Toon schemas/pathway.schema.json (voor editors).",
                        "Print schemas/pathway.schema.json (for editors)."))
    schema.set_defaults(handler=run_schema)


def _missing(paths: list[Path]) -> list[Path]:
    return [p for p in paths if not p.exists()]


def _usage_error(command: str, message: str) -> int:
    print(f"carepath {command}: {message}", file=sys.stderr)
    return EXIT_USAGE


def run_validate(args: argparse.Namespace) -> int:
    from engine.yaml_source import DEFAULT_MAX_BYTES
    from integrations.cli.language import cli_language, say
    from integrations.pathway_files import expand, validate_files

    missing = _missing(args.paths)
    if missing:
        return _usage_error("validate", say("bestand of map bestaat niet: ", "no such file or directory: ") + ", ".join(map(str, missing)))
    files = expand(args.paths)
    if not files:
        return _usage_error("validate", say("geen zorgpadbestanden (*.yaml) gevonden in ",
                                                "no pathway files (*.yaml) found in ") + ", ".join(map(str, args.paths)))
    max_bytes = args.max_bytes if args.max_bytes is not None else DEFAULT_MAX_BYTES
    if max_bytes < 1:
        return _usage_error("validate", say("--max-bytes moet ten minste 1 zijn", "--max-bytes must be at least 1"))
    language = cli_language()  # the problems in Dutch, or English with CAREPATH_LANGUAGE=en
    results = validate_files(files, max_bytes=max_bytes)
    invalid = [r for r in results if not r.valid]
    if args.json:
        report = {
            "valid": not invalid,
            "files": [
                {
                    "file": r.file,
                    "valid": r.valid,
                    "pathway": r.pathway.key if r.pathway is not None else None,
                    "fingerprint": r.pathway.fingerprint if r.pathway is not None else None,
                    "problems": [
                        {"file": p.file, "line": p.line, "column": p.column, "path": p.path, "code": p.code,
                         "message": p.message_in(language), "hint": p.hint_in(language)}
                        for p in r.problems
                    ],
                }
                for r in results
            ],
        }
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for result in results:
            for problem in result.problems:
                print(problem.text(language))
        count = sum(len(r.problems) for r in results)
        valid = len(results) - len(invalid)
        summary = say(f"{len(results)} {'bestand' if len(results) == 1 else 'bestanden'} gecontroleerd: "
                      f"{valid} geldig, {len(invalid)} ongeldig",
                      f"{len(results)} {'file' if len(results) == 1 else 'files'} checked: "
                      f"{valid} valid, {len(invalid)} invalid")
        problems = say(f" ({count} {'probleem' if count == 1 else 'problemen'})",
                       f" ({count} problem{'s' if count != 1 else ''})")
        print(summary + (problems if count else ""))
    return EXIT_INVALID if invalid else EXIT_VALID


def run_graph(args: argparse.Namespace) -> int:
    from engine.errors import PathwayError
    from engine.mermaid import to_mermaid
    from integrations.cli.language import cli_language, say
    from integrations.pathway_files import load_file

    if not args.path.is_file():
        return _usage_error("graph", say(f"bestand bestaat niet: {args.path}", f"no such file: {args.path}"))
    try:
        pathway = load_file(args.path)
    except PathwayError as exc:
        for problem in exc.problems:
            print(problem.text(cli_language()), file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        return _usage_error("graph", say(f"kan {args.path} niet lezen: {exc.strerror or exc}",
                                         f"cannot read {args.path}: {exc.strerror or exc}"))

    sys.stdout.write(to_mermaid(pathway, cli_language()))
    return EXIT_VALID


def run_schema(args: argparse.Namespace) -> int:
    schema_file = Path(__file__).parents[2] / "schemas" / "pathway.schema.json"
    sys.stdout.write(schema_file.read_text(encoding="utf-8"))
    return EXIT_VALID
