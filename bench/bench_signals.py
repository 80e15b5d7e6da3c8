"""Early signals (DDAS): import 100,000 signals, re-import them, open their cases, export a quarter.

Run: `.venv/bin/python bench/bench_signals.py [--signals 100000] [--runs 1] [--no-write]
[--backends sqlite,postgresql]`. PostgreSQL is `CAREPATH_TEST_POSTGRES_URL` (default the local
server; a database `bench_signals_*` is created and dropped). Every phase runs in a fresh child
process so its peak memory (ru_maxrss) is its own. Figures are the median of `--runs` runs (slowest
in brackets); the `## Early signals` section of docs/benchmarks.md is rewritten between its markers.

The file: `--signals` fictitious signals (samples.write_delivery) for two municipalities (GM0014 and
GM1966, both served by one team) from five partners, over one quarter (90 days), 5% repeats of an
earlier client; about 240 bytes a signal.

- import: `SignalImporter.import_file`: the whole file checked against the DDAS schema, then every
  signal stored, matched and routed (new case id / linked / not taken up), batches of 2,000.
- re-import: the same file again: every signal found unchanged, nothing written.
- open cases: `CaseOpener.run`: the first `--open` (default 20,000) of the cases the import decided
  on started through the engine and stored in bulk (1,000 a transaction), then one feedback message
  per signal whose case exists queued in the outbox. (All 95,000 take minutes; see the rate.)
- export: the DDAS delivery of GM0014 for the quarter (half the signals, 50,000), every page validated
  against the shared schema; the signals whose case is open carry their case (vroegsignaalzaak).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench_signals:begin -->", "<!-- bench_signals:end -->"
ROUTES = "GM0014=noord-groningen,GM1966=noord-groningen"
PHASES = ("import", "reimport", "open", "export")


def _service(url: str, data_dir: Path) -> Any:
    from integrations.clock import SystemClock
    from integrations.service import build_service

    return build_service(url, SystemClock(), data_dir=data_dir)


def phase(name: str, url: str, path: Path, data_dir: Path, open_limit: int) -> dict[str, Any]:
    """One phase in this (child) process: seconds, peak memory, what it did."""
    from integrations.exchange.ddas.export import export_pages
    from integrations.exchange.ddas.importer import SignalImporter, parse_routes
    from integrations.exchange.ddas.opener import CaseOpener

    service = _service(url, data_dir)
    routes = parse_routes(ROUTES)
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    result: dict[str, Any] = {}
    if name in ("import", "reimport"):
        report = SignalImporter(service, routes).import_file(path)
        assert not report.errors, report.errors[:3]
        result = {"signals": report.signals, "changes": report.changes, "counts": report.counts}
    elif name == "open":
        opened = CaseOpener(service, routes).run(max_cases=open_limit)
        result = {"opened": opened.opened, "feedback": opened.feedback}
    else:
        signals = pages = zaken = 0
        for page in export_pages(service, "GM0014", date(2026, 1, 1), date(2026, 3, 31)):
            signals += page.signals
            zaken += page.zaken
            pages += 1
        result = {"signals": signals, "pages": pages, "zaken": zaken}
    result["seconds"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime - cpu_before
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _child(name: str, url: str, path: Path, data_dir: Path, open_limit: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--phase", name, "--url", url, "--file", str(path),
                          "--data-dir", str(data_dir), "--open", str(open_limit)], capture_output=True, text=True, check=False,
                         env={**os.environ, "CAREPATH_SIGNAL_FEEDBACK": "webhook"})
    if out.returncode != 0:
        raise RuntimeError(f"phase {name} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _postgres_database() -> tuple[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("CAREPATH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    name = f"bench_signals_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def run_backend(backend: str, path: Path, runs: int, open_limit: int) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {p: [] for p in PHASES}
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-signals-") as folder:
            data_dir = Path(folder)
            drop = None
            if backend == "sqlite":
                url = f"sqlite:///{data_dir / 'carepath.db'}"
            else:
                url, drop = _postgres_database()
            try:
                for name in PHASES:
                    results[name].append(_child(name, url, path, data_dir, open_limit))
                    print(f"{backend} {name}: {results[name][-1]}", file=sys.stderr, flush=True)
            finally:
                if drop is not None:
                    drop()
    return results


def _median(items: list[dict[str, Any]], key: str) -> str:
    values = [float(i[key]) for i in items]
    text = f"{statistics.median(values):.1f}"
    return text + (f" ({max(values):.1f})" if len(values) > 1 else "")


def _table(results: dict[str, dict[str, list[dict[str, Any]]]], signals: int, size_mb: float, runs: int) -> str:
    backends = list(results)
    load = os.getloadavg()[0]
    lines = [f"`bench/bench_signals.py --signals {signals} --runs {runs}`: a DDAS file of {signals:,} signals "
             f"({size_mb:.0f} MB), each phase in a fresh process (peak = its ru_maxrss). Python "
             f"{platform.python_version()}, {os.cpu_count()} CPUs, load average {load:.2f} when the run ended "
             "(the machine is shared; other work inflates wall-clock time, so the process's own CPU time is shown "
             "too). Median of the runs, slowest in brackets.",
             "", "| | " + " | ".join(backends) + " | target |", "| --- |" + " ---: |" * len(backends) + " --- |"]

    def row(label: str, phase_name: str, key: str, target: str) -> None:
        lines.append(f"| {label} | " + " | ".join(_median(results[b][phase_name], key) for b in backends)
                     + f" | {target} |")

    row("import: check + store + match + route (s)", "import", "seconds", "<= 30")
    row("  CPU time of the process (s)", "import", "cpu_seconds", "")
    row("  peak memory (MB)", "import", "peak_mb", "<= 300")
    row("re-import of the same file (s)", "reimport", "seconds", "<= 10")
    row("  CPU time of the process (s)", "reimport", "cpu_seconds", "")
    lines.append("|   changes | " + " | ".join(str(results[b]["reimport"][-1]["changes"]) for b in backends) + " | 0 |")
    row("open cases + queue their feedback (s)", "open", "seconds", "")
    row("  CPU time of the process (s)", "open", "cpu_seconds", "")
    lines.append("|   cases opened | " + " | ".join(str(results[b]["open"][-1]["opened"]) for b in backends) + " | |")
    row("  peak memory (MB)", "open", "peak_mb", "")
    row("export GM0014, one quarter (s)", "export", "seconds", "<= 10")
    row("  CPU time of the process (s)", "export", "cpu_seconds", "")
    lines.append("|   signals exported | " + " | ".join(str(results[b]["export"][-1]["signals"]) for b in backends)
                 + " | 50,000 |")
    lines.append("|   cases (vroegsignaalzaken) exported | " + " | ".join(
        str(results[b]["export"][-1]["zaken"]) for b in backends) + " | |")
    row("  peak memory (MB)", "export", "peak_mb", "")
    return "\n".join(lines)


def write_section(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc:
        head, rest = doc.split(BEGIN, 1)
        doc = head + block + rest.split(END, 1)[1]
    else:
        doc = doc.rstrip("\n") + f"\n\n## Early signals\n\n{block}\n"
    DOC.write_text(doc, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--open", type=int, default=20_000, help="cases to open in the open phase")
    parser.add_argument("--phase", choices=PHASES)
    parser.add_argument("--url")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.url, args.file, args.data_dir, args.open)))
        return 0
    from integrations.exchange.ddas.samples import write_delivery

    with tempfile.TemporaryDirectory(prefix="bench-signals-file-") as folder:
        path = write_delivery(Path(folder) / "signalen.json", args.signals, gemeentecodes=("0014", "1966"),
                              first=date(2026, 1, 1), days=90)
        size_mb = path.stat().st_size / 1e6
        results = {b: run_backend(b, path, args.runs, args.open) for b in args.backends.split(",")}
    text = _table(results, args.signals, size_mb, args.runs)
    print(text)
    if not args.no_write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
