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

from integrations.cli.language import cli_language, say

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    from integrations.cli.language import say

    publish = subparsers.add_parser(
        "publish", help=say("een zorgpadbestand controleren en publiceren (zoals in de webapp)",
                            "check and publish a pathway file (as in the web app)"),
        description=say("Controleer een zorgpadbestand, toon wat er veranderde sinds de nieuwste gepubliceerde "
                        "versie, publiceer het en toon of lopende zaken kunnen worden overgezet (proefrun).",
                        "Check a pathway file, show what changed since the newest published version, publish it "
                        "and show the migration dry run of running cases."))
    publish.add_argument("path", type=Path, metavar=say("BESTAND", "FILE"), help=say("zorgpadbestand", "pathway file"))
    publish.add_argument("--dry-run", action="store_true",
                         help=say("controleren en de wijzigingen tonen, niets publiceren",
                                  "check and show the changes, publish nothing"))
    publish.set_defaults(handler=run_publish)

    unpublish = subparsers.add_parser(
        "unpublish", help=say("een zorgpadversie intrekken die geen zaak gebruikt",
                              "withdraw a pathway version no case uses"),
        description=say("Trek een gepubliceerde zorgpadversie in die geen zaak gebruikt (bijv. per ongeluk "
                        "gepubliceerd).",
                        "Withdraw a published pathway version that no case uses (e.g. published by mistake)."))
    unpublish.add_argument("pathway", metavar=say("ID@VERSIE", "ID@VERSION"),
                           help=say("zorgpad-id en versie, bijv. crisis-chain@2", "pathway id and version, e.g. "
                                    "crisis-chain@2"))
    unpublish.set_defaults(handler=run_unpublish)

    origin = subparsers.add_parser(
        "origin", help=say("geboorteland vastleggen (cliënt, ouders) of het bezwaar van de cliënt",
                           "record country of birth (client, parents) or the client's objection"),
        description=say("Leg het geboorteland van de cliënt en de ouders vast (ISO 3166-codes zoals NL, MA, TR) bij "
                        "een zaak van een zorgpad met origin_registration, of het bezwaar van de cliënt.",
                        "Record the client's and parents' country of birth (ISO 3166 codes such as NL, MA, TR) on a "
                        "case of a pathway with origin_registration, or the client's objection."))
    country = say("LAND", "CC")
    origin.add_argument("case_id", metavar=say("ZAAK", "CASE"), help=say("zaaknummer", "case id"))
    origin.add_argument("--client", metavar=country, help=say("geboorteland van de cliënt", "client's country of birth"))
    origin.add_argument("--mother", metavar=country, help=say("geboorteland van de moeder", "mother's country of birth"))
    origin.add_argument("--father", metavar=country, help=say("geboorteland van de vader", "father's country of birth"))
    origin.add_argument("--objects", action="store_true",
                        help=say("de cliënt maakt bezwaar: er wordt niets vastgelegd",
                                 "the client objects: nothing is recorded"))
    origin.add_argument("--as", dest="actor", metavar=say("WIE", "WHO"),
                        help=say("wie het vastlegt (standaard $CAREPATH_WORKER of je inlognaam)",
                                 "who records it (default: $CAREPATH_WORKER or your login)"))
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
        return _fail("publish", say(f"kan {args.path} niet lezen: {exc}", f"cannot read {args.path}: {exc}"), EXIT_USAGE)
    service = _service()
    try:
        plan = pathway_publishing.plan(service, text, str(args.path))
    except PathwayError as exc:
        for problem in exc.problems:
            print(problem.text(cli_language()), file=sys.stderr)
        n = len(exc.problems)
        return _fail("publish", say(f"{args.path} is geen geldig zorgpad ({n} problemen); er is niets gepubliceerd",
                                    f"{args.path} is not a valid pathway ({n} problems); nothing was published"),
                     EXIT_REFUSED)
    except CarepathError as exc:
        return _fail("publish", str(exc), EXIT_REFUSED)
    pathway = plan.pathway
    if plan.already_published:
        print(say(f"{pathway.key} is al gepubliceerd met deze inhoud; er verandert niets",
                  f"{pathway.key} is already published with this content; nothing changes"))
        return EXIT_OK
    if plan.previous is not None:
        since = say(f"sinds versie {plan.previous}", f"since version {plan.previous}")
    else:
        since = say("nieuw", "new")
    print(say(f"{pathway.key} ({pathway.title}) is in orde; wijzigingen {since}:",
              f"{pathway.key} ({pathway.title}) is fine; changes {since}:"))
    for line in plan.changes or [say("geen inhoudelijke wijzigingen", "no changes in content")]:
        print(f"  - {line}")
    for warning in pathway_publishing.handover_warnings(service, pathway):
        print(say(f"  waarschuwing: {warning}", f"  warning: {warning}"))
    if args.dry_run:
        print(say("proefrun: er is niets gepubliceerd", "dry run: nothing was published"))
        return EXIT_OK
    try:
        pathway_publishing.publish(service, text, str(args.path))
    except CarepathError as exc:
        return _fail("publish", str(exc), EXIT_REFUSED)
    print(say(f"{pathway.key} is gepubliceerd; nieuwe zaken starten op deze versie",
              f"{pathway.key} is published; new cases start on this version"))
    pathway_publishing.dry_run(service, plan)
    if plan.running:
        print(say(f"{plan.running} lopende zaken staan op een oudere versie; {plan.movable} kunnen over naar "
                  f"versie {pathway.version} (zet ze over in de webapp: Zorgpaden, Zaken overzetten)",
                  f"{plan.running} running cases are on an older version; {plan.movable} can move to "
                  f"version {pathway.version} (move them in the web app: Zorgpaden, Zaken overzetten)"))
        for blocker in plan.blockers:
            print(say(f"  niet: {blocker}", f"  not: {blocker}"))
    return EXIT_OK


def run_unpublish(args: argparse.Namespace) -> int:
    from engine.errors import CarepathError
    from integrations import pathway_publishing

    pathway_id, _, version = args.pathway.partition("@")
    if not version.isdigit():
        return _fail("unpublish", say(f"noem een versie: ID@VERSIE (bijv. crisis-chain@2), niet {args.pathway!r}",
                                      f"name a version: ID@VERSION (e.g. crisis-chain@2), not {args.pathway!r}"),
                     EXIT_USAGE)
    service = _service()
    try:
        pathway_publishing.unpublish(service, pathway_id, int(version))
    except CarepathError as exc:
        return _fail("unpublish", str(exc), EXIT_REFUSED)
    print(say(f"{pathway_id}@{version} is ingetrokken; een bestand in $CAREPATH_PATHWAYS_DIR wordt bij de volgende "
              "start opnieuw gepubliceerd: haal het daar ook weg",
              f"{pathway_id}@{version} is withdrawn; a file in $CAREPATH_PATHWAYS_DIR is published again at the next "
              "start: remove it there too"))
    return EXIT_OK


def run_origin(args: argparse.Namespace) -> int:
    from engine.errors import CarepathError
    from integrations.cli.cases import _actor

    given = {key: value.upper() for key in ("client", "mother", "father")
             if (value := getattr(args, key)) is not None}
    if args.objects == bool(given):
        return _fail("origin", say("geef --objects of ten minste een van --client, --mother, --father",
                                   "give --objects or at least one of --client, --mother, --father"), EXIT_USAGE)
    service = _service()
    try:
        if args.objects:
            service.object_to_origin(args.case_id, actor=_actor(args.actor))
            print(say(f"bezwaar vastgelegd voor zaak {args.case_id}: er wordt geen herkomst bewaard",
                      f"objection recorded for case {args.case_id}: no origin is kept"))
        else:
            service.register_origin(args.case_id, given, actor=_actor(args.actor))
            names = {"client": say("cliënt", "client"), "mother": say("moeder", "mother"),
                     "father": say("vader", "father")}
            shown = ", ".join(f"{names[k]} {v}" for k, v in given.items())
            print(say(f"herkomst vastgelegd voor zaak {args.case_id} ({shown})",
                      f"origin recorded for case {args.case_id} ({shown})"))
    except CarepathError as exc:
        return _fail("origin", str(exc), EXIT_REFUSED)
    return EXIT_OK
