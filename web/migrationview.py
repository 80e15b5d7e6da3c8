"""Migrating running cases as a coordinator reads it: blockers and changes in Dutch, and which
removed or renamed steps need a mapping to a step of the new version (engine.migration decides)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.compiled import CompiledPathway
from engine.definition import StepKind
from engine.migration import MigrationPlan

_STANDS = re.compile(r"the case stands on step (\S+) \((the main flow|track (\S+))\), which version (\d+) does not have there")
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (_STANDS, "De zaak staat op stap «{0}» ({where}); versie {3} heeft die stap daar niet. Kies hieronder waar "
              "zaken op die stap verdergaan."),
    (re.compile(r"step (\S+), chosen for step (\S+), is not a step of (.+) in version (\d+)"),
     "Stap «{0}», gekozen voor stap «{1}», bestaat in versie {3} niet op die plek."),
    (re.compile(r"the case moves from step (\S+) to step (\S+) \((.+)\); its open task at (\S+) lapses"),
     "De zaak gaat van stap «{0}» naar stap «{1}»; de open taak bij «{0}» vervalt."),
    (re.compile(r"version (\d+) is not newer than the case's (\d+)"), "Versie {0} is niet nieuwer dan die van de zaak ({1})."),
    (re.compile(r"the case is closed"), "De zaak is gesloten."),
    (re.compile(r"the new version refuses the case's data: (.+)"), "De nieuwe versie weigert de zaakgegevens: {0}"),
    (re.compile(r"step (\S+) changes kind (\S+) -> (\S+)"), "Stap «{0}» verandert van soort ({1} wordt {2})."),
    (re.compile(r"track (\S+) is (\S+) but version (\d+) has no such track"),
     "Probleemgebied «{0}» loopt nog, maar versie {2} kent het niet meer."),
    (re.compile(r"open task (\S+) is for role (\S+), which version (\d+) drops"),
     "Open taak {0} is voor de rol «{1}», die versie {2} niet meer heeft."),
    (re.compile(r"open task (\S+) \((\S+)\): title '(.*)' -> '(.*)'"), "Open taak bij «{1}»: titel «{2}» wordt «{3}»."),
    (re.compile(r"open task (\S+) \((\S+)\): the form changes; it is completed with the new form"),
     "Open taak bij «{1}»: het formulier verandert; de taak wordt met het nieuwe formulier afgerond."),
    (re.compile(r"open task (\S+) \((\S+)\): reminders/escalation follow the new policy from the next deadline on; "
                r"the due moment stays"),
     "Open taak bij «{1}»: herinneringen en escalatie volgen vanaf de volgende termijn de nieuwe regels; de uiterste "
     "datum blijft."),
    (re.compile(r"recurring evaluations stop"), "De terugkerende evaluaties stoppen."),
    (re.compile(r"recurring evaluations start: every (.+)"), "Terugkerende evaluaties beginnen: elke {0}."),
    (re.compile(r"evaluations every (.+) -> every (.+) \(from the next one on\)"),
     "Evaluaties elke {0} worden elke {1} (vanaf de volgende)."),
    (re.compile(r"the case lead time changes; the running lead-time timer keeps its moment"),
     "De doorlooptijd van de zaak verandert; de lopende termijn houdt zijn moment."),
]


def dutch(text: str, titles: Mapping[str, str] | None = None) -> str:
    """An engine migration message in Dutch, steps by their titles (unknown messages as they are)."""
    names = titles or {}
    for pattern, words in _PATTERNS:
        found = pattern.fullmatch(text)
        if found is not None:
            groups = tuple(names.get(g, g) if g is not None else g for g in found.groups())
            where = "hoofdroute" if pattern is _STANDS and groups[1] == "the main flow" else \
                f"probleemgebied {groups[2]}" if pattern is _STANDS else ""
            return words.format(*groups, where=where)
    return text


@dataclass(frozen=True)
class StepMapping:
    """A step of the old version cases stand on that the new version lacks, and where they may go."""

    step_id: str
    title: str
    flow: str
    cases: int
    targets: list[tuple[str, str]]  # (step id, title) in the same flow of the new version
    chosen: str


def needed(plans: Sequence[MigrationPlan], old_titles: Mapping[str, str], new: CompiledPathway,
           chosen: Mapping[str, str]) -> list[StepMapping]:
    """The steps that need a mapping (from the dry run's blockers and what was already chosen)."""
    counts: dict[tuple[str, str], int] = {}
    for plan in plans:
        for text in plan.blockers + plan.changes:
            found = _STANDS.fullmatch(text)
            if found:
                flow = "main" if found.group(2) == "the main flow" else str(found.group(3))
                counts[(found.group(1), flow)] = counts.get((found.group(1), flow), 0) + 1
            moved = re.fullmatch(r"the case moves from step (\S+) to step (\S+) \((.+)\); .*", text)
            if moved:
                flow = "main" if moved.group(3) == "the main flow" else moved.group(3).removeprefix("track ")
                counts[(moved.group(1), flow)] = counts.get((moved.group(1), flow), 0) + 1
    found_maps = []
    for (step_id, flow), n in sorted(counts.items()):
        targets = [(s.id, s.title or s.id) for s in new.steps.values()
                   if new.step_flow.get(s.id) == flow and s.kind not in (StepKind.END.value,)]
        found_maps.append(StepMapping(step_id, old_titles.get(step_id, step_id), flow, n, targets,
                                   chosen.get(step_id, "")))
    return found_maps


def step_map_from(form: Any) -> dict[str, str]:
    """`map.<old step>` = `<new step>` fields of a form or query."""
    found = {}
    for key in list(form.keys()):
        if key.startswith("map.") and str(form.get(key) or ""):
            found[key[4:][:64]] = str(form.get(key))[:64]
    return dict(list(found.items())[:50])
