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
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from engine.compiled import CompiledPathway
    from engine.events import Event
    from engine.state import CaseState
    from integrations.db.repository import TaskView
    from integrations.service import CaseService

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WORKER_ENV = "CAREPATH_WORKER"


class UsageError(Exception):
    """Arguments or input files that cannot be used (exit 2)."""


def register(subparsers: Any) -> None:
    case = subparsers.add_parser("case", help="start and inspect cases",
                                 description="Start a case or show its timeline.")
    case_commands = case.add_subparsers(dest="case_command", metavar="ACTION", required=True)

    start = case_commands.add_parser(
        "start", help="start a case on a pathway",
        description="Start a case on PATHWAY (an id, or id@version; default: its newest version).")
    start.add_argument("pathway", metavar="PATHWAY")
    start.add_argument("--trigger", required=True, help="the signal type that starts the case")
    start.add_argument("--data", required=True, type=Path, metavar="FILE", help="case data as JSON ('-' = stdin)")
    start.add_argument("--client-id", help="client identifier (e.g. BSN); only its pseudonym is stored")
    start.add_argument("--team", help="team the case belongs to (one that exists)")
    start.add_argument("--municipality", required=True, metavar="GMxxxx",
                       help="the commissioning municipality, a CBS code such as GM0344")
    start.add_argument("--as", dest="actor", help=f"who starts it (default: ${WORKER_ENV} or your login)")
    start.add_argument("--key", help="idempotency key: repeating the command with it starts no second case")
    start.set_defaults(handler=_command(run_case_start, "case start"))

    show = case_commands.add_parser(
        "show", help="show a case's timeline, open tasks and what is due",
        description="Show a case: what happened (Dutch time), what is open and what is due next. "
                    "Personal data only with --personal (the viewing is logged).")
    show.add_argument("case_id", metavar="ID")
    show.add_argument("--personal", action="store_true", help="also show the client's personal data")
    show.add_argument("--as", dest="actor", help="who looks (for the audit log)")
    show.add_argument("--why", help="why personal data is viewed (for the audit log)")
    show.set_defaults(handler=_command(run_case_show, "case show"))

    tasks = subparsers.add_parser(
        "tasks", help="list open tasks",
        description="Open tasks, soonest due first. --worker: that worker's tasks (plus the unclaimed tasks "
                    "of --role); --role alone: the role's queue; neither: every open task.")
    tasks.add_argument("--worker", help="worker id")
    tasks.add_argument("--role", action="append", default=[], help="role id (repeatable)")
    tasks.add_argument("--team", help="only cases of this team (and cases without a team)")
    tasks.set_defaults(handler=_command(run_tasks, "tasks"))

    task = subparsers.add_parser("task", help="act on one task", description="Act on one task.")
    task_commands = task.add_subparsers(dest="task_command", metavar="ACTION", required=True)
    complete = task_commands.add_parser("complete", help="complete a task with its form data",
                                        description="Complete task ID with the form data in FILE (JSON).")
    complete.add_argument("task_id", metavar="ID")
    complete.add_argument("--data", required=True, type=Path, metavar="FILE", help="form data as JSON ('-' = stdin)")
    complete.add_argument("--worker", help=f"who completes it (default: ${WORKER_ENV} or your login)")
    complete.add_argument("--key", help="idempotency key: a repeat with it is answered, not applied again")
    complete.set_defaults(handler=_command(run_task_complete, "task complete"))

    tick = subparsers.add_parser("tick", help="fire every timer that is due now",
                                 description="Fire every due timer (deadlines, reminders, evaluations). "
                                             "Exit 1 when a timer could not be fired.")
    tick.add_argument("--batch-size", type=int, default=500, help="timers per transaction (default 500)")
    tick.set_defaults(handler=_command(run_tick, "tick"))

    db = subparsers.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="bring the database to the newest schema",
                                     description="Apply pending migrations and publish the shipped pathways.")
    upgrade.set_defaults(handler=_command(run_db_upgrade, "db upgrade"))


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
            print(f"carepath {name}: {exc}", file=sys.stderr)
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
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold a JSON object, not {type(data).__name__}")
    return data


def _local(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M")


# --- case start ---------------------------------------------------------------------------------------


def _pathway_ref(text: str) -> tuple[str, int | None]:
    pathway_id, _, version = text.partition("@")
    if not version:
        return pathway_id, None
    if not version.isdigit():
        raise UsageError(f"PATHWAY is an id or id@version (e.g. eviction-prevention@1), not {text!r}")
    return pathway_id, int(version)


def run_case_start(args: argparse.Namespace) -> int:
    pathway_id, version = _pathway_ref(args.pathway)
    data = _read_json(args.data)
    service = _service()
    for path, why in service.unpublished:
        if Path(path).stem == pathway_id:
            print(f"carepath case start: warning: {path} was not published: {why}", file=sys.stderr)
    from integrations.cli.case_checks import check_start

    check_start(service, args.team, args.municipality)
    result = service.start_case(pathway_id, args.trigger, data, actor=_actor(args.actor), client_id=args.client_id,
                                team=args.team, municipality=args.municipality, version=version,
                                idempotency_key=args.key)
    state = service.case(result.case_id)
    again = " (already started with this key)" if result.duplicate else ""
    print(f"case {result.case_id} started on {state.pathway_id}@{state.pathway_version}{again}")
    for task in state.open_tasks():
        print(f"  open task {task.id}: {task.title} (role {task.role}, due {_local(task.due_at)})")
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

    kind = event.type
    if kind == "case_started":
        return f"case started by signal {d['trigger']}"
    if kind == "step_entered":
        flow = "" if d["flow"] == "main" else f" (track {d['flow']})"
        return f"step {step_title(d['step_id'])}{flow}"
    if kind == "task_opened":
        task = d["task"]
        who = f", for {task['assignee']}" if task.get("assignee") else ""
        return f"task {task['id']} opened: {task['title']} (role {task['role']}{who}, due {_local(datetime.fromisoformat(task['due_at']))})"
    if kind == "task_claimed":
        return f"task {task_title(d['task_id'])} claimed by {d['worker']}"
    if kind == "task_released":
        return f"task {task_title(d['task_id'])} handed back to the queue"
    if kind == "task_reassigned":
        to = f"{d['worker']} (role {d['role']})" if d["worker"] else f"the queue of role {d['role']}"
        return f"task {task_title(d['task_id'])} moved to {to}"
    if kind == "task_completed":
        return f"task {task_title(d['task_id'])} completed"
    if kind == "task_cancelled":
        return f"task {task_title(d['task_id'])} cancelled"
    if kind == "task_deadline_passed":
        return f"task {task_title(d['task_id'])}: {d['what']} {d['index'] + 1}"
    if kind == "message_queued":
        m = d["message"]
        to = m.get("to_worker") or (f"role {m['to_role']}" if m.get("to_role") else "the client")
        return f"message {m['template']} via {m['channel']} to {to}"
    if kind == "tracks_opened":
        return f"tracks: {', '.join(d['order'])} ({d['mode']})"
    if kind == "track_started":
        return f"track {d['track_id']} started"
    if kind == "track_closed":
        return f"track {d['track_id']} closed: {d['result']}"
    if kind == "lead_time_exceeded":
        return f"lead time of {'the case' if d['flow'] == 'main' else 'track ' + d['flow']} exceeded"
    if kind == "escalation_raised":
        return f"escalation {d['escalation']['id']} raised to role {d['escalation']['to_role']}"
    if kind == "escalation_resolved":
        return f"escalation {d['escalation_id']} resolved"
    if kind == "case_suspended":
        return "case suspended"
    if kind == "case_resumed":
        return f"case resumed ({len(d['tasks'])} task deadline(s) moved past the suspension)"
    if kind == "case_closed":
        why = f", reason {d['reason_code']}" if d.get("reason_code") else ""
        return f"case closed: outcome {d['outcome']}{why}"
    if kind == "case_reopened":
        return f"case reopened at {step_title(d['step_id'])}"
    if kind == "origin_registered":
        return "origin registered"
    if kind == "origin_objected":
        return "client objected to registering origin"
    if kind == "case_data_updated":
        return f"case data changed: {', '.join(sorted(d['changes'])) or 'personal data only'}"
    if kind == "case_migrated":
        return f"moved to pathway version {d['to_version']}"
    return None  # timer_set, timer_fired, timer_cancelled, flow_ended, tracks_joined, track_planned, track_progress


def _timer_label(timer: Any, state: CaseState) -> str:
    if timer.kind.value == "task_deadline":
        task = state.tasks.get(timer.ref)
        return f"deadline {timer.index + 1} of task {timer.ref}" + (f" ({task.title})" if task else "")
    if timer.kind.value == "evaluation":
        return f"evaluation {timer.index} opens"
    if timer.kind.value in ("wait", "timeout"):
        return f"{timer.kind.value} of step {timer.ref} ends"
    return f"{timer.kind.value.replace('_', ' ')} ({timer.ref})"


def run_case_show(args: argparse.Namespace) -> int:
    service = _service()
    state = service.case(args.case_id)
    if args.personal and state.closed_at is not None and not (args.why or "").strip():
        raise UsageError("persoonsgegevens van een afgesloten zaak alleen met een reden: --why '...' "
                         "(de reden komt in het auditlog)")
    history = service.history(args.case_id)
    try:
        cp: CompiledPathway | None = service.catalog.lookup(state.pathway_id, state.pathway_version)
    except Exception:  # an unreadable pathway must not hide the case's history
        cp = None
    personal = tuple(cp.pathway.personal_data) if cp else ()
    title = f"{cp.pathway.title} " if cp else ""
    out = sys.stdout
    out.write(f"case {state.id}: {title}({state.pathway_id}@{state.pathway_version}), {state.status.value}"
              f"{', team ' + state.team if state.team else ''}\n")
    out.write(f"opened {_local(state.opened_at)} (Europe/Amsterdam) by signal {state.trigger}")
    if state.closed_at is not None:
        out.write(f"; closed {_local(state.closed_at)}, outcome {state.outcome}")
    out.write("\n")
    shown = {k: v for k, v in state.data.items() if args.personal or k not in personal}
    out.write("data: " + (json.dumps(shown, ensure_ascii=False, sort_keys=True) if shown else "-") + "\n")
    hidden = sorted(k for k in state.data if k in personal)
    if hidden and not args.personal:
        out.write(f"personal data hidden ({', '.join(hidden)}): use --personal\n")
    if args.personal:
        service.record_access(who=_actor(args.actor), action="view_personal", case_id=state.id,
                              what="case show --personal", why=args.why)
    if state.suspended_at is not None:
        out.write(f"suspended since {_local(state.suspended_at)}\n")

    out.write("\nhistory:\n")
    for event in history:
        line = _describe(event, state, cp)
        if line is not None:
            reason = f" - {event.reason}" if event.reason else ""
            out.write(f"  {_local(event.at)}  {event.actor:<16} {line}{reason}\n")

    out.write("\nopen tasks:\n")
    open_tasks = sorted(state.open_tasks(), key=lambda t: (t.due_at, t.id))
    for task in open_tasks:
        out.write(f"  {task.id:<20} due {_local(task.due_at)}  {task.title} (role {task.role}, "
                  f"{task.assignee or 'unclaimed'})\n")
    if not open_tasks:
        out.write("  none\n")
    out.write("\nnext due:\n")
    pending = sorted(state.pending_timers(), key=lambda t: (t.due_at, t.id))
    for timer in pending[:10]:
        out.write(f"  {_local(timer.due_at)}  {_timer_label(timer, state)}\n")
    if not pending:
        out.write("  nothing\n")
    for escalation in state.open_escalations:
        out.write(f"open escalation {escalation['id']} to role {escalation['to_role']}\n")
    return EXIT_OK


# --- tasks, task complete -----------------------------------------------------------------------------


def _print_tasks(tasks: Sequence[TaskView]) -> None:
    if not tasks:
        print("no open tasks")
        return
    for t in tasks:
        print(f"{_local(t.due_at)}  {t.id:<20} {t.title}  [role {t.role}, {t.assignee or 'unclaimed'}"
              f"{', team ' + t.team if t.team else ''}, case {t.case_id}]")


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
    again = " (already done with this key)" if result.duplicate else ""
    print(f"task {args.task_id} completed{again}; case {result.case_id} is {state.status.value}")
    for task_id in result.opened_tasks:
        task = state.tasks[task_id]
        print(f"  open task {task.id}: {task.title} (role {task.role}, due {_local(task.due_at)})")
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
        raise ConflictError(f"taak {task_id} staat op naam van {task.assignee}, niet van {actor}")
    username = accounts.username_of(actor)
    with read_session(service.db) as session:
        account = accounts.find_account(session, username) if username else None
    if account is not None and (not account.active or task.role not in account.pathway_roles):
        raise NotFoundError(f"taak {task_id} wacht op de rol {task.role}; {actor} heeft die rol niet")


# --- tick, db upgrade ---------------------------------------------------------------------------------


def run_tick(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    service = _service()
    # Everything loaded so far lives as long as the process: keep it out of the garbage collector's
    # full sweeps, which otherwise cost a quarter of the time of a large tick.
    gc.collect()
    gc.freeze()
    report = service.fire_due(batch_size=args.batch_size)
    print(f"fired {report.fired} timers in {report.cases} case{'' if report.cases == 1 else 's'} "
          f"({report.batches} batch{'' if report.batches == 1 else 'es'})"
          + (f"; {report.stale} left for the next tick (case busy)" if report.stale else ""))
    if report.failed:
        from integrations.db.engine_factory import read_session
        from integrations.db.timers import failed_timers

        with read_session(service.db) as session:
            for _timer_id, _case_id, error in failed_timers(session):
                print(f"carepath tick: could not fire: {error}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def run_db_upgrade(args: argparse.Namespace) -> int:
    from integrations.db.engine_factory import read_session
    from integrations.migrations import current_revision

    service = _service()  # upgrading is the first thing it does
    url = service.db.url.render_as_string(hide_password=True)
    print(f"database {url} is at revision {current_revision(service.db)}")
    with read_session(service.db) as session:
        for pathway_id, version, published_at in service.catalog.published(session):
            print(f"  pathway {pathway_id}@{version} (published {_local(published_at)})")
    for path, why in service.unpublished:
        print(f"carepath db upgrade: warning: {path} was not published: {why}", file=sys.stderr)
    return EXIT_OK
