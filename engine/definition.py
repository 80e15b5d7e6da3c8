"""The pathway definition as frozen plain data.

The loader (`engine.loader`) turns checked YAML into these objects; the engine
only ever reads them. Nothing here parses, validates or does I/O: a definition
that exists is a definition that passed every check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from engine.durations import Duration
from engine.funding import Funder


class CalendarKind(str, Enum):
    """Which clock a pathway's deadlines count in."""

    WORKING_DAYS = "nl-working-days"  # Mon-Fri without Dutch public holidays
    ALWAYS = "24x7"  # acute work: every hour counts
    SCHOOL_WEEKS = "nl-school-weeks"  # working days, also without school holidays


class RoleKind(str, Enum):
    WORKER = "worker"
    COORDINATOR = "coordinator"
    MANAGER = "manager"
    PARTNER = "partner"


class EscalationAction(str, Enum):
    NOTIFY = "notify"  # tell someone; the task stays where it is
    REASSIGN = "reassign"  # move the task to another role's queue
    RAISE = "raise"  # open an escalation for a manager to answer


class StepKind(str, Enum):
    """Control-flow kinds built into the engine; every other kind comes from `tasks/`."""

    HUMAN_TASK = "human_task"
    DECISION = "decision"
    TRACKS = "tracks"
    END = "end"
    CLOSE_TRACK = "close_track"


BUILTIN_KINDS = frozenset(k.value for k in StepKind)


class TrackMode(str, Enum):
    PARALLEL = "parallel"
    SEQUENTIAL = "sequential"  # one life domain at a time


@dataclass(frozen=True)
class Expr:
    """A CEL expression, checked at load time; compiled by `engine.expressions`."""

    source: str


@dataclass(frozen=True)
class SchoolHoliday:
    name: str
    first_day: str  # ISO date, inclusive
    last_day: str  # ISO date, inclusive


@dataclass(frozen=True)
class Trigger:
    """A signal or referral type that may start a case."""

    type: str
    label: str
    source: str | None  # role id of the partner that sends it, if any
    condition: Expr | None


@dataclass(frozen=True)
class Role:
    id: str
    title: str
    kind: RoleKind
    description: str = ""
    calendar: CalendarKind | None = None  # the role's own clock (None: the pathway's)
    shared: bool = False  # from the organisation's shared role catalogue (see `Pathway.role_scope`)
    may_receive: tuple[str, ...] = ()  # partner: the case_data fields its messages may contain


class RoleScope(str, Enum):
    """Whether a pathway's role ids are its own or the organisation's shared ones."""

    SHARED = "shared"  # an account's plain role id counts in this pathway (the default, as before)
    PATHWAY = "pathway"  # only `pathway_id:role` counts, except roles marked `shared: true`


@dataclass(frozen=True)
class MessageTemplate:
    """A message to a partner: Dutch text with `{field}` placeholders and `{due}`."""

    id: str
    partner: str  # role id of kind partner
    text: str
    subject: str = ""


@dataclass(frozen=True)
class RegistrationField:
    """One field of the registration export: where its value comes from, and its code list."""

    name: str
    source: str  # a case_data field, or outcome / municipality / opened_on / closed_on
    code_list: str | None = None


@dataclass(frozen=True)
class Registration:
    """The registration export model this pathway reports in."""

    model: str
    fields: tuple[RegistrationField, ...]
    code_lists: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Reminder:
    """A nudge to the assignee (or `to`) before or after the due moment."""

    before: Duration | None
    after: Duration | None
    to: str | None = None  # role id; None = the task's assignee


@dataclass(frozen=True)
class EscalationStep:
    """One rung of an escalation chain, counted from the due moment."""

    after: Duration
    action: EscalationAction
    to: str  # role id


@dataclass(frozen=True)
class LeadTime:
    """How long a case or track may take, and what happens when it is exceeded."""

    within: Duration
    on_exceeded: tuple[EscalationStep, ...]


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str
    description: str = ""
    successful: bool | None = None


@dataclass(frozen=True)
class CloseReason:
    code: str
    label: str
    outcome: str | None = None  # outcome code recorded when closing for this reason


@dataclass(frozen=True)
class Branch:
    """`goto` when `when` holds (or always, for the default branch)."""

    goto: str
    when: Expr | None = None


@dataclass(frozen=True)
class Step:
    """One step of the main flow or of a track's flow.

    Fields that do not apply to a step's kind keep their empty default; the
    loader guarantees that the ones that apply are set.
    """

    id: str
    kind: str  # a StepKind value or a task kind name from `tasks/`
    title: str = ""
    instructions: str = ""
    role: str | None = None  # human_task: who gets it
    due: Duration | None = None
    form: Mapping[str, Any] | None = None  # JSON Schema of what the worker records
    reminders: tuple[Reminder, ...] = ()
    escalation: tuple[EscalationStep, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)  # automated kinds
    next: tuple[Branch, ...] = ()  # empty only for END and CLOSE_TRACK
    max_visits: int | None = None
    on_max_visits: str | None = None
    # kind: tracks
    tracks: tuple[str, ...] = ()  # fixed track ids
    tracks_from: Expr | None = None  # or an expression yielding a list of track ids
    mode: TrackMode = TrackMode.PARALLEL
    # kind: end / close_track
    outcome: str | None = None
    close_reason: str | None = None  # end: the close reason recorded (e.g. no_contact)
    result: str | None = None
    # automated kinds that wait for an answer
    timeout: Duration | None = None
    on_timeout: str | None = None
    calendar: CalendarKind | None = None  # this step's own clock (None: its role's, else the pathway's)


@dataclass(frozen=True)
class TrackTemplate:
    """A problem track (life domain) a case can work on, with its own flow."""

    id: str
    title: str
    owner: str  # role id
    goal: str
    steps: tuple[Step, ...]
    description: str = ""
    lead_time: LeadTime | None = None

    @property
    def first_step(self) -> str:
        return self.steps[0].id

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)


@dataclass(frozen=True)
class Evaluation:
    """A recurring review of the whole case while it is open."""

    every: Duration
    role: str
    title: str
    due: Duration
    form: Mapping[str, Any] | None
    instructions: str = ""
    starts_after: str | None = None  # step id; None = from the start of the case
    reminders: tuple[Reminder, ...] = ()
    escalation: tuple[EscalationStep, ...] = ()


@dataclass(frozen=True)
class DdasResults:
    """Early signalling: the DDAS end result of a closed case (by close reason first, else outcome)."""

    by_close_reason: Mapping[str, str]
    by_outcome: Mapping[str, str]

    def result_for(self, close_reason: str | None, outcome: str | None) -> str | None:
        if close_reason is not None and close_reason in self.by_close_reason:
            return self.by_close_reason[close_reason]
        return self.by_outcome.get(outcome) if outcome is not None else None


@dataclass(frozen=True)
class Retention:
    """How long early-signal data of this pathway is kept (None: not erased by the retention flow)."""

    signal_not_taken_up: Duration | None = None
    signal_unmatched: Duration | None = None
    signal_taken_up: Duration | None = None
    personal_data_after_close: Duration | None = None


@dataclass(frozen=True)
class PartnerMeeting:
    """A recurring meeting with the partners; its agenda is generated (engine.meetings)."""

    title: str
    every: Duration
    first: str  # ISO date of the first meeting
    chair: str  # role id
    attendees: tuple[str, ...]  # partner role ids
    at: str = "10:00"  # local starting time


@dataclass(frozen=True)
class Pathway:
    id: str
    version: int
    title: str
    description: str
    owner: str
    calendar: CalendarKind
    triggers: tuple[Trigger, ...]
    case_data: Mapping[str, Any]  # JSON Schema of the data a case carries
    personal_data: tuple[str, ...]  # case_data properties that identify the client
    origin_registration: bool
    roles: tuple[Role, ...]
    outcomes: tuple[Outcome, ...]
    close_reasons: tuple[CloseReason, ...]
    steps: tuple[Step, ...]
    tracks: tuple[TrackTemplate, ...] = ()
    evaluation: Evaluation | None = None
    lead_time: LeadTime | None = None
    school_holidays: tuple[SchoolHoliday, ...] = ()
    reopen_within: Duration | None = None
    funder: Funder | None = None  # who pays for its cases unless a case names another (engine/funding.py)
    ddas: DdasResults | None = None  # early signalling: DDAS end results (docs/early-signalling.md)
    retention: Retention | None = None  # early signalling: how long signal data is kept
    access_teams: tuple[str, ...] = ()  # non-empty: only members of these teams see the cases
    role_scope: RoleScope = RoleScope.SHARED
    message_templates: tuple[MessageTemplate, ...] = ()
    registration: Registration | None = None
    fingerprint: str = ""  # hash of the canonical content: same id+version, other content = error
    partner_meeting: PartnerMeeting | None = None

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def first_step(self) -> str:
        return self.steps[0].id

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def track(self, track_id: str) -> TrackTemplate:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise KeyError(track_id)

    def template(self, template_id: str) -> MessageTemplate:
        for t in self.message_templates:
            if t.id == template_id:
                return t
        raise KeyError(template_id)

    def role(self, role_id: str) -> Role:
        for r in self.roles:
            if r.id == role_id:
                return r
        raise KeyError(role_id)
