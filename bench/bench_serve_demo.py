"""`carepath serve --demo` from a fresh data directory: seconds until the first page answers, and the
resident memory of the process tree then, at its peak and at the end of the minute after it (issue
#14: <= 10 s, <= 300 MB).

The demo seeds its cases after it listens, then the runtime's first rounds start the embedded
Prefect server and run the sweep, the dispatch and the nightly run: the minute after the first page
covers them on these machines (`--watch` to change it; the memory is sampled twice a second).

Usage: `python bench/bench_serve_demo.py [--source DIR] [--watch 60]` (`--source`: another
checkout, run with this interpreter). Starts the server on a free loopback port and stops it
afterwards.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path


def tree_rss_mb(pid: int) -> float:
    total_kb, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total_kb += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            pending += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--watch", type=float, default=60, help="seconds of memory samples after the first page")
    args = parser.parse_args()
    env = {**os.environ, "CAREPATH_DATA_DIR": tempfile.mkdtemp(prefix="carepath-demo-")}
    env.pop("CAREPATH_DATABASE_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "integrations.cli", "serve", "--demo", "--port", "0"],
                               env=env, cwd=args.source, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        while url is None and time.perf_counter() - started < args.timeout:
            line = process.stdout.readline() if process.stdout else ""
            if not line and process.poll() is not None:
                raise SystemExit(f"carepath serve ended with {process.returncode}")
            found = re.search(r"(?:luistert op|listening on) (http://\S+)", line)
            url = found.group(1) if found else None
        listening = time.perf_counter() - started
        while time.perf_counter() - started < args.timeout:
            try:
                with urllib.request.urlopen(f"{url}/", timeout=5) as response:  # loopback only
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        first_page = time.perf_counter() - started
        rss = tree_rss_mb(process.pid)
        if process.stdout:  # keep reading its log, or a full pipe would stall it
            threading.Thread(target=process.stdout.read, daemon=True).start()
        samples = [rss]
        while time.perf_counter() - started < first_page + args.watch:
            time.sleep(0.5)
            samples.append(tree_rss_mb(process.pid))
        print(f"{args.source}: listening after {listening:.1f} s, first page after {first_page:.1f} s, "
              f"memory {rss:.0f} MB then, peak {max(samples):.0f} MB and {samples[-1]:.0f} MB "
              f"{args.watch:.0f} s later; load average {os.getloadavg()[0]:.2f}")
    finally:
        process.terminate()
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main()
