"""Closed-loop referrals: a `request_partner` step's task follows the FHIR Task lifecycle.

A referral is the partner task a `request_partner` step opens. Its status is one of the
FHIR Task codes below, changed only by `referral_updated` events, whoever answers: the
partner's own account, the single-use e-mail link, or the worker on the partner's behalf
(the event says which). Pure: no clock, no I/O; the engine calls in with `now`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from engine.definition import EscalationAction, EscalationStep, Reminder, Step
from engine.durations import parse_duration
from engine.errors import ConflictError, ValidationError
from engine.messages import msg


class ReferralStatus(str, Enum):
    """FHIR Task.status codes a referral can have (R5 and R4B share them)."""

    REQUESTED = "requested"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


DUTCH_STATUS: Mapping[ReferralStatus, str] = {
    ReferralStatus.REQUESTED: "Verstuurd",
    ReferralStatus.RECEIVED: "Ontvangen",
    ReferralStatus.ACCEPTED: "Geaccepteerd",
    ReferralStatus.REJECTED: "Afgewezen",
    ReferralStatus.IN_PROGRESS: "In behandeling",
    ReferralStatus.ON_HOLD: "Gepauzeerd",
    ReferralStatus.COMPLETED: "Afgerond",
    ReferralStatus.CANCELLED: "Ingetrokken",
    ReferralStatus.FAILED: "Mislukt",
}

TERMINAL = frozenset({ReferralStatus.REJECTED, ReferralStatus.COMPLETED, ReferralStatus.CANCELLED,
                      ReferralStatus.FAILED})

# Which status may follow which (the FHIR Task state machine, without draft).
_NEXT: Mapping[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.REQUESTED: frozenset({ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED, ReferralStatus.REJECTED,
                                         ReferralStatus.COMPLETED, ReferralStatus.CANCELLED, ReferralStatus.FAILED}),
    ReferralStatus.RECEIVED: frozenset({ReferralStatus.ACCEPTED, ReferralStatus.REJECTED, ReferralStatus.COMPLETED,
                                        ReferralStatus.CANCELLED, ReferralStatus.FAILED}),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.IN_PROGRESS, ReferralStatus.ON_HOLD, ReferralStatus.COMPLETED,
                                        ReferralStatus.CANCELLED, ReferralStatus.FAILED}),
    ReferralStatus.IN_PROGRESS: frozenset({ReferralStatus.ON_HOLD, ReferralStatus.COMPLETED,
                                           ReferralStatus.CANCELLED, ReferralStatus.FAILED}),
    ReferralStatus.ON_HOLD: frozenset({ReferralStatus.IN_PROGRESS, ReferralStatus.COMPLETED,
                                       ReferralStatus.CANCELLED, ReferralStatus.FAILED}),
}


class AnswerChannel(str, Enum):
    """How the partner's answer reached carepath."""

    ACCOUNT = "account"  # the partner's own account in the web app
    LINK = "link"  # the single-use link in the e-mail
    PHONE = "phone"  # the worker, on the partner's behalf
    SYSTEM = "system"  # carepath itself (timeout, case closed)


DUTCH_CHANNEL: Mapping[AnswerChannel, str] = {
    AnswerChannel.ACCOUNT: "partneraccount",
    AnswerChannel.LINK: "link in e-mail",
    AnswerChannel.PHONE: "telefonisch, vastgelegd namens de partner",
    AnswerChannel.SYSTEM: "carepath",
}


def parse_status(value: str) -> ReferralStatus:
    try:
        return ReferralStatus(value)
    except ValueError:
        raise ValidationError(msg("referral.status", status=value, known=[s.value for s in ReferralStatus])) from None


def check_transition(referral_id: str, current: ReferralStatus, new: ReferralStatus, title: str = "") -> None:
    """Refuse a status change the lifecycle does not allow (a completed referral stays completed)."""
    if new not in _NEXT.get(current, frozenset()):
        allowed = [msg("referral_status." + s.value) for s in sorted(_NEXT.get(current, frozenset()), key=str)]
        raise ConflictError(msg("referral.transition", referral=f"«{title}»" if title else referral_id,
                                referral_id=referral_id, current=msg("referral_status." + current.value),
                                new=msg("referral_status." + new.value),
                                allowed=allowed or msg("referral_status.final")))


@dataclass(frozen=True)
class Referral:
    """A referral as the case state holds it (the JSON form lives in `CaseState.referrals`)."""

    task_id: str
    partner: str
    step_id: str
    flow: str
    status: ReferralStatus
    since: datetime
    by: str
    channel: AnswerChannel
    reason: str | None = None

    @property
    def dutch_status(self) -> str:
        return DUTCH_STATUS[self.status]

    @property
    def on_behalf(self) -> bool:
        return self.channel is AnswerChannel.PHONE

    @property
    def open(self) -> bool:
        return self.status not in TERMINAL

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Referral:
        return cls(
            task_id=str(d["task_id"]), partner=str(d["partner"]), step_id=str(d["step_id"]),
            flow=str(d.get("flow", "main")), status=ReferralStatus(d["status"]),
            since=datetime.fromisoformat(str(d["since"])), by=str(d["by"]),
            channel=AnswerChannel(d.get("channel", "system")), reason=d.get("reason"),
        )


def referrals_of(raw: Mapping[str, Mapping[str, Any]]) -> list[Referral]:
    """The referrals of a case, oldest first."""
    return sorted((Referral.from_json(v) for v in raw.values()), key=lambda r: (r.since, r.task_id))


# --- what the step declares ----------------------------------------------------------


def shared_fields(step: Step) -> tuple[str, ...]:
    """Case fields the partner may see (minimum necessary); none when the step declares none."""
    shares = step.params.get("shares", ())
    return tuple(str(f) for f in shares) if isinstance(shares, (list, tuple)) else ()


def consent_condition(step: Step) -> str | None:
    """The CEL condition that says the client consented to this partner, if the step declares one."""
    value = step.params.get("consent")
    return str(value) if isinstance(value, str) else None


def partner_policy(step: Step) -> tuple[tuple[Reminder, ...], tuple[EscalationStep, ...]]:
    """The reminders and escalation chain that apply while the partner does not answer.

    Declared in the step's params (`reminders`, `escalation`) in the same shape as a human
    task's; a reminder without `to` goes to the partner itself.
    """
    return _policy_of(step.id, _freeze(step.params.get("reminders")), _freeze(step.params.get("escalation")))


def _freeze(value: Any) -> tuple[tuple[tuple[str, str], ...], ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(tuple(sorted((str(k), str(v)) for k, v in dict(item).items())) for item in value)


@lru_cache(maxsize=1024)
def _policy_of(
    step_id: str,
    reminders: tuple[tuple[tuple[str, str], ...], ...],
    escalation: tuple[tuple[tuple[str, str], ...], ...],
) -> tuple[tuple[Reminder, ...], tuple[EscalationStep, ...]]:
    rs = []
    for frozen in reminders:
        r = dict(frozen)
        rs.append(Reminder(
            before=parse_duration(r["before"]) if "before" in r else None,
            after=parse_duration(r["after"]) if "after" in r else None,
            to=r.get("to"),
        ))
    es = []
    for frozen in escalation:
        e = dict(frozen)
        es.append(EscalationStep(after=parse_duration(e["after"]), action=EscalationAction(e["action"]), to=e["to"]))
    return tuple(rs), tuple(es)
