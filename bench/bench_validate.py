"""Pathway validation time: each shipped pathway and a generated 500-step pathway.

Run: `.venv/bin/python bench/bench_validate.py [--runs 7] [--no-write]`. Reports the
median of the runs (and the slowest) per file and rewrites the `## Pathway
validation` section of docs/benchmarks.md between its markers, leaving the rest
of that file alone. Expression caches are cleared before every run, so each
figure is what one `carepath validate` process pays. Target: the 500-step
pathway validates in under 0.5 s.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import expressions, yaml_source  # noqa: E402
from engine.loader import load_pathway  # noqa: E402
from tasks.registry import default_kinds  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- bench_validate:begin -->"
END = "<!-- bench_validate:end -->"
TARGET_SECONDS = 0.5


def generated_pathway(steps: int = 500, tracks: int = 8) -> str:
    """A realistic large pathway as a coordinator would write it (block YAML, comments).

    The main flow is a chain of visit/decision/partner/letter groups with forms,
    CEL branches reading the form, the case and earlier steps, bounded revisit
    loops, reminders and escalation; the rest of the steps are spread over tracks.
    """
    per_track = (steps // 2) // tracks
    main_count = steps - per_track * tracks
    out = [
        "# yaml-language-server: $schema=../schemas/pathway.schema.json",
        "id: generated-large",
        "version: 1",
        "title: Groot gegenereerd traject",
        "description: |",
        "  Gegenereerd voor de benchmark: veel stappen, formulieren, voorwaarden en tracks.",
        "owner: Stichting Benchmark",
        "calendar: nl-working-days",
        "triggers:",
        "  - {type: rent_arrears, label: Signaal huurachterstand, source: housing_corporation,",
        "     condition: \"case.arrears_months >= 2\"}",
        "case_data:",
        "  type: object",
        "  required: [client_name, arrears_months]",
        "  properties:",
        "    client_name: {type: string, title: Naam}",
        "    arrears_months: {type: integer, minimum: 0}",
        "    debt_total: {type: number}",
        "    household: {type: object, properties: {adults: {type: integer}, children: {type: integer}}}",
        "personal_data: [client_name]",
        "roles:",
        "  - {id: worker, title: Maatschappelijk werker, kind: worker}",
        "  - {id: coordinator, title: Coördinator, kind: coordinator}",
        "  - {id: manager, title: Manager, kind: manager}",
        "  - {id: housing_corporation, title: Woningcorporatie, kind: partner}",
        "  - {id: credit_bank, title: Kredietbank, kind: partner}",
        "defaults:",
        "  reminders:",
        "    - {before: 1 working day}",
        "    - {after: 1 working day, to: coordinator}",
        "  escalation:",
        "    - {after: 2 working days, action: notify, to: coordinator}",
        "    - {after: 5 working days, action: reassign, to: coordinator}",
        "    - {after: 10 working days, action: raise, to: manager}",
        "outcomes:",
        "  - {code: kept, label: Huurder blijft huren, successful: true}",
        "  - {code: other, label: Anders}",
        "evaluation:",
        "  every: 3 weeks",
        "  role: coordinator",
        "  title: Evaluatie",
        "  due: 5 working days",
        "steps:",
    ]
    body = main_count - 3  # tracks step, two end steps
    ids = [f"m{i:03d}" for i in range(body)]
    for i, step_id in enumerate(ids):
        following = ids[i + 1] if i + 1 < body else "work"
        pattern = i % 4
        if pattern == 0:  # a visit with a form and a bounded revisit loop
            out += [
                f"  - id: {step_id}",
                "    kind: human_task",
                f"    title: Huisbezoek {i}",
                "    instructions: |",
                "      Ga langs, bespreek de situatie en leg vast wat je ziet.",
                "    role: worker",
                "    due: 5 working days",
                "    form:",
                "      type: object",
                "      required: [reached]",
                "      properties:",
                "        reached: {type: boolean, title: Bereikt?}",
                "        amount: {type: number, title: Bedrag}",
                "        note: {type: string, title: Notitie}",
                "    max_visits: 3",
                "    on_max_visits: done_other",
                "    next:",
                f"      - {{when: \"!form.reached\", goto: {step_id}}}",
                f"      - {{when: \"form.amount > {i}.0 && case.arrears_months >= 2\", goto: {following}}}",
                f"      - {{goto: {following}}}",
            ]
        elif pattern == 1:  # a decision reading the visit before it
            previous = ids[i - 1]
            out += [
                f"  - id: {step_id}",
                "    kind: decision",
                f"    title: Keuze {i}",
                "    next:",
                f"      - {{when: \"steps.{previous}.amount > 1000.0 || case.household.children > 2\", "
                f"goto: {following}}}",
                f"      - {{when: 'steps.{previous}.note == \"spoed\"', goto: {following}}}",
                f"      - {{goto: {following}}}",
            ]
        elif pattern == 2:  # ask a partner, with a timeout
            out += [
                f"  - id: {step_id}",
                "    kind: request_partner",
                f"    title: Navraag {i}",
                "    params:",
                "      partner: credit_bank",
                "      question: Is er een regeling?",
                "      answer:",
                "        type: object",
                "        properties:",
                "          arrangement: {type: boolean}",
                "    timeout: 10 working days",
                f"    on_timeout: {following}",
                "    next:",
                f"      - {{when: \"form.arrangement\", goto: {following}}}",
                f"      - {{goto: {following}}}",
            ]
        else:  # a letter
            out += [
                f"  - id: {step_id}",
                "    kind: send_letter",
                f"    title: Brief {i}",
                "    params: {template: bevestiging, to: client}",
                f"    next: {following}",
            ]
    track_ids = [f"track_{t}" for t in range(tracks)]
    out += [
        "  - id: work",
        "    kind: tracks",
        "    title: Werken aan de leefgebieden",
        "    mode: sequential",
        f"    tracks: [{', '.join(track_ids)}]",
        "    next:",
        f"      - {{when: 'tracks.{track_ids[0]}.result == \"achieved\"', goto: done_kept}}",
        "      - {goto: done_other}",
        "  - {id: done_kept, kind: end, outcome: kept}",
        "  - {id: done_other, kind: end, outcome: other}",
        "tracks:",
    ]
    for track_id in track_ids:
        out += [
            f"  - id: {track_id}",
            f"    title: Leefgebied {track_id}",
            "    owner: worker",
            "    goal: Een stap vooruit op dit leefgebied",
            "    lead_time: {within: 26 weeks, on_exceeded: [{after: 1 week, action: notify, to: coordinator}]}",
            "    steps:",
        ]
        track_steps = [f"{track_id}_s{j:02d}" for j in range(per_track - 1)]
        for j, step_id in enumerate(track_steps):
            following = track_steps[j + 1] if j + 1 < len(track_steps) else f"{track_id}_done"
            out += [
                f"      - id: {step_id}",
                "        kind: human_task",
                f"        title: Actie {j}",
                "        due: 10 working days",
                "        reminders: [{before: 2 working days}]",
                "        form:",
                "          type: object",
                "          properties:",
                "            done: {type: boolean}",
                "        max_visits: 2",
                f"        on_max_visits: {track_id}_done",
                "        next:",
                f"          - {{when: \"!form.done\", goto: {step_id}}}",
                f"          - {{goto: {following}}}",
            ]
        out.append(f"      - {{id: {track_id}_done, kind: close_track, result: achieved}}")
    return "\n".join(out) + "\n"


def measure(load: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        expressions._parse.cache_clear()
        expressions._program.cache_clear()
        started = time.perf_counter()
        load()
        times.append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    kinds = default_kinds()
    cases: list[tuple[str, bytes]] = [
        (f"pathways/{path.name}", path.read_bytes()) for path in sorted((ROOT / "pathways").glob("*.yaml"))
    ]
    large = generated_pathway().encode("utf-8")
    cases.append(("generated 500-step pathway", large))
    rows = []
    for name, raw in cases:
        pathway = load_pathway(raw, name, kinds)  # also proves it is valid
        step_count = len(pathway.steps) + sum(len(t.steps) for t in pathway.tracks)
        times = measure(partial(load_pathway, raw, name, kinds), args.runs)
        rows.append((name, step_count, len(raw), statistics.median(times), max(times)))
    fast_parser = getattr(yaml_source, "_CParser")  # noqa: B009 - a private switch, on purpose
    setattr(yaml_source, "_CParser", None)  # noqa: B010 - what an install without libyaml pays
    try:
        times = measure(partial(load_pathway, large, "generated", kinds), args.runs)
    finally:
        setattr(yaml_source, "_CParser", fast_parser)  # noqa: B010
    rows.append(("generated 500-step pathway, pure-Python YAML parser (no libyaml)", rows[-1][1], len(large),
                 statistics.median(times), max(times)))
    lines = [
        "## Pathway validation",
        "",
        BEGIN,
        f"`bench/bench_validate.py`: full `load_pathway` (safe YAML, JSON Schema, semantic checks, CEL, "
        f"model build, fingerprint), median of {args.runs} runs with expression caches cleared before each run. "
        f"Python {platform.python_version()} on {platform.machine()}, {_cpus()} CPUs, load average "
        f"{_load():.2f} when the run ended (other work on a shared machine inflates the figures).",
        "",
        "| pathway | steps | bytes | median (s) | slowest (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {n} | {s} | {b} | {m:.3f} | {w:.3f} |" for n, s, b, m, w in rows]
    large_median = rows[-2][3]
    verdict = "meets" if large_median < TARGET_SECONDS else "MISSES"
    lines += ["", f"Target: the 500-step pathway in under {TARGET_SECONDS} s — {verdict} it "
              f"({large_median:.3f} s). YAML events come from libyaml (PyYAML's C parser, installed with "
              "cel-python) when present; the last row is the fallback to ruamel.yaml's pure-Python parser, "
              "which alone spends about 0.6 s on this file.", END, ""]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        _write_section(section)
    return 0 if large_median < TARGET_SECONDS else 1


def _load() -> float:
    import os

    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def _write_section(section: str) -> None:
    """Replace the `## Pathway validation` section between the markers; append it when absent."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        head_end = text.index(BEGIN)
        heading = text.rfind("## Pathway validation", 0, head_end)
        start = heading if heading != -1 else head_end
        stop = text.index(END) + len(END)
        text = text[:start] + section.rstrip("\n") + text[stop:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
