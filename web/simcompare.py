"""Two versions side by side on the same synthetic cohort: what would the change do?

The coordinator sets the knobs they understand (how many cases, over how many
days, how often work is done on time, how often partners answer, how late late
work is); both versions run on the same seed and start moment, and the report
shows outcomes, lead time and punctuality next to each other, in Dutch, with
moments in Amsterdam time. Nothing is stored.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.compiled import CompiledPathway, compile_pathway
from engine.definition import Pathway
from engine.simulate import WorkerModel, simulate
from engine.state import CaseStatus
from integrations.service import default_handlers
from web.dutch import long_date
from web.timefmt import local


@dataclass(frozen=True)
class Knobs:
    cases: int = 60
    days: int = 180
    on_time: int = 80  # percent of tasks done before their due moment
    partner_answers: int = 85  # percent of partner requests answered before the timeout
    late_days: int = 10  # late work is done up to this many days after due


LIMITS = {"cases": (1, 500), "days": (7, 730), "on_time": (0, 100), "partner_answers": (0, 100), "late_days": (1, 60)}
WORDS = {"cases": "Aantal zaken", "days": "Aantal dagen", "on_time": "Taken op tijd (%)",
         "partner_answers": "Partners die antwoorden (%)", "late_days": "Te laat werk: hoogstens dagen te laat"}


def knobs_from(form: Mapping[str, Any]) -> tuple[Knobs, dict[str, str]]:
    values: dict[str, int] = {}
    errors: dict[str, str] = {}
    defaults = Knobs()
    for name, (low, high) in LIMITS.items():
        raw = str(form.get(f"sim_{name}") or "").strip()
        if not raw:
            values[name] = getattr(defaults, name)
            continue
        try:
            number = int(raw)
        except ValueError:
            errors[f"sim_{name}"] = f"{WORDS[name]}: vul een heel getal in."
            continue
        if not low <= number <= high:
            errors[f"sim_{name}"] = f"{WORDS[name]}: kies een getal van {low} tot en met {high}."
            continue
        values[name] = number
    return Knobs(**values), errors


@dataclass
class Summary:
    label: str
    closed: int
    still_open: int
    outcomes: dict[str, int] = field(default_factory=dict)
    median_lead_days: str = "—"
    on_time: str = "—"
    escalations: int = 0


@dataclass
class Comparison:
    knobs: Knobs
    start: str  # "23 november 2026 09:30" (Amsterdam)
    outcome_labels: list[str]
    left: Summary
    right: Summary


def _summary(label: str, cp: CompiledPathway, knobs: Knobs, start: datetime) -> Summary:
    model = WorkerModel(on_time=knobs.on_time / 100, partner_answers=knobs.partner_answers / 100,
                        late_days_max=float(knobs.late_days))
    result = simulate(cp, default_handlers(), cases=knobs.cases, days=knobs.days, seed=1, start=start, model=model)
    states = list(result.cases.values())
    closed = [s for s in states if s.status is CaseStatus.CLOSED and s.closed_at is not None]
    outcomes = Counter(s.outcome for s in closed)
    lead = [(s.closed_at - s.opened_at).total_seconds() / 86400 for s in closed if s.closed_at]
    done = [t for s in states for t in s.tasks.values() if t.completed_at is not None]
    late = sum(1 for t in done if t.completed_at is not None and t.completed_at > t.due_at)
    escalated = sum(1 for s in states for t in s.tasks.values() if t.escalation_level > 0)
    return Summary(
        label=label, closed=len(closed), still_open=len(states) - len(closed),
        outcomes={o.label: outcomes.get(o.code, 0) for o in cp.pathway.outcomes},
        median_lead_days=f"{statistics.median(lead):.0f}".replace(".", ",") if lead else "—",
        on_time=f"{100 * (len(done) - late) / len(done):.0f}%" if done else "—", escalations=escalated)


def compare(current: CompiledPathway, edited: Pathway, knobs: Knobs, now: datetime) -> Comparison:
    """Both versions on the same cohort (same seed, same start)."""
    start = now.replace(microsecond=0)
    left = _summary(f"Versie {current.pathway.version} (gepubliceerd)", current, knobs, start)
    right = _summary(f"Versie {edited.version} (deze tekst)", compile_pathway(edited), knobs, start)
    labels = list(dict.fromkeys(list(left.outcomes) + list(right.outcomes)))
    moment = local(start)
    return Comparison(knobs, f"{long_date(moment)} {moment:%H:%M}", labels, left, right)
