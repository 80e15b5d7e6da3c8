"""The coordinator's dry run: many cases through a pathway on a virtual clock.

Worker behaviour follows `WorkerModel`, a small documented model (see
docs/simulation.md): how quickly tasks are done, which answers are recorded,
how many problems a client has, how often a partner answers. Everything
random comes from one `random.Random(seed)`, and every ordering is fixed, so
the same pathway, options and seed give byte-identical output.
"""

from __future__ import annotations

import heapq
import random
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator

from engine import commands as c
from engine import handover, joint
from engine.calendars import role_calendar, step_calendar
from engine.clock import ManualClock
from engine.compiled import EVALUATION_STEP, CompiledPathway, evaluation_form_schema
from engine.decide import Engine
from engine.errors import EngineError
from engine.events import Event
from engine.json_validation import validator_for
from engine.messages import msg
from engine.runner import InMemoryRunner
from engine.state import CaseState, CaseStatus, Task, TaskStatus, TaskType, TrackStatus
from engine.step_handlers import StepHandler


@dataclass(frozen=True)
class WorkerModel:
    """How simulated workers, partners and clients behave. Every field can be set from a file."""

    on_time: float = 0.8  # chance a task is done before its due moment
    late_days_max: float = 10.0  # a late task is done up to this many days after due
    early_fraction_min: float = 0.2  # an on-time task is done after at least this share of its time
    boolean_true: float = 0.7  # chance a yes/no field is answered yes
    optional_field: float = 0.5  # chance an optional form field is filled in
    problems_min: int = 4  # problems (tracks) chosen at intake, when the form asks for a list
    problems_max: int = 5
    partner_answers: float = 0.85  # chance a partner answers before the timeout
    close_track_per_evaluation: float = 0.25  # chance an evaluation closes an open track
    add_track_per_evaluation: float = 0.05
    early_closure_per_evaluation: float = 0.02
    answers: Mapping[str, Any] = field(default_factory=dict)  # "step.field": fixed value or {value: weight}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> WorkerModel:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise EngineError(msg("simulation.settings", unknown=unknown, known=sorted(known)))
        return cls(**dict(data))


class SimulationLimitError(EngineError):
    """The dry run recorded more events than it may: a pathway that fires timers every minute would
    otherwise run for hours (the web app's editor sets the limit; the command line has none)."""

    def __init__(self, events: int, limit: int) -> None:
        super().__init__(msg("simulation.limit", events=events, limit=limit))
        self.events = events
        self.limit = limit


@dataclass
class SimulationResult:
    timeline: list[str]
    summary: list[str]
    cases: dict[str, CaseState]


def choices(schema: Mapping[str, Any]) -> list[Any] | None:
    """The values a field offers as a choice list: `enum`, or `oneOf`/`anyOf` of `const` options."""
    if "enum" in schema:
        return list(schema["enum"])
    for key in ("oneOf", "anyOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and all(isinstance(o, Mapping) and "const" in o for o in options):
            return [o["const"] for o in options]
    return None


def _form_value(rng: random.Random, schema: Mapping[str, Any], model: WorkerModel, key: str,
                now: datetime, choose_list: bool) -> Any:
    override = model.answers.get(key)
    if override is not None:
        if isinstance(override, Mapping):
            options = sorted(override.items(), key=lambda kv: str(kv[0]))
            values = [_coerce(k, schema) for k, _ in options]
            return rng.choices(values, weights=[float(w) for _, w in options])[0]
        return override
    if "const" in schema:
        return schema["const"]
    offered = choices(schema)
    if offered is not None:
        return rng.choice(offered)
    kind = schema.get("type")
    if kind == "boolean":
        return rng.random() < model.boolean_true
    if kind in ("integer", "number"):
        low = int(schema.get("minimum", 0))
        high = int(schema.get("maximum", low + 10))
        return rng.randint(low, max(low, high))
    if kind == "array":
        items = schema.get("items", {})
        options = choices(items) or []
        if not options:
            return []
        if choose_list:
            k = rng.randint(model.problems_min, model.problems_max)
        else:
            k = rng.randint(int(schema.get("minItems", 1)), max(int(schema.get("minItems", 1)), min(3, len(options))))
        k = max(int(schema.get("minItems", 0)), min(k, len(options), int(schema.get("maxItems", len(options)))))
        return sorted(rng.sample(options, k), key=options.index)
    if kind == "object":
        return _form(rng, schema, model, key, now)
    fmt = schema.get("format")
    if fmt == "date":
        return now.date().isoformat()
    if fmt == "date-time":
        return now.isoformat()
    if fmt in ("email", "idn-email"):
        return "gesimuleerd@voorbeeld.nl"
    if fmt == "time":
        return now.strftime("%H:%M:%S") + "Z"
    return "(gesimuleerd)"


def _coerce(value: Any, schema: Mapping[str, Any]) -> Any:
    if schema.get("type") == "boolean" and isinstance(value, str):
        return value.lower() in ("true", "yes", "ja")
    return value


def _form(rng: random.Random, schema: Mapping[str, Any], model: WorkerModel, prefix: str, now: datetime) -> dict[str, Any]:
    props: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    data: dict[str, Any] = {}
    for name in sorted(props):
        if name in required or rng.random() < model.optional_field:
            data[name] = _form_value(rng, props[name], model, f"{prefix}.{name}", now, choose_list=True)
    return data


def fill_form(rng: random.Random, schema: Mapping[str, Any], model: WorkerModel, prefix: str, now: datetime,
          validator: Draft202012Validator) -> dict[str, Any]:
    """A form as a worker fills it in, including fields that conditions (`if`/`then`) make required."""
    data = _form(rng, schema, model, prefix, now)
    props: Mapping[str, Any] = schema.get("properties", {})
    for _ in range(10):
        missing = [
            e.message.split("'")[1]
            for e in validator.iter_errors(data)
            if e.validator == "required" and not e.absolute_path and e.message.count("'") >= 2
        ]
        missing = [m for m in missing if m in props and m not in data]
        if not missing:
            break
        for name in sorted(set(missing)):
            data[name] = _form_value(rng, props[name], model, f"{prefix}.{name}", now, choose_list=True)
    return data


class Simulation:
    def __init__(self, cp: CompiledPathway, handlers: Mapping[str, StepHandler], model: WorkerModel,
                 seed: int, start: datetime, max_events: int | None = None) -> None:
        self.cp = cp
        self.max_events = max_events
        self.model = model
        self.rng = random.Random(seed)
        self.clock = ManualClock(start)
        engine = Engine(lambda pid, ver: cp, handlers)
        self.handlers = handlers
        self._handovers_seen = 0  # outbox messages looked at for hand-overs
        self.runner = InMemoryRunner(engine, self.clock)
        self._actions: list[tuple[datetime, int, str, str]] = []  # (when, seq, case, task)
        self._seq = 0
        self._planned: set[str] = set()
        self.errors: list[str] = []

    # --- behaviour ----------------------------------------------------------
    def _case_data(self) -> tuple[str, dict[str, Any]]:
        trigger = self.cp.pathway.triggers[0]
        for _ in range(500):  # conditional case data (if/then/else) makes a match rarer
            data = fill_form(self.rng, self.cp.pathway.case_data, self.model, "case", self.clock.now(),
                         self.cp.validators["case_data"])
            try:
                self.cp.validate("case_data", data, msg("subject.case_data", pathway=self.cp.pathway.title or self.cp.key))
            except EngineError:
                continue
            if trigger.condition is None:
                return trigger.type, data
            from engine.expressions import evaluate

            try:
                if evaluate(trigger.condition, {"case": data, "now": self.clock.now()}) is True:
                    return trigger.type, data
            except EngineError:
                continue
        raise EngineError(msg("start.no_sample", trigger=trigger.type))

    def _plan(self, case_id: str, task: Task) -> None:
        if task.id in self._planned:
            return
        self._planned.add(task.id)
        now = self.clock.now()
        if task.type is TaskType.PARTNER and self.rng.random() >= self.model.partner_answers:
            return  # the partner never answers: the timeout decides
        span = max((task.due_at - now).total_seconds(), 3600.0)
        if self.rng.random() < self.model.on_time:
            when = now + timedelta(seconds=span * self.rng.uniform(self.model.early_fraction_min, 0.95))
        else:
            when = task.due_at + timedelta(days=self.rng.uniform(0.1, self.model.late_days_max))
        step = self.cp.steps.get(task.step_id)
        calendar = step_calendar(self.cp, step, task.role) if step is not None else role_calendar(self.cp, task.role)
        when = calendar.next_delivery_moment(when)  # people work in their hours
        self._seq += 1
        heapq.heappush(self._actions, (when, self._seq, case_id, task.id))

    def _plan_handovers(self) -> None:
        """A hand-over's other case is not simulated itself: its outcome comes back after 1-30 days."""
        outbox = self.runner.outbox
        for message in outbox[self._handovers_seen:]:
            if message.get("channel") == handover.CHANNEL and message.get("template") == handover.START_TEMPLATE:
                when = self.clock.now() + timedelta(days=self.rng.uniform(1, 30))
                self._seq += 1
                heapq.heappush(self._actions, (when, self._seq, message["case_id"],
                                               f"handover:{message['payload'].get('step', '')}"))
        self._handovers_seen = len(outbox)

    def _handover_outcome(self, case_id: str, step_id: str) -> None:
        child = f"{case_id}-H{step_id}"
        step = self.cp.steps[step_id]
        try:
            self.runner.handle(c.LinkCase(case_id=case_id, actor="sim:handover", relation="child", other_case=child,
                                          pathway_id=str(step.params.get("pathway")), step_id=step_id,
                                          wait=bool(step.params.get("wait"))))
            self.runner.handle(c.RecordHandoverOutcome(case_id=case_id, actor="sim:handover", step_id=step_id,
                                                       child_case=child, outcome="gesimuleerd"))
        except EngineError as exc:
            self.errors.append(f"{case_id} ({step_id}): {exc}")

    def _plan_new(self) -> None:
        self._plan_handovers()
        for state in self.runner.cases.values():
            for task in state.tasks.values():
                if task.status is TaskStatus.OPEN and task.id not in self._planned:
                    self._plan(state.id, task)

    def _task_data(self, state: CaseState, task: Task) -> dict[str, Any]:
        now = self.clock.now()
        if task.type is TaskType.EVALUATION:
            return self._evaluation_data(state, task)
        step = self.cp.steps[task.step_id]
        if task.type is TaskType.PARTNER or step.kind == joint.KIND:
            handler = self.handlers.get(step.kind)
            schema = handler.answer_schema(step) if handler is not None else None
            if not isinstance(schema, Mapping):
                return {}
            if step.kind == joint.KIND:  # both sides decide the same fields; the partner names who confirms
                schema = {**schema, "properties": {k: v for k, v in schema.get("properties", {}).items()
                                                   if k not in joint.EXTRA_FIELDS}}
                data = fill_form(self.rng, schema, self.model, step.id, now, validator_for(schema))
                return {**data, "name": "(gesimuleerd)"} if task.type is TaskType.PARTNER else data
            return fill_form(self.rng, schema, self.model, step.id, now, validator_for(schema))
        validator = self.cp.validators.get(step.id)
        if validator is None:
            return {}
        return fill_form(self.rng, step.form or {}, self.model, step.id, now, validator)

    def _evaluation_data(self, state: CaseState, task: Task) -> dict[str, Any]:
        schema = evaluation_form_schema(self.cp.pathway)
        own = {k: v for k, v in schema["properties"].items()
               if k not in ("track_reviews", "close_tracks", "add_tracks", "focus")}
        data = _form(self.rng, {"properties": own, "required": schema["required"]}, self.model,
                     EVALUATION_STEP, self.clock.now())
        active = [t for t in state.tracks.values() if t.status is TrackStatus.ACTIVE]
        if active:
            data["track_reviews"] = [{"track": t.id, "progress": "(gesimuleerd)"} for t in active]
            closing = [t for t in active if self.rng.random() < self.model.close_track_per_evaluation]
            if closing:
                data["close_tracks"] = [{"track": t.id, "result": self.rng.choice(["achieved", "achieved", "not_achieved"])} for t in closing]
        if state.tracks_step is not None and self.rng.random() < self.model.add_track_per_evaluation:
            free = [t for t in self.cp.tracks if t not in state.tracks]
            if free:
                data["add_tracks"] = [self.rng.choice(free)]
        return data

    def _act(self, case_id: str, task_id: str) -> None:
        state = self.runner.cases[case_id]
        task = state.tasks[task_id]
        if task.status is not TaskStatus.OPEN or state.status is not CaseStatus.OPEN:
            return
        worker = task.assignee or state.assignments.get(task.role) or f"{task.role}-1"
        try:
            if task.assignee is None:
                self.runner.handle(c.ClaimTask(case_id=case_id, actor=worker, task_id=task.id, worker=worker))
            if task.type is TaskType.EVALUATION and self.cp.close_reasons and \
                    self.rng.random() < self.model.early_closure_per_evaluation:
                reason = self.rng.choice(sorted(self.cp.close_reasons))
                outcome = self.cp.close_reasons[reason].outcome or sorted(self.cp.outcomes)[0]
                self.runner.handle(c.CloseCase(case_id=case_id, actor=worker, reason="gesimuleerd",
                                               reason_code=reason, outcome=outcome))
                return
            data = self._task_data(self.runner.cases[case_id], task)
            self.runner.handle(c.CompleteTask(case_id=case_id, actor=worker, task_id=task.id, data=data))
        except EngineError as exc:
            self.errors.append(f"{task.id} ({task.step_id}): {exc}")

    # --- the run ------------------------------------------------------------
    def run(self, cases: int, days: int) -> None:
        start = self.clock.now()
        end = start + timedelta(days=days)
        arrivals = sorted(start + timedelta(seconds=self.rng.uniform(0, days * 86400 / 3)) for _ in range(cases))
        for n, when in enumerate(arrivals, 1):
            heapq.heappush(self._actions, (when, -n, f"C{n:05d}", ""))
        rounds = 0
        while True:
            rounds += 1
            if self.max_events is not None and rounds % 64 == 0:
                self._check_events()
            next_action = self._actions[0][0] if self._actions else None
            next_timer = self.runner.next_due()
            candidates = [t for t in (next_action, next_timer) if t is not None and t <= end]
            if not candidates:
                break
            moment = min(candidates)
            if next_timer is not None and next_timer == moment:
                self.runner.advance_to(moment)
            else:
                when, seq, case_id, task_id = heapq.heappop(self._actions)
                if when > self.clock.now():
                    self.clock.set(when)
                if task_id.startswith("handover:"):
                    self._handover_outcome(case_id, task_id.removeprefix("handover:"))
                elif task_id == "":
                    trigger, data = self._case_data()
                    self.runner.start(c.StartCase(
                        case_id=case_id, actor="sim:intake", pathway_id=self.cp.pathway.id,
                        pathway_version=self.cp.pathway.version, trigger=trigger, data=data,
                        pseudonym=f"P{-seq:05d}",
                    ))
                else:
                    self._act(case_id, task_id)
            self._plan_new()
        if self.max_events is not None:
            self._check_events()
        if end > self.clock.now():
            self.clock.set(end)

    def _check_events(self) -> None:
        assert self.max_events is not None
        recorded = sum(len(history) for history in self.runner.histories.values())
        if recorded > self.max_events:
            raise SimulationLimitError(recorded, self.max_events)


_RESULT_WORDS = {"achieved": "behaald", "not_achieved": "niet behaald", "stopped": "gestopt"}
_MONTHS_NL = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def _local(cp: CompiledPathway, moment: datetime, lang: str = "nl") -> str:
    """`6 jan 2026 09:00` (Dutch) or `2026-01-06 09:00` (English), in the pathway's local time."""
    local = cp.calendar.local(moment)
    if lang == "en":
        return local.strftime("%Y-%m-%d %H:%M")
    return f"{local.day:>2} {_MONTHS_NL[local.month - 1]} {local.year} {local:%H:%M}"


# Every line a person reads in the dry run, in Dutch (the default) and English (`CAREPATH_LANGUAGE=en`).
_TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "timeline": "Verloop van zaak {case} ({pathway}), tijden in Nederlandse tijd",
        "case_started": "zaak gestart ({trigger})",
        "step_entered": "[{flow}] stap {step}",
        "task_opened": "taak geopend: {title} voor {role}, uiterlijk {due}",
        "task_completed": "taak afgerond: {title} door {actor}",
        "late": " (te laat)",
        "reminder": "herinnering: {title}",
        "escalation_due": "escalatie: {title}",
        "task_reassigned": "taak {title} overgedragen aan {to}",
        "track_started": "probleemgebied {track} gestart",
        "track_closed": "probleemgebied {track} afgesloten: {result}",
        "lead_time_exceeded": "doorlooptijd overschreden ({flow})",
        "escalation_raised": "escalatie naar {role}",
        "case_closed": "zaak afgesloten: uitkomst {outcome}",
        "reason": " (reden {reason})",
        "title": "Simulatie van {pathway}: {cases} zaken over {days} dagen",
        "closed": "  zaken afgesloten: {closed}, nog lopend: {open}",
        "tasks created": "taken aangemaakt",
        "tasks completed": "taken afgerond",
        "tasks on time": "taken op tijd afgerond",
        "reminders": "herinneringen",
        "escalations": "escalaties",
        "evaluations": "evaluaties gepland",
        "evaluations held": "evaluaties gehouden",
        "evaluations held on time": "evaluaties op tijd gehouden",
        "lead times exceeded": "doorlooptijden overschreden",
        "outcomes": "  uitkomsten:",
        "lead": "  doorlooptijd (dagen): mediaan {median}, p90 {p90}",
        "tracks": "  probleemgebieden:",
        "none closed": "geen afgesloten",
        "median_days": ", mediaan {median} dagen",
        "track_line": "    {track}: {started} gestart; {results}{median}",
        "refused": "  geweigerde handelingen van medewerkers: {count}",
    },
    "en": {
        "timeline": "Timeline of case {case} ({pathway}), times Europe/Amsterdam",
        "case_started": "case started ({trigger})",
        "step_entered": "[{flow}] step {step}",
        "task_opened": "task opened: {title} for {role}, due {due}",
        "task_completed": "task completed: {title} by {actor}",
        "late": " (late)",
        "reminder": "reminder: {title}",
        "escalation_due": "escalation: {title}",
        "task_reassigned": "task {title} reassigned to {to}",
        "track_started": "track {track} started",
        "track_closed": "track {track} closed: {result}",
        "lead_time_exceeded": "lead time exceeded ({flow})",
        "escalation_raised": "escalation raised to {role}",
        "case_closed": "case closed: outcome {outcome}",
        "reason": " (reason {reason})",
        "title": "Simulation of {pathway}: {cases} cases over {days} days",
        "closed": "  cases closed: {closed}, still open: {open}",
        "tasks created": "tasks created",
        "tasks completed": "tasks completed",
        "tasks on time": "tasks on time",
        "reminders": "reminders",
        "escalations": "escalations",
        "evaluations": "evaluations",
        "evaluations held": "evaluations held",
        "evaluations held on time": "evaluations held on time",
        "lead times exceeded": "lead times exceeded",
        "outcomes": "  outcomes:",
        "lead": "  lead time (days): median {median}, p90 {p90}",
        "tracks": "  tracks:",
        "none closed": "none closed",
        "median_days": ", median {median} days",
        "track_line": "    {track}: started {started}; {results}{median}",
        "refused": "  refused worker actions: {count}",
    },
}


def _role(cp: CompiledPathway, role_id: str) -> str:
    role = cp.roles.get(role_id)
    return role.title if role is not None else role_id


def _track(cp: CompiledPathway, track_id: str) -> str:
    track = cp.tracks.get(track_id)
    return track.title if track is not None else track_id


def _outcome(cp: CompiledPathway, code: str) -> str:
    outcome = cp.outcomes.get(code)
    return outcome.label if outcome is not None else code


def _describe(cp: CompiledPathway, event: Event, opened: dict[str, tuple[str, datetime]],
              lang: str = "nl") -> str | None:
    """One timeline line; `opened` maps the case's task ids to (title, due), filled as tasks open."""
    text = _TEXTS[lang]
    d = event.data
    t = event.type
    if t == "case_started":
        return text["case_started"].format(trigger=d["trigger"])
    if t == "step_entered":
        return text["step_entered"].format(flow=d["flow"], step=d["step_id"])
    if t == "task_opened":
        task = d["task"]
        due_at = datetime.fromisoformat(task["due_at"])
        opened[task["id"]] = (task["title"], due_at)
        due = _local(cp, due_at, lang)
        return text["task_opened"].format(title=task["title"], role=_role(cp, task["role"]), due=due.strip())
    if t == "task_completed":
        title, due_at = opened.get(d["task_id"], (d["task_id"], event.at))
        line = text["task_completed"].format(title=title, actor=event.actor)
        return line + (text["late"] if event.at > due_at else "")
    if t == "task_deadline_passed":
        title = opened.get(d["task_id"], (d["task_id"], event.at))[0]
        return text["reminder" if d["what"] == "reminder" else "escalation_due"].format(title=title)
    if t == "task_reassigned":
        to = d["worker"] or _role(cp, d["role"])
        return text["task_reassigned"].format(title=opened.get(d["task_id"], (d["task_id"], event.at))[0], to=to)
    if t == "track_started":
        return text["track_started"].format(track=_track(cp, d["track_id"]))
    if t == "track_closed":
        result = _RESULT_WORDS.get(d["result"], d["result"]) if lang == "nl" else d["result"]
        return text["track_closed"].format(track=_track(cp, d["track_id"]), result=result)
    if t == "lead_time_exceeded":
        return text["lead_time_exceeded"].format(flow=d["flow"])
    if t == "escalation_raised":
        return text["escalation_raised"].format(role=_role(cp, d["escalation"]["to_role"]))
    if t == "case_closed":
        line = text["case_closed"].format(outcome=_outcome(cp, d["outcome"]))
        return line + (text["reason"].format(reason=d["reason_code"]) if d.get("reason_code") else "")
    return None


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def _pct(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return f"{ordered[index]:.1f}"


def report(sim: Simulation, days: int, timeline_case: str | None = None, lang: str = "nl") -> SimulationResult:
    """The dry run's timeline of one case and its summary, in Dutch (`lang="nl"`) or English."""
    cp = sim.cp
    runner = sim.runner
    cases = runner.cases
    text = _TEXTS["en" if lang == "en" else "nl"]
    lang = "en" if lang == "en" else "nl"
    first = timeline_case if timeline_case is not None else (sorted(cases)[0] if cases else None)
    if first is not None and first not in cases:
        raise EngineError(msg("simulation.no_case", case=first, last=f"C{len(cases):05d}"))
    timeline: list[str] = []
    if first is not None:
        timeline.append(text["timeline"].format(case=first, pathway=cp.key))
        seen: dict[str, tuple[str, datetime]] = {}
        for event in runner.histories[first]:
            line = _describe(cp, event, seen, lang)
            if line is not None:
                timeline.append(f"  {_local(cp, event.at, lang)}  {line}")
    counts: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    lead: list[float] = []
    track_started: Counter[str] = Counter()
    track_results: dict[str, Counter[str]] = {}
    track_days: dict[str, list[float]] = {}
    for case_id in sorted(cases):
        state = cases[case_id]
        due: dict[str, tuple[bool, datetime]] = {}  # task id -> (evaluation?, due), from the events
        for event in runner.histories[case_id]:
            if event.type == "task_opened":
                task_data = event.data["task"]
                evaluation = task_data["type"] == TaskType.EVALUATION.value
                due[task_data["id"]] = (evaluation, datetime.fromisoformat(task_data["due_at"]))
                counts["evaluations" if evaluation else "tasks created"] += 1
            elif event.type == "task_deadline_passed":
                counts["reminders" if event.data["what"] == "reminder" else "escalations"] += 1
            elif event.type == "task_completed":
                evaluation, due_at = due[event.data["task_id"]]
                if evaluation:
                    counts["evaluations held"] += 1
                    counts["evaluations held on time"] += int(event.at <= due_at)
                else:
                    counts["tasks completed"] += 1
                    counts["tasks on time"] += int(event.at <= due_at)
            elif event.type == "lead_time_exceeded":
                counts["lead times exceeded"] += 1
        if state.status is CaseStatus.CLOSED and state.closed_at is not None:
            outcomes[state.outcome or "?"] += 1
            lead.append(_days(state.closed_at - state.opened_at))
        for track in state.tracks.values():
            track_started[track.id] += int(track.started_at is not None)
            if track.status is TrackStatus.CLOSED:
                track_results.setdefault(track.id, Counter())[track.result or "?"] += 1
                if track.started_at is not None and track.closed_at is not None:
                    track_days.setdefault(track.id, []).append(_days(track.closed_at - track.started_at))
    open_cases = sum(1 for s in cases.values() if s.status is not CaseStatus.CLOSED)
    summary = [
        text["title"].format(pathway=cp.key, cases=len(cases), days=days),
        text["closed"].format(closed=sum(outcomes.values()), open=open_cases),
    ]
    for key in ("tasks created", "tasks completed", "tasks on time", "reminders", "escalations",
                "evaluations", "evaluations held", "evaluations held on time", "lead times exceeded"):
        summary.append(f"  {text[key]}: {counts[key]}")
    summary.append(text["outcomes"])
    for code in sorted(cp.outcomes):
        label = _outcome(cp, code)
        summary.append(f"    {label if label == code else f'{label} ({code})'}: {outcomes[code]}")
    def decimal(value: str) -> str:
        return value.replace(".", ",") if lang == "nl" else value

    if lead:
        summary.append(text["lead"].format(median=decimal(f"{statistics.median(lead):.1f}"),
                                           p90=decimal(_pct(lead, 0.9))))
    if cp.tracks:
        summary.append(text["tracks"])
        for track_id in sorted(cp.tracks):
            results = track_results.get(track_id, Counter())
            words = _RESULT_WORDS if lang == "nl" else {}
            result_text = (", ".join(f"{words.get(k, k)} {v}" for k, v in sorted(results.items()))
                           or text["none closed"])
            durations = track_days.get(track_id, [])
            median = (text["median_days"].format(median=decimal(f"{statistics.median(durations):.1f}"))
                      if durations else "")
            summary.append(text["track_line"].format(track=_track(cp, track_id), started=track_started[track_id],
                                                     results=result_text, median=median))
    if sim.errors:
        summary.append(text["refused"].format(count=len(sim.errors)))
        summary.extend(f"    {e}" for e in sim.errors[:10])
    return SimulationResult(timeline=timeline, summary=summary, cases=dict(cases))


def simulate(cp: CompiledPathway, handlers: Mapping[str, StepHandler], *, cases: int, days: int, seed: int,
             start: datetime, model: WorkerModel | None = None, timeline_case: str | None = None,
             max_events: int | None = None, lang: str = "nl") -> SimulationResult:
    """`max_events`: stop with `SimulationLimitError` once the run recorded more events than this;
    `lang`: the report's language ("nl", the default, or "en")."""
    sim = Simulation(cp, handlers, model or WorkerModel(), seed, start, max_events)
    sim.run(cases, days)
    return report(sim, days, timeline_case, lang)
