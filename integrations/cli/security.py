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
from datetime import date
from typing import Any

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    owner = subparsers.add_parser(
        "owner", help="show or set the organisation that owns a pathway",
        description="Without ORGANISATION: show who owns PATHWAY (or every owner without PATHWAY). With it: "
                    "make ORGANISATION (one from the account registry: a team's organisation) the owner; only "
                    "its coordinators publish new versions.")
    owner.add_argument("pathway", nargs="?", metavar="PATHWAY")
    owner.add_argument("organisation", nargs="?", metavar="ORGANISATION")
    owner.add_argument("--as", dest="actor", help="who does it (for the audit log)")
    owner.set_defaults(handler=run_owner)

    audit = subparsers.add_parser("audit", help="the audit log as a processing log",
                                  description="The audit log for a privacy officer.")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    export = audit_commands.add_parser(
        "export", help="write the processing log of a period (Logboek Dataverwerkingen)",
        description="Write the entries of FROM..TO (Dutch calendar days) as JSON lines in the shape of the "
                    "Logboek Dataverwerkingen (trace id, span id, operation, processing activity, resource, "
                    "status), or as CSV.")
    export.add_argument("--from", dest="start", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="end", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    export.add_argument("--case", dest="case_id", help="only this case")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--as", dest="actor", help="who exports (for the audit log)")
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
            print(f"zorgpad {args.pathway} heeft nog geen eigenaar")
            return EXIT_REFUSED
        for pathway_id, organisation in sorted(shown.items()):
            print(f"{pathway_id}\t{organisation}")
        return EXIT_OK
    with write_session(service.db) as session:
        known = accounts.organisations(session)
        if args.organisation not in known:
            print(f"carepath owner: {args.organisation!r} staat niet in het accountregister; kies uit: "
                  + ", ".join(known), file=sys.stderr)
            return EXIT_REFUSED
        if not ownership.is_published(session, args.pathway):
            print(f"carepath owner: zorgpad {args.pathway} is niet gepubliceerd", file=sys.stderr)
            return EXIT_REFUSED
        try:
            ownership.set_owner(session, args.pathway, args.organisation, service.clock.now(), _actor(args.actor))
        except ValidationError as exc:
            print(f"carepath owner: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        audit.record_access(session, at=service.clock.now(), who=_actor(args.actor), action="admin",
                            what=f"made {args.organisation} the owner of pathway {args.pathway}")
    print(f"zorgpad {args.pathway} is van {args.organisation}")
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from integrations.db import audit, processing_log
    from integrations.db.engine_factory import read_session, write_session

    if args.end < args.start:
        print("carepath audit export: --to ligt voor --from", file=sys.stderr)
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
