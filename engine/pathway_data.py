"""The `Pathway` model as plain data in the file format: the inverse of `pathway_build`.

Loading this data again gives an equal `Pathway`, which makes it the canonical
form: defaults are written out on every step, durations in their English
spelling, and empty optional parts are left out. Its canonical JSON is what
the fingerprint hashes, so a change in comments, layout, key order or unit
spelling does not count as a change of content.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from engine.definition import (
    Branch,
    EscalationStep,
    LeadTime,
    Pathway,
    Reminder,
    RoleScope,
    Step,
    StepKind,
    TrackMode,
)


def _reminder(r: Reminder) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if r.before is not None:
        data["before"] = str(r.before)
    if r.after is not None:
        data["after"] = str(r.after)
    if r.to is not None:
        data["to"] = r.to
    return data


def _escalation(e: EscalationStep) -> dict[str, Any]:
    return {"after": str(e.after), "action": e.action.value, "to": e.to}


def _lead_time(lead: LeadTime) -> dict[str, Any]:
    data: dict[str, Any] = {"within": str(lead.within)}
    if lead.on_exceeded:
        data["on_exceeded"] = [_escalation(e) for e in lead.on_exceeded]
    return data


def _next(branches: tuple[Branch, ...]) -> Any:
    if len(branches) == 1 and branches[0].when is None:
        return branches[0].goto
    return [{"when": b.when.source, "goto": b.goto} if b.when is not None else {"goto": b.goto} for b in branches]


def _step(s: Step) -> dict[str, Any]:
    data: dict[str, Any] = {"id": s.id, "kind": s.kind}
    if s.title:
        data["title"] = s.title
    if s.instructions:
        data["instructions"] = s.instructions
    if s.kind == StepKind.HUMAN_TASK.value:
        if s.role is not None:
            data["role"] = s.role
        if s.due is not None:
            data["due"] = str(s.due)
        if s.form is not None:
            data["form"] = copy.deepcopy(dict(s.form))
        data["reminders"] = [_reminder(r) for r in s.reminders]
        data["escalation"] = [_escalation(e) for e in s.escalation]
    if s.params:
        data["params"] = copy.deepcopy(dict(s.params))
    if s.kind == StepKind.TRACKS.value:
        if s.tracks_from is not None:
            data["tracks_from"] = s.tracks_from.source
        else:
            data["tracks"] = list(s.tracks)
        if s.mode is not TrackMode.PARALLEL:
            data["mode"] = s.mode.value
    if s.outcome is not None:
        data["outcome"] = s.outcome
    if s.close_reason is not None:
        data["close_reason"] = s.close_reason
    if s.result is not None:
        data["result"] = s.result
    if s.timeout is not None:
        data["timeout"] = str(s.timeout)
        data["on_timeout"] = s.on_timeout
    if s.calendar is not None:
        data["calendar"] = s.calendar.value
    if s.max_visits is not None:
        data["max_visits"] = s.max_visits
        data["on_max_visits"] = s.on_max_visits
    if s.next:
        data["next"] = _next(s.next)
    return data


def pathway_to_data(p: Pathway) -> dict[str, Any]:
    """`p` as file-format data (without the fingerprint, which is derived from it)."""
    data: dict[str, Any] = {"id": p.id, "version": p.version, "title": p.title}
    if p.description:
        data["description"] = p.description
    data["owner"] = p.owner
    data["calendar"] = p.calendar.value
    if p.school_holidays:
        data["school_holidays"] = [{"name": h.name, "from": h.first_day, "to": h.last_day}
                                   for h in p.school_holidays]
    if p.reopen_within is not None:
        data["reopen_within"] = str(p.reopen_within)
    if p.funder is not None:
        data["funder"] = {"kind": p.funder.kind.value, "code": p.funder.code,
                          **({"name": p.funder.name} if p.funder.name else {})}
    data["triggers"] = []
    for trig in p.triggers:
        trigger: dict[str, Any] = {"type": trig.type, "label": trig.label}
        if trig.source is not None:
            trigger["source"] = trig.source
        if trig.condition is not None:
            trigger["condition"] = trig.condition.source
        data["triggers"].append(trigger)
    data["case_data"] = copy.deepcopy(dict(p.case_data))
    if p.personal_data:
        data["personal_data"] = list(p.personal_data)
    if p.origin_registration:
        data["origin_registration"] = True
    data["roles"] = [
        {"id": r.id, "title": r.title, "kind": r.kind.value, **({"description": r.description} if r.description else {}),
         **({"calendar": r.calendar.value} if r.calendar is not None else {}), **({"shared": True} if r.shared else {}),
         **({"may_receive": list(r.may_receive)} if r.may_receive else {})}
        for r in p.roles
    ]
    if p.access_teams:
        data["access"] = {"teams": list(p.access_teams)}
    if p.role_scope is not RoleScope.SHARED:
        data["role_scope"] = p.role_scope.value
    if p.message_templates:
        data["message_templates"] = [
            {"id": t.id, "partner": t.partner, **({"subject": t.subject} if t.subject else {}), "text": t.text}
            for t in p.message_templates
        ]
    if p.registration is not None:
        reg = p.registration
        data["registration"] = {
            "model": reg.model,
            "fields": [{"name": f.name, "from": f.source, **({"code_list": f.code_list} if f.code_list else {})}
                       for f in reg.fields],
            **({"code_lists": {k: dict(v) for k, v in reg.code_lists.items()}} if reg.code_lists else {}),
        }
    if p.lead_time is not None:
        data["lead_time"] = _lead_time(p.lead_time)
    data["outcomes"] = []
    for o in p.outcomes:
        outcome: dict[str, Any] = {"code": o.code, "label": o.label}
        if o.description:
            outcome["description"] = o.description
        if o.successful is not None:
            outcome["successful"] = o.successful
        data["outcomes"].append(outcome)
    if p.close_reasons:
        data["close_reasons"] = [
            {"code": c.code, "label": c.label, **({"outcome": c.outcome} if c.outcome is not None else {})}
            for c in p.close_reasons
        ]
    if p.evaluation is not None:
        e = p.evaluation
        evaluation: dict[str, Any] = {"every": str(e.every), "role": e.role, "title": e.title}
        if e.instructions:
            evaluation["instructions"] = e.instructions
        evaluation["due"] = str(e.due)
        if e.starts_after is not None:
            evaluation["starts_after"] = e.starts_after
        if e.form is not None:
            evaluation["form"] = copy.deepcopy(dict(e.form))
        evaluation["reminders"] = [_reminder(r) for r in e.reminders]
        evaluation["escalation"] = [_escalation(x) for x in e.escalation]
        data["evaluation"] = evaluation
    data["steps"] = [_step(s) for s in p.steps]
    if p.tracks:
        data["tracks"] = []
        for t in p.tracks:
            track: dict[str, Any] = {"id": t.id, "title": t.title, "owner": t.owner, "goal": t.goal}
            if t.description:
                track["description"] = t.description
            if t.lead_time is not None:
                track["lead_time"] = _lead_time(t.lead_time)
            track["steps"] = [_step(s) for s in t.steps]
            data["tracks"].append(track)
    if p.ddas is not None:
        results: dict[str, Any] = {"by_outcome": dict(p.ddas.by_outcome)}
        if p.ddas.by_close_reason:
            results["by_close_reason"] = dict(p.ddas.by_close_reason)
        data["ddas"] = {"end_results": results}
    if p.retention is not None:
        data["retention"] = {name: str(value) for name, value in vars(p.retention).items() if value is not None}
    if p.partner_meeting is not None:
        m = p.partner_meeting
        data["partner_meeting"] = {"title": m.title, "every": str(m.every), "first": m.first, "at": m.at,
                                   "chair": m.chair, "attendees": list(m.attendees)}
    return data


def canonical_json(data: Any) -> str:
    """Key-sorted, compact JSON: equal data gives equal text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def fingerprint(p: Pathway) -> str:
    """sha256 of the canonical JSON of `pathway_to_data(p)`."""
    return hashlib.sha256(canonical_json(pathway_to_data(p)).encode("utf-8")).hexdigest()
