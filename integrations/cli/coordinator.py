"""`carepath publish`, `carepath unpublish` and `carepath origin`: what a coordinator does.

`publish FILE` checks the file as the web editor does (every problem with its
line and column), shows what changed since the newest published version,
refuses a version number that is taken with other content, publishes (not with
`--dry-run`) and shows the migration dry run of running cases on older
versions. `unpublish ID@VERSION` withdraws a version no case uses. `origin
CASE` records the client's and parents' country of birth, or the client's
objection (then nothing is kept and nothing can be added). Output is Dutch;
exit codes: 0 done, 1 refused, 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    publish = subparsers.add_parser(
        "publish", help="check and publish a pathway file (as in the web app)",
        description="Check a pathway file, show what changed since the newest published version, publish it "
                    "and show the migration dry run of running cases.")
    publish.add_argument("path", type=Path, metavar="FILE", help="pathway file")
    publish.add_argument("--dry-run", action="store_true", help="check and show the changes, publish nothing")
    publish.set_defaults(handler=run_publish)

    unpublish = subparsers.add_parser(
        "unpublish", help="withdraw a pathway version no case uses",
        description="Withdraw a published pathway version that no case uses (e.g. published by mistake).")
    unpublish.add_argument("pathway", metavar="ID@VERSION")
    unpublish.set_defaults(handler=run_unpublish)

    origin = subparsers.add_parser(
        "origin", help="record country of birth (client, parents) or the client's objection",
        description="Record the client's and parents' country of birth (ISO 3166 codes such as NL, MA, TR) on a "
                    "case of a pathway with origin_registration, or the client's objection.")
    origin.add_argument("case_id", metavar="CASE")
    origin.add_argument("--client", metavar="CC", help="client's country of birth")
    origin.add_argument("--mother", metavar="CC", help="mother's country of birth")
    origin.add_argument("--father", metavar="CC", help="father's country of birth")
    origin.add_argument("--objects", action="store_true", help="the client objects: nothing is recorded")
    origin.add_argument("--as", dest="actor", help="who records it (default: $CAREPATH_WORKER or your login)")
    origin.set_defaults(handler=run_origin)


def _fail(command: str, message: str, code: int) -> int:
    print(f"carepath {command}: {message}", file=sys.stderr)
    return code


def _service() -> Any:
    from integrations.cli.cases import _service as service

    return service()


def run_publish(args: argparse.Namespace) -> int:
    from engine.errors import CarepathError, PathwayError
    from integrations import pathway_publishing

    try:
        text = args.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail("publish", f"kan {args.path} niet lezen: {exc}", EXIT_USAGE)
    service = _service()
    try:
        plan = pathway_publishing.plan(service, text, str(args.path))
    except PathwayError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail("publish", f"{args.path} is geen geldig zorgpad ({len(exc.problems)} problemen); "
                                "er is niets gepubliceerd", EXIT_REFUSED)
    except CarepathError as exc:
        return _fail("publish", str(exc), EXIT_REFUSED)
    pathway = plan.pathway
    if plan.already_published:
        print(f"{pathway.key} is al gepubliceerd met deze inhoud; er verandert niets")
        return EXIT_OK
    since = f"sinds versie {plan.previous}" if plan.previous is not None else "nieuw"
    print(f"{pathway.key} ({pathway.title}) is in orde; wijzigingen {since}:")
    for line in plan.changes or ["geen inhoudelijke wijzigingen"]:
        print(f"  - {line}")
    for warning in pathway_publishing.handover_warnings(service, pathway):
        print(f"  waarschuwing: {warning}")
    if args.dry_run:
        print("proefrun: er is niets gepubliceerd")
        return EXIT_OK
    try:
        pathway_publishing.publish(service, text, str(args.path))
    except CarepathError as exc:
        return _fail("publish", str(exc), EXIT_REFUSED)
    print(f"{pathway.key} is gepubliceerd; nieuwe zaken starten op deze versie")
    pathway_publishing.dry_run(service, plan)
    if plan.running:
        print(f"{plan.running} lopende zaken staan op een oudere versie; {plan.movable} kunnen over naar "
              f"versie {pathway.version} (zet ze over in de webapp: Zorgpaden, Zaken overzetten)")
        for blocker in plan.blockers:
            print(f"  niet: {blocker}")
    return EXIT_OK


def run_unpublish(args: argparse.Namespace) -> int:
    from engine.errors import CarepathError
    from integrations import pathway_publishing

    pathway_id, _, version = args.pathway.partition("@")
    if not version.isdigit():
        return _fail("unpublish", f"noem een versie: ID@VERSIE (bijv. crisis-chain@2), niet {args.pathway!r}",
                     EXIT_USAGE)
    service = _service()
    try:
        pathway_publishing.unpublish(service, pathway_id, int(version))
    except CarepathError as exc:
        return _fail("unpublish", str(exc), EXIT_REFUSED)
    print(f"{pathway_id}@{version} is ingetrokken; een bestand in $CAREPATH_PATHWAYS_DIR wordt bij de volgende "
          "start opnieuw gepubliceerd: haal het daar ook weg")
    return EXIT_OK


def run_origin(args: argparse.Namespace) -> int:
    from engine.errors import CarepathError
    from integrations.cli.cases import _actor

    given = {key: value.upper() for key in ("client", "mother", "father")
             if (value := getattr(args, key)) is not None}
    if args.objects == bool(given):
        return _fail("origin", "geef --objects of ten minste een van --client, --mother, --father", EXIT_USAGE)
    service = _service()
    try:
        if args.objects:
            service.object_to_origin(args.case_id, actor=_actor(args.actor))
            print(f"bezwaar vastgelegd voor zaak {args.case_id}: er wordt geen herkomst bewaard")
        else:
            service.register_origin(args.case_id, given, actor=_actor(args.actor))
            shown = ", ".join(f"{k} {v}" for k, v in given.items())
            print(f"herkomst vastgelegd voor zaak {args.case_id} ({shown})")
    except CarepathError as exc:
        return _fail("origin", str(exc), EXIT_REFUSED)
    return EXIT_OK
