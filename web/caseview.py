"""A case as a worker reads it: what happened, what is due, what comes next, tracks and outcome.

Built from the stored state and history plus the pathway version the case runs
on. Times are shown in Europe/Amsterdam by the templates; texts about what
happened are in the interface language, the pathway's own titles as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.compiled import CompiledPathway
from engine.definition import StepKind
from engine.events import Event
from engine.state import MAIN_FLOW, CaseState, Task, TaskStatus, TaskType, TimerKind, TimerStatus, TrackStatus
from web.forms import choices
from web.i18n import translate
from web.timefmt import fmt_date

_AUTOMATED_WORDS = {
    "send_letter": "Brief",
    "send_message": "Bericht",
    "notify_partner": "Partner geïnformeerd",
    "request_partner": "Vraag aan partner",
    "wait": "Wachten",
    "export_registration": "Registratie",
}
_MESSAGE_KINDS = frozenset({"send_letter", "send_message", "notify_partner", "request_partner"})
_RESULTS = {"achieved": "behaald", "not_achieved": "niet behaald", "stopped": "gestopt"}


@dataclass
class DataItem:
    name: str
    label: str
    value: str
    personal: bool


@dataclass
class TimelineItem:
    at: datetime
    kind: str  # css hook: start, task, done, reminder, escalation, track, close, note, step, due, next
    text: str
    who: str = ""
    detail: str = ""
    late: bool = False
    task_id: str = ""


@dataclass
class TrackItem:
    id: str
    title: str
    goal: str
    status: str
    step: str
    started_at: datetime | None
    closed_at: datetime | None
    result: str
    progress: list[dict[str, Any]]
    lead_time_exceeded: bool
    open_tasks: list[Task] = field(default_factory=list)


@dataclass
class EvaluationItem:
    sequence: int
    task_id: str
    status: str
    due_at: datetime
    completed_at: datetime | None
    by: str
    answers: list[tuple[str, str]]


@dataclass
class CaseView:
    data: list[DataItem]
    past: list[TimelineItem]
    upcoming: list[TimelineItem]
    next_steps: list[str]
    tracks: list[TrackItem]
    evaluations: list[EvaluationItem]
    next_evaluation: datetime | None
    open_tasks: list[Task]
    outcome: str
    close_reason: str
    role_titles: dict[str, str]
    assignments: list[tuple[str, str]]  # (role title, worker name)
    addable_tracks: list[tuple[str, str]]
    lead_time_due: datetime | None


def display_value(schema: Mapping[str, Any], value: Any, lang: str) -> str:
    """A stored value as the pathway labels it (choice titles, ja/nee, lists joined)."""
    if value is None:
        return ""
    offered = dict((_key(v), label) for v, label in choices(schema) or [])
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
        inner = dict((_key(v), label) for v, label in choices(items or {}) or [])
        return ", ".join(inner.get(_key(v), str(v)) for v in value) or "—"
    if offered:
        return offered.get(_key(value), str(value))
    if isinstance(value, bool):
        return translate("ja", lang) if value else translate("nee", lang)
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else f"{value:.2f}"
        return text.replace(".", ",") if lang == "nl" else text
    if isinstance(value, str) and schema.get("format") == "date":
        try:
            return fmt_date(date.fromisoformat(value), lang, weekday=False)
        except ValueError:
            return value
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _key(value: Any) -> str:
    return repr(value)


def form_answers(schema: Mapping[str, Any] | None, data: Mapping[str, Any] | None, lang: str) -> list[tuple[str, str]]:
    if not data:
        return []
    props: Mapping[str, Any] = (schema or {}).get("properties", {})
    answers = []
    ordered = [k for k in props if k in data] + [k for k in data if k not in props]
    for name in ordered:
        value = data[name]
        sub = props.get(name, {})
        label = str(sub.get("title") or name) if isinstance(sub, Mapping) else name
        if name in ("track_reviews", "close_tracks") and isinstance(value, list):
            shown = "; ".join(
                f"{item.get('track')}: {item.get('progress') or translate(_RESULTS.get(item.get('result', ''), ''), lang)}"
                for item in value if isinstance(item, Mapping))
        else:
            shown = display_value(sub if isinstance(sub, Mapping) else {}, value, lang)
        answers.append((label, shown))
    return answers


def build(state: CaseState, history: list[Event], cp: CompiledPathway, names: Mapping[str, str], now: datetime,
          lang: str, *, personal_shown: bool = True) -> CaseView:
    p = cp.pathway
    def t(text: str, **values: Any) -> str:
        return translate(text, lang, **values)

    role_titles = {r.id: r.title for r in p.roles}

    def name(actor: str | None) -> str:
        if actor and actor.startswith("partner:"):  # an answer recorded for a partner organisation
            return role_titles.get(actor[8:], actor[8:])
        return names.get(actor or "", actor or "")

    props: Mapping[str, Any] = p.case_data.get("properties", {})
    data = []
    for key, sub in props.items():
        if key not in state.data:
            continue
        personal = key in p.personal_data
        value = display_value(sub, state.data[key], lang) if (personal_shown or not personal) else t("(verborgen)")
        data.append(DataItem(key, str(sub.get("title") or key), value, personal))

    past: list[TimelineItem] = []
    tasks = state.tasks
    for event in history:
        item = _describe(event, state, cp, name, t)
        if item is not None:
            past.append(item)

    upcoming: list[TimelineItem] = []
    open_tasks = sorted(state.open_tasks(), key=lambda task: task.due_at)
    for task in open_tasks:
        who = name(task.assignee) if task.assignee else t("wachtrij {role}", role=role_titles.get(task.role, task.role))
        upcoming.append(TimelineItem(task.due_at, "due", t("Uiterlijk: {title}", title=task.title), who,
                                     late=task.due_at < now, task_id=task.id))
    next_evaluation = None
    lead_time_due = None
    for timer in sorted(state.timers.values(), key=lambda x: x.due_at):
        if timer.status is not TimerStatus.PENDING and timer.status is not TimerStatus.PAUSED:
            continue
        if timer.kind is TimerKind.EVALUATION:
            next_evaluation = next_evaluation or timer.due_at
            upcoming.append(TimelineItem(timer.due_at, "next", t("Volgende evaluatie ({n})", n=timer.index)))
        elif timer.kind is TimerKind.CASE_LEAD_TIME and timer.index == 0:
            lead_time_due = timer.due_at
            upcoming.append(TimelineItem(timer.due_at, "next", t("Doorlooptijd van de zaak verstrijkt")))
        elif timer.kind is TimerKind.WAIT:
            step = cp.steps.get(timer.ref)
            upcoming.append(TimelineItem(timer.due_at, "next", t("Wachten eindigt: {title}",
                                                                  title=step.title if step else timer.ref)))
        elif timer.kind is TimerKind.TIMEOUT:
            step = cp.steps.get(timer.ref)
            upcoming.append(TimelineItem(timer.due_at, "next", t("Antwoordtermijn verstrijkt: {title}",
                                                                  title=step.title if step else timer.ref)))
    upcoming.sort(key=lambda item: item.at)

    next_steps: list[str] = []
    positions = [(MAIN_FLOW, state.main.step_id if state.main else None)] + [
        (tr.id, tr.position.step_id if tr.position else None) for tr in state.tracks.values()
        if tr.status is TrackStatus.ACTIVE]
    for _flow, step_id in positions:
        step = cp.steps.get(step_id or "")
        if step is None:
            continue
        targets = []
        for branch in step.next:
            target = cp.steps.get(branch.goto)
            if target is None:
                continue
            label = _step_label(target, cp, t)
            if label not in targets:
                targets.append(label)
        if targets:
            next_steps.append(t("Na «{step}»: {targets}", step=step.title or step.id,
                                targets=f" {t('of')} ".join(targets)))

    tracks = []
    order = state.track_order + [k for k in state.tracks if k not in state.track_order]
    for track_id in order:
        track = state.tracks.get(track_id)
        if track is None:
            continue
        template = cp.tracks.get(track_id)
        step_id = track.position.step_id if track.position else None
        step = cp.steps.get(step_id or "")
        tracks.append(TrackItem(
            id=track.id, title=template.title if template else track.id, goal=template.goal if template else "",
            status=track.status.value, step=(step.title or step.id) if step else "",
            started_at=track.started_at, closed_at=track.closed_at,
            result=t(_RESULTS.get(track.result or "", track.result or "")), progress=list(track.progress),
            lead_time_exceeded=track.lead_time_exceeded_at is not None,
            open_tasks=[x for x in open_tasks if x.flow == track.id],
        ))

    evaluations = []
    from engine.compiled import evaluation_form_schema

    ev_schema = evaluation_form_schema(p) if p.evaluation else None
    for task in sorted(tasks.values(), key=lambda x: (x.sequence, x.created_at)):
        if task.type is not TaskType.EVALUATION:
            continue
        evaluations.append(EvaluationItem(
            task.sequence, task.id, task.status.value, task.due_at, task.completed_at, name(task.completed_by),
            form_answers(ev_schema, task.data, lang) if task.status is TaskStatus.COMPLETED else []))

    outcome = next((o.label for o in p.outcomes if o.code == state.outcome), state.outcome or "")
    close_reason = next((r.label for r in p.close_reasons if r.code == state.close_reason), state.close_reason or "")
    assignments = [(role_titles.get(role, role), name(worker)) for role, worker in sorted(state.assignments.items())]
    addable = [(tt.id, tt.title) for tt in p.tracks if tt.id not in state.tracks] if state.tracks_step else []
    return CaseView(data, past, upcoming, next_steps, tracks, evaluations, next_evaluation, open_tasks, outcome,
                    close_reason, role_titles, assignments, addable, lead_time_due)


Translate = Callable[..., str]


def _step_label(step: Any, cp: CompiledPathway, t: Translate) -> str:
    if step.kind == StepKind.END.value:
        outcome = next((o.label for o in cp.pathway.outcomes if o.code == step.outcome), step.outcome or "")
        return t("einde: {outcome}", outcome=outcome)
    if step.kind == StepKind.CLOSE_TRACK.value:
        return t("probleemgebied afgesloten ({result})", result=t(_RESULTS.get(step.result or "", step.result or "")))
    return f"«{step.title or step.id}»"


def _describe(event: Event, state: CaseState, cp: CompiledPathway, name: Callable[[str | None], str],
              t: Translate) -> TimelineItem | None:
    d = event.data
    kind = event.type
    who = name(event.actor) if event.actor and not event.actor.startswith("system:") else ""
    p = cp.pathway
    if kind == "case_started":
        trigger = next((tr.label for tr in p.triggers if tr.type == d.get("trigger")), d.get("trigger", ""))
        return TimelineItem(event.at, "start", t("Zaak gestart: {trigger}", trigger=trigger), who, event.reason or "")
    if kind == "step_entered":
        step = cp.steps.get(d["step_id"])
        if step is None or step.kind in (StepKind.HUMAN_TASK.value, StepKind.DECISION.value, StepKind.END.value,
                                         StepKind.CLOSE_TRACK.value):
            return None
        if step.kind == StepKind.TRACKS.value:
            return TimelineItem(event.at, "step", t("Werken aan probleemgebieden: {title}", title=step.title), "")
        word = t(_AUTOMATED_WORDS.get(step.kind, step.kind))
        kind = "message" if step.kind in _MESSAGE_KINDS else "step"
        return TimelineItem(event.at, kind, f"{word}: {step.title or step.id}", "")
    if kind == "task_opened":
        task = d["task"]
        role = next((r.title for r in p.roles if r.id == task["role"]), task["role"])
        return TimelineItem(event.at, "task", t("Taak: {title}", title=task["title"]), "",
                            t("voor {role}", role=role), task_id=task["id"])
    if kind == "task_completed":
        task = state.tasks.get(d["task_id"])
        title = task.title if task else d["task_id"]
        late = task is not None and event.at > task.due_at
        return TimelineItem(event.at, "done", t("Afgerond: {title}", title=title), who,
                            t("te laat") if late else "", late=late, task_id=d["task_id"])
    if kind == "task_claimed":
        return None
    if kind == "task_reassigned":
        task = state.tasks.get(d["task_id"])
        target = name(d["worker"]) if d.get("worker") else next(
            (r.title for r in p.roles if r.id == d.get("role")), d.get("role", ""))
        return TimelineItem(event.at, "note", t("Overgedragen: {title} → {target}",
                                                 title=task.title if task else d["task_id"], target=target),
                            who, event.reason or "")
    if kind == "task_deadline_passed":
        task = state.tasks.get(d["task_id"])
        title = task.title if task else d["task_id"]
        if d.get("what") == "reminder":
            return TimelineItem(event.at, "reminder", t("Herinnering: {title}", title=title), "")
        return TimelineItem(event.at, "escalation", t("Escalatie: {title}", title=title), "")
    if kind == "task_cancelled":
        return None
    if kind == "track_started":
        template = cp.tracks.get(d["track_id"])
        return TimelineItem(event.at, "track", t("Probleemgebied gestart: {title}",
                                                  title=template.title if template else d["track_id"]), who)
    if kind == "track_closed":
        template = cp.tracks.get(d["track_id"])
        return TimelineItem(event.at, "track", t("Probleemgebied afgesloten: {title} ({result})",
                                                  title=template.title if template else d["track_id"],
                                                  result=t(_RESULTS.get(d.get("result", ""), d.get("result", "")))),
                            who)
    if kind == "lead_time_exceeded":
        if d.get("flow") == MAIN_FLOW:
            return TimelineItem(event.at, "escalation", t("Doorlooptijd van de zaak overschreden"), "")
        template = cp.tracks.get(d.get("flow", ""))
        return TimelineItem(event.at, "escalation", t("Doorlooptijd overschreden: {title}",
                                                       title=template.title if template else d.get("flow")), "")
    if kind == "escalation_raised":
        e = d["escalation"]
        role = next((r.title for r in p.roles if r.id == e.get("to_role")), e.get("to_role", ""))
        return TimelineItem(event.at, "escalation", t("Escalatie naar {role}", role=role), "")
    if kind == "escalation_resolved":
        return TimelineItem(event.at, "note", t("Escalatie afgehandeld"), who, event.reason or "")
    if kind == "case_suspended":
        return TimelineItem(event.at, "note", t("Zaak gepauzeerd"), who, event.reason or "")
    if kind == "case_resumed":
        return TimelineItem(event.at, "note", t("Zaak hervat"), who, event.reason or "")
    if kind == "case_closed":
        outcome = next((o.label for o in p.outcomes if o.code == d.get("outcome")), d.get("outcome", ""))
        reason = next((r.label for r in p.close_reasons if r.code == d.get("reason_code")), "")
        detail = " — ".join(x for x in (reason, event.reason or "") if x)
        return TimelineItem(event.at, "close", t("Zaak gesloten: {outcome}", outcome=outcome), who, detail)
    if kind == "case_reopened":
        return TimelineItem(event.at, "start", t("Zaak heropend"), who, event.reason or "")
    if kind == "case_migrated":
        return TimelineItem(event.at, "note", t("Overgezet naar versie {version} van het zorgpad",
                                                 version=d.get("to_version")), who, event.reason or "")
    if kind == "origin_registered":
        return TimelineItem(event.at, "note", t("Herkomst geregistreerd"), who)
    if kind == "origin_objected":
        return TimelineItem(event.at, "note", t("Cliënt maakt bezwaar tegen registratie van herkomst"), who)
    if kind == "case_data_updated":
        return TimelineItem(event.at, "note", t("Zaakgegevens gewijzigd"), who, event.reason or "")
    if kind == "case_linked":
        link = d["link"]
        text = "Overgedragen naar zaak {case} ({pathway})" if link.get("relation") == "child" else \
            "Gestart door overdracht vanuit zaak {case} ({pathway})"
        return TimelineItem(event.at, "note", t(text, case=link.get("case_id"), pathway=link.get("pathway")), who)
    if kind == "step_recorded":
        step = cp.steps.get(d["step_id"])
        data = d.get("data") or {}
        if "partner_name" in data:
            return TimelineItem(event.at, "note", t("Gezamenlijk besluit: {title}", title=step.title if step else
                                                    d["step_id"]),
                                who, t("eens" if data.get("agreed") else "niet eens") + f" — {data['partner_name']}")
        return TimelineItem(event.at, "note", t("Uitkomst van zaak {case}: {outcome}", case=data.get("child_case"),
                                                 outcome=data.get("outcome")), who)
    if kind == "message_queued":
        return None  # the step that sent it is on the timeline already; the outbox is the runtime's
    return _describe_partner_event(event, cp, who, t)


def _describe_partner_event(event: Event, cp: CompiledPathway, who: str, t: Translate) -> TimelineItem | None:
    """Referrals (engine.referrals) and partner-meeting decisions on the timeline."""
    from engine.referrals import DUTCH_CHANNEL, DUTCH_STATUS, AnswerChannel, ReferralStatus

    d = event.data
    kind = event.type
    if kind == "referral_sent":
        partner = cp.roles[d["partner"]].title if d.get("partner") in cp.roles else d.get("partner", "")
        return TimelineItem(event.at, "note", t("Verwijzing verstuurd aan {partner}", partner=partner), who)
    if kind == "referral_updated":
        status = DUTCH_STATUS[ReferralStatus(d["status"])]
        channel = DUTCH_CHANNEL[AnswerChannel(d.get("channel", "system"))]
        return TimelineItem(event.at, "note", t("Verwijzing: {status}", status=status), who,
                            " — ".join(x for x in (channel, d.get("reason") or "") if x))
    if kind == "referral_held":
        return TimelineItem(event.at, "note", t("Verwijzing wacht op toestemming van de cliënt"), who)
    if kind == "consent_recorded":
        partner = cp.roles[d["partner"]].title if d.get("partner") in cp.roles else d.get("partner", "")
        return TimelineItem(event.at, "note", t("Toestemming vastgelegd voor {partner}", partner=partner), who)
    if kind == "meeting_decision_recorded":
        return TimelineItem(event.at, "note", t("Besluit in het ketenoverleg"), who, d.get("decision", ""))
    return None
