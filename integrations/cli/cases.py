"""`carepath case ...`, `carepath tasks`, `carepath task complete`, `carepath tick`, `carepath db upgrade`.

Every command goes through the application service on the database that
`CAREPATH_DATABASE_URL` names (default: SQLite in `$CAREPATH_DATA_DIR`), which
is upgraded to the newest schema first. Times are shown on the Dutch wall
clock. Personal data is shown only with `case show --personal`, and that
viewing is written to the audit log. Exit codes: 0 done, 1 refused (the
message names the case or task), 2 usage (bad arguments, unreadable file).
"""

from __future__ import annotations

import argparse
import gc
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from integrations.cli.language import say, when

if TYPE_CHECKING:
    from engine.compiled import CompiledPathway
    from engine.events import Event
    from engine.state import CaseState
    from integrations.db.repository import TaskView
    from integrations.service import CaseService

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
WORKER_ENV = "CAREPATH_WORKER"


class UsageError(Exception):
    """Arguments or input files that cannot be used (exit 2)."""


def register(subparsers: Any) -> None:
    from integrations.cli.language import say

    case = subparsers.add_parser("case", help=say("zaken starten en bekijken", "start and inspect cases"),
                                 description=say("Start een zaak of toon haar verloop.",
                                                 "Start a case or show its timeline."))
    case_commands = case.add_subparsers(dest="case_command", metavar=say("ACTIE", "ACTION"), required=True)

    start = case_commands.add_parser(
        "start", help=say("een zaak starten op een zorgpad", "start a case on a pathway"),
        description=say("Start een zaak op ZORGPAD (een id, of id@versie; standaard de nieuwste versie).",
                        "Start a case on PATHWAY (an id, or id@version; default: its newest version)."))
    start.add_argument("pathway", metavar=say("ZORGPAD", "PATHWAY"),
                       help=say("zorgpad-id of id@versie", "pathway id or id@version"))
    start.add_argument("--trigger", required=True, metavar=say("SIGNAAL", "SIGNAL"),
                       help=say("het soort signaal dat de zaak start", "the signal type that starts the case"))
    start.add_argument("--data", required=True, type=Path, metavar=say("BESTAND", "FILE"),
                       help=say("zaakgegevens als JSON ('-' = standaardinvoer)", "case data as JSON ('-' = stdin)"))
    start.add_argument("--client-id", metavar="ID",
                       help=say("cliëntnummer (bijv. BSN); alleen het pseudoniem wordt bewaard",
                                "client identifier (e.g. BSN); only its pseudonym is stored"))
    start.add_argument("--team", help=say("het team van de zaak (een dat bestaat)",
                                          "team the case belongs to (one that exists)"))
    start.add_argument("--municipality", required=True, metavar="GMxxxx",
                       help=say("de opdrachtgevende gemeente, een CBS-code zoals GM0344",
                                "the commissioning municipality, a CBS code such as GM0344"))
    start.add_argument("--as", dest="actor", metavar=say("WIE", "WHO"),
                       help=say(f"wie de zaak start (standaard ${WORKER_ENV} of je inlognaam)",
                                f"who starts it (default: ${WORKER_ENV} or your login)"))
    start.add_argument("--key", metavar=say("SLEUTEL", "KEY"),
                       help=say("idempotentiesleutel: dezelfde opdracht met deze sleutel start geen tweede zaak",
                                "idempotency key: repeating the command with it starts no second case"))
    start.set_defaults(handler=_command(run_case_start, "case start"))

    show = case_commands.add_parser(
        "show", help=say("het verloop, de open taken en wat er aankomt van een zaak tonen",
                         "show a case's timeline, open tasks and what is due"),
        description=say("Toon een zaak: wat er gebeurde (Nederlandse tijd), wat open staat en wat er aankomt. "
                        "Persoonsgegevens alleen met --personal (de inzage wordt gelogd).",
                        "Show a case: what happened (Dutch time), what is open and what is due next. "
                        "Personal data only with --personal (the viewing is logged)."))
    show.add_argument("case_id", metavar="ID", help=say("zaaknummer", "case id"))
    show.add_argument("--personal", action="store_true",
                      help=say("ook de persoonsgegevens van de cliënt tonen", "also show the client's personal data"))
    show.add_argument("--as", dest="actor", metavar=say("WIE", "WHO"),
                      help=say("wie kijkt (voor het toegangslog)", "who looks (for the audit log)"))
    show.add_argument("--why", metavar=say("REDEN", "REASON"),
                      help=say("waarom persoonsgegevens worden ingezien (voor het toegangslog)",
                               "why personal data is viewed (for the audit log)"))
    show.set_defaults(handler=_command(run_case_show, "case show"))

    tasks = subparsers.add_parser(
        "tasks", help=say("open taken tonen", "list open tasks"),
        description=say("Open taken, de eerst verlopende eerst. --worker: de taken van die medewerker (plus de "
                        "niet-opgepakte taken van --role); alleen --role: de wachtrij van de rol; geen van "
                        "beide: alle open taken.",
                        "Open tasks, soonest due first. --worker: that worker's tasks (plus the unclaimed tasks "
                        "of --role); --role alone: the role's queue; neither: every open task."))
    tasks.add_argument("--worker", metavar=say("MEDEWERKER", "WORKER"), help=say("medewerker-id", "worker id"))
    tasks.add_argument("--role", action="append", default=[], metavar=say("ROL", "ROLE"),
                       help=say("rol-id (herhaalbaar)", "role id (repeatable)"))
    tasks.add_argument("--team", help=say("alleen zaken van dit team (en zaken zonder team)",
                                          "only cases of this team (and cases without a team)"))
    tasks.set_defaults(handler=_command(run_tasks, "tasks"))

    task = subparsers.add_parser("task", help=say("iets doen met één taak", "act on one task"),
                                 description=say("Iets doen met één taak.", "Act on one task."))
    task_commands = task.add_subparsers(dest="task_command", metavar=say("ACTIE", "ACTION"), required=True)
    complete = task_commands.add_parser(
        "complete", help=say("een taak afronden met de gegevens van het formulier",
                             "complete a task with its form data"),
        description=say("Rond taak ID af met de formuliergegevens in BESTAND (JSON). De medewerker moet de taak "
                        "mogen doen: een actief account in een team dat de zaak ziet, met de rol van de taak.",
                        "Complete task ID with the form data in FILE (JSON). The worker must be allowed to do "
                        "the task: an active account in a team that sees the case, holding the task's role."))
    complete.add_argument("task_id", metavar="ID", help=say("taaknummer, bijv. C1.2", "task id, e.g. C1.2"))
    complete.add_argument("--data", required=True, type=Path, metavar=say("BESTAND", "FILE"),
                          help=say("formuliergegevens als JSON ('-' = standaardinvoer)",
                                   "form data as JSON ('-' = stdin)"))
    complete.add_argument("--worker", metavar=say("MEDEWERKER", "WORKER"),
                          help=say(f"wie de taak afrondt (standaard ${WORKER_ENV} of je inlognaam)",
                                   f"who completes it (default: ${WORKER_ENV} or your login)"))
    complete.add_argument("--key", metavar=say("SLEUTEL", "KEY"),
                          help=say("idempotentiesleutel: een herhaling krijgt antwoord maar wordt niet nog eens "
                                   "uitgevoerd", "idempotency key: a repeat with it is answered, not applied again"))
    complete.set_defaults(handler=_command(run_task_complete, "task complete"))

    tick = subparsers.add_parser(
        "tick", help=say("elk gepland moment uitvoeren dat nu verlopen is", "fire every timer that is due now"),
        description=say("Voert elk verlopen gepland moment uit (termijnen, herinneringen, evaluaties). "
                        "Exitcode 1 als een gepland moment niet kon worden uitgevoerd.",
                        "Fire every due timer (deadlines, reminders, evaluations). "
                        "Exit 1 when a timer could not be fired."))
    tick.add_argument("--batch-size", type=int, default=500, metavar="N",
                      help=say("geplande momenten per transactie (standaard 500)", "timers per transaction (default 500)"))
    tick.set_defaults(handler=_command(run_tick, "tick"))

    db = subparsers.add_parser("db", help=say("databaseonderhoud", "database maintenance"),
                               description=say("Databaseonderhoud.", "Database maintenance."))
    db_commands = db.add_subparsers(dest="db_command", metavar=say("ACTIE", "ACTION"), required=True)
    upgrade = db_commands.add_parser(
        "upgrade", help=say("de database naar het nieuwste schema brengen", "bring the database to the newest schema"),
        description=say("Werk het databaseschema bij (openstaande schemawijzigingen) en publiceer de meegeleverde zorgpaden.",
                        "Apply pending migrations and publish the shipped pathways."))
    upgrade.set_defaults(handler=_command(run_db_upgrade, "db upgrade"))
    archive = db_commands.add_parser(
        "archive", help=say("de geschiedenis van gesloten zaken gecomprimeerd archiveren",
                            "archive the history of closed cases, compressed"),
        description=say("Verplaatst de gebeurtenissen, afgelopen geplande momenten en bezorgde berichten van zaken die "
                        "langer dan DAGEN gesloten zijn naar het gecomprimeerde archief (de runtime doet dit elke nacht). "
                        "Zaakpagina's, exports en rapportages lezen het archief mee; een heropende zaak gaat gewoon verder.",
                        "Move the events, past timers and delivered messages of cases closed more than DAYS ago into "
                        "the compressed archive (the runtime does this nightly). Case pages, exports and reports read "
                        "the archive too; a reopened case carries on."))
    archive.add_argument("--after-days", type=float, default=None, metavar="DAGEN",
                         help=say("dagen na het sluiten (standaard $CAREPATH_ARCHIVE_AFTER_DAYS of 30)",
                                  "days after closing (default $CAREPATH_ARCHIVE_AFTER_DAYS or 30)"))
    archive.set_defaults(handler=_command(run_db_archive, "db archive"))


# --- plumbing ---------------------------------------------------------------------------------------


def _command(run: Callable[[argparse.Namespace], int], name: str) -> Callable[[argparse.Namespace], int]:
    """Turn refusals into exit 1 and usage problems into exit 2, each with one clear line."""

    def handler(args: argparse.Namespace) -> int:
        from engine.errors import CarepathError

        try:
            return run(args)
        except UsageError as exc:
            print(f"carepath {name}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except CarepathError as exc:
            from integrations.cli.language import error_text

            print(f"carepath {name}: {error_text(exc)}", file=sys.stderr)
            return EXIT_REFUSED

    return handler


def _service() -> CaseService:
    from integrations.clock import SystemClock
    from integrations.db.engine_factory import database_url
    from integrations.service import build_service

    return build_service(database_url(), SystemClock())


def _actor(given: str | None) -> str:
    return given or os.environ.get(WORKER_ENV) or getpass.getuser()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(say(f"kan {path} niet lezen: {exc.strerror or exc}",
                             f"cannot read {path}: {exc.strerror or exc}")) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(say(f"{path} is geen JSON: {exc.msg} op regel {exc.lineno}, kolom {exc.colno}",
                             f"{path} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")) from exc
    if not isinstance(data, dict):
        raise UsageError(say(f"{path} moet een JSON-object bevatten, geen {type(data).__name__}",
                             f"{path} must hold a JSON object, not {type(data).__name__}"))
    return data


def _local(moment: datetime | None) -> str:
    """A moment on the Amsterdam wall clock: `4 december 2026 14:05`."""
    return when(moment)


def _role(cp: CompiledPathway | None, role_id: str) -> str:
    """A role's title (its id when the pathway does not name it)."""
    role = cp.roles.get(role_id) if cp is not None else None
    return role.title if role is not None and role.title else role_id


def _lookup(service: CaseService, state: CaseState) -> CompiledPathway | None:
    try:
        return service.catalog.lookup(state.pathway_id, state.pathway_version)
    except Exception:  # an unreadable pathway must not hide the case
        return None


# --- case start ---------------------------------------------------------------------------------------


def _pathway_ref(text: str) -> tuple[str, int | None]:
    pathway_id, _, version = text.partition("@")
    if not version:
        return pathway_id, None
    if not version.isdigit():
        raise UsageError(say(f"ZORGPAD is een id of id@versie (bijv. eviction-prevention@1), niet {text!r}",
                             f"PATHWAY is an id or id@version (e.g. eviction-prevention@1), not {text!r}"))
    return pathway_id, int(version)


def run_case_start(args: argparse.Namespace) -> int:
    pathway_id, version = _pathway_ref(args.pathway)
    data = _read_json(args.data)
    service = _service()
    for path, why in service.unpublished:
        if Path(path).stem == pathway_id:
            print(say(f"carepath case start: waarschuwing: {path} is niet gepubliceerd: {why}",
                      f"carepath case start: warning: {path} was not published: {why}"), file=sys.stderr)
    from integrations.cli.case_checks import check_start

    check_start(service, args.team, args.municipality)
    result = service.start_case(pathway_id, args.trigger, data, actor=_actor(args.actor), client_id=args.client_id,
                                team=args.team, municipality=args.municipality, version=version,
                                idempotency_key=args.key)
    state = service.case(result.case_id)
    cp = _lookup(service, state)
    again = say(" (al gestart met deze sleutel)", " (already started with this key)") if result.duplicate else ""
    print(say(f"zaak {result.case_id} gestart op {state.pathway_id}@{state.pathway_version}{again}",
              f"case {result.case_id} started on {state.pathway_id}@{state.pathway_version}{again}"))
    for task in state.open_tasks():
        print(say(f"  open taak {task.id}: {task.title} (rol {_role(cp, task.role)}, uiterlijk {_local(task.due_at)})",
                  f"  open task {task.id}: {task.title} (role {_role(cp, task.role)}, due {_local(task.due_at)})"))
    return EXIT_OK


# --- case show ----------------------------------------------------------------------------------------




def _describe(event: Event, state: CaseState, cp: CompiledPathway | None) -> str | None:
    """One line for a history entry, or None for bookkeeping nobody needs to read."""
    d = event.data

    def task_title(task_id: str) -> str:
        task = state.tasks.get(task_id)
        return f"{task_id} ({task.title})" if task else task_id

    def step_title(step_id: str) -> str:
        step = cp.steps.get(step_id) if cp else None
        return f"{step.title} [{step_id}]" if step and step.title else step_id

    def role(role_id: str) -> str:
        return _role(cp, role_id)

    kind = event.type
    if kind == "case_started":
        return say(f"zaak gestart door signaal {d['trigger']}", f"case started by signal {d['trigger']}")
    if kind == "step_entered":
        flow = "" if d["flow"] == "main" else say(f" (probleemgebied {d['flow']})", f" (problem area {d['flow']})")
        return say(f"stap {step_title(d['step_id'])}{flow}", f"step {step_title(d['step_id'])}{flow}")
    if kind == "task_opened":
        task = d["task"]
        due = _local(datetime.fromisoformat(task["due_at"]))
        who = say(f", voor {task['assignee']}", f", for {task['assignee']}") if task.get("assignee") else ""
        return say(f"taak {task['id']} geopend: {task['title']} (rol {role(task['role'])}{who}, uiterlijk {due})",
                   f"task {task['id']} opened: {task['title']} (role {role(task['role'])}{who}, due {due})")
    if kind == "task_claimed":
        return say(f"taak {task_title(d['task_id'])} opgepakt door {d['worker']}",
                   f"task {task_title(d['task_id'])} claimed by {d['worker']}")
    if kind == "task_released":
        return say(f"taak {task_title(d['task_id'])} teruggezet in de wachtrij",
                   f"task {task_title(d['task_id'])} handed back to the queue")
    if kind == "task_reassigned":
        if d["worker"]:
            to = say(f"{d['worker']} (rol {role(d['role'])})", f"{d['worker']} (role {role(d['role'])})")
        else:
            to = say(f"de wachtrij van rol {role(d['role'])}", f"the queue of role {role(d['role'])}")
        return say(f"taak {task_title(d['task_id'])} verplaatst naar {to}", f"task {task_title(d['task_id'])} moved to {to}")
    if kind == "task_completed":
        return say(f"taak {task_title(d['task_id'])} afgerond", f"task {task_title(d['task_id'])} completed")
    if kind == "task_cancelled":
        return say(f"taak {task_title(d['task_id'])} vervallen", f"task {task_title(d['task_id'])} cancelled")
    if kind == "task_deadline_passed":
        what = {"reminder": say("herinnering", "reminder"), "escalation": say("escalatie", "escalation"),
                "deadline": say("termijn verstreken", "deadline passed")}.get(d["what"], d["what"])
        return say(f"taak {task_title(d['task_id'])}: {what} {d['index'] + 1}",
                   f"task {task_title(d['task_id'])}: {what} {d['index'] + 1}")
    if kind == "message_queued":
        m = d["message"]
        to = m.get("to_worker") or (say(f"rol {role(m['to_role'])}", f"role {role(m['to_role'])}")
                                    if m.get("to_role") else say("de cliënt", "the client"))
        return say(f"bericht {m['template']} via {m['channel']} aan {to}",
                   f"message {m['template']} via {m['channel']} to {to}")
    if kind == "tracks_opened":
        return say(f"probleemgebieden: {', '.join(d['order'])} ({d['mode']})", f"problem areas: {', '.join(d['order'])} ({d['mode']})")
    if kind == "track_started":
        return say(f"probleemgebied {d['track_id']} gestart", f"problem area {d['track_id']} started")
    if kind == "track_closed":
        return say(f"probleemgebied {d['track_id']} afgesloten: {d['result']}", f"problem area {d['track_id']} closed: {d['result']}")
    if kind == "lead_time_exceeded":
        if d["flow"] == "main":
            return say("doorlooptijd van de zaak overschreden", "lead time of the case exceeded")
        return say(f"doorlooptijd van probleemgebied {d['flow']} overschreden", f"lead time of problem area {d['flow']} exceeded")
    if kind == "escalation_raised":
        e = d["escalation"]
        return say(f"escalatie {e['id']} naar rol {role(e['to_role'])}", f"escalation {e['id']} raised to role "
                   f"{role(e['to_role'])}")
    if kind == "escalation_resolved":
        return say(f"escalatie {d['escalation_id']} afgehandeld", f"escalation {d['escalation_id']} resolved")
    if kind == "case_suspended":
        return say("zaak gepauzeerd", "case paused")
    if kind == "case_resumed":
        n = len(d["tasks"])
        return say(f"zaak hervat ({n} {'taaktermijn' if n == 1 else 'taaktermijnen'} opgeschoven voorbij de pauze)",
                   f"case resumed ({n} task deadline{'' if n == 1 else 's'} moved past the pause)")
    if kind == "case_closed":
        why = say(f", reden {d['reason_code']}", f", reason {d['reason_code']}") if d.get("reason_code") else ""
        return say(f"zaak afgesloten: uitkomst {d['outcome']}{why}", f"case closed: outcome {d['outcome']}{why}")
    if kind == "case_reopened":
        return say(f"zaak heropend bij {step_title(d['step_id'])}", f"case reopened at {step_title(d['step_id'])}")
    if kind == "origin_registered":
        return say("herkomst vastgelegd", "origin registered")
    if kind == "origin_objected":
        return say("cliënt maakte bezwaar tegen het vastleggen van herkomst",
                   "client objected to registering origin")
    if kind == "case_data_updated":
        changed = ", ".join(sorted(d["changes"]))
        return say(f"zaakgegevens gewijzigd: {changed or 'alleen persoonsgegevens'}",
                   f"case data changed: {changed or 'personal data only'}")
    if kind == "case_migrated":
        return say(f"overgezet naar zorgpadversie {d['to_version']}", f"moved to pathway version {d['to_version']}")
    return None  # timer_set, timer_fired, timer_cancelled, flow_ended, tracks_joined, track_planned, track_progress


def _timer_label(timer: Any, state: CaseState) -> str:
    kind = timer.kind.value
    if kind == "task_deadline":
        task = state.tasks.get(timer.ref)
        title = f" ({task.title})" if task else ""
        return say(f"termijn {timer.index + 1} van taak {timer.ref}{title}",
                   f"deadline {timer.index + 1} of task {timer.ref}{title}")
    if kind == "evaluation":
        return say(f"evaluatie {timer.index} gaat open", f"evaluation {timer.index} opens")
    if kind == "wait":
        return say(f"wachten in stap {timer.ref} eindigt", f"wait of step {timer.ref} ends")
    if kind == "timeout":
        return say(f"wachttijd van stap {timer.ref} verloopt", f"timeout of step {timer.ref} ends")
    return f"{kind.replace('_', ' ')} ({timer.ref})"


_STATUS_NL = {"open": "open", "closed": "afgesloten", "suspended": "gepauzeerd", "active": "lopend"}


def _status(value: str) -> str:
    return say(_STATUS_NL.get(value, value), value)


def run_case_show(args: argparse.Namespace) -> int:
    service = _service()
    state = service.case(args.case_id)
    if args.personal and state.closed_at is not None and not (args.why or "").strip():
        raise UsageError(say("persoonsgegevens van een afgesloten zaak alleen met een reden: --why '...' "
                             "(de reden komt in het toegangslog)",
                             "personal data of a closed case only with a reason: --why '...' "
                             "(the reason goes into the audit log)"))
    history = service.history(args.case_id)
    cp = _lookup(service, state)
    personal = tuple(cp.pathway.personal_data) if cp else ()
    title = f"{cp.pathway.title} " if cp else ""
    out = sys.stdout
    team = say(f", team {state.team}", f", team {state.team}") if state.team else ""
    out.write(say(f"zaak {state.id}: {title}({state.pathway_id}@{state.pathway_version}), "
                  f"{_status(state.status.value)}{team}\n",
                  f"case {state.id}: {title}({state.pathway_id}@{state.pathway_version}), {state.status.value}{team}\n"))
    out.write(say(f"geopend {_local(state.opened_at)} (Nederlandse tijd) door signaal {state.trigger}",
                  f"opened {_local(state.opened_at)} (Europe/Amsterdam) by signal {state.trigger}"))
    if state.closed_at is not None:
        out.write(say(f"; afgesloten {_local(state.closed_at)}, uitkomst {state.outcome}",
                      f"; closed {_local(state.closed_at)}, outcome {state.outcome}"))
    out.write("\n")
    shown = {k: v for k, v in state.data.items() if args.personal or k not in personal}
    out.write(say("gegevens: ", "data: ") + (json.dumps(shown, ensure_ascii=False, sort_keys=True) if shown else "-")
              + "\n")
    hidden = sorted(k for k in state.data if k in personal)
    if hidden and not args.personal:
        out.write(say(f"persoonsgegevens verborgen ({', '.join(hidden)}): gebruik --personal\n",
                      f"personal data hidden ({', '.join(hidden)}): use --personal\n"))
    if args.personal:
        service.record_access(who=_actor(args.actor), action="view_personal", case_id=state.id,
                              what="case show --personal", why=args.why)
    if state.suspended_at is not None:
        out.write(say(f"gepauzeerd sinds {_local(state.suspended_at)}\n", f"paused since {_local(state.suspended_at)}\n"))

    out.write(say("\nverloop:\n", "\nhistory:\n"))
    for event in history:
        line = _describe(event, state, cp)
        if line is not None:
            reason = f" - {event.reason}" if event.reason else ""
            out.write(f"  {_local(event.at)}  {event.actor:<16} {line}{reason}\n")

    out.write(say("\nopen taken:\n", "\nopen tasks:\n"))
    open_tasks = sorted(state.open_tasks(), key=lambda t: (t.due_at, t.id))
    for task in open_tasks:
        who = task.assignee or say("niet opgepakt", "unclaimed")
        out.write(say(f"  {task.id:<20} uiterlijk {_local(task.due_at)}  {task.title} (rol {_role(cp, task.role)}, "
                      f"{who})\n",
                      f"  {task.id:<20} due {_local(task.due_at)}  {task.title} (role {_role(cp, task.role)}, {who})\n"))
    if not open_tasks:
        out.write(say("  geen\n", "  none\n"))
    out.write(say("\nwat er aankomt:\n", "\nnext due:\n"))
    pending = sorted(state.pending_timers(), key=lambda t: (t.due_at, t.id))
    for timer in pending[:10]:
        out.write(f"  {_local(timer.due_at)}  {_timer_label(timer, state)}\n")
    if not pending:
        out.write(say("  niets\n", "  nothing\n"))
    for escalation in state.open_escalations:
        out.write(say(f"open escalatie {escalation['id']} naar rol {_role(cp, escalation['to_role'])}\n",
                      f"open escalation {escalation['id']} to role {_role(cp, escalation['to_role'])}\n"))
    return EXIT_OK


# --- tasks, task complete -----------------------------------------------------------------------------


def _print_tasks(tasks: Sequence[TaskView]) -> None:
    if not tasks:
        print(say("geen open taken", "no open tasks"))
        return
    for t in tasks:
        who = t.assignee or say("niet opgepakt", "unclaimed")
        team = f", team {t.team}" if t.team else ""
        print(say(f"{_local(t.due_at)}  {t.id:<20} {t.title}  [rol {t.role}, {who}{team}, zaak {t.case_id}]",
                  f"{_local(t.due_at)}  {t.id:<20} {t.title}  [role {t.role}, {who}{team}, case {t.case_id}]"))


def run_tasks(args: argparse.Namespace) -> int:
    service = _service()
    if args.worker is None and len(args.role) == 1:
        _print_tasks(service.role_queue(args.role[0], args.team))
    else:
        _print_tasks(service.worklist(args.worker, args.role, args.team))
    return EXIT_OK


def run_task_complete(args: argparse.Namespace) -> int:
    service = _service()
    _may_complete(service, args.task_id, _actor(args.worker))  # before the form is read: a stranger learns nothing
    from integrations.cli.case_checks import check_worker

    check_worker(service, args.task_id, _actor(args.worker))
    data = _read_json(args.data)
    result = service.complete_task(args.task_id, data, actor=_actor(args.worker), idempotency_key=args.key)
    state = service.case(result.case_id)
    cp = _lookup(service, state)
    again = say(" (al gedaan met deze sleutel)", " (already done with this key)") if result.duplicate else ""
    print(say(f"taak {args.task_id} afgerond{again}; zaak {result.case_id} is {_status(state.status.value)}",
              f"task {args.task_id} completed{again}; case {result.case_id} is {state.status.value}"))
    for task_id in result.opened_tasks:
        task = state.tasks[task_id]
        print(say(f"  open taak {task.id}: {task.title} (rol {_role(cp, task.role)}, uiterlijk {_local(task.due_at)})",
                  f"  open task {task.id}: {task.title} (role {_role(cp, task.role)}, due {_local(task.due_at)})"))
    return EXIT_OK


def _may_complete(service: CaseService, task_id: str, actor: str) -> None:
    """Refused unless `actor` may complete the task: it is theirs, or it waits unclaimed in the queue of
    a pathway role their web account carries (an operator's actor without an account may take it)."""
    from engine.errors import ConflictError, NotFoundError
    from integrations.db import accounts
    from integrations.db.engine_factory import read_session

    task = service.task(task_id)
    if task.status != "open" or task.assignee == actor:
        return  # a closed task: the engine says who completed it, and reads no form
    if task.assignee is not None:
        raise ConflictError(say(f"taak {task_id} staat op naam van {task.assignee}, niet van {actor}",
                                f"task {task_id} is assigned to {task.assignee}, not to {actor}"))
    username = accounts.username_of(actor)
    with read_session(service.db) as session:
        account = accounts.find_account(session, username) if username else None
    if account is not None and (not account.active or task.role not in account.pathway_roles):
        raise NotFoundError(say(f"taak {task_id} wacht op de rol {task.role}; {actor} heeft die rol niet",
                                f"task {task_id} waits for role {task.role}; {actor} does not hold it"))


# --- tick, db upgrade ---------------------------------------------------------------------------------


def run_tick(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise UsageError(say("--batch-size moet ten minste 1 zijn", "--batch-size must be at least 1"))
    service = _service()
    # Everything loaded so far lives as long as the process: keep it out of the garbage collector's
    # full sweeps, which otherwise cost a quarter of the time of a large tick.
    gc.collect()
    gc.freeze()
    report = service.fire_due(batch_size=args.batch_size)
    print(say(f"{report.fired} {'gepland moment' if report.fired == 1 else 'geplande momenten'} uitgevoerd in {report.cases} {'zaak' if report.cases == 1 else 'zaken'} "
              f"({report.batches} {'batch' if report.batches == 1 else 'batches'})"
              + (f"; {report.stale} voor de volgende ronde (zaak bezet)" if report.stale else ""),
              f"fired {report.fired} timers in {report.cases} case{'' if report.cases == 1 else 's'} "
              f"({report.batches} batch{'' if report.batches == 1 else 'es'})"
              + (f"; {report.stale} left for the next tick (case busy)" if report.stale else "")))
    if report.failed:
        from integrations.db.engine_factory import read_session
        from integrations.db.timers import failed_timers

        with read_session(service.db) as session:
            for _timer_id, _case_id, error in failed_timers(session):
                print(say(f"carepath tick: kon niet afgaan: {error}", f"carepath tick: could not fire: {error}"),
                      file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def run_db_archive(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from integrations.db.archive import archive_closed

    if args.after_days is not None and args.after_days < 0:
        raise UsageError(say(f"--after-days {args.after_days:g}: mag niet negatief zijn",
                             f"--after-days {args.after_days:g}: must not be negative"))
    service = _service()
    after = None if args.after_days is None else timedelta(days=args.after_days)
    report = archive_closed(service.db, service.clock.now(), after=after)
    print(report.summary())
    return EXIT_OK


def run_db_upgrade(args: argparse.Namespace) -> int:
    from integrations.db.engine_factory import read_session
    from integrations.migrations import current_revision

    service = _service()  # upgrading is the first thing it does
    url = service.db.url.render_as_string(hide_password=True)
    revision = current_revision(service.db)
    print(say(f"database {url} staat op revisie {revision}", f"database {url} is at revision {revision}"))
    with read_session(service.db) as session:
        for pathway_id, version, published_at in service.catalog.published(session):
            print(say(f"  zorgpad {pathway_id}@{version} (gepubliceerd {_local(published_at)})",
                      f"  pathway {pathway_id}@{version} (published {_local(published_at)})"))
    for path, why in service.unpublished:
        print(say(f"carepath db upgrade: waarschuwing: {path} is niet gepubliceerd: {why}",
                  f"carepath db upgrade: warning: {path} was not published: {why}"), file=sys.stderr)
    return EXIT_OK
