"""`carepath fhir export CASE` and `carepath calendar feed|revoke WORKER`: the standard exchanges.

`fhir export` writes one case as a FHIR R5 Bundle (CarePlan, Tasks, ServiceRequests; no personal
data) to a file or stdout. `calendar feed` makes a worker's secret iCalendar URL (shown once),
`calendar revoke` ends every feed URL of that worker. Exit codes: 0 done, 1 refused, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from integrations.cli.cases import EXIT_OK, _command, _service
from integrations.cli.language import say


def register(subparsers: Any) -> None:
    from integrations.cli.language import say

    fhir = subparsers.add_parser("fhir", help=say("zaken exporteren als FHIR R5", "export cases as FHIR R5"),
                                 description=say("Uitwisseling van zaken in FHIR R5 (fhir.resources).",
                                                 "FHIR R5 (fhir.resources) exchange of cases."))
    fhir_commands = fhir.add_subparsers(dest="fhir_command", metavar=say("ACTIE", "ACTION"), required=True)
    export = fhir_commands.add_parser(
        "export", help=say("één zaak als FHIR-bundel (CarePlan, Task, ServiceRequest)",
                           "one case as a FHIR Bundle (CarePlan, Task, ServiceRequest)"),
        description=say("Schrijf zaak ID als FHIR R5-bundel van het type collection, gecontroleerd door "
                        "fhir.resources. De cliënt staat er alleen als pseudoniem in.",
                        "Write case ID as a FHIR R5 Bundle of type collection; validated by fhir.resources. "
                        "The client appears only as a pseudonym."))
    export.add_argument("case_id", metavar="ID", help=say("zaaknummer", "case id"))
    export.add_argument("--out", type=Path, metavar=say("BESTAND", "FILE"),
                        help=say("hierheen schrijven in plaats van naar standaarduitvoer",
                                 "write here instead of stdout"))
    export.add_argument("--base-url", default="http://127.0.0.1:8000", metavar="URL",
                        help=say("het adres van carepath, voor fullUrl", "carepath's address, for fullUrl"))
    export.set_defaults(handler=_command(run_fhir_export, "fhir export"))

    calendar = subparsers.add_parser("calendar", help=say("iCalendar-agenda's van medewerkers", "workers' iCalendar feeds"),
                                     description=say("Geheime iCalendar-adressen van medewerkers (zonder cliëntgegevens).",
                                                     "Secret iCalendar feed URLs of workers (no client data in them)."))
    calendar_commands = calendar.add_subparsers(dest="calendar_command", metavar=say("ACTIE", "ACTION"), required=True)
    user = say("GEBRUIKERSNAAM", "USERNAME")
    feed = calendar_commands.add_parser(
        "feed", help=say("een geheim agenda-adres voor een medewerker maken (één keer getoond)",
                         "make a worker's secret feed URL (shown once)"),
        description=say("Maak een geheim agenda-adres voor een medewerker; het wordt één keer getoond.",
                        "Make a worker's secret feed URL; it is shown once."))
    feed.add_argument("username", metavar=user, help=say("gebruikersnaam van de medewerker", "the worker's username"))
    feed.add_argument("--base-url", default="http://127.0.0.1:8000", metavar="URL",
                      help=say("het adres van carepath", "carepath's address"))
    feed.set_defaults(handler=_command(run_calendar_feed, "calendar feed"))
    revoke = calendar_commands.add_parser(
        "revoke", help=say("alle agenda-adressen van een medewerker intrekken", "end every feed URL of a worker"),
        description=say("Trek alle agenda-adressen van een medewerker in.", "End every feed URL of a worker."))
    revoke.add_argument("username", metavar=user, help=say("gebruikersnaam van de medewerker", "the worker's username"))
    revoke.set_defaults(handler=_command(run_calendar_revoke, "calendar revoke"))


def run_fhir_export(args: argparse.Namespace) -> int:
    from integrations.exchange.fhir.build import bundle

    service = _service()
    state = service.case(args.case_id)
    document = bundle(state, service.catalog.lookup(state.pathway_id, state.pathway_version), args.base_url)
    text = json.dumps(document.model_dump(mode="json", exclude_none=True), ensure_ascii=False, indent=1)
    if args.out is None:
        sys.stdout.write(text + "\n")
    else:
        args.out.write_text(text + "\n", encoding="utf-8")
        print(say(f"FHIR-bundel van zaak {args.case_id} geschreven naar {args.out}",
                  f"FHIR bundle of case {args.case_id} written to {args.out}"))
    return EXIT_OK


def run_calendar_feed(args: argparse.Namespace) -> int:
    from integrations.db.engine_factory import write_session
    from integrations.exchange.calendar.feeds import FEED_PATH, create_feed

    service = _service()
    with write_session(service.db) as session:
        token = create_feed(session, args.username, service.clock.now())
    url = f"{args.base_url.rstrip('/')}{FEED_PATH.format(token=token)}"
    print(say(f"Agenda-adres van {args.username} (alleen nu getoond): {url}",
              f"Calendar feed of {args.username} (shown only now): {url}"))
    return EXIT_OK


def run_calendar_revoke(args: argparse.Namespace) -> int:
    from integrations.db.engine_factory import write_session
    from integrations.exchange.calendar.feeds import revoke_feeds

    service = _service()
    with write_session(service.db) as session:
        count = revoke_feeds(session, args.username, service.clock.now())
    print(say(f"{count} agenda-adres(sen) van {args.username} ingetrokken",
              f"{count} feed URL(s) of {args.username} revoked"))
    return EXIT_OK
