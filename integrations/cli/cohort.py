"""`carepath cohort`: write (or remove) a synthetic cohort of a municipality into the database.

A municipality rehearses its dashboard with its own published figures: say how many clients, which
outcome shares, how many parallel problems per client, how many succeed, the origin split; the
report of that year gives them back (integrations/reporting/cohort.py, docs/reporting.md).
Exit codes: 0 done, 1 refused (the message says why), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from integrations.cli.language import say

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def _shares(items: list[str], what: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            found[name.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(say(
                f"{what} {item!r}: schrijf code=aandeel, bijvoorbeeld tenancy_kept=0.67",
                f"{what} {item!r}: write code=share, for example tenancy_kept=0.67")) from None
        if not sep:
            raise argparse.ArgumentTypeError(say(f"{what} {item!r}: schrijf code=aandeel",
                                                 f"{what} {item!r}: write code=share"))
    return found


def register(subparsers: Any) -> None:
    cohort = subparsers.add_parser(
        "cohort", help=say("een synthetisch cohort van een gemeente in de database zetten of weghalen",
                           "write (or remove) a synthetic cohort of a municipality in the database"),
        description=say("Schrijf een synthetisch cohort (afgesloten zaken van één pad in één jaar) met gekozen "
                        "aandelen in de database, zodat een gemeente haar dashboard kan oefenen en haar eigen "
                        "cijfers terugziet; of haal het weer weg.",
                        "Write a synthetic cohort (closed cases of one pathway in one year) with chosen shares "
                        "into the database, so that a municipality can rehearse its dashboard and see its own "
                        "figures back; or remove it again."))
    actions = cohort.add_subparsers(dest="cohort_command", metavar=say("ACTIE", "ACTION"), required=True)
    write = actions.add_parser("write", help=say("schrijf een cohort", "write a cohort"),
                               description=say("Schrijf een cohort.", "Write a cohort."))
    write.add_argument("--municipality", required=True, metavar="GMxxxx",
                       help=say("CBS-code van de gemeente, bijvoorbeeld GM0599",
                                "CBS code of the municipality, for example GM0599"))
    write.add_argument("--pathway", required=True, metavar=say("ZORGPAD", "PATHWAY"),
                       help=say("pad-id, bijvoorbeeld swa-trajectory", "pathway id, for example swa-trajectory"))
    write.add_argument("--year", type=int, required=True, metavar=say("JAAR", "YEAR"),
                       help=say("het jaar waarin de zaken lopen", "the year the cases run in"))
    write.add_argument("--clients", type=int, required=True, metavar="N",
                       help=say("aantal cliënten (één zaak per cliënt)", "number of clients (one case per client)"))
    write.add_argument("--outcome", action="append", default=[], required=True,
                       metavar=say("CODE=AANDEEL", "CODE=SHARE"),
                       help=say("aandeel van een uitkomst (herhaalbaar; samen 1)",
                                "share of an outcome (repeatable; together 1)"))
    write.add_argument("--problems", type=float, default=0.0, metavar="N",
                       help=say("gemiddeld aantal problemen (interventies) per cliënt, bijvoorbeeld 4.545",
                                "average number of problems (interventions) per client, for example 4.545"))
    write.add_argument("--success", type=float, default=0.0, metavar=say("AANDEEL", "SHARE"),
                       help=say("aandeel interventies dat slaagt (0-1)", "share of interventions that succeed (0-1)"))
    write.add_argument("--success-per", action="append", default=[],
                       metavar=say("PROBLEEMGEBIED=AANDEEL", "PROBLEM_AREA=SHARE"),
                       help=say("slagingskans per probleemgebied (herhaalbaar; in plaats van --success)",
                                "success rate per problem area (repeatable; instead of --success)"))
    write.add_argument("--stopped", type=float, default=0.0, metavar=say("AANDEEL", "SHARE"),
                       help=say("van de niet geslaagde interventies het deel dat gestopt is (0-1)",
                                "of the interventions that did not succeed, the share that stopped (0-1)"))
    write.add_argument("--origin", action="append", default=[], metavar=say("GROEP=AANDEEL", "GROUP=SHARE"),
                       help=say("herkomst: native, western, non_western, objected of unregistered (samen 1)",
                                "origin: native, western, non_western, objected or unregistered (together 1)"))
    write.add_argument("--funder", metavar=say("FINANCIER", "FUNDER"),
                       help=say("financier als het niet de gemeente is, bijvoorbeeld health_insurer:3311",
                                "funder when it is not the municipality, for example health_insurer:3311"))
    write.add_argument("--seed", type=int, default=1,
                       help=say("welke cliënt wat krijgt (de aandelen liggen vast)",
                                "which client gets what (the shares are fixed)"))
    write.set_defaults(handler=run_write)
    remove = actions.add_parser("remove", help=say("haal een cohort weg", "remove a cohort"),
                                description=say("Haal een cohort weg.", "Remove a cohort."))
    remove.add_argument("--municipality", required=True, metavar="GMxxxx",
                        help=say("CBS-code van de gemeente", "CBS code of the municipality"))
    remove.add_argument("--year", type=int, required=True, metavar=say("JAAR", "YEAR"),
                        help=say("het jaar van het cohort", "the cohort's year"))
    remove.set_defaults(handler=run_remove)


def _service() -> Any:
    from integrations.clock import SystemClock
    from integrations.db.engine_factory import database_url
    from integrations.service import build_service

    return build_service(database_url(), SystemClock())


def run_write(args: argparse.Namespace) -> int:
    from engine.errors import CarepathError
    from integrations.reporting.cohort import CohortSpec, write_cohort

    try:
        spec = CohortSpec(
            municipality=args.municipality, pathway_id=args.pathway, year=args.year, clients=args.clients,
            outcomes=_shares(args.outcome, say("uitkomst", "outcome")), problems_per_client=args.problems,
            success=_shares(args.success_per, say("slagingskans", "success rate")) if args.success_per else args.success,
            stopped=args.stopped, origin=_shares(args.origin, say("herkomst", "origin")), funder=args.funder, seed=args.seed)
    except argparse.ArgumentTypeError as exc:
        print(f"carepath cohort write: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        done = write_cohort(_service(), spec)
    except CarepathError as exc:
        from integrations.cli.language import error_text

        print(f"carepath cohort write: {error_text(exc)}", file=sys.stderr)
        return EXIT_REFUSED
    outcomes = ", ".join(f"{code} {n}" for code, n in done.outcomes.items())
    print(say(f"Cohort {done.prefix}* geschreven: {done.cases} zaken ({outcomes}), {done.interventions} "
              f"interventies, waarvan {done.achieved} behaald.",
              f"Cohort {done.prefix}* written: {done.cases} cases ({outcomes}), {done.interventions} interventions, "
              f"{done.achieved} of them achieved."))
    return EXIT_OK


def run_remove(args: argparse.Namespace) -> int:
    from integrations.reporting.cohort import remove_cohort

    removed = remove_cohort(_service(), args.municipality, args.year)
    print(say(f"{removed} zaken van cohort COH-{args.municipality}-{args.year}-* verwijderd.",
              f"{removed} cases of cohort COH-{args.municipality}-{args.year}-* removed."))
    return EXIT_OK
