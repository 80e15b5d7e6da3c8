"""A pathway as a coordinator reviews it: steps in order with who, when, what is asked and where next.

The diagram is the Mermaid text of `engine.mermaid` (paste it into any Mermaid
viewer); the page itself needs no JavaScript to be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.definition import EscalationStep, Pathway, Reminder, Step, StepKind
from web.forms import build_fields
from web.i18n import translate

KIND_WORDS = {
    "human_task": "Taak",
    "decision": "Beslissing",
    "tracks": "Probleemgebieden",
    "end": "Einde",
    "close_track": "Probleemgebied klaar",
    "send_letter": "Brief",
    "send_message": "Bericht",
    "notify_partner": "Partner informeren",
    "request_partner": "Vraag aan partner",
    "wait": "Wachten",
    "export_registration": "Registratie",
    "handover": "Overdracht naar ander zorgpad",
    "joint_decision": "Gezamenlijk besluit met partner",
}
_ACTIONS = {"notify": "melden aan", "reassign": "overdragen aan", "raise": "escaleren naar"}
_RESULTS = {"achieved": "behaald", "not_achieved": "niet behaald", "stopped": "gestopt"}
_UNITS_NL = {"minute": "minuut", "minutes": "minuten", "hour": "uur", "hours": "uur", "day": "dag", "days": "dagen",
             "working day": "werkdag", "working days": "werkdagen", "week": "week", "weeks": "weken",
             "month": "maand", "months": "maanden", "working week": "werkweek", "working weeks": "werkweken"}


def duration(value: Any, lang: str) -> str:
    if value is None:
        return ""
    text = str(value)
    if lang == "en":
        return text
    amount, _, unit = text.partition(" ")
    return f"{amount} {_UNITS_NL.get(unit, unit)}"


@dataclass
class StepItem:
    id: str
    kind: str
    kind_label: str
    title: str
    role: str = ""
    due: str = ""
    instructions: str = ""
    fields: list[str] = field(default_factory=list)
    branches: list[tuple[str, str]] = field(default_factory=list)  # (condition or "", target label)
    notes: list[str] = field(default_factory=list)


@dataclass
class TrackView:
    id: str
    title: str
    goal: str
    owner: str
    lead_time: str
    steps: list[StepItem]


@dataclass
class PathwayView:
    steps: list[StepItem]
    tracks: list[TrackView]
    roles: list[tuple[str, str, str]]
    evaluation: list[str]
    deadlines: list[str]


def _target(step_id: str, steps: dict[str, Step], p: Pathway, lang: str) -> str:
    step = steps.get(step_id)
    if step is None:
        return step_id
    if step.kind == StepKind.END.value:
        outcome = next((o.label for o in p.outcomes if o.code == step.outcome), step.outcome or "")
        return translate("einde: {outcome}", lang, outcome=outcome)
    if step.kind == StepKind.CLOSE_TRACK.value:
        return translate("probleemgebied afgesloten ({result})", lang,
                         result=translate(_RESULTS.get(step.result or "", step.result or ""), lang))
    return step.title or step.id


def _policy(reminders: tuple[Reminder, ...], escalation: tuple[EscalationStep, ...], roles: dict[str, str],
            lang: str) -> list[str]:
    notes = []
    for r in reminders:
        when = translate("{d} voor de termijn", lang, d=duration(r.before, lang)) if r.before else \
            translate("{d} na de termijn", lang, d=duration(r.after, lang))
        notes.append(translate("Herinnering {when}", lang, when=when))
    for e in escalation:
        notes.append(translate("Na {d}: {action} {role}", lang, d=duration(e.after, lang),
                               action=translate(_ACTIONS.get(e.action.value, e.action.value), lang),
                               role=roles.get(e.to, e.to)))
    return notes


def _step(step: Step, steps: dict[str, Step], p: Pathway, roles: dict[str, str], lang: str,
          owner: str | None = None) -> StepItem:
    item = StepItem(step.id, step.kind, translate(KIND_WORDS.get(step.kind, step.kind), lang),
                    step.title or step.id, instructions=step.instructions)
    if step.kind == StepKind.HUMAN_TASK.value:
        item.role = roles.get(step.role or owner or "", step.role or owner or "")
        item.due = duration(step.due, lang)
        if step.form:
            item.fields = [f.label + (" *" if f.required else "") for f in build_fields(step.form, lang=lang)]
        item.notes += _policy(step.reminders, step.escalation, roles, lang)
    elif step.kind == StepKind.END.value or step.kind == StepKind.CLOSE_TRACK.value:
        item.title = _target(step.id, steps, p, lang)
    elif step.kind == StepKind.TRACKS.value:
        chosen = ", ".join(step.tracks) if step.tracks else (step.tracks_from.source if step.tracks_from else "")
        item.notes.append(translate("Probleemgebieden: {which} ({mode})", lang, which=chosen,
                                    mode=translate("na elkaar" if step.mode.value == "sequential" else "tegelijk",
                                                   lang)))
    else:
        partner = step.params.get("partner") or step.params.get("to")
        if partner:
            item.role = roles.get(str(partner), translate("cliënt", lang) if partner == "client" else str(partner))
        if step.params.get("for"):
            item.due = duration(step.params["for"], lang)
        answer = step.params.get("answer")
        if isinstance(answer, dict):
            item.fields = [f.label for f in build_fields(answer, lang=lang)]
        if step.timeout:
            item.notes.append(translate("Geen antwoord na {d}: naar «{target}»", lang, d=duration(step.timeout, lang),
                                        target=_target(step.on_timeout or "", steps, p, lang)))
    from web.diagram import condition_words  # conditions in words, as in the diagram

    for branch in step.next:
        item.branches.append((condition_words(branch.when.source, p, step, steps, lang) if branch.when else "",
                              _target(branch.goto, steps, p, lang)))
    if step.max_visits:
        item.notes.append(translate("Hoogstens {n} keer; daarna naar «{target}»", lang, n=step.max_visits,
                                    target=_target(step.on_max_visits or "", steps, p, lang)))
    return item


def build(p: Pathway, lang: str) -> PathwayView:
    roles = {r.id: r.title for r in p.roles}
    steps: dict[str, Step] = {s.id: s for s in p.steps}
    for track in p.tracks:
        steps.update({s.id: s for s in track.steps})
    main = [_step(s, steps, p, roles, lang) for s in p.steps]
    tracks = [
        TrackView(t.id, t.title, t.goal, roles.get(t.owner, t.owner),
                  duration(t.lead_time.within, lang) if t.lead_time else "",
                  [_step(s, steps, p, roles, lang, owner=t.owner) for s in t.steps])
        for t in p.tracks
    ]
    role_rows = [(r.id, r.title, r.kind.value) for r in p.roles]
    evaluation = []
    if p.evaluation:
        ev = p.evaluation
        evaluation = [
            translate("Elke {every}, door {role}, af binnen {due}", lang, every=duration(ev.every, lang),
                      role=roles.get(ev.role, ev.role), due=duration(ev.due, lang)),
        ]
        if ev.starts_after:
            evaluation.append(translate("Begint na «{step}»", lang, step=_target(ev.starts_after, steps, p, lang)))
    deadlines = []
    if p.lead_time:
        deadlines.append(translate("Doorlooptijd van de zaak: {d}", lang, d=duration(p.lead_time.within, lang)))
        deadlines += _policy((), p.lead_time.on_exceeded, roles, lang)
    return PathwayView(main, tracks, role_rows, evaluation, deadlines)
