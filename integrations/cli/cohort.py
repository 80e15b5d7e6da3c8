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

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def _shares(items: list[str], what: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            found[name.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} {item!r}: schrijf code=aandeel, bijvoorbeeld tenancy_kept=0.67") from None
        if not sep:
            raise argparse.ArgumentTypeError(f"{what} {item!r}: schrijf code=aandeel")
    return found


def register(subparsers: Any) -> None:
    cohort = subparsers.add_parser(
        "cohort", help="een synthetisch cohort van een gemeente in de database zetten of weghalen",
        description="Schrijf een synthetisch cohort (afgesloten zaken van één pad in één jaar) met gekozen "
                    "aandelen in de database, zodat een gemeente haar dashboard kan oefenen en haar eigen "
                    "cijfers terugziet; of haal het weer weg.")
    actions = cohort.add_subparsers(dest="cohort_command", metavar="ACTIE", required=True)
    write = actions.add_parser("write", help="schrijf een cohort", description="Schrijf een cohort.")
    write.add_argument("--municipality", required=True, help="CBS-code van de gemeente, bijvoorbeeld GM0599")
    write.add_argument("--pathway", required=True, help="pad-id, bijvoorbeeld swa-trajectory")
    write.add_argument("--year", type=int, required=True, help="het jaar waarin de zaken lopen")
    write.add_argument("--clients", type=int, required=True, help="aantal cliënten (één zaak per cliënt)")
    write.add_argument("--outcome", action="append", default=[], required=True, metavar="CODE=AANDEEL",
                       help="aandeel van een uitkomst (herhaalbaar; samen 1)")
    write.add_argument("--problems", type=float, default=0.0, help="gemiddeld aantal problemen (interventies) "
                                                                   "per cliënt, bijvoorbeeld 4.545")
    write.add_argument("--success", type=float, default=0.0, help="aandeel interventies dat slaagt (0-1)")
    write.add_argument("--success-per", action="append", default=[], metavar="PROBLEEMGEBIED=AANDEEL",
                       help="slagingskans per probleemgebied (herhaalbaar; in plaats van --success)")
    write.add_argument("--stopped", type=float, default=0.0,
                       help="van de niet geslaagde interventies het deel dat gestopt is (0-1)")
    write.add_argument("--origin", action="append", default=[], metavar="GROEP=AANDEEL",
                       help="herkomst: native, western, non_western, objected of unregistered (samen 1)")
    write.add_argument("--funder", help="financier als het niet de gemeente is, bijvoorbeeld health_insurer:3311")
    write.add_argument("--seed", type=int, default=1, help="welke cliënt wat krijgt (de aandelen liggen vast)")
    write.set_defaults(handler=run_write)
    remove = actions.add_parser("remove", help="haal een cohort weg", description="Haal een cohort weg.")
    remove.add_argument("--municipality", required=True)
    remove.add_argument("--year", type=int, required=True)
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
            outcomes=_shares(args.outcome, "uitkomst"), problems_per_client=args.problems,
            success=_shares(args.success_per, "slagingskans") if args.success_per else args.success,
            stopped=args.stopped, origin=_shares(args.origin, "herkomst"), funder=args.funder, seed=args.seed)
    except argparse.ArgumentTypeError as exc:
        print(f"carepath cohort write: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        done = write_cohort(_service(), spec)
    except CarepathError as exc:
        print(f"carepath cohort write: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    outcomes = ", ".join(f"{code} {n}" for code, n in done.outcomes.items())
    print(f"Cohort {done.prefix}* geschreven: {done.cases} zaken ({outcomes}), {done.interventions} interventies, "
          f"waarvan {done.achieved} behaald.")
    return EXIT_OK


def run_remove(args: argparse.Namespace) -> int:
    from integrations.reporting.cohort import remove_cohort

    removed = remove_cohort(_service(), args.municipality, args.year)
    print(f"{removed} zaken van cohort COH-{args.municipality}-{args.year}-* verwijderd.")
    return EXIT_OK
