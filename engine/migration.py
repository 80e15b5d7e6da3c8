"""Moving running cases to a new version of their pathway, on purpose only.

Publishing a version never touches running cases. A coordinator asks for a
plan first (a dry run): per case, what would change, and what cannot map
(a step the case stands on that the new version no longer has, case data the
new schema refuses, ...). A case with any blocker is refused whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.compiled import CompiledPathway
from engine.errors import ValidationError
from engine.messages import msg
from engine.state import MAIN_FLOW, CaseState, CaseStatus, TaskStatus, TaskType, TrackStatus


@dataclass(frozen=True)
class MigrationPlan:
    case_id: str
    from_version: int
    to_version: int
    changes: tuple[str, ...]
    blockers: tuple[str, ...]

    @property
    def possible(self) -> bool:
        return not self.blockers


def plan_migration(old: CompiledPathway, new: CompiledPathway, state: CaseState,
                   step_map: Mapping[str, str] | None = None) -> MigrationPlan:
    """What migrating changes and what blocks it; `step_map` moves a case off a step the new
    version renamed or removed (old step id -> a step of the new version in the same flow)."""
    changes: list[str] = []
    blockers: list[str] = []
    step_map = step_map or {}
    if new.pathway.id != old.pathway.id:
        blockers.append(f"{new.key} is another pathway than {old.key}")
    if new.pathway.version <= state.pathway_version:
        blockers.append(f"version {new.pathway.version} is not newer than the case's {state.pathway_version}")
    if state.status is CaseStatus.CLOSED:
        blockers.append("the case is closed")
    try:
        new.validate("case_data", state.data, msg("subject.case_data_of", case=state.id))
    except ValidationError as exc:
        blockers.append(f"the new version refuses the case's data: {exc}")

    def check_position(flow: str, step_id: str | None) -> None:
        if step_id is None:
            return
        if step_id not in new.steps or new.step_flow.get(step_id) != flow:
            where = "the main flow" if flow == MAIN_FLOW else f"track {flow}"
            target = step_map.get(step_id)
            if target is not None and target in new.steps and new.step_flow.get(target) == flow:
                changes.append(f"the case moves from step {step_id} to step {target} ({where}); "
                               f"its open task at {step_id} lapses")
                return
            if target is not None:
                blockers.append(f"step {target}, chosen for step {step_id}, is not a step of {where} in version "
                                f"{new.pathway.version}")
                return
            blockers.append(f"the case stands on step {step_id} ({where}), which version {new.pathway.version} "
                            "does not have there")
        elif new.steps[step_id].kind != old.steps[step_id].kind:
            blockers.append(f"step {step_id} changes kind {old.steps[step_id].kind} -> {new.steps[step_id].kind}")

    if state.main is not None:
        check_position(MAIN_FLOW, state.main.step_id)
    for track in state.tracks.values():
        if track.status is TrackStatus.CLOSED:
            continue
        if track.id not in new.tracks:
            blockers.append(f"track {track.id} is {track.status.value} but version {new.pathway.version} has no such track")
            continue
        if track.position is not None:
            check_position(track.id, track.position.step_id)
    for task in state.tasks.values():
        if task.status is not TaskStatus.OPEN:
            continue
        if task.role not in new.roles:
            blockers.append(f"open task {task.id} is for role {task.role}, which version {new.pathway.version} drops")
        if task.type is TaskType.EVALUATION:
            continue
        if task.type is TaskType.AD_HOC:
            continue  # not a step of either version: it stays as it is
        before, after = old.steps.get(task.step_id), new.steps.get(task.step_id)
        if before is None or after is None:
            continue  # reported as a position blocker
        if before.title != after.title:
            changes.append(f"open task {task.id} ({task.step_id}): title '{before.title}' -> '{after.title}'")
        if before.form != after.form:
            changes.append(f"open task {task.id} ({task.step_id}): the form changes; it is completed with the new form")
        if (before.reminders, before.escalation) != (after.reminders, after.escalation):
            changes.append(f"open task {task.id} ({task.step_id}): reminders/escalation follow the new policy "
                           "from the next deadline on; the due moment stays")
    old_ev, new_ev = old.pathway.evaluation, new.pathway.evaluation
    if old_ev is not None and new_ev is None:
        changes.append("recurring evaluations stop")
    elif old_ev is None and new_ev is not None:
        changes.append(f"recurring evaluations start: every {new_ev.every}")
    elif old_ev is not None and new_ev is not None and old_ev.every != new_ev.every:
        changes.append(f"evaluations every {old_ev.every} -> every {new_ev.every} (from the next one on)")
    if old.pathway.lead_time != new.pathway.lead_time:
        changes.append("the case lead time changes; the running lead-time timer keeps its moment")
    return MigrationPlan(
        case_id=state.id,
        from_version=state.pathway_version,
        to_version=new.pathway.version,
        changes=tuple(changes),
        blockers=tuple(blockers),
    )
