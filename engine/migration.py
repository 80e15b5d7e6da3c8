"""Moving running cases to a new version of their pathway, on purpose only.

Publishing a version never touches running cases. A coordinator asks for a
plan first (a dry run): per case, what would change, and what cannot map
(a step the case stands on that the new version no longer has, case data the
new schema refuses, ...). A case with any blocker is refused whole.

Blockers and changes are coded messages (`migration.*` in engine/messages.py): steps, tasks and
problem areas by their titles, their ids in the arguments (`step_id`, `flow_id`, ...), so the web
app reads what a blocker is about from its code, not from its text. `changes` and `blockers` are
the Dutch texts (also what a `case_migrated` event records); `texts(..., "en")` gives English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.compiled import CompiledPathway
from engine.errors import ValidationError
from engine.messages import Message, msg, render
from engine.state import MAIN_FLOW, CaseState, CaseStatus, TaskStatus, TaskType, TrackStatus


@dataclass(frozen=True)
class MigrationPlan:
    case_id: str
    from_version: int
    to_version: int
    change_messages: tuple[Message, ...]
    blocker_messages: tuple[Message, ...]

    @property
    def possible(self) -> bool:
        return not self.blocker_messages

    @property
    def changes(self) -> tuple[str, ...]:
        """What migrating changes, in Dutch."""
        return tuple(render(m) for m in self.change_messages)

    @property
    def blockers(self) -> tuple[str, ...]:
        """Why the case cannot move, in Dutch."""
        return tuple(render(m) for m in self.blocker_messages)

    def texts(self, which: str, language: str = "nl") -> tuple[str, ...]:
        """`which` ("changes" or "blockers") in `language`."""
        found = self.change_messages if which == "changes" else self.blocker_messages
        return tuple(render(m, language) for m in found)


def _flow(old: CompiledPathway, flow: str) -> Message:
    if flow == MAIN_FLOW:
        return msg("flow.main")
    track = old.tracks.get(flow)
    return msg("flow.track", track=(track.title if track is not None else "") or flow)


def _step_title(cp: CompiledPathway, step_id: str) -> str:
    step = cp.steps.get(step_id)
    return (step.title if step is not None else "") or step_id


def plan_migration(old: CompiledPathway, new: CompiledPathway, state: CaseState,
                   step_map: Mapping[str, str] | None = None) -> MigrationPlan:
    """What migrating changes and what blocks it; `step_map` moves a case off a step the new
    version renamed or removed (old step id -> a step of the new version in the same flow)."""
    changes: list[Message] = []
    blockers: list[Message] = []
    step_map = step_map or {}
    version = new.pathway.version
    if new.pathway.id != old.pathway.id:
        blockers.append(msg("migration.other_pathway", new=new.pathway.title or new.key, new_id=new.key,
                            old=old.pathway.title or old.key, old_id=old.key))
    if version <= state.pathway_version:
        blockers.append(msg("migration.not_newer", version=version, current=state.pathway_version))
    if state.status is CaseStatus.CLOSED:
        blockers.append(msg("migration.closed"))
    try:
        new.validate("case_data", state.data, msg("subject.case_data_of", case=state.id))
    except ValidationError as exc:
        blockers.append(msg("migration.data_refused", problems=exc.message or str(exc)))

    def check_position(flow: str, step_id: str | None) -> None:
        if step_id is None:
            return
        where = _flow(old, flow)
        if step_id not in new.steps or new.step_flow.get(step_id) != flow:
            target = step_map.get(step_id)
            step = _step_title(old, step_id)
            if target is not None and target in new.steps and new.step_flow.get(target) == flow:
                changes.append(msg("migration.moves", step=step, step_id=step_id, target=_step_title(new, target),
                                   target_id=target, flow=where, flow_id=flow))
                return
            if target is not None:
                blockers.append(msg("migration.target_missing", target=target, target_id=target, step=step,
                                    step_id=step_id, flow=where, flow_id=flow, version=version))
                return
            blockers.append(msg("migration.stands_on", step=step, step_id=step_id, flow=where, flow_id=flow,
                                version=version))
        elif new.steps[step_id].kind != old.steps[step_id].kind:
            blockers.append(msg("migration.kind_changes", step=_step_title(old, step_id), step_id=step_id,
                                old_kind=old.steps[step_id].kind, new_kind=new.steps[step_id].kind))

    if state.main is not None:
        check_position(MAIN_FLOW, state.main.step_id)
    for track in state.tracks.values():
        if track.status is TrackStatus.CLOSED:
            continue
        if track.id not in new.tracks:
            template = old.tracks.get(track.id)
            blockers.append(msg("migration.track_dropped", track=(template.title if template else "") or track.id,
                                track_id=track.id, status=msg("status.track." + track.status.value), version=version))
            continue
        if track.position is not None:
            check_position(track.id, track.position.step_id)
    for task in state.tasks.values():
        if task.status is not TaskStatus.OPEN:
            continue
        if task.role not in new.roles:
            role = old.roles.get(task.role)
            blockers.append(msg("migration.role_dropped", task=task.title, task_id=task.id,
                                role=(role.title if role is not None else "") or task.role, role_id=task.role,
                                version=version))
        if task.type is TaskType.EVALUATION:
            continue
        if task.type is TaskType.AD_HOC:
            continue  # not a step of either version: it stays as it is
        before, after = old.steps.get(task.step_id), new.steps.get(task.step_id)
        if before is None or after is None:
            continue  # reported as a position blocker
        if before.title != after.title:
            changes.append(msg("migration.title", step=before.title or task.step_id, step_id=task.step_id,
                               task_id=task.id, old=before.title, new=after.title))
        if before.form != after.form:
            changes.append(msg("migration.form", task=task.title, task_id=task.id, step_id=task.step_id))
        if (before.reminders, before.escalation) != (after.reminders, after.escalation):
            changes.append(msg("migration.policy", task=task.title, task_id=task.id, step_id=task.step_id))
    old_ev, new_ev = old.pathway.evaluation, new.pathway.evaluation
    if old_ev is not None and new_ev is None:
        changes.append(msg("migration.evaluations_stop"))
    elif old_ev is None and new_ev is not None:
        changes.append(msg("migration.evaluations_start", every=new_ev.every))
    elif old_ev is not None and new_ev is not None and old_ev.every != new_ev.every:
        changes.append(msg("migration.evaluations_change", old=old_ev.every, new=new_ev.every))
    if old.pathway.lead_time != new.pathway.lead_time:
        changes.append(msg("migration.lead_time"))
    return MigrationPlan(
        case_id=state.id,
        from_version=state.pathway_version,
        to_version=version,
        change_messages=tuple(changes),
        blocker_messages=tuple(blockers),
    )
