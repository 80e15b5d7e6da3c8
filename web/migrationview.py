"""Migrating running cases as a coordinator reads it: blockers and changes (coded messages of
engine.migration, Dutch or English), and which removed or renamed steps need a mapping to a step of
the new version, read from the codes and their arguments (no text matching)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.compiled import CompiledPathway
from engine.definition import StepKind
from engine.messages import render
from engine.migration import MigrationPlan

# Blockers and changes that mean "the case stands on a step the new version lacks" (engine/messages.py).
_NEEDS_A_STEP = ("migration.stands_on", "migration.moves", "migration.target_missing")


def reader(plans: Sequence[MigrationPlan], lang: str = "nl") -> Callable[[str], str]:
    """The dry run's texts (Dutch, as `plan.changes`/`plan.blockers` give them) in `lang`, as
    sentences: English from each text's coded message; a text that is no blocker or change of
    `plans` (a refusal) in Dutch."""
    english = {render(m): render(m, "en") for plan in plans for m in plan.change_messages + plan.blocker_messages}

    def read(text: str) -> str:
        return sentence(english.get(text, text) if lang == "en" else text)

    return read


def sentence(text: str) -> str:
    """An engine message as a sentence on its own: a capital first letter and a full stop."""
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text[-1] in ".!?" else ".")


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
        for message in plan.blocker_messages + plan.change_messages:
            if message.code in _NEEDS_A_STEP:
                key = (str(message.args["step_id"]), str(message.args["flow_id"]))
                counts[key] = counts.get(key, 0) + 1
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
