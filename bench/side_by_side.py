"""carepath and SpiffWorkflow side by side (issue #14): the same process, the same cases, the same run.

Both run the eviction-prevention process over N cases, round by round (every case's open task,
then the next round), one transaction per command, each on a fresh SQLite file (WAL, and both with the `synchronous` that
`CAREPATH_SQLITE_SYNC` gives carepath: `FULL` by default, every commit flushed to disk;
`CAREPATH_SQLITE_SYNC=normal` for both without that flush):

- carepath through `CaseService` (`start_case`, `complete_task`, and the sweep `fire_due` for the
  waits between visits and the four-weekly follow-up): the shipped `pathways/eviction-prevention.yaml`
  from the signal to the closed case: the doorstep visit (60% spoken on each visit, at most three,
  then the letter), the three partner calls and the partners' answers, the arrangement and the
  follow-up check (67% resolved, else bailiff);
- SpiffWorkflow 3.2 with `bench/spiff_peer.py` on `../shared/peers/spiffworkflow/eviction_prevention.bpmn`
  (the same visit loop, the three calls in parallel, the arrangement), persisting the whole instance
  after every command as its peer script does.

carepath runs more commands per case (its partner answers and follow-up are commands too); the rates
compare one command with one command. Only the commands are timed, on both sides: carepath's driver
reads which tasks are open between rounds, untimed (a worker's work list, not part of a command).
Before the first run, one untimed carepath start warms the process (`warm_up`: the holiday tables),
as the peer parses its BPMN before its timed loop; then both sides set their start-up objects aside
from the garbage collector (`gc.freeze`), as carepath's own processes do once started.
It prints, per run and as medians: case starts/s, task completions/s, p95 per completion, the ratio
carepath / SpiffWorkflow, and database bytes per case after the run (VACUUM; the empty database's
size subtracted), and the same carepath figures on PostgreSQL (`--backends`). For carepath also: bytes
per open case (just started, and after four rounds, every case open in the middle of its work), and
per closed case once its messages are delivered (marked sent, as the dispatcher would) and the nightly
run has archived its history (`integrations/db/archive.py`, run at once here).

SpiffWorkflow is never a dependency of carepath: the script makes a separate environment for it in
`bench/out/spiff-venv` (`pip install SpiffWorkflow==3.2.0`) unless `--spiff-python` names one.

Usage: `python bench/side_by_side.py [--cases 300] [--runs 3] [--backends sqlite,postgresql] [--write]`
(`--write` puts the table between the `side_by_side` markers in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import Backend  # noqa: E402
from sqlalchemy import text  # noqa: E402

from engine.clock import ManualClock  # noqa: E402
from integrations.db.archive import archive_closed  # noqa: E402
from integrations.db.engine_factory import sqlite_sync  # noqa: E402
from integrations.runtime.heap import settle  # noqa: E402
from integrations.service import CaseService, build_service  # noqa: E402

PEER_DIR = ROOT.parent / "shared" / "peers" / "spiffworkflow"
SPIFF_REQUIREMENT = "SpiffWorkflow==3.2.0"
SPIFF_VENV = ROOT / "bench" / "out" / "spiff-venv"
PATHWAY = "eviction-prevention"
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 08:00 in Amsterdam
BEGIN, END = "<!-- side_by_side:begin -->", "<!-- side_by_side:end -->"
ALL_PARTNERS = ["credit_bank", "housing_corporation", "social_services"]
MID_ROUND = 4  # where the open-case size is measured


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def case_data(n: int) -> dict[str, Any]:
    return {
        "signal_type": "rent", "tenant_name": f"Huurder {n}", "address": f"Dorpsstraat {n % 300 + 1}, Winsum",
        "arrears_amount": 900 + n % 2000, "arrears_months": 2 + n % 4, "signal_date": "2026-02-27",
        "reminder_sent": True,
    }


def form_for(step: str, rng: random.Random) -> dict[str, Any]:
    """What the worker (or partner) fills in at `step`: the same choices as the BPMN peer's."""
    if step == "doorstep_visit":
        if rng.random() < 0.6:
            return {"contact_result": "spoken", "help_accepted": True, "partner_consent": ALL_PARTNERS}
        return {"contact_result": "not_home"}
    if step == "make_arrangement":
        return {"payment_plan": True, "debt_help_referral": True}
    if step == "follow_up_check":
        return {"status": "resolved" if rng.random() < 0.67 else "bailiff"}
    answers: dict[str, dict[str, Any]] = {
        "call_credit_bank": {"reached": True},
        "call_housing_corporation": {"reached": True},
        "call_social_services": {"reached": True, "requested": ["benefit"]},
        "request_debt_help": {"debt_help_started": True},
        "request_payment_plan": {"payment_plan_agreed": True, "collection_paused": True},
        "request_income_support": {"decision": "granted"},
    }
    return answers.get(step, {})


def run_carepath(backend_name: str, cases: int, seed: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="carepath-sbs-"))
    backend = Backend(backend_name, tmp)
    clock = ManualClock(START)
    rng = random.Random(seed)
    try:
        service = build_service(backend.url, clock, data_dir=tmp)
        empty = backend.size(service, vacuum=True)
        starts: list[float] = []
        cpu = {"starts": 0.0, "completions": 0.0}
        for i in range(cases):
            t0, c0 = time.perf_counter(), time.process_time()
            service.start_case(PATHWAY, "rent_arrears", case_data(i), actor="bench", team="noord",
                               municipality="GM0014", client_id=f"client-{i}",
                               assignments={"outreach_worker": f"user:w{i % 50}"})
            starts.append(time.perf_counter() - t0)
            cpu["starts"] += time.process_time() - c0
        started = backend.size(service, vacuum=True)
        mid: float | None = None
        completions: list[float] = []
        sweeps: list[tuple[int, float]] = []
        for round_no in range(200):
            if round_no == MID_ROUND:  # every case open, in the middle of its work (visits done, partners asked)
                mid = (backend.size(service, vacuum=True) - empty) / max(1, cases - _closed(service))
            open_tasks = _open_tasks(service)
            if open_tasks:
                for task_id, step in open_tasks:
                    form = form_for(step, rng)
                    t0, c0 = time.perf_counter(), time.process_time()
                    service.complete_task(task_id, form, actor="user:w1")
                    completions.append(time.perf_counter() - t0)
                    cpu["completions"] += time.process_time() - c0
                continue
            due = _next_due(service)
            if due is None:
                break
            clock.set(max(clock.now(), due))
            t0 = time.perf_counter()
            report = service.fire_due()
            sweeps.append((report.fired, time.perf_counter() - t0))
        closed = _closed(service)
        full = backend.size(service, vacuum=True)
        # The dispatcher would have delivered the messages meanwhile (this bench runs none): mark them
        # sent as it would, then archive closed cases' history as the nightly run does
        # (integrations/db/archive.py), here at once.
        with service.db.begin() as conn:
            conn.execute(text("UPDATE outbox SET status = 'sent', attempts = 1, sent_at = next_attempt_at "
                              "WHERE status = 'pending'"))
        t0 = time.perf_counter()
        archived = archive_closed(service.db, clock.now(), after=timedelta(0))
        archive_s = time.perf_counter() - t0
        compact = backend.size(service, vacuum=True)
        service.db.dispose()
        return {"cases": cases, "closed": closed, "starts": starts, "completions": completions, "cpu": cpu,
                "timers": sum(n for n, _ in sweeps), "timer_s": sum(s for _, s in sweeps),
                "bytes_per_case": (full - empty) / cases, "bytes_per_started_case": (started - empty) / cases,
                "bytes_per_open_case": mid or 0.0, "bytes_per_archived_case": (compact - empty) / cases,
                "archived_per_s": archived.cases / archive_s if archive_s else 0.0}
    finally:
        backend.drop()


def warm_up() -> None:
    """One untimed start on a throwaway SQLite file, once per process, before any timed run.

    The first start in a process loads the Dutch public holidays: the `holidays` package imports all
    of its countries on first use (about 0.2 s, once per process; a server pays it at its first
    deadline). SpiffWorkflow's peer likewise parses its BPMN before its timed loop. Without this the
    first run's start rate measured that import, not starts (934/s against 1,939 and 2,911 in the
    next two runs, 6 December 2026).

    Then the process settles its heap as carepath's own processes do once started (`carepath serve`,
    the web app, a flow run: `integrations/runtime/heap.py`): what start-up made is set aside from the
    garbage collector's walks. The peer does the same after parsing its BPMN (`spiff_peer.py`).
    """
    tmp = Path(tempfile.mkdtemp(prefix="carepath-sbs-warm-"))
    backend = Backend("sqlite", tmp)
    try:
        service = build_service(backend.url, ManualClock(START), data_dir=tmp)
        service.start_case(PATHWAY, "rent_arrears", case_data(0), actor="bench", team="noord",
                           municipality="GM0014", client_id="client-warm",
                           assignments={"outreach_worker": "user:w0"})
        service.db.dispose()
    finally:
        backend.drop()
    settle()


def _open_tasks(service: CaseService) -> list[tuple[str, str]]:
    with service.db.connect() as conn:
        rows = conn.execute(text("SELECT id, step FROM tasks WHERE status = 'open' ORDER BY case_id, id"))
        return [(i, s) for i, s in rows]


def _next_due(service: CaseService) -> datetime | None:
    with service.db.connect() as conn:
        due = conn.execute(text("SELECT min(due_at) FROM timers WHERE status = 'pending'")).scalar_one()
    if due is None:
        return None
    moment = due if isinstance(due, datetime) else datetime.fromisoformat(str(due))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _closed(service: CaseService) -> int:
    with service.db.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM cases WHERE status = 'closed'")).scalar_one())


def spiff_python(given: str | None) -> str:
    if given:
        return given
    python = SPIFF_VENV / "bin" / "python"
    if not python.exists():
        print(f"making {SPIFF_VENV} with {SPIFF_REQUIREMENT} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(SPIFF_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", SPIFF_REQUIREMENT], check=True)
    return str(python)


def run_spiff(python: str, cases: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="spiff-sbs-") as tmp:
        out = subprocess.run(
            [python, str(ROOT / "bench" / "spiff_peer.py"), str(PEER_DIR / "eviction_prevention.bpmn"),
             str(Path(tmp) / "spiff.db"), str(cases), str(seed), sqlite_sync()],
            check=True, capture_output=True, text=True,
        ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def figures(raw: dict[str, Any]) -> dict[str, float]:
    starts, completions = raw["starts"], raw["completions"]
    return {
        "starts_per_s": len(starts) / sum(starts),
        "completions": len(completions),
        "completions_per_s": len(completions) / sum(completions),
        "completions_per_cpu_s": len(completions) / raw["cpu"]["completions"],
        "starts_per_cpu_s": len(starts) / raw["cpu"]["starts"],
        "p50_ms": statistics.median(completions) * 1000,
        "p95_ms": pct(completions, 0.95) * 1000,
        "bytes_per_case": raw["bytes_per_case"],
        "timers_per_s": raw["timers"] / raw["timer_s"] if raw.get("timer_s") else 0.0,
        **{key: raw[key] for key in ("bytes_per_started_case", "bytes_per_open_case", "bytes_per_archived_case",
                                     "archived_per_s") if key in raw},
    }


def render(cases: int, runs: list[dict[str, dict[str, float]]], columns: list[str], command: str) -> str:
    def med(column: str, key: str) -> float:
        return statistics.median(r[column].get(key, float("nan")) for r in runs)

    ratios = [r["carepath sqlite"]["completions_per_s"] / r["spiffworkflow sqlite"]["completions_per_s"] for r in runs]
    cpu_ratios = [r["carepath sqlite"]["completions_per_cpu_s"] / r["spiffworkflow sqlite"]["completions_per_cpu_s"]
                  for r in runs]
    p50_ratios = [r["spiffworkflow sqlite"]["p50_ms"] / r["carepath sqlite"]["p50_ms"] for r in runs]
    start_ratios = [r["carepath sqlite"]["starts_per_s"] / r["spiffworkflow sqlite"]["starts_per_s"] for r in runs]
    lines = [
        BEGIN,
        f"`{command}`: {cases} eviction-prevention cases per run, {len(runs)} runs, medians (each run: SpiffWorkflow, "
        f"then carepath on each backend, in one invocation). Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end (shared machine). SQLite "
        f"`synchronous={sqlite_sync()}` on both sides (`CAREPATH_SQLITE_SYNC`).",
        "",
        "| | " + " | ".join(columns) + " |",
        "| --- | " + " | ".join("---:" for _ in columns) + " |",
    ]
    rows = [
        ("case starts per s", "starts_per_s", "{:,.0f}"),
        ("task completions per run", "completions", "{:,.0f}"),
        ("task completions per s", "completions_per_s", "{:,.0f}"),
        ("task completions per CPU-second of the process", "completions_per_cpu_s", "{:,.0f}"),
        ("case starts per CPU-second of the process", "starts_per_cpu_s", "{:,.0f}"),
        ("completion p50 (ms)", "p50_ms", "{:.2f}"),
        ("completion p95 (ms)", "p95_ms", "{:.2f}"),
        ("database bytes per case (closed, after VACUUM)", "bytes_per_case", "{:,.0f}"),
        ("  the same with messages delivered and closed cases' history archived", "bytes_per_archived_case",
         "{:,.0f}"),
        ("  closed cases archived per s", "archived_per_s", "{:,.0f}"),
        ("database bytes per open case, just started", "bytes_per_started_case", "{:,.0f}"),
        (f"database bytes per open case, after {MID_ROUND} rounds", "bytes_per_open_case", "{:,.0f}"),
    ]
    for label, key, fmt in rows:
        lines.append(f"| {label} | " + " | ".join("-" if math.isnan(v := med(c, key)) else fmt.format(v)
                                                  for c in columns) + " |")
    lines += [
        "",
        f"Ratio carepath / SpiffWorkflow on SQLite, task completions per second: **{statistics.median(ratios):.1f}x** "
        f"(runs: {', '.join(f'{r:.1f}' for r in ratios)}); per CPU-second: {statistics.median(cpu_ratios):.1f}x "
        f"(runs: {', '.join(f'{r:.1f}' for r in cpu_ratios)}); median latency (p50) {statistics.median(p50_ratios):.1f}x "
        f"shorter; case starts: {statistics.median(start_ratios):.1f}x.",
        END,
    ]
    return "\n".join(lines)


def write_section(section: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text(encoding="utf-8")
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        current = head + section + rest.split(END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n## Side by side with SpiffWorkflow\n\n" + section + "\n"
    path.write_text(current, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--spiff-python", help="a Python with SpiffWorkflow 3.2 (default: bench/out/spiff-venv)")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if "sqlite" not in args.backends.split(","):
        parser.error("--backends must include sqlite: the ratio compares carepath and SpiffWorkflow on the same store")
    python = spiff_python(args.spiff_python)
    columns = ["spiffworkflow sqlite"] + [f"carepath {b}" for b in args.backends.split(",")]
    runs: list[dict[str, dict[str, float]]] = []
    warm_up()
    for run in range(args.runs):
        result = {"spiffworkflow sqlite": figures(run_spiff(python, args.cases, args.seed + run))}
        for name in args.backends.split(","):
            result[f"carepath {name}"] = figures(run_carepath(name, args.cases, args.seed + run))
        print(json.dumps({"run": run + 1, **result}), file=sys.stderr)
        runs.append(result)
    command = "python bench/side_by_side.py " + " ".join(sys.argv[1:])
    section = render(args.cases, runs, columns, command.strip())
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
