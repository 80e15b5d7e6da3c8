"""The engine: (pathway, case state, command, now) -> new state and events.

Pure and deterministic. Every change is an event applied through
`engine.events.apply`; outbound messages are `message_queued` events that the
persistence layer copies into its outbox in the same transaction. The caller
passes `now` from its clock; nothing here reads one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator

from engine import adhoc, handover, joint
from engine import commands as c
from engine.calendar import WorkCalendar
from engine.calendars import role_calendar, step_calendar
from engine.compiled import EVALUATION_STEP, CompiledPathway, strict_schema
from engine.definition import (
    Branch,
    EscalationAction,
    EscalationStep,
    Expr,
    LeadTime,
    Pathway,
    Reminder,
    RoleKind,
    Step,
    StepKind,
    TrackMode,
)
from engine.errors import (
    ConflictError,
    EngineError,
    HistoryNeeded,
    MissingFieldError,
    NotFoundError,
    ValidationError,
)
from engine.events import Event, apply, start_state
from engine.expressions import evaluate
from engine.fast_schema import Accepts, compile_accepts
from engine.funding import parse_funder_key
from engine.json_validation import validator_for
from engine.messages import Message, msg, schema_problems
from engine.migration import MigrationPlan, plan_migration
from engine.referrals import (
    TERMINAL,
    AnswerChannel,
    ReferralStatus,
    check_transition,
    consent_condition,
    parse_status,
    partner_policy,
)
from engine.state import (
    MAIN_FLOW,
    CaseState,
    CaseStatus,
    Task,
    TaskStatus,
    TaskType,
    Timer,
    TimerKind,
    TimerStatus,
    TrackStatus,
)
from engine.step_handlers import StepHandler, StepResult

MAX_ENTRIES_PER_COMMAND = 500  # a guard against a flow that never waits
MAX_DECISION = 2000  # characters of a partner meeting's decision
_ORIGIN_KEYS = frozenset(
    {"client", "mother", "father", "grandmother_maternal", "grandfather_maternal",
     "grandmother_paternal", "grandfather_paternal"}
)


@dataclass(frozen=True)
class Decision:
    state: CaseState
    events: tuple[Event, ...]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [e.data["message"] for e in self.events if e.type == "message_queued"]


PathwayLookup = Callable[[str, int], CompiledPathway]


@dataclass(frozen=True)
class _Deadline:
    at: datetime
    what: str  # "reminder" | "escalation"
    reminder: Reminder | None
    escalation: EscalationStep | None


# The step kinds `_Run.enter` tells apart, as the plain strings steps carry (an enum's `.value` is a
# descriptor call, on every step entered).
_HUMAN_TASK, _DECISION, _TRACKS, _END, _CLOSE_TRACK = (
    k.value for k in (StepKind.HUMAN_TASK, StepKind.DECISION, StepKind.TRACKS, StepKind.END, StepKind.CLOSE_TRACK))


class _Run:
    """One command being decided: a private state copy and the events so far."""

    def __init__(
        self,
        engine: Engine,
        cp: CompiledPathway,
        state: CaseState,
        now: datetime,
        actor: str,
        reason: str | None,
    ) -> None:
        self.engine = engine
        self.cp = cp
        self.state = state
        self.now = now
        self.actor = actor
        self.reason = reason
        self.events: list[Event] = []
        self.entries = 0

    # --- recording --------------------------------------------------------
    def emit(self, type_: str, data: dict[str, Any], reason: str | None = None) -> Event:
        event = Event(
            case_id=self.state.id,
            seq=self.state.version + 1,
            type=type_,
            at=self.now,
            actor=self.actor,
            data=data,
            reason=reason if reason is not None else self.reason,
        )
        apply(self.state, event)
        self.events.append(event)
        return event

    def next_id(self, prefix: str) -> str:
        return f"{self.state.id}.{prefix}{self.state.next_seq}"

    def set_timer(self, kind: TimerKind, due_at: datetime, ref: str, flow: str, index: int = 0) -> str:
        timer = Timer(
            id=self.next_id("t"), kind=kind, due_at=due_at, status=TimerStatus.PENDING,
            ref=ref, flow=flow, index=index,
        )
        self.emit("timer_set", {"timer": timer.to_json()})
        return timer.id

    def cancel_timers(self, predicate: Callable[[Timer], bool]) -> None:
        for timer in list(self.state.timers.values()):
            if timer.status in (TimerStatus.PENDING, TimerStatus.PAUSED) and predicate(timer):
                self.emit("timer_cancelled", {"timer_id": timer.id})

    def message(
        self,
        channel: str,
        template: str,
        *,
        to_role: str | None = None,
        to_worker: str | None = None,
        task_id: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue an outbound message; delivery waits for working hours unless the pathway is 24/7."""
        message = {
            "id": f"{self.state.id}.m{self.state.version + 1}",
            "case_id": self.state.id,
            "pathway": self.cp.key,
            "channel": channel,
            "template": template,
            "to_role": to_role,
            "to_worker": to_worker,
            "task_id": task_id,
            "payload": dict(payload or {}),
            "created_at": self.now.isoformat(),
            "deliver_after": role_calendar(self.cp, to_role).next_delivery_moment(self.now).isoformat(),
        }
        self.emit("message_queued", {"message": {k: v for k, v in message.items() if v is not None}})

    def variables(self, form: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {
            "case": self.state.data,
            "form": dict(form or {}),
            "steps": self.state.records,
            "tracks": {
                t.id: {"status": t.status.value, "result": t.result or ""} for t in self.state.tracks.values()
            },
            "now": self.now,
        }

    # --- flows ------------------------------------------------------------
    def enter(self, flow: str, step_id: str) -> None:
        self.entries += 1
        if self.entries > MAX_ENTRIES_PER_COMMAND:
            raise EngineError(msg("flow.loop", case=self.state.id, pathway=_pathway_title(self.cp),
                                  pathway_id=self.cp.key, limit=MAX_ENTRIES_PER_COMMAND,
                                  step=_step_title(self.cp, step_id), step_id=step_id))
        step = self.cp.steps[step_id]
        pos = self.state.position_of(flow)
        visits = pos.visits.get(step_id, 0) if pos is not None else 0
        if step.max_visits is not None and visits >= step.max_visits and step.on_max_visits:
            self.enter(flow, step.on_max_visits)
            return
        self.emit("step_entered", {"flow": flow, "step_id": step_id})
        kind = step.kind
        if kind == _HUMAN_TASK:
            self.open_human_task(flow, step)
        elif kind == _DECISION:
            self.follow(flow, step, None)
        elif kind == _TRACKS:
            self.open_tracks(step)
        elif kind == _END:
            assert step.outcome is not None
            self.close_case(step.outcome, step.close_reason)
        elif kind == _CLOSE_TRACK:
            assert step.result is not None
            self.close_track(flow, step.result)
        else:
            handler = self.engine.handler(kind)
            if handler.enter(_Context(self, flow, step)) is StepResult.CONTINUE:
                self.follow(flow, step, None)
            elif flow in self.state.held_referrals:
                pass  # a referral waiting for the client's consent: its timeout starts when it is sent
            elif step.timeout is not None and step.on_timeout is not None:
                self.set_timer(TimerKind.TIMEOUT, step_calendar(self.cp, step).due(self.now, step.timeout), step.id,
                               flow)

    def follow(self, flow: str, step: Step, form: Mapping[str, Any] | None) -> None:
        target = self.choose(step, step.next, form)
        self.leave(step, target)
        self.enter(flow, target)

    def choose(self, step: Step, branches: tuple[Branch, ...], form: Mapping[str, Any] | None) -> str:
        variables = self.variables(form)
        for branch in branches:
            if branch.when is None or self.holds(branch.when, variables):
                return branch.goto
        raise EngineError(msg("flow.no_branch", case=self.state.id, step=step.title or step.id, step_id=step.id,
                              pathway=_pathway_title(self.cp), pathway_id=self.cp.key,
                              conditions=[b.when.source for b in branches if b.when]))

    @staticmethod
    def holds(condition: Expr, variables: Mapping[str, Any]) -> bool:
        """A condition that reads a field nobody filled in (an optional form field) is not met."""
        try:
            return evaluate(condition, variables) is True
        except MissingFieldError:
            return False

    def leave(self, step: Step, target: str) -> None:
        """Things that start when a step is done (the first evaluation may wait for one).

        A step that loops back to itself (a plan the client did not sign yet) is not done.
        """
        ev = self.cp.pathway.evaluation
        if ev is not None and ev.starts_after == step.id and target != step.id and not any(
            t.kind is TimerKind.EVALUATION and t.status in (TimerStatus.PENDING, TimerStatus.PAUSED)
            for t in self.state.timers.values()
        ):  # none scheduled (a reopened case starts its evaluations again)
            self.set_timer(TimerKind.EVALUATION, self.cp.calendar.add(self.now, ev.every), "case", MAIN_FLOW, 1)

    # --- human tasks ------------------------------------------------------
    def role_for(self, flow: str, step: Step) -> str:
        if step.role is not None:
            return step.role
        if flow != MAIN_FLOW:
            return self.cp.tracks[flow].owner
        raise EngineError(msg("step.no_role", step=step.title or step.id, step_id=step.id,
                              pathway=_pathway_title(self.cp), pathway_id=self.cp.key))

    def open_task(
        self,
        type_: TaskType,
        flow: str,
        step_id: str,
        title: str,
        role: str,
        due_at: datetime,
        sequence: int = 0,
        reminders: tuple[str, ...] = (),
    ) -> Task:
        task = Task(
            id=self.next_id(""),
            type=type_,
            step_id=step_id,
            flow=flow,
            title=title,
            role=role,
            assignee=self.state.assignments.get(role),
            status=TaskStatus.OPEN,
            created_at=self.now,
            due_at=due_at,
            sequence=sequence,
            reminders=reminders,
        )
        self.emit("task_opened", {"task": task.to_json()})
        opened = self.state.tasks[task.id]
        self.schedule_next_deadline(opened)
        self.message(
            "inbox", "task_opened", to_role=role, to_worker=opened.assignee, task_id=opened.id,
            payload={"title": title, "due_at": due_at.isoformat()},
        )
        return opened

    def open_human_task(self, flow: str, step: Step) -> None:
        assert step.due is not None
        self.open_task(
            TaskType.HUMAN, flow, step.id, step.title, self.role_for(flow, step),
            step_calendar(self.cp, step, self.role_for(flow, step)).due(self.now, step.due),
        )

    def deadlines(self, task: Task) -> list[_Deadline]:
        """The task's reminders and escalation rungs in time order (recomputed, never stored)."""
        reminders, escalation = self.policy(task)
        cal = self.task_calendar(task)
        items: list[_Deadline] = []
        for r in reminders:
            if r.before is not None:
                items.append(_Deadline(cal.subtract(task.due_at, r.before), "reminder", r, None))
            elif r.after is not None:
                items.append(_Deadline(cal.add(task.due_at, r.after), "reminder", r, None))
        for e in escalation:
            items.append(_Deadline(cal.add(task.due_at, e.after), "escalation", None, e))
        items.sort(key=lambda d: (d.at, d.what != "reminder"))
        return items

    def task_calendar(self, task: Task) -> WorkCalendar:
        """The clock a task's reminders and escalations count in (see `engine.calendars`)."""
        if task.type is TaskType.EVALUATION:
            ev = self.cp.pathway.evaluation
            return role_calendar(self.cp, ev.role if ev is not None else None)
        if task.type is TaskType.AD_HOC:  # a task the pathway does not name: its role's clock
            return role_calendar(self.cp, task.role)
        step = self.cp.steps[task.step_id]
        if task.type is TaskType.PARTNER or step.kind != StepKind.HUMAN_TASK.value:
            return step_calendar(self.cp, step, task.role)
        return step_calendar(self.cp, step, self.role_for(task.flow, step))

    def policy(self, task: Task) -> tuple[tuple[Reminder, ...], tuple[EscalationStep, ...]]:
        if task.type is TaskType.EVALUATION:
            ev = self.cp.pathway.evaluation
            assert ev is not None
            return ev.reminders, ev.escalation
        if task.type is TaskType.PARTNER:
            return partner_policy(self.cp.steps[task.step_id])
        if task.type is TaskType.AD_HOC:
            return adhoc.reminders_of(task), ()
        step = self.cp.steps[task.step_id]
        return step.reminders, step.escalation

    def schedule_next_deadline(self, task: Task, items: list[_Deadline] | None = None) -> None:
        """Set the timer of the task's next reminder or escalation rung; `items`, its `deadlines`
        when the caller has just computed them for the task as it stands."""
        if items is None:
            items = self.deadlines(task)
        index = task.deadline_index
        # A reminder "before" that already lies in the past when the task opens is skipped.
        while index < len(items) and items[index].what == "reminder" and items[index].at < self.now:
            index += 1
        if index < len(items):
            self.set_timer(TimerKind.TASK_DEADLINE, max(items[index].at, self.now), task.id, task.flow, index)

    def cancel_task(self, task: Task, referral_status: ReferralStatus = ReferralStatus.CANCELLED,
                    referral_reason: str | None = None) -> None:
        if task.status is TaskStatus.OPEN:
            self.emit("task_cancelled", {"task_id": task.id})
            self.resolve_escalations_of(task)
        self.cancel_timers(lambda t: t.ref == task.id)
        referral = self.state.referrals.get(task.id)
        if referral is not None and ReferralStatus(referral["status"]) not in TERMINAL:
            data: dict[str, Any] = {"task_id": task.id, "status": referral_status.value,
                                    "channel": AnswerChannel.SYSTEM.value}
            if referral_reason:
                data["reason"] = referral_reason
            self.emit("referral_updated", data)

    def resolve_escalations_of(self, task: Task) -> None:
        """An escalation about a task is over when the task is: it closes with it (done or lapsed)."""
        for escalation in [e for e in self.state.open_escalations if e.get("task_id") == task.id]:
            self.emit("escalation_resolved", {"escalation_id": escalation["id"], "task_id": task.id})

    # --- tracks -----------------------------------------------------------
    def open_tracks(self, step: Step) -> None:
        if step.tracks_from is not None:
            try:
                chosen = evaluate(step.tracks_from, self.variables())
            except MissingFieldError:
                chosen = []  # the intake left the list empty: no tracks
            if not isinstance(chosen, list) or not all(isinstance(x, str) for x in chosen):
                raise EngineError(msg("tracks.not_a_list", case=self.state.id, step=step.title or step.id,
                                      step_id=step.id, expression=step.tracks_from.source, value=repr(chosen)))
        else:
            chosen = list(step.tracks)
        unknown = [t for t in chosen if t not in self.cp.tracks]
        if unknown:
            raise EngineError(msg("tracks.unknown", case=self.state.id, step=step.title or step.id, step_id=step.id,
                                  tracks=unknown))
        order = list(dict.fromkeys(chosen))
        self.emit("tracks_opened", {"step_id": step.id, "order": order, "mode": step.mode.value})
        for track_id in order:
            self.plan_track(track_id)
        if step.mode is TrackMode.PARALLEL:
            for track_id in order:
                self.start_track(track_id)
        elif order:
            self.start_track(order[0])
        self.maybe_join()

    def plan_track(self, track_id: str) -> None:
        existing = self.state.tracks.get(track_id)
        if existing is not None and existing.status is not TrackStatus.CLOSED:
            raise ConflictError(msg("track.already", case=self.state.id, track=_track_title(self.cp, track_id),
                                    track_id=track_id, status=msg("status.track." + existing.status.value)))
        self.emit("track_planned", {"track_id": track_id, "owner_role": self.cp.tracks[track_id].owner})

    def start_track(self, track_id: str) -> None:
        template = self.cp.tracks[track_id]
        self.emit("track_started", {"track_id": track_id})
        if template.lead_time is not None:
            self.set_timer(
                TimerKind.TRACK_LEAD_TIME, self.cp.calendar.add(self.now, template.lead_time.within),
                track_id, track_id, 0,
            )
        self.enter(track_id, template.first_step)

    def close_track(self, track_id: str, result: str) -> None:
        for task in list(self.state.tasks.values()):
            if task.flow == track_id and task.status is TaskStatus.OPEN:
                self.cancel_task(task)
        self.cancel_timers(lambda t: t.flow == track_id)
        self.emit("track_closed", {"track_id": track_id, "result": result})
        self.maybe_join()

    def active_mode(self) -> TrackMode:
        step_id = self.state.tracks_step
        return self.cp.steps[step_id].mode if step_id else TrackMode.PARALLEL

    def maybe_join(self) -> None:
        """Start the next sequential track, or go on once every track is closed."""
        step_id = self.state.tracks_step
        if step_id is None or self.state.status is CaseStatus.CLOSED:
            return
        tracks = [self.state.tracks[t] for t in self.state.track_order if t in self.state.tracks]
        if any(t.status is TrackStatus.ACTIVE for t in tracks):
            return
        planned = [t for t in tracks if t.status is TrackStatus.PLANNED]
        if planned:
            self.start_track(planned[0].id)
            return
        self.emit("tracks_joined", {"step_id": step_id})
        self.follow(MAIN_FLOW, self.cp.steps[step_id], None)

    # --- case ---------------------------------------------------------------
    def close_case(self, outcome: str, reason_code: str | None) -> None:
        for task in list(self.state.tasks.values()):
            if task.status is TaskStatus.OPEN:
                self.cancel_task(task)
        self.cancel_timers(lambda t: True)
        self.emit("case_closed", {"outcome": outcome, "reason_code": reason_code})
        handover.notify_parent(self, outcome)

    def escalate(self, rung: EscalationStep, subject: dict[str, Any], tasks: list[Task]) -> None:
        """Carry out one escalation rung (for an overdue task or an exceeded lead time)."""
        if rung.action is EscalationAction.REASSIGN:
            for task in tasks:
                if task.status is TaskStatus.OPEN:
                    self.emit("task_reassigned", {"task_id": task.id, "role": rung.to, "worker": None})
        elif rung.action is EscalationAction.RAISE:
            escalation = {
                "id": f"{self.state.id}.e{self.state.version + 1}",
                "to_role": rung.to,
                "raised_at": self.now.isoformat(),
                **subject,
            }
            self.emit("escalation_raised", {"escalation": escalation})
        self.message("email", f"escalation_{rung.action.value}", to_role=rung.to,
                     task_id=subject.get("task_id"), payload=subject)


class _Context:
    """What a `tasks/` handler may do while its step is entered."""

    def __init__(self, run: _Run, flow: str, step: Step) -> None:
        self._run = run
        self._flow = flow
        self._step = step

    @property
    def step(self) -> Step:
        return self._step

    @property
    def now(self) -> datetime:
        return self._run.now

    @property
    def case_data(self) -> Mapping[str, Any]:
        return self._run.state.data

    def evaluate(self, source: str) -> Any:
        return evaluate(Expr(source), self._run.variables())

    def due(self, duration: Any) -> datetime:
        return step_calendar(self._run.cp, self._step).due(self._run.now, duration)

    def queue_message(
        self,
        channel: str,
        template: str,
        *,
        to_role: str | None = None,
        to_worker: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        self._run.message(channel, template, to_role=to_role, to_worker=to_worker,
                          payload={"step": self._step.id, **(payload or {})})

    def open_partner_task(self, role: str, title: str, due: datetime) -> str:
        task_id = self._run.open_task(TaskType.PARTNER, self._flow, self._step.id, title, role, due).id
        self._run.emit("referral_sent", {"task_id": task_id, "partner": role, "step_id": self._step.id,
                                         "flow": self._flow})
        return task_id

    def consent_given(self, partner: str) -> bool:
        """Whether the client consented to this partner: recorded on the case, or the step's condition."""
        if partner in self._run.state.consents:
            return True
        condition = consent_condition(self._step)
        return condition is None or self._run.holds(Expr(condition), self._run.variables())

    def hold_for_consent(self, partner: str) -> None:
        """Keep the referral unsent until the client's consent for `partner` is recorded."""
        self._run.emit("referral_held", {"flow": self._flow, "step_id": self._step.id, "partner": partner})

    def open_worker_task(self, role: str, title: str, due: datetime) -> str:
        return self._run.open_task(TaskType.HUMAN, self._flow, self._step.id, title, role, due).id

    @property
    def pathway(self) -> Pathway:
        return self._run.cp.pathway

    def wait_until(self, moment: datetime) -> None:
        self._run.set_timer(TimerKind.WAIT, max(moment, self._run.now), self._step.id, self._flow)


class Engine:
    """Decides commands for cases of any known pathway version."""

    def __init__(self, lookup: PathwayLookup, handlers: Mapping[str, StepHandler]) -> None:
        self._lookup = lookup
        self._handlers = dict(handlers)
        self._answer_validators: dict[tuple[str, str], tuple[Draft202012Validator, Accepts | None] | None] = {}

    def handler(self, kind: str) -> StepHandler:
        try:
            return self._handlers[kind]
        except KeyError:
            raise EngineError(msg("step.no_handler", kind=kind)) from None

    def _answer_errors(self, cp: CompiledPathway, step: Step, data: Any) -> list[Any]:
        """What is wrong with a waiting step's answer (only declared fields are kept), in order; the
        strict validator and its quick yes (engine/fast_schema.py) built once per step."""
        key = (cp.key, step.id)
        if key not in self._answer_validators:
            schema = self.handler(step.kind).answer_schema(step)
            strict = None if schema is None else strict_schema(dict(schema))
            self._answer_validators[key] = None if strict is None else (validator_for(strict), compile_accepts(strict))
        found = self._answer_validators[key]
        if found is None:
            return []
        validator, accepts = found
        if accepts is not None and accepts(data):
            return []
        return sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))

    def pathway(self, pathway_id: str, version: int) -> CompiledPathway:
        return self._lookup(pathway_id, version)

    # --- entry points -------------------------------------------------------
    def start(self, cmd: c.StartCase, now: datetime) -> Decision:
        cp = self._lookup(cmd.pathway_id, cmd.pathway_version)
        p = cp.pathway
        trigger = next((t for t in p.triggers if t.type == cmd.trigger), None)
        if trigger is None:
            raise ValidationError(msg("start.no_trigger", pathway=_pathway_title(cp), pathway_id=cp.key,
                                      trigger=cmd.trigger, known=[t.type for t in p.triggers]))
        cp.validate("case_data", cmd.data, msg("subject.case_data", pathway=_pathway_title(cp)))
        unknown_roles = sorted(set(cmd.assignments) - set(cp.roles))
        if unknown_roles:
            raise ValidationError(msg("start.unknown_roles", pathway=_pathway_title(cp), pathway_id=cp.key,
                                      roles=unknown_roles))
        if trigger.condition is not None and evaluate(trigger.condition, {"case": cmd.data, "now": now}) is not True:
            raise ValidationError(msg("start.condition", trigger=trigger.label or cmd.trigger, trigger_id=cmd.trigger,
                                      pathway=_pathway_title(cp),
                                      pathway_id=cp.key, condition=trigger.condition.source))
        first = Event(
            case_id=cmd.case_id, seq=1, type="case_started", at=now, actor=cmd.actor, reason=cmd.reason,
            data={
                "pathway_id": p.id, "pathway_version": p.version, "trigger": cmd.trigger,
                "data": dict(cmd.data), "pseudonym": cmd.pseudonym, "team": cmd.team, "municipality": cmd.municipality,
                "assignments": dict(cmd.assignments),
                **_funder_of(cmd, p),
            },
        )
        state = start_state(first)
        run = _Run(self, cp, state, now, cmd.actor, cmd.reason)
        run.events.append(first)
        if p.lead_time is not None:
            run.set_timer(TimerKind.CASE_LEAD_TIME, cp.calendar.add(now, p.lead_time.within), "case", MAIN_FLOW, 0)
        if p.evaluation is not None and p.evaluation.starts_after is None:
            run.set_timer(TimerKind.EVALUATION, cp.calendar.add(now, p.evaluation.every), "case", MAIN_FLOW, 1)
        run.enter(MAIN_FLOW, p.first_step)
        return Decision(run.state, tuple(run.events))

    def handle(self, state: CaseState, cmd: c.Command, now: datetime) -> Decision:
        """Decide `cmd` for `state`; `state` itself is never changed."""
        if isinstance(cmd, c.StartCase):
            raise EngineError(msg("case.exists", case=cmd.case_id))
        if cmd.case_id != state.id:
            raise EngineError(msg("command.wrong_case", case=cmd.case_id, other=state.id))
        cp = self._lookup(state.pathway_id, state.pathway_version)
        run = _Run(self, cp, state.clone(), now, cmd.actor, cmd.reason)
        if isinstance(cmd, c.MigrateCase):
            self._migrate(run, cmd)
            return Decision(run.state, tuple(run.events))
        method = _HANDLERS.get(type(cmd))
        if method is None:
            raise EngineError(msg("command.unknown", command=type(cmd).__name__))
        method(self, run, cmd)
        return Decision(run.state, tuple(run.events))

    def plan_migration(self, state: CaseState, to_version: int,
                       step_map: Mapping[str, str] | None = None) -> MigrationPlan:
        """The dry run: what migrating `state` to `to_version` would change, and what blocks it."""
        old = self._lookup(state.pathway_id, state.pathway_version)
        new = self._lookup(state.pathway_id, to_version)
        return plan_migration(old, new, state, step_map)

    def _migrate(self, run: _Run, cmd: c.MigrateCase) -> None:
        plan = self.plan_migration(run.state, cmd.to_version, cmd.step_map)
        if not plan.possible:
            raise ConflictError(msg("migration.refused", case=run.state.id, pathway=_pathway_title(run.cp),
                                    pathway_id=run.state.pathway_id, version=cmd.to_version,
                                    blockers=list(plan.blocker_messages)))
        run.emit("case_migrated", {"from_version": plan.from_version, "to_version": plan.to_version,
                                   "changes": list(plan.changes)})
        run.cp = self._lookup(run.state.pathway_id, cmd.to_version)
        self._move_mapped(run, cmd.step_map)
        has_timer = any(t.kind is TimerKind.EVALUATION for t in run.state.pending_timers())
        evaluation = run.cp.pathway.evaluation
        if evaluation is None:
            run.cancel_timers(lambda t: t.kind is TimerKind.EVALUATION)
        elif not has_timer and run.state.status is CaseStatus.OPEN:
            run.set_timer(TimerKind.EVALUATION, run.cp.calendar.add(run.now, evaluation.every), "case", MAIN_FLOW,
                          run.state.evaluations_held + 1)

    @staticmethod
    def _move_mapped(run: _Run, step_map: Mapping[str, str]) -> None:
        """After migrating: a flow standing on a step the new version lacks goes on at its mapped step."""
        flows = [(MAIN_FLOW, run.state.main)] + [(t.id, t.position) for t in run.state.tracks.values()
                                                 if t.status is TrackStatus.ACTIVE]
        for flow, pos in flows:
            step_id = pos.step_id if pos is not None else None
            if step_id is None or step_id in run.cp.steps or step_id not in step_map:
                continue
            for task in list(run.state.tasks.values()):
                if task.step_id == step_id and task.flow == flow and task.status is TaskStatus.OPEN:
                    run.cancel_task(task)
            left = step_id

            def at_left_step(timer: Timer, flow_id: str = flow, ref: str = left) -> bool:
                return timer.flow == flow_id and timer.ref == ref

            run.cancel_timers(at_left_step)
            run.enter(flow, step_map[step_id])

    # --- commands -------------------------------------------------------------
    @staticmethod
    def _require_open(run: _Run, action: Message) -> None:
        if run.state.status is not CaseStatus.OPEN:
            raise ConflictError(msg("case.not_open", case=run.state.id,
                                    status=msg("status.case." + run.state.status.value), action=action))

    @staticmethod
    def _open_task(run: _Run, task_id: str) -> Task:
        task = run.state.tasks.get(task_id)
        if task is None:
            raise _not_found(run.state, msg("task.unknown", case=run.state.id, task_id=task_id))
        if task.status is not TaskStatus.OPEN:
            status = msg("status.task." + task.status.value)
            if task.completed_by and task.completed_at:
                raise ConflictError(msg("task.already_closed_by", task=task.title, task_id=task_id, status=status,
                                        worker=task.completed_by, at=task.completed_at))
            raise ConflictError(msg("task.already_closed", task=task.title, task_id=task_id, status=status))
        return task

    def _claim(self, run: _Run, cmd: c.ClaimTask) -> None:
        self._require_open(run, msg("action.claim"))
        task = self._open_task(run, cmd.task_id)
        if task.assignee == cmd.worker:
            return
        if task.assignee is not None:
            raise ConflictError(msg("task.claimed", task=task.title, task_id=task.id, worker=task.assignee))
        run.emit("task_claimed", {"task_id": task.id, "worker": cmd.worker})

    def _release(self, run: _Run, cmd: c.ReleaseTask) -> None:
        task = self._open_task(run, cmd.task_id)
        if task.assignee != cmd.worker:
            if task.assignee is None:
                raise ConflictError(msg("task.not_with_queue", task=task.title, task_id=task.id, worker=cmd.worker))
            raise ConflictError(msg("task.not_with", task=task.title, task_id=task.id, worker=cmd.worker,
                                    assignee=task.assignee))
        carries = run.state.assignments.get(task.role) == cmd.worker
        run.emit("task_released", {"task_id": task.id, "role": task.role, "clear_assignment": carries})

    def _reassign(self, run: _Run, cmd: c.ReassignTask) -> None:
        task = self._open_task(run, cmd.task_id)
        role = cmd.role or task.role
        if role not in run.cp.roles:
            raise ValidationError(msg("role.unknown", role=role, pathway=_pathway_title(run.cp), pathway_id=run.cp.key))
        run.emit("task_reassigned", {"task_id": task.id, "role": role, "worker": cmd.worker,
                                     "carry_case": cmd.carry_case})
        run.message("inbox", "task_reassigned", to_role=role, to_worker=cmd.worker, task_id=task.id,
                    payload={"title": task.title})

    def _complete(self, run: _Run, cmd: c.CompleteTask) -> None:
        self._require_open(run, msg("action.complete"))
        task = self._open_task(run, cmd.task_id)
        if task.type is TaskType.EVALUATION:
            self._complete_evaluation(run, task, cmd.data)
            return
        if task.type is TaskType.AD_HOC:
            adhoc.complete(run, task, cmd.data)
            return
        step = run.cp.steps[task.step_id]
        if step.kind == joint.KIND:
            errors = self._answer_errors(run.cp, step, cmd.data)
            if errors:
                raise ValidationError(msg("answer.invalid", task=task.title, task_id=task.id, step_id=step.id,
                                          problems=schema_problems(errors)))
            joint.complete(run, task, step, cmd.data)
            return
        if task.type is TaskType.PARTNER:
            errors = self._answer_errors(run.cp, step, cmd.data)
            if errors:
                raise ValidationError(msg("answer.invalid", task=task.title, task_id=task.id, step_id=step.id,
                                          problems=schema_problems(errors)))
        else:
            run.cp.validate(step.id, cmd.data, msg("subject.form", task=task.title, task_id=task.id, step_id=step.id))
            if task.assignee is None:
                # Whoever does unclaimed work takes it, and with it the role in this case (one worker
                # carries a family): the next tasks of that role go straight to them.
                run.emit("task_claimed", {"task_id": task.id, "worker": cmd.actor})
        referral = run.state.referrals.get(task.id)
        if referral is not None and ReferralStatus(referral["status"]) not in TERMINAL:
            # an answer recorded as a plain task completion (CLI, API): the worker, on the partner's behalf
            run.emit("referral_updated", {"task_id": task.id, "status": ReferralStatus.COMPLETED.value,
                                          "channel": AnswerChannel.PHONE.value})
        run.emit("task_completed", {"task_id": task.id, "data": dict(cmd.data)})
        run.resolve_escalations_of(task)
        run.cancel_timers(lambda t: t.ref == task.id or (t.kind is TimerKind.TIMEOUT and t.ref == step.id))
        pos = run.state.position_of(task.flow)
        if pos is not None and pos.step_id == step.id:
            run.follow(task.flow, step, cmd.data)

    def _complete_evaluation(self, run: _Run, task: Task, data: dict[str, Any]) -> None:
        run.cp.validate(EVALUATION_STEP, data, msg("subject.evaluation", task=task.title, task_id=task.id))
        state = run.state
        known = set(state.tracks)
        for ref in [r["track"] for r in data.get("track_reviews", [])] + [
            r["track"] for r in data.get("close_tracks", [])
        ]:
            if ref not in known:
                raise ValidationError(msg("evaluation.no_track", task=task.title, task_id=task.id, case=state.id,
                                          track=ref))
        for track_id in data.get("add_tracks", []):
            if track_id not in run.cp.tracks:
                raise ValidationError(msg("evaluation.unknown_track", task=task.title, task_id=task.id,
                                          pathway=_pathway_title(run.cp), pathway_id=run.cp.key, track=track_id))
        focus = data.get("focus")
        if focus is not None and focus not in known and focus not in data.get("add_tracks", []):
            raise ValidationError(msg("evaluation.focus", task=task.title, task_id=task.id, track=focus, case=state.id))
        run.emit("task_completed", {"task_id": task.id, "data": dict(data)})
        run.resolve_escalations_of(task)
        run.cancel_timers(lambda t: t.ref == task.id)
        for review in data.get("track_reviews", []):
            run.emit("track_progress", {"track_id": review["track"],
                                        "note": {"at": run.now.isoformat(), "progress": review["progress"],
                                                 "evaluation": task.sequence}})
        if data.get("add_tracks"):
            if state.tracks_step is None:
                raise ConflictError(msg("evaluation.no_tracks_now", task=task.title, task_id=task.id, case=state.id))
            for track_id in data["add_tracks"]:
                run.plan_track(track_id)
                if run.active_mode() is TrackMode.PARALLEL:
                    run.start_track(track_id)
        if focus is not None and state.tracks.get(focus) is not None:
            order = [focus] + [t for t in state.track_order if t != focus]
            run.emit("tracks_opened", {"step_id": state.tracks_step, "order": order, "mode": run.active_mode().value})
        for item in data.get("close_tracks", []):
            track = state.tracks[item["track"]]
            if track.status is not TrackStatus.CLOSED and state.status is CaseStatus.OPEN:
                run.close_track(track.id, item["result"])

    def _fire(self, run: _Run, cmd: c.FireTimer) -> None:
        timer = run.state.timers.get(cmd.timer_id)
        if timer is None:
            raise _not_found(run.state, msg("timer.unknown", case=run.state.id, timer=cmd.timer_id))
        if timer.status is not TimerStatus.PENDING:
            return  # cancelled, paused or already fired: firing again does nothing
        if run.now < timer.due_at:
            raise EngineError(msg("timer.not_due", timer=timer.id, due=timer.due_at, now=run.now))
        run.emit("timer_fired", {"timer_id": timer.id, "kind": timer.kind.value})
        if run.state.status is not CaseStatus.OPEN:
            return
        if timer.kind is TimerKind.TASK_DEADLINE:
            self._fire_deadline(run, timer)
        elif timer.kind is TimerKind.EVALUATION:
            self._fire_evaluation(run, timer)
        elif timer.kind in (TimerKind.WAIT, TimerKind.TIMEOUT):
            self._fire_wait(run, timer)
        else:
            self._fire_lead_time(run, timer)

    def _fire_deadline(self, run: _Run, timer: Timer) -> None:
        task = run.state.tasks.get(timer.ref)
        if task is None or task.status is not TaskStatus.OPEN:
            return
        items = run.deadlines(task)
        if timer.index >= len(items):
            return
        item = items[timer.index]
        run.emit("task_deadline_passed", {"task_id": task.id, "index": timer.index, "what": item.what})
        subject = {"task_id": task.id, "title": task.title, "due_at": task.due_at.isoformat()}
        if item.reminder is not None:
            run.message("email", "reminder_before" if item.reminder.before else "reminder_overdue",
                        to_role=item.reminder.to or task.role,
                        to_worker=None if item.reminder.to else task.assignee,
                        task_id=task.id, payload=subject)
            # A reminder changes only the task's counters, not what its deadlines are reckoned from.
            run.schedule_next_deadline(run.state.tasks[task.id], items)
            return
        if item.escalation is not None:
            run.escalate(item.escalation, {**subject, "level": task.escalation_level}, [task])
        run.schedule_next_deadline(run.state.tasks[task.id])

    def _fire_evaluation(self, run: _Run, timer: Timer) -> None:
        ev = run.cp.pathway.evaluation
        if ev is None:
            return
        already_open = any(t.type is TaskType.EVALUATION and t.status is TaskStatus.OPEN for t in run.state.tasks.values())
        if not already_open:
            run.open_task(TaskType.EVALUATION, MAIN_FLOW, EVALUATION_STEP, f"{ev.title} ({timer.index})",
                          ev.role, role_calendar(run.cp, ev.role).due(run.now, ev.due), sequence=timer.index)
        run.set_timer(TimerKind.EVALUATION, run.cp.calendar.add(timer.due_at, ev.every), "case", MAIN_FLOW,
                      timer.index + 1)

    def _fire_wait(self, run: _Run, timer: Timer) -> None:
        pos = run.state.position_of(timer.flow)
        if pos is None or pos.step_id != timer.ref:
            return  # the flow moved on: nothing to do
        step = run.cp.steps[timer.ref]
        for task in list(run.state.tasks.values()):
            if task.step_id == step.id and task.status is TaskStatus.OPEN:
                run.cancel_task(task, ReferralStatus.FAILED, "geen antwoord binnen de termijn")
        if timer.kind is TimerKind.TIMEOUT and step.on_timeout is not None:
            run.enter(timer.flow, step.on_timeout)
        else:
            run.follow(timer.flow, step, None)

    def _fire_lead_time(self, run: _Run, timer: Timer) -> None:
        flow = timer.flow
        lead: LeadTime | None
        if timer.kind is TimerKind.CASE_LEAD_TIME:
            lead = run.cp.pathway.lead_time
        else:
            track = run.state.tracks.get(flow)
            if track is None or track.status is not TrackStatus.ACTIVE:
                return
            lead = run.cp.tracks[flow].lead_time
        if lead is None:
            return
        if timer.index == 0:
            run.emit("lead_time_exceeded", {"flow": flow})
            breach = timer.due_at
        else:
            rung = lead.on_exceeded[timer.index - 1]
            tasks = [t for t in run.state.open_tasks() if flow == MAIN_FLOW or t.flow == flow]
            run.escalate(rung, {"flow": flow, "lead_time": str(lead.within), "level": timer.index}, tasks)
            exceeded = (
                run.state.lead_time_exceeded_at if flow == MAIN_FLOW else run.state.tracks[flow].lead_time_exceeded_at
            )
            assert exceeded is not None
            breach = exceeded
        if timer.index < len(lead.on_exceeded):
            nxt = lead.on_exceeded[timer.index]
            run.set_timer(timer.kind, max(run.cp.calendar.add(breach, nxt.after), run.now), timer.ref, flow,
                          timer.index + 1)

    def _suspend(self, run: _Run, cmd: c.SuspendCase) -> None:
        self._require_open(run, msg("action.suspend"))
        if not cmd.reason:
            raise ValidationError(msg("case.pause_reason", case=run.state.id))
        run.emit("case_suspended", {})

    def _resume(self, run: _Run, cmd: c.ResumeCase) -> None:
        if run.state.status is not CaseStatus.SUSPENDED or run.state.suspended_at is None:
            raise ConflictError(msg("case.not_paused", case=run.state.id,
                                    status=msg("status.case." + run.state.status.value)))
        cal, since = run.cp.calendar, run.state.suspended_at
        run.emit("case_resumed", {
            "timers": {t.id: cal.postpone(t.due_at, since, run.now).isoformat()
                       for t in run.state.timers.values() if t.status is TimerStatus.PAUSED},
            "tasks": {t.id: cal.postpone(t.due_at, since, run.now).isoformat() for t in run.state.open_tasks()},
        })

    def _close(self, run: _Run, cmd: c.CloseCase) -> None:
        if run.state.status is CaseStatus.CLOSED:
            ended = run.cp.outcomes.get(run.state.outcome or "")
            raise ConflictError(msg("case.already_closed", case=run.state.id, outcome_code=run.state.outcome,
                                    outcome=ended.label if ended is not None else run.state.outcome or "-"))
        reason = run.cp.close_reasons.get(cmd.reason_code)
        if reason is None:
            raise ValidationError(msg("close.unknown_reason", pathway=_pathway_title(run.cp), pathway_id=run.cp.key,
                                      reason=cmd.reason_code, known=list(run.cp.close_reasons)))
        outcome = cmd.outcome or reason.outcome
        if outcome is None or outcome not in run.cp.outcomes:
            raise ValidationError(msg("close.outcome_needed", reason=cmd.reason_code, pathway=_pathway_title(run.cp),
                                      pathway_id=run.cp.key, known=list(run.cp.outcomes), outcome=outcome or "-"))
        run.close_case(outcome, cmd.reason_code)

    def _reopen(self, run: _Run, cmd: c.ReopenCase) -> None:
        state = run.state
        p = run.cp.pathway
        if state.status is not CaseStatus.CLOSED or state.closed_at is None:
            raise ConflictError(msg("reopen.not_closed", case=state.id, status=msg("status.case." + state.status.value)))
        if p.reopen_within is None:
            raise ConflictError(msg("reopen.not_allowed", pathway=_pathway_title(run.cp), pathway_id=run.cp.key))
        limit = run.cp.calendar.add(state.closed_at, p.reopen_within)
        if run.now > limit:
            raise ConflictError(msg("reopen.too_late", case=state.id, until=limit))
        step_id = cmd.step_id or p.first_step
        if run.cp.step_flow.get(step_id) != MAIN_FLOW:
            raise ValidationError(msg("reopen.no_step", pathway=_pathway_title(run.cp), pathway_id=run.cp.key,
                                      step=step_id))
        run.emit("case_reopened", {"step_id": step_id})
        if p.evaluation is not None:
            run.set_timer(TimerKind.EVALUATION, run.cp.calendar.add(run.now, p.evaluation.every), "case", MAIN_FLOW, 1)
        run.enter(MAIN_FLOW, step_id)

    def _add_track(self, run: _Run, cmd: c.AddTrack) -> None:
        self._require_open(run, msg("action.add_track"))
        if cmd.track_id not in run.cp.tracks:
            raise ValidationError(msg("track.unknown", pathway=_pathway_title(run.cp), pathway_id=run.cp.key,
                                      track=cmd.track_id))
        if run.state.tracks_step is None:
            raise ConflictError(msg("tracks.not_now", case=run.state.id))
        run.plan_track(cmd.track_id)
        if run.active_mode() is TrackMode.PARALLEL:
            run.start_track(cmd.track_id)

    def _origin(self, run: _Run, cmd: c.RegisterOrigin) -> None:
        if not run.cp.pathway.origin_registration:
            raise ValidationError(msg("origin.not_registered", pathway=_pathway_title(run.cp), pathway_id=run.cp.key))
        if run.state.origin_objection:
            raise ConflictError(msg("origin.objected", case=run.state.id))
        unknown = sorted(set(cmd.origin) - _ORIGIN_KEYS)
        if unknown:
            raise ValidationError(msg("origin.unknown_keys", allowed=sorted(_ORIGIN_KEYS), unknown=unknown))
        bad = {k: v for k, v in cmd.origin.items() if not (isinstance(v, str) and len(v) == 2 and v.isalpha() and v.isupper())}
        if bad:
            raise ValidationError(msg("origin.bad_codes", bad=[f"{k}={v!r}" for k, v in sorted(bad.items())]))
        run.emit("origin_registered", {"origin": dict(cmd.origin)})

    def _object_origin(self, run: _Run, cmd: c.ObjectToOrigin) -> None:
        run.emit("origin_objected", {})

    def _resolve(self, run: _Run, cmd: c.ResolveEscalation) -> None:
        if not any(e["id"] == cmd.escalation_id for e in run.state.open_escalations):
            raise NotFoundError(msg("escalation.unknown", case=run.state.id, escalation=cmd.escalation_id))
        run.emit("escalation_resolved", {"escalation_id": cmd.escalation_id})

    def _answer_referral(self, run: _Run, cmd: c.AnswerReferral) -> None:
        """One partner answer, however it came in; `completed` records the outcome like a form."""
        self._require_open(run, msg("action.answer_referral"))
        record = run.state.referrals.get(cmd.task_id)
        if record is None:
            raise NotFoundError(msg("referral.unknown", case=run.state.id, referral=cmd.task_id))
        try:
            channel = AnswerChannel(cmd.channel)
        except ValueError:
            raise ValidationError(msg("referral.channel", channel=cmd.channel)) from None
        new = parse_status(cmd.status)
        task = run.state.tasks.get(cmd.task_id)
        if task is None:  # a closed partner request: its record is live, the task is history
            raise _not_found(run.state, msg("task.unknown", case=run.state.id, task_id=cmd.task_id))
        check_transition(cmd.task_id, ReferralStatus(record["status"]), new, task.title)
        if new is ReferralStatus.REJECTED and not (cmd.reason or "").strip():
            raise ValidationError(msg("referral.reason_needed", task=task.title, task_id=cmd.task_id))
        if new is ReferralStatus.COMPLETED:
            if task.status is not TaskStatus.OPEN:
                raise ConflictError(msg("referral.answered", task=task.title, task_id=cmd.task_id))
            run.emit("referral_updated", {"task_id": task.id, "status": new.value, "channel": channel.value})
            self._complete(run, c.CompleteTask(case_id=cmd.case_id, actor=cmd.actor, task_id=task.id,
                                               data=dict(cmd.data)))
            return
        data: dict[str, Any] = {"task_id": task.id, "status": new.value, "channel": channel.value}
        if cmd.reason:
            data["reason"] = cmd.reason
        run.emit("referral_updated", data)
        if channel is AnswerChannel.LINK and new not in TERMINAL and new is not ReferralStatus.RECEIVED:
            # the link was spent on this answer: the partner gets a fresh one for the next
            run.message("email", "referral_link", to_role=task.role, task_id=task.id,
                        payload={"task_id": task.id, "title": task.title, "due_at": task.due_at.isoformat()})
        if new in TERMINAL and task.status is TaskStatus.OPEN:
            # rejected, cancelled or failed: the flow goes where a timeout would (the worker follows up)
            step = run.cp.steps[task.step_id]
            run.emit("task_cancelled", {"task_id": task.id})
            run.cancel_timers(lambda t: t.ref == task.id or (t.kind is TimerKind.TIMEOUT and t.ref == step.id))
            pos = run.state.position_of(task.flow)
            if pos is not None and pos.step_id == step.id:
                if step.on_timeout is not None:
                    run.enter(task.flow, step.on_timeout)
                else:
                    run.follow(task.flow, step, {})

    def _record_consent(self, run: _Run, cmd: c.RecordConsent) -> None:
        """Record the client's consent for a partner and send the referrals that waited for it."""
        self._require_open(run, msg("action.consent"))
        role = run.cp.roles.get(cmd.partner)
        if role is None or role.kind is not RoleKind.PARTNER:
            raise ValidationError(msg("consent.not_partner", partner=role.title if role is not None else cmd.partner,
                                      partner_id=cmd.partner, pathway=_pathway_title(run.cp), pathway_id=run.cp.key))
        run.emit("consent_recorded", {"partner": cmd.partner})
        for flow, held in list(run.state.held_referrals.items()):
            pos = run.state.position_of(flow)
            if held["partner"] == cmd.partner and pos is not None and pos.step_id == held["step_id"]:
                run.enter(flow, held["step_id"])

    def _meeting_decision(self, run: _Run, cmd: c.RecordMeetingDecision) -> None:
        text = cmd.decision.strip()
        if not text:
            raise ValidationError(msg("meeting.decision_empty", case=run.state.id))
        if len(text) > MAX_DECISION:
            raise ValidationError(msg("meeting.decision_long", case=run.state.id, limit=MAX_DECISION))
        run.emit("meeting_decision_recorded", {"meeting": cmd.meeting, "decision": text})

    def _update_data(self, run: _Run, cmd: c.UpdateCaseData) -> None:
        self._require_open(run, msg("action.change_data"))
        merged = {**run.state.data, **cmd.changes}
        run.cp.validate("case_data", merged, msg("subject.case_data_of", case=run.state.id))
        run.emit("case_data_updated", {"changes": dict(cmd.changes)})


_HANDLERS: dict[type, Callable[[Engine, _Run, Any], None]] = {
    c.ClaimTask: Engine._claim,
    c.ReleaseTask: Engine._release,
    c.ReassignTask: Engine._reassign,
    c.CompleteTask: Engine._complete,
    c.FireTimer: Engine._fire,
    c.SuspendCase: Engine._suspend,
    c.ResumeCase: Engine._resume,
    c.CloseCase: Engine._close,
    c.ReopenCase: Engine._reopen,
    c.AddTrack: Engine._add_track,
    c.RegisterOrigin: Engine._origin,
    c.ObjectToOrigin: Engine._object_origin,
    c.ResolveEscalation: Engine._resolve,
    c.UpdateCaseData: Engine._update_data,
    c.AnswerReferral: Engine._answer_referral,
    c.RecordConsent: Engine._record_consent,
    c.RecordMeetingDecision: Engine._meeting_decision,
    c.AddTask: adhoc.add,
}


def _not_found(state: CaseState, message: Message) -> NotFoundError:
    """Not found in a whole state; in a live one perhaps closed history (`HistoryNeeded`)."""
    return HistoryNeeded(message) if state.live else NotFoundError(message)


def _pathway_title(cp: CompiledPathway) -> str:
    return cp.pathway.title or cp.key


def _step_title(cp: CompiledPathway, step_id: str) -> str:
    step = cp.steps.get(step_id)
    return (step.title if step is not None else "") or step_id


def _track_title(cp: CompiledPathway, track_id: str) -> str:
    track = cp.tracks.get(track_id)
    return (track.title if track is not None else "") or track_id


def _funder_of(cmd: c.StartCase, pathway: Any) -> dict[str, str]:
    """The funder a new case records: the one named at its start, else the pathway's; none when
    neither names one (the municipality pays). A malformed funder key is refused."""
    if cmd.funder is not None:
        kind, code = parse_funder_key(cmd.funder)
        return {"funder": f"{kind.value}:{code}"}
    if pathway.funder is not None:
        return {"funder": pathway.funder.key}
    return {}


_HANDLERS.update(handover.COMMANDS)
