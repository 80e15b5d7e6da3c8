"""A case's state as plain data, and its JSON form.

State only ever changes by applying events (`engine.events.apply`), so the
append-only history of a case replays to exactly its state. The objects here are
mutable for speed inside one command; `CaseState.clone()` gives the engine a
private copy so callers' objects are never changed.

Two JSON forms: `to_json()` is the whole state (every task and timer the case ever
had), `to_json(live_only=True)` the *live* state that the database keeps in
`cases.state` and decisions read: open tasks and pending or paused timers. Closed tasks and fired or cancelled timers are history:
they stay in the events (and the task and timer rows), so the document a command
parses and writes does not grow with the case's age. A live state says so
(`CaseState.live`); when the engine cannot find a task or timer in it, the
caller decides again on the whole state (`engine.errors.HistoryNeeded`), as it does
for the rare decision that reads history (the first answer of a joint decision).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any

MAIN_FLOW = "main"


class CaseStatus(str, Enum):
    OPEN = "open"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class TaskStatus(str, Enum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskType(str, Enum):
    HUMAN = "human_task"  # a step of kind human_task
    EVALUATION = "evaluation"  # the recurring case evaluation
    PARTNER = "partner_request"  # an automated step waiting for a partner's answer
    AD_HOC = "ad_hoc"  # a task a worker added that the pathway does not name (engine/adhoc.py)


class TimerKind(str, Enum):
    TASK_DEADLINE = "task_deadline"  # next reminder or escalation rung of a task
    EVALUATION = "evaluation"  # open the next recurring evaluation
    WAIT = "wait"  # a `wait` step ends
    TIMEOUT = "timeout"  # a waiting step's answer did not come
    CASE_LEAD_TIME = "case_lead_time"  # the case's lead time is exceeded (and its chain)
    TRACK_LEAD_TIME = "track_lead_time"  # a track's lead time is exceeded (and its chain)


class TimerStatus(str, Enum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"
    PAUSED = "paused"  # case suspended; due moment shifted on resume


_LIVE_TIMERS = frozenset({TimerStatus.PENDING, TimerStatus.PAUSED})


class TrackStatus(str, Enum):
    PLANNED = "planned"  # sequential mode: waiting for its turn
    ACTIVE = "active"
    CLOSED = "closed"


@lru_cache(maxsize=8192)
def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _ts(moment: datetime | None) -> str | None:
    # Formatting is the costly half of the round trip (parsing is cheap), and a case's moments
    # (due moments, "now" of the events) recur from one command to the next: remembered.
    return None if moment is None else _iso(moment)


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _req_dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _compact(d: dict[str, Any], optional: frozenset[str]) -> dict[str, Any]:
    """Leave out optional keys that hold their default (None, 0, main flow): a closed case's
    tasks and timers are stored in its state and in its events, so every byte counts twice.
    (`Task.to_json` and `Timer.to_json` build this document directly; tests/unit/test_state_json.py
    holds them to it.)"""
    return {k: v for k, v in d.items() if k not in optional or v not in (None, 0, MAIN_FLOW)}


_TASK_OPTIONAL = frozenset(
    {"assignee", "completed_at", "completed_by", "data", "reminders_sent", "escalation_level", "deadline_index",
     "sequence", "flow", "reminders"}
)
_TIMER_OPTIONAL = frozenset({"flow", "index", "fired_at"})
_DEFAULTS = (None, 0, MAIN_FLOW)  # what _compact leaves out
_TASK_TYPES = {t.value: t for t in TaskType}
_TASK_STATUSES = {t.value: t for t in TaskStatus}
_TIMER_KINDS = {t.value: t for t in TimerKind}
_TIMER_STATUSES = {t.value: t for t in TimerStatus}


def _member(members: dict[str, Any], kind: type[Enum], value: Any) -> Any:
    found = members.get(value) if isinstance(value, str) else None
    return kind(value) if found is None else found  # kind(value): the enum's own error for a bad one


@dataclass
class Task:
    id: str
    type: TaskType
    step_id: str  # the step (or "evaluation") it belongs to
    flow: str  # MAIN_FLOW or a track id
    title: str
    role: str
    assignee: str | None  # worker id; None = in the role's queue
    status: TaskStatus
    created_at: datetime
    due_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None
    data: dict[str, Any] | None = None
    reminders_sent: int = 0
    escalation_level: int = 0  # rungs of the escalation chain reached
    deadline_index: int = 0  # position in the task's reminder+escalation schedule
    sequence: int = 0  # evaluation number, for evaluations
    reminders: tuple[str, ...] = ()  # ad hoc tasks: reminder durations before the due moment ("1 working day")

    def to_json(self) -> dict[str, Any]:
        # The same document as _compact over every field (optional ones left out at their default),
        # built directly: this runs for every live task on every save.
        d: dict[str, Any] = {"id": self.id, "type": self.type._value_, "step_id": self.step_id}
        if self.flow not in _DEFAULTS:
            d["flow"] = self.flow
        d["title"] = self.title
        d["role"] = self.role
        if self.assignee not in _DEFAULTS:
            d["assignee"] = self.assignee
        d["status"] = self.status._value_  # not `.value`: a descriptor call, on every save
        d["created_at"] = _iso(self.created_at)
        d["due_at"] = _iso(self.due_at)
        if self.completed_at is not None:
            d["completed_at"] = _iso(self.completed_at)
        for key in ("completed_by", "data", "reminders_sent", "escalation_level", "deadline_index", "sequence"):
            value = getattr(self, key)
            if value not in _DEFAULTS:
                d[key] = value
        if self.reminders:
            d["reminders"] = list(self.reminders)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Task:
        return cls(
            id=d["id"],
            type=_member(_TASK_TYPES, TaskType, d["type"]),
            step_id=d["step_id"],
            flow=d.get("flow", MAIN_FLOW),
            title=d["title"],
            role=d["role"],
            assignee=d.get("assignee"),
            status=_member(_TASK_STATUSES, TaskStatus, d["status"]),
            created_at=_req_dt(d["created_at"]),
            due_at=_req_dt(d["due_at"]),
            completed_at=_dt(d.get("completed_at")),
            completed_by=d.get("completed_by"),
            data=d.get("data"),
            reminders_sent=d.get("reminders_sent", 0),
            escalation_level=d.get("escalation_level", 0),
            deadline_index=d.get("deadline_index", 0),
            sequence=d.get("sequence", 0),
            reminders=tuple(d.get("reminders") or ()),
        )

    def copy(self) -> Task:
        t = object.__new__(Task)
        t.__dict__.update(self.__dict__)
        t.data = None if self.data is None else dict(self.data)
        return t


@dataclass
class Timer:
    id: str
    kind: TimerKind
    due_at: datetime
    status: TimerStatus
    ref: str  # task id, track id, step id or "case": what the timer is about
    flow: str = MAIN_FLOW
    index: int = 0  # rung/reminder/evaluation number
    fired_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        # As _compact over every field, built directly (every live timer, every save).
        d: dict[str, Any] = {"id": self.id, "kind": self.kind._value_, "due_at": _iso(self.due_at),
                             "status": self.status._value_, "ref": self.ref}
        if self.flow not in _DEFAULTS:
            d["flow"] = self.flow
        if self.index not in _DEFAULTS:
            d["index"] = self.index
        if self.fired_at is not None:
            d["fired_at"] = _iso(self.fired_at)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Timer:
        return cls(
            id=d["id"],
            kind=_member(_TIMER_KINDS, TimerKind, d["kind"]),
            due_at=_req_dt(d["due_at"]),
            status=_member(_TIMER_STATUSES, TimerStatus, d["status"]),
            ref=d["ref"],
            flow=d.get("flow", MAIN_FLOW),
            index=d.get("index", 0),
            fired_at=_dt(d.get("fired_at")),
        )

    def copy(self) -> Timer:
        t = object.__new__(Timer)
        t.__dict__.update(self.__dict__)
        return t


@dataclass
class Position:
    """Where one flow (the main flow or a track) stands."""

    step_id: str | None  # None once the flow has ended
    entered_at: datetime
    visits: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"step_id": self.step_id, "entered_at": _ts(self.entered_at), "visits": self.visits}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Position:
        return cls(step_id=d["step_id"], entered_at=_req_dt(d["entered_at"]), visits=dict(d["visits"]))

    def copy(self) -> Position:
        return Position(self.step_id, self.entered_at, dict(self.visits))


@dataclass
class TrackState:
    id: str  # the track template id (one instance per template per case)
    status: TrackStatus
    owner_role: str
    position: Position | None  # None while planned
    started_at: datetime | None = None
    closed_at: datetime | None = None
    result: str | None = None
    progress: list[dict[str, Any]] = field(default_factory=list)  # notes from evaluations
    lead_time_exceeded_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status._value_,
            "owner_role": self.owner_role,
            "position": None if self.position is None else self.position.to_json(),
            "started_at": _ts(self.started_at),
            "closed_at": _ts(self.closed_at),
            "result": self.result,
            "progress": self.progress,
            "lead_time_exceeded_at": _ts(self.lead_time_exceeded_at),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TrackState:
        pos = d["position"]
        return cls(
            id=d["id"],
            status=TrackStatus(d["status"]),
            owner_role=d["owner_role"],
            position=None if pos is None else Position.from_json(pos),
            started_at=_dt(d["started_at"]),
            closed_at=_dt(d["closed_at"]),
            result=d["result"],
            progress=list(d["progress"]),
            lead_time_exceeded_at=_dt(d["lead_time_exceeded_at"]),
        )

    def copy(self) -> TrackState:
        t = TrackState(**self.__dict__)
        t.position = None if self.position is None else self.position.copy()
        t.progress = list(self.progress)
        return t


@dataclass
class CaseState:
    id: str
    pathway_id: str
    pathway_version: int
    status: CaseStatus
    opened_at: datetime
    trigger: str
    data: dict[str, Any]
    pseudonym: str
    team: str | None = None
    municipality: str | None = None
    funder: str | None = None  # funder key (engine/funding.py); None: the municipality pays
    version: int = 0  # number of events applied; the optimistic-locking token
    main: Position | None = None
    tracks: dict[str, TrackState] = field(default_factory=dict)
    track_order: list[str] = field(default_factory=list)  # sequential mode: the planned order
    tracks_step: str | None = None  # the main-flow `tracks` step that is running, if any
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # step id -> last recorded data
    tasks: dict[str, Task] = field(default_factory=dict)
    timers: dict[str, Timer] = field(default_factory=dict)
    assignments: dict[str, str] = field(default_factory=dict)  # role -> worker carrying it in this case
    origin: dict[str, Any] | None = None
    origin_objection: bool = False
    evaluations_held: int = 0
    next_seq: int = 1  # source of task and timer ids within the case
    suspended_at: datetime | None = None
    suspension_reason: str | None = None
    lead_time_exceeded_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    close_reason: str | None = None
    open_escalations: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)  # hand-overs: the parent case or child cases
    # closed-loop referrals (engine.referrals): partner task id -> status record
    referrals: dict[str, dict[str, Any]] = field(default_factory=dict)
    consents: list[str] = field(default_factory=list)  # partner roles the client consented to
    held_referrals: dict[str, dict[str, Any]] = field(default_factory=dict)  # flow -> referral waiting for consent
    live: bool = False  # loaded from the live form: closed tasks and timers are left out (module docstring)

    # --- queries -------------------------------------------------------------
    def open_tasks(self) -> list[Task]:
        return [t for t in self.tasks.values() if t.status is TaskStatus.OPEN]

    def pending_timers(self) -> list[Timer]:
        return [t for t in self.timers.values() if t.status is TimerStatus.PENDING]

    def position_of(self, flow: str) -> Position | None:
        if flow == MAIN_FLOW:
            return self.main
        track = self.tracks.get(flow)
        return None if track is None else track.position

    # --- JSON ----------------------------------------------------------------
    def to_json(self, *, live_only: bool = False) -> dict[str, Any]:
        """The whole state, or with `live_only` the live form the database keeps (module docstring)."""
        if live_only:
            tasks = {k: v.to_json() for k, v in self.tasks.items() if v.status is TaskStatus.OPEN}
            timers = {k: v.to_json() for k, v in self.timers.items() if v.status in _LIVE_TIMERS}
        else:
            tasks = {k: v.to_json() for k, v in self.tasks.items()}
            timers = {k: v.to_json() for k, v in self.timers.items()}
        return {
            "id": self.id,
            "pathway_id": self.pathway_id,
            "pathway_version": self.pathway_version,
            "status": self.status.value,
            "opened_at": _ts(self.opened_at),
            "trigger": self.trigger,
            "data": self.data,
            "pseudonym": self.pseudonym,
            "team": self.team,
            "municipality": self.municipality,
            **({"funder": self.funder} if self.funder is not None else {}),
            "version": self.version,
            "main": None if self.main is None else self.main.to_json(),
            "tracks": {k: v.to_json() for k, v in self.tracks.items()},
            "track_order": self.track_order,
            "tracks_step": self.tracks_step,
            "records": self.records,
            "tasks": tasks,
            "timers": timers,
            "assignments": self.assignments,
            "origin": self.origin,
            "origin_objection": self.origin_objection,
            "evaluations_held": self.evaluations_held,
            "next_seq": self.next_seq,
            "suspended_at": _ts(self.suspended_at),
            "suspension_reason": self.suspension_reason,
            "lead_time_exceeded_at": _ts(self.lead_time_exceeded_at),
            "closed_at": _ts(self.closed_at),
            "outcome": self.outcome,
            "close_reason": self.close_reason,
            "open_escalations": self.open_escalations,
            **({"links": self.links} if self.links else {}),
            **({"referrals": self.referrals} if self.referrals else {}),
            **({"consents": self.consents} if self.consents else {}),
            **({"held_referrals": self.held_referrals} if self.held_referrals else {}),
            **({"live": True} if live_only or self.live else {}),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CaseState:
        main = d["main"]
        return cls(
            id=d["id"],
            pathway_id=d["pathway_id"],
            pathway_version=d["pathway_version"],
            status=CaseStatus(d["status"]),
            opened_at=_req_dt(d["opened_at"]),
            trigger=d["trigger"],
            data=d["data"],
            pseudonym=d["pseudonym"],
            team=d["team"],
            municipality=d.get("municipality"),
            funder=d.get("funder"),
            version=d["version"],
            main=None if main is None else Position.from_json(main),
            tracks={k: TrackState.from_json(v) for k, v in d["tracks"].items()},
            track_order=list(d["track_order"]),
            tracks_step=d["tracks_step"],
            records={k: dict(v) for k, v in d["records"].items()},
            tasks={k: Task.from_json(v) for k, v in d["tasks"].items()},
            timers={k: Timer.from_json(v) for k, v in d["timers"].items()},
            assignments=dict(d["assignments"]),
            origin=d["origin"],
            origin_objection=d["origin_objection"],
            evaluations_held=d["evaluations_held"],
            next_seq=d["next_seq"],
            suspended_at=_dt(d["suspended_at"]),
            suspension_reason=d["suspension_reason"],
            lead_time_exceeded_at=_dt(d["lead_time_exceeded_at"]),
            closed_at=_dt(d["closed_at"]),
            outcome=d["outcome"],
            close_reason=d["close_reason"],
            open_escalations=list(d["open_escalations"]),
            links=[dict(link) for link in d.get("links", [])],
            referrals={k: dict(v) for k, v in d.get("referrals", {}).items()},
            consents=list(d.get("consents", [])),
            held_referrals={k: dict(v) for k, v in d.get("held_referrals", {}).items()},
            live=d.get("live", False),
        )

    def live_view(self) -> CaseState:
        """This state in its live form (closed tasks, fired and cancelled timers left out), sharing
        its parts: what a process keeps of a case between commands (integrations/case_cache.py).
        Neither may be changed afterwards; the engine decides on a clone."""
        if self.live:
            return self
        view = CaseState(**self.__dict__)
        view.tasks = {k: v for k, v in self.tasks.items() if v.status is TaskStatus.OPEN}
        view.timers = {k: v for k, v in self.timers.items() if v.status in _LIVE_TIMERS}
        view.live = True
        return view

    def clone(self) -> CaseState:
        c = CaseState(**self.__dict__)
        c.data = dict(self.data)
        c.main = None if self.main is None else self.main.copy()
        c.tracks = {k: v.copy() for k, v in self.tracks.items()}
        c.track_order = list(self.track_order)
        c.records = {k: dict(v) for k, v in self.records.items()}
        c.tasks = {k: v.copy() for k, v in self.tasks.items()}
        c.timers = {k: v.copy() for k, v in self.timers.items()}
        c.assignments = dict(self.assignments)
        c.origin = None if self.origin is None else dict(self.origin)
        c.open_escalations = [dict(e) for e in self.open_escalations]
        c.links = [dict(link) for link in self.links]
        c.referrals = {k: dict(v) for k, v in self.referrals.items()}
        c.consents = list(self.consents)
        c.held_referrals = {k: dict(v) for k, v in self.held_referrals.items()}
        return c
