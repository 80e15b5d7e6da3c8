"""`carepath serve`, `carepath sweep`, `carepath dispatch`, `carepath incidents`, `carepath deploy`.

The runtime commands. Prefect is imported only by the commands that run flows
(and only after its environment is pointed into the data directory); `carepath
incidents` and every `--no-prefect` run need only the database. Exit codes: 0
done, 1 refused or something failed (the message says what), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from integrations.cli.language import say, when

if TYPE_CHECKING:
    from integrations.runtime.context import Runtime

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PORT_ENV = "CAREPATH_PORT"


def register(subparsers: Any) -> None:
    from integrations.cli.language import say

    serve = subparsers.add_parser(
        "serve", help=say("carepath draaien: webapp, geplande momenten en berichtenbezorging",
                          "run carepath: web app, timer sweep and message dispatch"),
        description=say("Draai de webapp, de ronde langs geplande momenten en de berichtenbezorging samen, met alle "
                        "gegevens in $CAREPATH_DATA_DIR (standaard ./data). Meldt 'carepath luistert op URL'.",
                        "Run the web app, the timer sweep and the message dispatch in one process, with all "
                        "state in $CAREPATH_DATA_DIR (default ./data). Prints 'carepath listening on URL'."))
    serve.add_argument("--host", default="127.0.0.1", metavar=say("ADRES", "ADDRESS"),
                       help=say("adres om op te luisteren (standaard 127.0.0.1)",
                                "address to listen on (default 127.0.0.1)"))
    serve.add_argument("--port", type=int, default=int(os.environ.get(PORT_ENV) or 8000), metavar="PORT",
                       help=say(f"poort (standaard ${PORT_ENV} of 8000; 0 kiest een vrije)",
                                f"port (default ${PORT_ENV} or 8000; 0 picks a free one)"))
    serve.add_argument("--demo", action="store_true",
                       help=say("demogegevens aanmaken (als de webapp die heeft)",
                                "seed demo data (when the web app provides it)"))
    serve.add_argument("--no-prefect", action="store_true",
                       help=say("geplande momenten en bezorging zonder Prefect (geen rungeschiedenis)",
                                "sweep and dispatch without Prefect (no run history)"))
    serve.add_argument("--web-only", action="store_true",
                       help=say("alleen de webapp: geplande momenten en bezorging draaien elders (Prefect-workers, "
                                "docs/deployment.md)",
                                "only the web app: sweeps and dispatch run elsewhere (Prefect workers, "
                                "docs/deployment.md)"))
    serve.add_argument("--prefect-ui", action="store_true",
                       help=say("ook het dashboard van Prefect tonen (op de poort van de ingebouwde Prefect-server, "
                                "alleen loopback)",
                                "also serve Prefect's dashboard (on the embedded Prefect server's port, loopback "
                                "only)"))
    serve.set_defaults(handler=_guard(run_serve, "serve"))

    jobs = (("sweep", say("de geplande momenten uitvoeren die verlopen zijn", "fire the timers that are due")),
            ("dispatch", say("de berichten in de outbox bezorgen", "deliver the outbox")))
    for name, what in jobs:
        job = subparsers.add_parser(
            name, help=what,
            description=say(f"{what[0].upper()}{what[1:]} als Prefect-flow carepath-{name}: één keer met --once, "
                            f"anders steeds opnieuw (config.yaml: {name}.every) tot je stopt.",
                            f"{what[0].upper()}{what[1:]} as the carepath-{name} Prefect flow: once with --once, "
                            f"else every so often (config.yaml: {name}.every) until interrupted."))
        job.add_argument("--once", action="store_true", help=say("één keer, dan stoppen", "one run, then exit"))
        job.add_argument("--no-prefect", action="store_true",
                         help=say("dezelfde stappen zonder Prefect", "run the same steps without Prefect"))
        job.add_argument("--json", action="store_true",
                         help=say("het resultaat als JSON tonen", "print the run's result as JSON"))
        job.set_defaults(handler=_guard(run_job, name), job=name)

    incidents = subparsers.add_parser(
        "incidents", help=say("tonen wat de runtime niet lukte (onbezorgbare berichten, mislukte geplande momenten)",
                              "list what the runtime could not do (undeliverable messages, failing timers)"),
        description=say("Open incidenten, oudste eerst. --retry zet het bericht of het geplande moment terug in de rij; "
                        "--resolve sluit een incident dat buiten carepath is afgehandeld.",
                        "Open incidents, oldest first. --retry puts the message or timer back in line; "
                        "--resolve closes an incident handled outside carepath."))
    incidents.add_argument("--all", action="store_true",
                           help=say("ook afgehandelde incidenten", "include resolved incidents"))
    incidents.add_argument("--team", help=say("alleen incidenten van dit team", "only incidents of this team"))
    incidents.add_argument("--retry", type=int, metavar="ID",
                           help=say("bericht of gepland moment van incident ID opnieuw proberen",
                                    "retry the message or timer of incident ID"))
    incidents.add_argument("--resolve", type=int, metavar="ID",
                           help=say("incident ID sluiten", "close incident ID"))
    incidents.add_argument("--note", metavar=say("NOTITIE", "NOTE"),
                           help=say("hoe het is opgelost (bij --resolve)", "how it was resolved (with --resolve)"))
    incidents.add_argument("--as", dest="actor", metavar=say("WIE", "WHO"),
                           help=say("wie het doet (standaard $CAREPATH_WORKER of je inlognaam)",
                                    "who acts (default: $CAREPATH_WORKER or your login)"))
    incidents.add_argument("--json", action="store_true",
                           help=say("JSON-regels in plaats van tekst", "JSON lines instead of text"))
    incidents.set_defaults(handler=_guard(run_incidents, "incidents"))

    deploy = subparsers.add_parser(
        "deploy", help=say("de deployments voor geplande momenten en bezorging op een Prefect-server zetten (productie)",
                           "register the sweep and dispatch deployments on a Prefect server (production)"),
        description=say("Maak de process-workpool (zo nodig) en de deployments carepath-sweep en carepath-dispatch "
                        "met hun schema's aan op de Prefect-server $PREFECT_API_URL. Start per machine één "
                        "`prefect worker start --pool POOL` (docs/deployment.md).",
                        "Create the process work pool (if needed) and the carepath-sweep and carepath-dispatch "
                        "deployments with their schedules on the Prefect server $PREFECT_API_URL. Start one "
                        "`prefect worker start --pool POOL` per machine (docs/deployment.md)."))
    deploy.add_argument("--pool", default="carepath", help=say("naam van de workpool (standaard carepath)",
                                                               "work pool name (default carepath)"))
    deploy.add_argument("--source", type=Path, default=None, metavar=say("MAP", "DIR"),
                        help=say("map met de carepath-broncode op de workermachines (standaard deze installatie)",
                                 "carepath source directory on the worker machines (default: this installation)"))
    deploy.add_argument("--sweep-every", type=float, default=None, metavar=say("SECONDEN", "SECONDS"),
                        help=say("seconden (standaard config.yaml sweep.every)",
                                 "seconds (default config.yaml sweep.every)"))
    deploy.add_argument("--dispatch-every", type=float, default=None, metavar=say("SECONDEN", "SECONDS"),
                        help=say("seconden (standaard config.yaml dispatch.every)",
                                 "seconds (default config.yaml dispatch.every)"))
    deploy.add_argument("--paused", action="store_true",
                        help=say("de schema's gepauzeerd aanmaken", "create the schedules paused"))
    deploy.set_defaults(handler=_guard(run_deploy, "deploy"))


def _guard(run: Any, name: str) -> Any:
    def handler(args: argparse.Namespace) -> int:
        from engine.errors import CarepathError
        from integrations.runtime.config import ConfigError

        try:
            code: int = run(args)
            return code
        except ConfigError as exc:
            print(f"carepath {name}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except CarepathError as exc:
            from integrations.cli.language import error_text

            print(f"carepath {name}: {error_text(exc)}", file=sys.stderr)
            return EXIT_FAILED
        except KeyboardInterrupt:
            return EXIT_OK

    return handler


def _logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("carepath").setLevel(logging.INFO)


def _data_dir() -> Path:
    from integrations.db.engine_factory import data_dir

    return data_dir().resolve()


def _runtime(use_prefect: bool) -> Runtime:
    if use_prefect:
        from integrations.runtime import prefect_env

        prefect_env.configure(_data_dir())
    from integrations.runtime.context import build_runtime, install

    runtime = build_runtime(data_dir=_data_dir())
    install(runtime)
    return runtime


def run_serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port < 65536:
        print(say(f"carepath serve: --port {args.port} is geen poortnummer",
                  f"carepath serve: --port {args.port} is not a port number"), file=sys.stderr)
        return EXIT_USAGE
    _logging()
    from integrations.runtime.server import serve

    return serve(host=args.host, port=args.port, data_dir=_data_dir(), demo=args.demo,
                 use_prefect=not args.no_prefect and not args.web_only, prefect_ui=args.prefect_ui,
                 runtime_loop=not args.web_only)


def _seconds(value: float) -> str:
    text = f"{value:.2f} s"
    return say(text.replace(".", ","), text)


def _describe(job: str, result: dict[str, Any]) -> str:
    if job == "sweep":
        late = say(f", {result['late']} te laat", f", {result['late']} late") if result["late"] else ""
        failed = say(f", {result['failed']} konden niet afgaan (zie carepath incidents)",
                     f", {result['failed']} could not fire (see carepath incidents)") if result["failed"] else ""
        by = ", ".join(f"{k} {v}" for k, v in sorted(result["fired_by_pathway"].items()))
        return say(f"{result['fired']} {'gepland moment' if result['fired'] == 1 else 'geplande momenten'} uitgevoerd"
                   f"{late}{failed} in {result['cases']} {'zaak' if result['cases'] == 1 else 'zaken'} "
                   f"({result['batches']} batches, {_seconds(result['seconds'])})",
                   f"fired {result['fired']} timers{late}{failed} in {result['cases']} cases "
                   f"({result['batches']} batches, {_seconds(result['seconds'])})") + (f": {by}" if by else "")
    by = ", ".join(f"{k} {v}" for k, v in sorted(result["sent_by_channel"].items()))
    labels = (("retrying", say("opnieuw te proberen", "to retry")),
              ("failed", say("mislukt (zie carepath incidents)", "failed (see carepath incidents)")),
              ("skipped", say("niet meer nodig", "no longer needed")), ("postponed", say("uitgesteld", "postponed")))
    extra = "".join(f", {result[k]} {label}" for k, label in labels if result[k])
    return say(f"{result['sent']} berichten bezorgd{extra} ({_seconds(result['seconds'])})",
               f"delivered {result['sent']} messages{extra} ({_seconds(result['seconds'])})") + (f": {by}" if by else "")


def run_job(args: argparse.Namespace) -> int:
    job: str = args.job
    use_prefect = not args.no_prefect
    runtime = _runtime(use_prefect)
    if not args.once:
        _logging()
        import threading

        from integrations.runtime.embedded import EmbeddedPrefectServer
        from integrations.runtime.loop import RuntimeLoop

        server = None
        if use_prefect and not os.environ.get("PREFECT_API_URL"):
            server = EmbeddedPrefectServer(runtime.data_dir)  # a thread here: dies with this process
        loop = RuntimeLoop(runtime, use_prefect=use_prefect, jobs=(job,), prefect_server=server)
        via = " via Prefect" if use_prefect else ""
        print(say(f"carepath {job}: elke {loop.intervals[job]:g} s{via}; Ctrl-C stopt",
                  f"carepath {job}: every {loop.intervals[job]:g} s{via}; Ctrl-C stops"), flush=True)
        loop.run(threading.Event())  # the embedded server stops at exit (embedded.py)
        return EXIT_OK
    if use_prefect:
        from integrations.runtime.flows import call_in_process

        result = call_in_process(job)
    else:
        result = (runtime.sweep_once() if job == "sweep" else runtime.dispatch_once()).to_json()
    print(json.dumps(result, sort_keys=True) if args.json else _describe(job, result))
    return EXIT_FAILED if result.get("failed") else EXIT_OK


def run_incidents(args: argparse.Namespace) -> int:
    import getpass

    from integrations.db.engine_factory import read_session, write_session
    from integrations.runtime import incidents
    from integrations.runtime.sweep import report_failed_timers

    runtime = _runtime(use_prefect=False)
    service = runtime.service
    actor = args.actor or os.environ.get("CAREPATH_WORKER") or getpass.getuser()
    now = service.clock.now()
    if args.retry is not None or args.resolve is not None:
        with write_session(service.db) as session:
            if args.retry is not None:
                done = incidents.retry(session, args.retry, by=actor, now=now)
            else:
                if not args.note:
                    print(say("carepath incidents: --resolve vraagt --note (hoe het is afgehandeld)",
                              "carepath incidents: --resolve needs --note (how it was handled)"), file=sys.stderr)
                    return EXIT_USAGE
                done = incidents.resolve(session, args.resolve, by=actor, note=args.note, now=now)
        print(f"incident {done.id}: {done.resolution}")
        return EXIT_OK
    report_failed_timers(service, now)  # failed timers a crashed sweep did not report yet
    with read_session(service.db) as session:
        found = incidents.list_incidents(session, include_resolved=args.all, team=args.team)
    for i in found:
        if args.json:
            print(json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in i.__dict__.items()},
                             ensure_ascii=False, sort_keys=True))
            continue
        if i.resolved_at is None:
            state = "open"
        else:
            state = say(f"afgehandeld door {i.resolved_by}: {i.resolution}", f"resolved by {i.resolved_by}: {i.resolution}")
        print(f"#{i.id} {when(i.created_at)} {i.kind} {i.ref} [{state}]\n    {i.summary}\n    {i.detail}")
    if not found and not args.json:
        print(say("geen open incidenten", "no open incidents") if not args.all else say("geen incidenten",
                                                                                          "no incidents"))
    return EXIT_OK


def run_deploy(args: argparse.Namespace) -> int:
    if not os.environ.get("PREFECT_API_URL"):
        print(say("carepath deploy: zet PREFECT_API_URL op de Prefect-server (docs/deployment.md)",
                  "carepath deploy: set PREFECT_API_URL to the Prefect server (docs/deployment.md)"), file=sys.stderr)
        return EXIT_USAGE
    from integrations.runtime.config import load_config

    config = load_config(_data_dir())
    from integrations.runtime import prefect_env

    prefect_env.configure(_data_dir())
    from integrations.runtime import signal_jobs
    from integrations.runtime.deploy import deploy

    made = deploy(
        pool=args.pool,
        source=(args.source or Path(__file__).resolve().parents[2]).resolve(),
        sweep_every=args.sweep_every or config.sweep.every.total_seconds(),
        dispatch_every=args.dispatch_every or config.dispatch.every.total_seconds(),
        retention_every=signal_jobs.intervals()["retention"],
        paused=args.paused,
    )
    for name, deployment_id in made.items():
        print(say(f"deployment {name} ({deployment_id}) op workpool {args.pool}",
                  f"deployment {name} ({deployment_id}) on work pool {args.pool}"))
    print(say(f"start op elke machine een worker: prefect worker start --pool {args.pool}",
              f"start a worker on each machine: prefect worker start --pool {args.pool}"))
    return EXIT_OK
