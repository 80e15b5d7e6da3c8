"""How long a `carepath` command takes on a warm install (issue #10: under 1.5 s).

Runs each command three times as a fresh process (`python -m integrations.cli ...`, the same as the
`carepath` script) against one data directory whose SQLite database exists already (the first,
untimed run creates it), and prints the median wall seconds and CPU seconds (user + system of the
child). Wall time on a shared machine includes waiting for a CPU; CPU time is what the command costs.

Usage: `python bench/bench_cli.py [--data-dir DIR] [--source DIR]` (`--source`: another checkout to
time, with this interpreter).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (
    ["tasks", "--worker", "user:anna"],
    ["case", "show", "C1"],
    ["tick"],
    ["validate", "pathways/eviction-prevention.yaml"],
)


def timed(args: list[str], source: Path, env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "integrations.cli", *args], cwd=source, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.mkdtemp(prefix="carepath-cli-")))
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "CAREPATH_DATA_DIR": str(args.data_dir), "PYTHONPATH": str(args.source)}
    env.pop("CAREPATH_DATABASE_URL", None)
    timed(["tasks"], args.source, env)  # creates and migrates the database: not timed
    print(f"{args.source}: median of {args.runs}; load average {os.getloadavg()[0]:.2f}\n")
    print("| command | wall (s) | CPU (s) |\n| --- | ---: | ---: |")
    for command in COMMANDS:
        runs = [timed(command, args.source, env) for _ in range(args.runs)]
        print(f"| `carepath {' '.join(command)}` | {statistics.median(w for w, _ in runs):.2f} | "
              f"{statistics.median(c for _, c in runs):.2f} |")


if __name__ == "__main__":
    main()
