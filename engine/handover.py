"""Hand-over between pathways: links between a case and the case it started, and the outcome coming back.

A `handover` step (see `tasks/handover.py`) queues a `handover` message with
the mapped data; the runtime starts the case on the other pathway and links
both ways (`LinkCase` on each). When the second case closes, it queues a
`handover_outcome` message for the first, which arrives as
`RecordHandoverOutcome`: the outcome is recorded under the hand-over step
(`steps.<id>.outcome`, `steps.<id>.child_case`), and a first case that waits
on that step goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine import commands as c
from engine.errors import ValidationError
from engine.messages import msg
from engine.state import CaseStatus, TimerKind

if TYPE_CHECKING:
    from engine.decide import Engine, _Run

KIND = "handover"
CHANNEL = "handover"
START_TEMPLATE = "handover_start"
OUTCOME_TEMPLATE = "handover_outcome"
RELATIONS = ("parent", "child")


def mapped_data(mapping: Mapping[str, Any], case_data: Mapping[str, Any]) -> dict[str, Any]:
    """The second case's data: each target field takes the value of its source field (when filled in)."""
    return {str(target): case_data[str(source)] for target, source in mapping.items() if str(source) in case_data}


def link_case(engine: Engine, run: _Run, cmd: c.LinkCase) -> None:
    if cmd.relation not in RELATIONS:
        raise ValidationError(msg("link.relation", relation=cmd.relation))
    link = {"relation": cmd.relation, "case_id": cmd.other_case, "pathway": cmd.pathway_id,
            "step_id": cmd.step_id, "wait": cmd.wait}
    if any(existing.get("case_id") == cmd.other_case for existing in run.state.links):
        return  # linked already (a repeated delivery)
    run.emit("case_linked", {"link": link})


def record_outcome(engine: Engine, run: _Run, cmd: c.RecordHandoverOutcome) -> None:
    state = run.state
    if not any(link.get("case_id") == cmd.child_case and link.get("relation") == "child" for link in state.links):
        raise ValidationError(msg("handover.not_child", case=state.id, child=cmd.child_case))
    if state.status is not CaseStatus.OPEN or cmd.step_id not in run.cp.steps:
        return  # closed (or migrated away) meanwhile: nothing waits for it any more
    data = {"child_case": cmd.child_case, "outcome": cmd.outcome}
    run.emit("step_recorded", {"step_id": cmd.step_id, "data": data})
    flow = run.cp.step_flow[cmd.step_id]
    pos = state.position_of(flow)
    if pos is not None and pos.step_id == cmd.step_id:
        step = run.cp.steps[cmd.step_id]
        run.cancel_timers(lambda t: t.kind is TimerKind.TIMEOUT and t.ref == step.id)
        run.follow(flow, step, data)


def notify_parent(run: _Run, outcome: str) -> None:
    """A closing case that was started by a hand-over tells its parent case the outcome."""
    for link in run.state.links:
        if link.get("relation") == "parent":
            run.message(CHANNEL, OUTCOME_TEMPLATE, payload={
                "parent_case": link["case_id"], "step": link["step_id"], "outcome": outcome})


COMMANDS: dict[type, Any] = {c.LinkCase: link_case, c.RecordHandoverOutcome: record_outcome}
