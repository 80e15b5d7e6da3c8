"""How long each `carepath` command takes on a warm install (issue #10: under 1.5 s).

Times, each as a fresh process (`python -m integrations.cli ...`, the same as the `carepath` script):
every command's `--help` (every subcommand the parser has), and the common real commands (validate,
graph, simulate a small run, case start/show, the task lists, tick, signals import of a small DDAS file,
signals export, publish --dry-run, incidents, owner, audit export, sweep/dispatch without Prefect, db
upgrade) against one data directory whose SQLite database exists already (the first, untimed run
creates and migrates it). "Warm install": each command first runs once untimed, with bytecode writing on
(`PYTHONDONTWRITEBYTECODE` is removed from the children's environment), so the timed runs find the
`.pyc` files and the CEL grammar cache (`integrations/cli/speed.py`) as an installed carepath would.
Then it runs three times; the table has the median wall seconds and
CPU seconds (user + system of the child). Wall time on a shared machine includes waiting for a CPU;
CPU time is what the command costs. Nothing is asserted: the figures go to docs/benchmarks.md.

Usage: `python bench/bench_cli.py [--data-dir DIR] [--source DIR] [--runs N] [--only help|real]`
(`--source`: another checkout to time, with this interpreter).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVICTION = "pathways/eviction-prevention.yaml"
CASE_DATA = {"signal_type": "rent", "tenant_name": "Fatima de Vries", "address": "Dorpsstraat 1, 9981 AA Uithuizen",
             "arrears_amount": 1250.0, "arrears_months": 2, "signal_date": "2026-12-01", "reminder_sent": True}


def help_commands(source: Path) -> list[list[str]]:
    """Every command path of the parser, each with --help (read from the parser of the timed source)."""
    code = ("import argparse, json\n"
            "from integrations.cli import build_parser\n"
            "def walk(parser, path):\n"
            "    yield path\n"
            "    for action in parser._actions:\n"
            "        if isinstance(action, argparse._SubParsersAction):\n"
            "            for name, sub in action.choices.items():\n"
            "                yield from walk(sub, path + [name])\n"
            "print(json.dumps(list(walk(build_parser(), []))))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=source, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(source)}).stdout
    return [[*path, "--help"] for path in json.loads(out)]


def timed(args: list[str], source: Path, env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "integrations.cli", *args], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.returncode


def ddas_file(folder: Path, run: int) -> Path:
    """A small DDAS delivery (20 signals for GM0014) with signal ids of its own, so every run imports anew."""
    from integrations.exchange.ddas.samples import PARTNERS, delivery, signal

    rng = random.Random(run)
    items = [signal(rng, 1000 * run + i, "Water", date(2026, 11, 3)) for i in range(1, 21)]
    path = folder / f"signalen-{run}.json"
    path.write_text(json.dumps(delivery([("0014", PARTNERS[2], items)], date(2026, 11, 1), date(2026, 11, 30))),
                    encoding="utf-8")
    return path


def real_commands(work: Path, case_id: str) -> list[tuple[str, Callable[[int], list[str]]]]:
    """(label, run number -> arguments): the commands a coordinator or worker types every day."""
    data = work / "case.json"
    data.write_text(json.dumps(CASE_DATA), encoding="utf-8")
    root = str(ROOT)
    return [
        ("validate pathways/eviction-prevention.yaml", lambda r: ["validate", f"{root}/{EVICTION}"]),
        ("validate pathways/", lambda r: ["validate", f"{root}/pathways"]),
        ("graph pathways/eviction-prevention.yaml", lambda r: ["graph", f"{root}/{EVICTION}"]),
        ("schema", lambda r: ["schema"]),
        ("simulate eviction-prevention --cases 20 --days 60",
         lambda r: ["simulate", f"{root}/{EVICTION}", "--cases", "20", "--days", "60"]),
        ("case start eviction-prevention ...",
         lambda r: ["case", "start", "eviction-prevention", "--trigger", "rent_arrears", "--data", str(data),
                    "--municipality", "GM0014", "--key", f"bench-{r}"]),
        (f"case show {case_id}", lambda r: ["case", "show", case_id]),
        ("tasks (every open task)", lambda r: ["tasks"]),
        ("tasks --worker user:anna", lambda r: ["tasks", "--worker", "user:anna"]),
        ("tasks --role outreach_worker", lambda r: ["tasks", "--role", "outreach_worker"]),
        ("tick", lambda r: ["tick"]),
        ("signals import (20 signals)",
         lambda r: ["signals", "import", str(ddas_file(work, r)), "--no-progress", "--route", "GM0014=noord"]),
        ("signals export --municipality GM0014 (November)",
         lambda r: ["signals", "export", "--municipality", "GM0014", "--from", "2026-11-01", "--to", "2026-11-30",
                    "--out", str(work / "export")]),
        ("publish pathways/eviction-prevention.yaml --dry-run", lambda r: ["publish", f"{root}/{EVICTION}",
                                                                           "--dry-run"]),
        ("incidents", lambda r: ["incidents"]),
        ("owner", lambda r: ["owner"]),
        ("audit export (one day)", lambda r: ["audit", "export", "--from", "2026-12-01", "--to", "2026-12-01"]),
        ("sweep --once --no-prefect", lambda r: ["sweep", "--once", "--no-prefect"]),
        ("dispatch --once --no-prefect", lambda r: ["dispatch", "--once", "--no-prefect"]),
        ("db upgrade", lambda r: ["db", "upgrade"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("help", "real"), default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="carepath-cli-"))
    data_dir = args.data_dir or work / "data"
    env = {**os.environ, "CAREPATH_DATA_DIR": str(data_dir), "PYTHONPATH": str(args.source),
           "CAREPATH_WORKER": "bench"}
    for name in ("CAREPATH_DATABASE_URL", "CAREPATH_LANGUAGE", "CAREPATH_SIGNAL_ROUTES", "CAREPATH_PATHWAYS_DIR",
                 "PYTHONDONTWRITEBYTECODE"):  # a warm install has its bytecode written
        env.pop(name, None)
    sys.path.insert(0, str(args.source))
    subprocess.run([sys.executable, "-m", "integrations.cli", "db", "upgrade"], cwd=work, env=env,
                   stdout=subprocess.DEVNULL, check=True)  # creates and migrates the database: not timed
    (work / "case.json").write_text(json.dumps(CASE_DATA), encoding="utf-8")
    started = subprocess.run([sys.executable, "-m", "integrations.cli", "case", "start", "eviction-prevention",
                              "--trigger", "rent_arrears", "--data", str(work / "case.json"), "--municipality",
                              "GM0014"], cwd=work, env=env, capture_output=True, text=True, check=True)
    case_id = started.stdout.split()[1]

    rows: list[tuple[str, float, float, int]] = []
    if args.only in (None, "help"):
        rows += [(" ".join(c), *_median(c, args, env, work)) for c in help_commands(args.source)]
    if args.only in (None, "real"):
        for label, make in real_commands(work, case_id):
            rows.append((label, *_median_of(make, args, env, work)))
    print(f"{args.source}: median of {args.runs} fresh processes; Python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at the end\n")
    print("| command | wall (s) | CPU (s) | exit |\n| --- | ---: | ---: | ---: |")
    for label, wall, cpu, code in rows:
        print(f"| `carepath {label}` | {wall:.2f} | {cpu:.2f} | {code} |")
    slowest = max(rows, key=lambda row: row[2])
    print(f"\nslowest by CPU: `carepath {slowest[0]}` {slowest[2]:.2f} s CPU, {slowest[1]:.2f} s wall")


def _median(command: list[str], args: argparse.Namespace, env: dict[str, str], work: Path
            ) -> tuple[float, float, int]:
    return _median_of(lambda r: command, args, env, work)


def _median_of(make: Callable[[int], list[str]], args: argparse.Namespace, env: dict[str, str], work: Path
               ) -> tuple[float, float, int]:
    timed(make(0), args.source, env, work)  # warm: bytecode written, caches filled (not timed)
    runs = [timed(make(r), args.source, env, work) for r in range(1, args.runs + 1)]
    return (statistics.median(w for w, _, _ in runs), statistics.median(c for _, c, _ in runs),
            max(code for _, _, code in runs))


if __name__ == "__main__":
    main()
