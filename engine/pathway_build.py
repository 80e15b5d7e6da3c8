"""Turn checked pathway data into the frozen `Pathway` model.

Only called on data that passed every check, so it converts without
validating. This is where the conveniences of the file format are resolved:
`defaults` are copied onto every human task (and the evaluation) that does
not set its own reminders or escalation, and human tasks in a track without a
`role` get the track's owner. The model therefore needs no defaults of its own.
"""

from __future__ import annotations

import copy
from typing import Any

from engine.definition import (
    Branch,
    CalendarKind,
    CloseReason,
    DdasResults,
    EscalationAction,
    EscalationStep,
    Evaluation,
    Expr,
    LeadTime,
    MessageTemplate,
    Outcome,
    PartnerMeeting,
    Pathway,
    Registration,
    RegistrationField,
    Reminder,
    Retention,
    Role,
    RoleKind,
    RoleScope,
    SchoolHoliday,
    Step,
    StepKind,
    TrackMode,
    TrackTemplate,
    Trigger,
)
from engine.durations import Duration, parse_duration
from engine.funding import Funder, FunderKind


def _funder(value: Any) -> Funder | None:
    if value is None:
        return None
    return Funder(kind=FunderKind(value["kind"]), code=value["code"], name=value.get("name", ""))


def _duration(value: Any) -> Duration | None:
    return None if value is None else parse_duration(value)


def _reminders(items: list[dict[str, Any]]) -> tuple[Reminder, ...]:
    return tuple(Reminder(before=_duration(r.get("before")), after=_duration(r.get("after")), to=r.get("to"))
                 for r in items)


def _escalation(items: list[dict[str, Any]]) -> tuple[EscalationStep, ...]:
    return tuple(EscalationStep(after=parse_duration(e["after"]), action=EscalationAction(e["action"]), to=e["to"])
                 for e in items)


def _lead_time(data: dict[str, Any] | None) -> LeadTime | None:
    if data is None:
        return None
    return LeadTime(within=parse_duration(data["within"]), on_exceeded=_escalation(data.get("on_exceeded", [])))


def _next(value: Any) -> tuple[Branch, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (Branch(goto=value),)
    return tuple(Branch(goto=b["goto"], when=Expr(b["when"]) if "when" in b else None) for b in value)


def _expr(value: Any) -> Expr | None:
    return None if value is None else Expr(value)


class _Defaults:
    def __init__(self, data: dict[str, Any]) -> None:
        self.reminders = data.get("reminders", [])
        self.escalation = data.get("escalation", [])

    def chains(self, owner: dict[str, Any]) -> tuple[tuple[Reminder, ...], tuple[EscalationStep, ...]]:
        return (_reminders(owner.get("reminders", self.reminders)),
                _escalation(owner.get("escalation", self.escalation)))


def _step(data: dict[str, Any], defaults: _Defaults, owner: str | None) -> Step:
    kind = data["kind"]
    human = kind == StepKind.HUMAN_TASK.value
    reminders, escalation = defaults.chains(data) if human else ((), ())
    form = data.get("form")
    return Step(
        id=data["id"],
        kind=kind,
        title=data.get("title", ""),
        instructions=data.get("instructions", ""),
        role=data.get("role", owner) if human else None,
        due=_duration(data.get("due")),
        form=copy.deepcopy(form) if form is not None else None,
        reminders=reminders,
        escalation=escalation,
        params=copy.deepcopy(data.get("params", {})),
        next=_next(data.get("next")),
        max_visits=data.get("max_visits"),
        on_max_visits=data.get("on_max_visits"),
        tracks=tuple(data.get("tracks", ())),
        tracks_from=_expr(data.get("tracks_from")),
        mode=TrackMode(data.get("mode", TrackMode.PARALLEL.value)),
        outcome=data.get("outcome"),
        close_reason=data.get("close_reason"),
        result=data.get("result"),
        timeout=_duration(data.get("timeout")),
        on_timeout=data.get("on_timeout"),
        calendar=_calendar(data.get("calendar")),
    )


def _calendar(value: Any) -> CalendarKind | None:
    return None if value is None else CalendarKind(value)


def _role(r: dict[str, Any]) -> Role:
    return Role(id=r["id"], title=r["title"], kind=RoleKind(r["kind"]), description=r.get("description", ""),
                calendar=_calendar(r.get("calendar")), shared=bool(r.get("shared", False)),
                may_receive=tuple(r.get("may_receive", ())))


def _registration(data: dict[str, Any] | None) -> Registration | None:
    if data is None:
        return None
    return Registration(
        model=data["model"],
        fields=tuple(RegistrationField(name=f["name"], source=f["from"], code_list=f.get("code_list"))
                     for f in data["fields"]),
        code_lists={name: dict(codes) for name, codes in data.get("code_lists", {}).items()},
    )


def build_pathway(data: dict[str, Any]) -> Pathway:
    """The `Pathway` for checked data (fingerprint left empty; the loader fills it)."""
    defaults = _Defaults(data.get("defaults", {}))
    evaluation = data.get("evaluation")
    built_evaluation = None
    if evaluation is not None:
        reminders, escalation = defaults.chains(evaluation)
        built_evaluation = Evaluation(
            every=parse_duration(evaluation["every"]),
            role=evaluation["role"],
            title=evaluation["title"],
            due=parse_duration(evaluation["due"]),
            form=copy.deepcopy(evaluation.get("form")),
            instructions=evaluation.get("instructions", ""),
            starts_after=evaluation.get("starts_after"),
            reminders=reminders,
            escalation=escalation,
        )
    return Pathway(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        description=data.get("description", ""),
        owner=data["owner"],
        calendar=CalendarKind(data["calendar"]),
        triggers=tuple(Trigger(type=t["type"], label=t["label"], source=t.get("source"),
                               condition=_expr(t.get("condition"))) for t in data["triggers"]),
        case_data=copy.deepcopy(data["case_data"]),
        personal_data=tuple(data.get("personal_data", ())),
        origin_registration=bool(data.get("origin_registration", False)),
        roles=tuple(_role(r) for r in data["roles"]),
        outcomes=tuple(Outcome(code=o["code"], label=o["label"], description=o.get("description", ""),
                               successful=o.get("successful")) for o in data["outcomes"]),
        close_reasons=tuple(CloseReason(code=c["code"], label=c["label"], outcome=c.get("outcome"))
                            for c in data.get("close_reasons", ())),
        steps=tuple(_step(s, defaults, None) for s in data["steps"]),
        tracks=tuple(
            TrackTemplate(
                id=t["id"], title=t["title"], owner=t["owner"], goal=t["goal"],
                steps=tuple(_step(s, defaults, t["owner"]) for s in t["steps"]),
                description=t.get("description", ""), lead_time=_lead_time(t.get("lead_time")),
            )
            for t in data.get("tracks", ())
        ),
        evaluation=built_evaluation,
        lead_time=_lead_time(data.get("lead_time")),
        school_holidays=tuple(SchoolHoliday(name=h["name"], first_day=h["from"], last_day=h["to"])
                              for h in data.get("school_holidays", ())),
        reopen_within=_duration(data.get("reopen_within")),
        funder=_funder(data.get("funder")),
        ddas=_ddas(data.get("ddas")),
        retention=_retention(data.get("retention")),
        access_teams=tuple(data.get("access", {}).get("teams", ())),
        role_scope=RoleScope(data.get("role_scope", RoleScope.SHARED.value)),
        message_templates=tuple(MessageTemplate(id=t["id"], partner=t["partner"], text=t["text"],
                                                subject=t.get("subject", ""))
                                for t in data.get("message_templates", ())),
        registration=_registration(data.get("registration")),
        partner_meeting=_partner_meeting(data.get("partner_meeting")),
    )


def _ddas(data: dict[str, Any] | None) -> DdasResults | None:
    if data is None:
        return None
    results = data["end_results"]
    return DdasResults(by_close_reason=dict(results.get("by_close_reason", {})), by_outcome=dict(results["by_outcome"]))


def _retention(data: dict[str, Any] | None) -> Retention | None:
    if data is None:
        return None
    return Retention(**{key: parse_duration(value) for key, value in data.items()})


def _partner_meeting(data: dict[str, Any] | None) -> PartnerMeeting | None:
    if data is None:
        return None
    return PartnerMeeting(title=data["title"], every=parse_duration(data["every"]), first=data["first"],
                          chair=data["chair"], attendees=tuple(data["attendees"]), at=data.get("at", "10:00"))
