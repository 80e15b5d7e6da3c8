"""Commands: what a person or the runtime asks of a case.

Each command names its case, who asks (`actor`) and, where it is an
exception, why (`reason`). `idempotency_key` lets a caller repeat a command
safely; the persistence layer remembers keys it has applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Command:
    case_id: str
    actor: str
    reason: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class StartCase(Command):
    pathway_id: str
    pathway_version: int
    trigger: str
    data: dict[str, Any]
    pseudonym: str
    team: str | None = None
    municipality: str | None = None  # the commissioning municipality (CBS code such as GM0014)
    funder: str | None = None  # funder key (engine/funding.py) when not the pathway's funder or the municipality
    assignments: dict[str, str] = field(default_factory=dict)  # role -> worker


@dataclass(frozen=True, kw_only=True)
class ClaimTask(Command):
    task_id: str
    worker: str


@dataclass(frozen=True, kw_only=True)
class ReleaseTask(Command):
    """A worker hands a task back to its role's queue."""

    task_id: str
    worker: str


@dataclass(frozen=True, kw_only=True)
class ReassignTask(Command):
    """A coordinator moves a task to another worker or role queue."""

    task_id: str
    role: str | None = None  # None = keep the task's role
    worker: str | None = None  # None = the role's queue
    carry_case: bool = False  # the worker also carries this role for the rest of the case


@dataclass(frozen=True, kw_only=True)
class CompleteTask(Command):
    task_id: str
    data: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class FireTimer(Command):
    timer_id: str


@dataclass(frozen=True, kw_only=True)
class SuspendCase(Command):
    """Pause a case (client in detention, in hospital): its timers stop."""


@dataclass(frozen=True, kw_only=True)
class ResumeCase(Command):
    """Continue a suspended case; deadlines move by the time it was suspended."""


@dataclass(frozen=True, kw_only=True)
class CloseCase(Command):
    """Close a case early for one of the pathway's close reasons."""

    reason_code: str
    outcome: str | None = None  # default: the reason's outcome


@dataclass(frozen=True, kw_only=True)
class ReopenCase(Command):
    step_id: str | None = None  # default: the first step of the main flow


@dataclass(frozen=True, kw_only=True)
class AddTrack(Command):
    track_id: str


@dataclass(frozen=True, kw_only=True)
class RegisterOrigin(Command):
    """Country of birth of client, parents and grandparents (ISO 3166 alpha-2)."""

    origin: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ObjectToOrigin(Command):
    """The client objects to registering origin: nothing is kept, nothing can be added."""


@dataclass(frozen=True, kw_only=True)
class ResolveEscalation(Command):
    escalation_id: str


@dataclass(frozen=True, kw_only=True)
class UpdateCaseData(Command):
    changes: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class MigrateCase(Command):
    """Pin a running case to a newer version of its pathway (see engine.migration)."""

    to_version: int
    # old step id -> step of the new version, for a case standing on a step the new version renamed
    # or removed: its open task there lapses and the case goes on at the mapped step.
    step_map: dict[str, str] = field(default_factory=dict)



@dataclass(frozen=True, kw_only=True)
class LinkCase(Command):
    """Record a hand-over link: `relation` is what `other_case` is to this case (parent or child)."""

    relation: str  # "parent" | "child"
    other_case: str
    pathway_id: str
    step_id: str  # the parent's hand-over step
    wait: bool = False


@dataclass(frozen=True, kw_only=True)
class RecordHandoverOutcome(Command):
    """The case started by a hand-over step closed with `outcome` (sent to the parent case)."""

    step_id: str
    child_case: str
    outcome: str


@dataclass(frozen=True, kw_only=True)
class AnswerReferral(Command):
    """A partner's answer to a referral (engine.referrals): a new FHIR Task status.

    `channel` says how it came in: the partner's account, the e-mail link, or the worker
    on the partner's behalf (phone). `completed` carries the partner's answer in `data`;
    `rejected` needs a `reason`.
    """

    task_id: str
    status: str
    channel: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RecordConsent(Command):
    """The client consents to sharing data with a partner role; held referrals to it go out."""

    partner: str


@dataclass(frozen=True, kw_only=True)
class RecordMeetingDecision(Command):
    """A decision about this case taken in a partner meeting (engine.meetings); open or closed cases."""

    meeting: str  # the meeting's id
    decision: str


@dataclass(frozen=True, kw_only=True)
class AddTask(Command):
    """A worker adds a task the pathway does not name (call the GP, help fill in a form), to the case
    or one of its problem areas (`flow`), with a due moment and reminders before it."""

    title: str
    role: str
    due_at: datetime
    flow: str = "main"
    assignee: str | None = None  # None: whoever added it
    reminders: tuple[str, ...] = ()  # durations before due, e.g. "1 working day", "2 hours"
