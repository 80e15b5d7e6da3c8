"""`carepath owner` (which organisation publishes a pathway) and `carepath audit export` (the
processing log, Logboek Dataverwerkingen, for a privacy officer).

Both are operator commands on the database `CAREPATH_DATABASE_URL` names; what they do is written to
the audit log with the operator as actor (`--as`, default `$CAREPATH_WORKER` or the login name).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from integrations.cli.language import say

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    from integrations.cli.language import iso_date, say

    owner = subparsers.add_parser(
        "owner", help=say("de organisatie die eigenaar is van een zorgpad tonen of instellen",
                          "show or set the organisation that owns a pathway"),
        description=say("Zonder ORGANISATIE: toon wie eigenaar is van ZORGPAD (of alle eigenaren zonder ZORGPAD). "
                        "Met: maak ORGANISATIE (een uit het accountregister: de organisatie van een team) eigenaar; "
                        "alleen haar coördinatoren publiceren nieuwe versies.",
                        "Without ORGANISATION: show who owns PATHWAY (or every owner without PATHWAY). With it: "
                        "make ORGANISATION (one from the account registry: a team's organisation) the owner; only "
                        "its coordinators publish new versions."))
    owner.add_argument("pathway", nargs="?", metavar=say("ZORGPAD", "PATHWAY"), help=say("zorgpad-id", "pathway id"))
    owner.add_argument("organisation", nargs="?", metavar=say("ORGANISATIE", "ORGANISATION"),
                       help=say("de nieuwe eigenaar", "the new owner"))
    owner.add_argument("--as", dest="actor", metavar=say("WIE", "WHO"),
                       help=say("wie het doet (voor het toegangslog)", "who does it (for the audit log)"))
    owner.set_defaults(handler=run_owner)

    audit = subparsers.add_parser("audit", help=say("het toegangslog als logboek dataverwerkingen",
                                                    "the audit log as a processing log"),
                                  description=say("Het toegangslog voor een privacyfunctionaris.",
                                                  "The audit log for a privacy officer."))
    audit_commands = audit.add_subparsers(dest="audit_command", metavar=say("ACTIE", "ACTION"), required=True)
    export = audit_commands.add_parser(
        "export", help=say("het logboek dataverwerkingen van een periode schrijven",
                           "write the processing log of a period (Logboek Dataverwerkingen)"),
        description=say("Schrijf de regels van VAN..TOT (Nederlandse kalenderdagen) als JSON-regels in de vorm van "
                        "het Logboek Dataverwerkingen (trace-id, span-id, handeling, verwerkingsactiviteit, bron, "
                        "status), of als CSV.",
                        "Write the entries of FROM..TO (Dutch calendar days) as JSON lines in the shape of the "
                        "Logboek Dataverwerkingen (trace id, span id, operation, processing activity, resource, "
                        "status), or as CSV."))
    day = say("JJJJ-MM-DD", "YYYY-MM-DD")
    export.add_argument("--from", dest="start", required=True, type=iso_date, metavar=day,
                        help=say("eerste dag", "first day"))
    export.add_argument("--to", dest="end", required=True, type=iso_date, metavar=day,
                        help=say("laatste dag", "last day"))
    export.add_argument("--case", dest="case_id", metavar=say("ZAAK", "CASE"),
                        help=say("alleen deze zaak", "only this case"))
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                        help=say("jsonl (standaard) of csv", "jsonl (default) or csv"))
    export.add_argument("--as", dest="actor", metavar=say("WIE", "WHO"),
                        help=say("wie exporteert (voor het toegangslog)", "who exports (for the audit log)"))
    export.set_defaults(handler=run_export)


def _actor(given: str | None) -> str:
    return given or os.environ.get("CAREPATH_WORKER") or getpass.getuser()


def _service() -> Any:
    from integrations.clock import SystemClock
    from integrations.db.engine_factory import database_url
    from integrations.service import build_service

    return build_service(database_url(), SystemClock())


def run_owner(args: argparse.Namespace) -> int:
    from engine.errors import ValidationError
    from integrations.db import accounts, audit, ownership
    from integrations.db.engine_factory import read_session, write_session

    service = _service()
    if args.pathway is None or args.organisation is None:
        with read_session(service.db) as session:
            found = ownership.owners(session)
        shown = {k: v for k, v in found.items() if args.pathway in (None, k)}
        if args.pathway and not shown:
            print(say(f"zorgpad {args.pathway} heeft nog geen eigenaar", f"pathway {args.pathway} has no owner yet"))
            return EXIT_REFUSED
        for pathway_id, organisation in sorted(shown.items()):
            print(f"{pathway_id}\t{organisation}")
        return EXIT_OK
    with write_session(service.db) as session:
        known = accounts.organisations(session)
        if args.organisation not in known:
            print(say(f"carepath owner: {args.organisation!r} staat niet in het accountregister; kies uit: ",
                      f"carepath owner: {args.organisation!r} is not in the account registry; choose from: ")
                  + ", ".join(known), file=sys.stderr)
            return EXIT_REFUSED
        if not ownership.is_published(session, args.pathway):
            print(say(f"carepath owner: zorgpad {args.pathway} is niet gepubliceerd",
                      f"carepath owner: pathway {args.pathway} is not published"), file=sys.stderr)
            return EXIT_REFUSED
        try:
            ownership.set_owner(session, args.pathway, args.organisation, service.clock.now(), _actor(args.actor))
        except ValidationError as exc:
            print(f"carepath owner: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        audit.record_access(session, at=service.clock.now(), who=_actor(args.actor), action="admin",
                            what=f"made {args.organisation} the owner of pathway {args.pathway}")
    print(say(f"zorgpad {args.pathway} is van {args.organisation}",
              f"pathway {args.pathway} belongs to {args.organisation}"))
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from integrations.db import audit, processing_log
    from integrations.db.engine_factory import read_session, write_session

    if args.end < args.start:
        print(say("carepath audit export: --to ligt voor --from", "carepath audit export: --to is before --from"),
              file=sys.stderr)
        return EXIT_USAGE
    amsterdam = ZoneInfo("Europe/Amsterdam")
    first = datetime.combine(args.start, time(0), amsterdam).astimezone(UTC)
    after = datetime.combine(args.end + timedelta(days=1), time(0), amsterdam).astimezone(UTC)
    service = _service()
    with audit.trace():
        with write_session(service.db) as session:
            audit.record_access(session, at=service.clock.now(), who=_actor(args.actor), action="export",
                                what=f"processing log {args.start}..{args.end}"
                                     + (f" of case {args.case_id}" if args.case_id else "") + f" ({args.format})")
        with read_session(service.db) as session:
            items = processing_log.records(session, first, after, case_id=args.case_id)
            for line in (processing_log.as_csv(items) if args.format == "csv" else processing_log.as_jsonl(items)):
                sys.stdout.write(line)
    return EXIT_OK
