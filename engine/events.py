"""Events: the only way a case's state changes.

`apply` folds one event into a state without looking at the pathway
definition, so a case's history replays to its stored state with nothing but
the events themselves. The engine (`engine.decide`) decides which events
happen; it never changes state any other way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import EngineError
from engine.messages import msg
from engine.state import (
    MAIN_FLOW,
    CaseState,
    CaseStatus,
    Position,
    Task,
    TaskStatus,
    TaskType,
    Timer,
    TimerStatus,
    TrackState,
    TrackStatus,
)


@dataclass(frozen=True)
class Event:
    """One change to one case: who did what, when and why."""

    case_id: str
    seq: int  # 1-based position in the case's history (= case version after applying it)
    type: str
    at: datetime
    actor: str
    data: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "seq": self.seq,
            "type": self.type,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "data": self.data,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Event:
        return cls(
            case_id=d["case_id"],
            seq=d["seq"],
            type=d["type"],
            at=datetime.fromisoformat(d["at"]),
            actor=d["actor"],
            data=d["data"],
            reason=d.get("reason"),
        )


class ReplayError(EngineError):
    """A history that does not fold into a state (corrupt or out of order)."""


def _task(state: CaseState, task_id: str) -> Task:
    try:
        return state.tasks[task_id]
    except KeyError:
        raise ReplayError(msg("replay.unknown_task", case=state.id, task_id=task_id)) from None


def _timer(state: CaseState, timer_id: str) -> Timer:
    try:
        return state.timers[timer_id]
    except KeyError:
        raise ReplayError(msg("replay.unknown_timer", case=state.id, timer=timer_id)) from None


def _position(state: CaseState, flow: str) -> Position:
    pos = state.position_of(flow)
    if pos is None:
        raise ReplayError(msg("replay.flow", case=state.id, flow=flow))
    return pos


def start_state(event: Event) -> CaseState:
    """The state a `case_started` event creates."""
    if event.type != "case_started":
        raise ReplayError(msg("replay.first", case=event.case_id, event=event.type))
    d = event.data
    return CaseState(
        id=event.case_id,
        pathway_id=d["pathway_id"],
        pathway_version=d["pathway_version"],
        status=CaseStatus.OPEN,
        opened_at=event.at,
        trigger=d["trigger"],
        data=dict(d["data"]),
        pseudonym=d["pseudonym"],
        team=d.get("team"),
        municipality=d.get("municipality"),
        funder=d.get("funder"),
        assignments=dict(d.get("assignments") or {}),
        version=1,
    )


def apply(state: CaseState, event: Event) -> None:
    """Fold `event` into `state` in place."""
    if event.seq != state.version + 1:
        raise ReplayError(msg("replay.order", case=state.id, seq=event.seq, event=event.type, version=state.version))
    d = event.data
    kind = event.type
    if kind == "step_entered":
        flow = d["flow"]
        if flow == MAIN_FLOW and state.main is None:
            state.main = Position(step_id=None, entered_at=event.at)
        pos = _position(state, flow)
        pos.step_id = d["step_id"]
        pos.entered_at = event.at
        pos.visits[d["step_id"]] = pos.visits.get(d["step_id"], 0) + 1
    elif kind == "flow_ended":
        _position(state, d["flow"]).step_id = None
    elif kind == "task_opened":
        task = Task.from_json(d["task"])
        state.tasks[task.id] = task
        state.next_seq += 1
    elif kind == "task_claimed":
        task = _task(state, d["task_id"])
        task.assignee = d["worker"]
        state.assignments.setdefault(task.role, d["worker"])
    elif kind == "task_released":
        _task(state, d["task_id"]).assignee = None
        if d.get("clear_assignment"):
            state.assignments.pop(d["role"], None)
    elif kind == "task_reassigned":
        task = _task(state, d["task_id"])
        task.role = d["role"]
        task.assignee = d["worker"]
        if d["worker"] is not None and d.get("carry_case"):
            state.assignments[d["role"]] = d["worker"]
    elif kind == "task_completed":
        task = _task(state, d["task_id"])
        task.status = TaskStatus.COMPLETED
        task.completed_at = event.at
        task.completed_by = event.actor
        task.data = d["data"]
        if task.type is TaskType.EVALUATION:
            state.evaluations_held += 1
        elif task.type is not TaskType.AD_HOC:  # an ad hoc task is no step: nothing for `steps.` to read
            state.records[task.step_id] = dict(d["data"])
    elif kind == "task_cancelled":
        _task(state, d["task_id"]).status = TaskStatus.CANCELLED
    elif kind == "task_deadline_passed":
        task = _task(state, d["task_id"])
        task.deadline_index = d["index"] + 1
        if d["what"] == "reminder":
            task.reminders_sent += 1
        else:
            task.escalation_level += 1
    elif kind == "timer_set":
        timer = Timer.from_json(d["timer"])
        state.timers[timer.id] = timer
        state.next_seq += 1
    elif kind == "timer_fired":
        timer = _timer(state, d["timer_id"])
        timer.status = TimerStatus.FIRED
        timer.fired_at = event.at
    elif kind == "timer_cancelled":
        _timer(state, d["timer_id"]).status = TimerStatus.CANCELLED
    elif kind == "message_queued":
        pass  # the outbox is fed from this event; the case state does not change
    elif kind == "tracks_opened":
        state.tracks_step = d["step_id"]
        state.track_order = list(d["order"])
    elif kind == "tracks_joined":
        state.tracks_step = None
    elif kind == "track_planned":
        state.tracks[d["track_id"]] = TrackState(
            id=d["track_id"], status=TrackStatus.PLANNED, owner_role=d["owner_role"], position=None
        )
        if d["track_id"] not in state.track_order:
            state.track_order.append(d["track_id"])
    elif kind == "track_started":
        track = state.tracks[d["track_id"]]
        track.status = TrackStatus.ACTIVE
        track.started_at = event.at
        track.position = Position(step_id=None, entered_at=event.at)
    elif kind == "track_closed":
        track = state.tracks[d["track_id"]]
        track.status = TrackStatus.CLOSED
        track.closed_at = event.at
        track.result = d["result"]
        if track.position is not None:
            track.position.step_id = None
    elif kind == "track_progress":
        state.tracks[d["track_id"]].progress.append(dict(d["note"]))
    elif kind == "lead_time_exceeded":
        if d["flow"] == MAIN_FLOW:
            state.lead_time_exceeded_at = event.at
        else:
            state.tracks[d["flow"]].lead_time_exceeded_at = event.at
    elif kind == "escalation_raised":
        state.open_escalations.append(dict(d["escalation"]))
    elif kind == "escalation_resolved":
        state.open_escalations = [e for e in state.open_escalations if e["id"] != d["escalation_id"]]
    elif kind == "case_suspended":
        state.status = CaseStatus.SUSPENDED
        state.suspended_at = event.at
        state.suspension_reason = event.reason
        for timer in state.timers.values():
            if timer.status is TimerStatus.PENDING:
                timer.status = TimerStatus.PAUSED
    elif kind == "case_resumed":
        state.status = CaseStatus.OPEN
        state.suspended_at = None
        state.suspension_reason = None
        for timer_id, due in d["timers"].items():
            timer = _timer(state, timer_id)
            timer.status = TimerStatus.PENDING
            timer.due_at = datetime.fromisoformat(due)
        for task_id, due in d["tasks"].items():
            _task(state, task_id).due_at = datetime.fromisoformat(due)
    elif kind == "case_closed":
        state.status = CaseStatus.CLOSED
        state.closed_at = event.at
        state.outcome = d["outcome"]
        state.close_reason = d.get("reason_code")
        state.open_escalations = []
    elif kind == "case_reopened":
        state.status = CaseStatus.OPEN
        state.closed_at = None
        state.outcome = None
        state.close_reason = None
        state.main = Position(step_id=None, entered_at=event.at)
    elif kind == "origin_registered":
        state.origin = dict(d["origin"])
    elif kind == "origin_objected":
        state.origin = None
        state.origin_objection = True
    elif kind == "case_data_updated":
        state.data.update(d["changes"])
    elif kind == "case_migrated":
        state.pathway_version = d["to_version"]
    elif kind == "case_linked":
        state.links.append(dict(d["link"]))
    elif kind == "step_recorded":
        state.records[d["step_id"]] = dict(d["data"])
    elif kind in _REFERRAL_EVENTS:
        _apply_referral(state, event)
    elif kind == "case_started":
        raise ReplayError(msg("replay.second_start", case=state.id, seq=event.seq))
    else:
        raise ReplayError(msg("replay.unknown_event", case=state.id, event=kind, seq=event.seq))
    state.version = event.seq


_REFERRAL_EVENTS = frozenset({"referral_sent", "referral_updated", "referral_held", "consent_recorded",
                              "meeting_decision_recorded"})


def _apply_referral(state: CaseState, event: Event) -> None:
    """Closed-loop referrals (engine.referrals): status records, held referrals and consents."""
    d = event.data
    if event.type == "referral_sent":
        state.held_referrals.pop(d["flow"], None)
        state.referrals[d["task_id"]] = {
            "task_id": d["task_id"], "partner": d["partner"], "step_id": d["step_id"], "flow": d["flow"],
            "status": "requested", "since": event.at.isoformat(), "by": event.actor, "channel": "system",
        }
    elif event.type == "referral_updated":
        record = state.referrals[d["task_id"]]
        record.update({"status": d["status"], "since": event.at.isoformat(), "by": event.actor,
                       "channel": d["channel"]})
        record.pop("reason", None)
        if d.get("reason"):
            record["reason"] = d["reason"]
    elif event.type == "referral_held":
        state.held_referrals[d["flow"]] = {"step_id": d["step_id"], "partner": d["partner"],
                                           "since": event.at.isoformat()}
    elif event.type == "consent_recorded" and d["partner"] not in state.consents:
        state.consents.append(d["partner"])
    # meeting_decision_recorded: the history is the record; the state does not change


def replay(events: list[Event]) -> CaseState:
    """Rebuild a case's state from its whole history."""
    if not events:
        raise ReplayError(msg("replay.empty"))
    state = start_state(events[0])
    for event in events[1:]:
        apply(state, event)
    return state
