"""Checks beyond the JSON Schema: references, flow shape, durations and expressions.

Runs on the raw data even when the structural check found problems, so a
coordinator sees everything in one go; every access is therefore defensive
(a value of the wrong type is skipped here, the structural check reported it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine import flow_graph, semantic_constructs
from engine.definition import BUILTIN_KINDS, CalendarKind, RoleKind, StepKind
from engine.durations import UNIT_WORDS, DurationError, Unit, parse_duration
from engine.errors import Problem
from engine.expressions import referenced_names, syntax_problem
from engine.kinds import TaskKindSpec
from engine.problem_texts import Text, all_of, one_of, text
from engine.schema_check import check_against, check_embedded_schema
from engine.suggest import did_you_mean, near_miss
from engine.yaml_source import PathKey, SourceDocument

_PEOPLE = frozenset({RoleKind.WORKER, RoleKind.COORDINATOR, RoleKind.MANAGER})
_PARTNERS = frozenset({RoleKind.PARTNER})
MAIN = ""  # flow key of the main flow; tracks use their id
_Found = tuple[Text, Text | None] | None  # (message, hint) of a wrong name in an expression, or None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class _Step:
    path: PathKey
    data: dict[str, Any]
    id: str
    kind: str
    flow: str  # MAIN or a track id


@dataclass
class _Flow:
    key: str
    path: PathKey  # path of the `steps` list
    steps: list[_Step] = field(default_factory=list)

    @property
    def label(self) -> Text:
        return text("deel-hoofdstroom") if self.key == MAIN else text("deel-spoor", track=self.key)


@dataclass(frozen=True)
class _Names:
    """Which expression roots an expression may use, and from which step."""

    roots: frozenset[str]
    site: Text  # e.g. "a trigger condition", for messages
    step: _Step | None = None


class SemanticChecker:
    """Collects every problem beyond the schema; `run` returns them."""

    def __init__(self, doc: SourceDocument, kinds: Mapping[str, TaskKindSpec]) -> None:
        self.doc = doc
        self.data = _dict(doc.data)
        self.kinds = kinds
        self.problems: list[Problem] = []
        calendar = _text(self.data.get("calendar"))
        self.calendar = calendar if calendar in {c.value for c in CalendarKind} else None
        self.roles: dict[str, RoleKind] = {}
        for role in _list(self.data.get("roles")):
            role_id, kind = _text(_dict(role).get("id")), _text(_dict(role).get("kind"))
            if role_id is not None and kind in {k.value for k in RoleKind}:
                self.roles.setdefault(role_id, RoleKind(kind))
        self.outcomes = {c for o in _list(self.data.get("outcomes")) if (c := _text(_dict(o).get("code")))}
        self.track_ids = [t for tr in _list(self.data.get("tracks")) if (t := _text(_dict(tr).get("id")))]
        self.case_schema = _dict(self.data.get("case_data"))
        self.flows = self._collect_flows()
        self.steps: dict[str, _Step] = {}
        for flow in self.flows.values():
            for step in flow.steps:
                self.steps.setdefault(step.id, step)
        self.edges: dict[str, dict[str, set[str]]] = {key: self._edges(flow) for key, flow in self.flows.items()}
        self._ancestors: dict[str, set[str]] = {}
        self._backward: dict[str, dict[str, set[str]]] = {}

    def report(self, path: PathKey, message: Text, hint: Text | None = None, *, key: bool = False,
               at: PathKey | None = None) -> None:
        """Add a problem about `path`, located at `path` (or at `at`, for a missing element)."""
        problem = self.doc.problem(path, message, hint, key=key)
        if at is not None:
            line, column = self.doc.locate(at)
            problem = Problem.of(problem.file, line, column, problem.path, message, hint)
        self.problems.append(problem)

    def run(self) -> list[Problem]:
        if not self.data:
            return self.problems
        self._check_duplicates()
        self._check_calendar()
        self._check_durations()
        self._check_roles()
        self._check_case_data()
        self._check_triggers()
        self._check_outcomes()
        for flow in self.flows.values():
            for step in flow.steps:
                self._check_step(flow, step)
            self._check_flow_shape(flow)
        self._check_tracks_started()
        self._check_evaluation()
        self._check_reminders(("defaults",), _dict(self.data.get("defaults")))
        self._check_ddas()
        semantic_constructs.run(self)
        return self.problems

    def _check_ddas(self) -> None:
        """Early signalling: the DDAS end results name declared codes, and every outcome has one."""
        results = _dict(_dict(self.data.get("ddas")).get("end_results"))
        reasons = {c for r in _list(self.data.get("close_reasons")) if (c := _text(_dict(r).get("code")))}
        for key, known, what in (("by_close_reason", reasons, "deel-sluitreden"),
                                 ("by_outcome", self.outcomes, "deel-uitkomst")):
            for code in _dict(results.get(key)):
                if code not in known:
                    self.report(("ddas", "end_results", key, code), text("onbekende-ddas-code", what=text(what), code=code),
                                did_you_mean(code, known) or text("hint-gedeclareerd", options=one_of(sorted(known))),
                                key=True)
        if "by_outcome" in results:
            missing = sorted(set(self.outcomes) - set(_dict(results.get("by_outcome"))))
            if missing:
                self.report(("ddas", "end_results", "by_outcome"),
                            text("ddas-uitkomst-zonder-eindresultaat", outcomes=", ".join(missing)),
                            text("hint-ddas-elke-uitkomst"))

    # ------------------------------------------------------------ collecting

    def _collect_flows(self) -> dict[str, _Flow]:
        flows = {MAIN: self._flow(MAIN, ("steps",), self.data.get("steps"))}
        for index, track in enumerate(_list(self.data.get("tracks"))):
            track_id = _text(_dict(track).get("id"))
            if track_id is not None and track_id not in flows:
                flows[track_id] = self._flow(track_id, ("tracks", index, "steps"), _dict(track).get("steps"))
        return flows

    def _flow(self, key: str, path: PathKey, steps: Any) -> _Flow:
        flow = _Flow(key, path)
        for index, raw in enumerate(_list(steps)):
            data = _dict(raw)
            step_id, kind = _text(data.get("id")), _text(data.get("kind"))
            if step_id is not None and kind is not None:
                flow.steps.append(_Step((*path, index), data, step_id, kind, key))
        return flow

    def _edges(self, flow: _Flow) -> dict[str, set[str]]:
        ids = {s.id for s in flow.steps}
        edges: dict[str, set[str]] = {}
        for step in flow.steps:
            targets = {t for _, t in self._targets(step)}
            edges.setdefault(step.id, set()).update(t for t in targets if t in ids)
        return edges

    @staticmethod
    def _targets(step: _Step) -> Iterator[tuple[PathKey, str]]:
        """(path, step id) of every way out of `step`."""
        nxt = step.data.get("next")
        if isinstance(nxt, str):
            yield (*step.path, "next"), nxt
        for index, branch in enumerate(_list(nxt)):
            goto = _text(_dict(branch).get("goto"))
            if goto is not None:
                yield (*step.path, "next", index, "goto"), goto
        for key in ("on_max_visits", "on_timeout"):
            target = _text(step.data.get(key))
            if target is not None:
                yield (*step.path, key), target

    # ------------------------------------------------------------ whole-file checks

    def _check_duplicates(self) -> None:
        for section, key, what in (("roles", "id", "deel-id-rol"), ("tracks", "id", "deel-id-spoor"),
                                   ("outcomes", "code", "deel-id-uitkomst"), ("close_reasons", "code", "deel-id-sluitreden"),
                                   ("triggers", "type", "deel-id-signaal")):
            seen: dict[str, PathKey] = {}
            for index, item in enumerate(_list(self.data.get(section))):
                value = _text(_dict(item).get(key))
                if value is None:
                    continue
                path: PathKey = (section, index, key)
                if value in seen:
                    first_line = self.doc.locate(seen[value])[0]
                    self.report(path, text("id-dubbel", what=text(what), value=value, first=first_line),
                                text("hint-id-uniek"))
                else:
                    seen[value] = path
        first: dict[str, _Step] = {}
        for flow in self.flows.values():
            for step in flow.steps:
                if step.id in first:
                    other = first[step.id]
                    where: Text | str = ("" if other.flow == step.flow
                                         else text("deel-in-stroom", flow=self.flows[other.flow].label))
                    line = self.doc.locate((*other.path, "id"))[0]
                    self.report((*step.path, "id"), text("stap-id-dubbel", step=step.id, first=line, where=where),
                                text("hint-stap-id-uniek"))
                else:
                    first[step.id] = step

    def _check_calendar(self) -> None:
        holidays = self.data.get("school_holidays")
        if self.calendar == CalendarKind.SCHOOL_WEEKS.value and not holidays:
            self.report(("school_holidays",), text("schoolvakanties-nodig"), text("hint-schoolvakanties"),
                        at=("calendar",))
        elif holidays and self.calendar not in (None, CalendarKind.SCHOOL_WEEKS.value):
            self.report(("school_holidays",), text("schoolvakanties-niet-bij-kalender", calendar=str(self.calendar)),
                        text("hint-schoolvakanties-weg"), key=True)
        for index, holiday in enumerate(_list(holidays)):
            first, last = _text(_dict(holiday).get("from")), _text(_dict(holiday).get("to"))
            if first and last and len(first) == len(last) == 10 and last < first:
                self.report(("school_holidays", index, "to"), text("vakantie-eindigt-voor-begin", last=last, first=first))

    def _duration_paths(self) -> Iterator[PathKey]:
        data = self.data
        if "reopen_within" in data:
            yield ("reopen_within",)
        yield from _chain_paths(data.get("defaults"), ("defaults",))
        yield from _lead_time_paths(data.get("lead_time"), ("lead_time",))
        evaluation = _dict(data.get("evaluation"))
        for key in ("every", "due"):
            if key in evaluation:
                yield ("evaluation", key)
        yield from _chain_paths(evaluation, ("evaluation",))
        if "every" in _dict(data.get("partner_meeting")):
            yield ("partner_meeting", "every")
        for index, track in enumerate(_list(data.get("tracks"))):
            yield from _lead_time_paths(_dict(track).get("lead_time"), ("tracks", index, "lead_time"))
        for key in _dict(data.get("retention")):
            yield ("retention", key)
        for flow in self.flows.values():
            for step in flow.steps:
                for key in ("due", "timeout"):
                    if key in step.data:
                        yield (*step.path, key)
                yield from _chain_paths(step.data, step.path)
                yield from _chain_paths(step.data.get("params"), (*step.path, "params"))
                spec = self.kinds.get(step.kind)
                params = _dict(step.data.get("params"))
                for name in spec.duration_params if spec else ():
                    if name in params:
                        yield (*step.path, "params", name)

    def _check_durations(self) -> None:
        for path in self._duration_paths():
            value = _value(self.data, path)
            if not isinstance(value, str):
                continue  # wrong type: reported by the structural check
            try:
                duration = parse_duration(value)
            except DurationError as exc:
                self.report(path, exc.text, _duration_hint(value))
                continue
            where = (semantic_constructs.working_calendar_problem(self, path)
                     if duration.unit in (Unit.WORKING_DAYS, Unit.WORKING_WEEKS) else None)
            if where is not None:
                self.report(path, text("werkdagen-op-24x7", value=value, where=text(where)),
                            text("hint-dagen-of-kalender"))

    def _role_refs(self) -> Iterator[tuple[PathKey, frozenset[RoleKind], Text]]:
        """(path, allowed role kinds, what) of every reference to a role."""
        data = self.data
        for index, trigger in enumerate(_list(data.get("triggers"))):
            if "source" in _dict(trigger):
                yield ("triggers", index, "source"), _PARTNERS, text("deel-rol-bron-signaal")
        for path in self._chain_owners():
            container = _dict(_value(data, path))
            for key in ("reminders", "escalation", "on_exceeded"):
                for index, item in enumerate(_list(container.get(key))):
                    if "to" in _dict(item):
                        yield (*path, key, index, "to"), _PEOPLE, text("deel-rol-herinnering")
        if "role" in _dict(data.get("evaluation")):
            yield ("evaluation", "role"), _PEOPLE, text("deel-rol-evaluatie")
        meeting = _dict(data.get("partner_meeting"))
        if "chair" in meeting:
            yield ("partner_meeting", "chair"), _PEOPLE, text("deel-rol-voorzitter")
        for index, _attendee in enumerate(_list(meeting.get("attendees"))):
            yield ("partner_meeting", "attendees", index), _PARTNERS, text("deel-rol-deelnemer")
        for index, track in enumerate(_list(data.get("tracks"))):
            if "owner" in _dict(track):
                yield ("tracks", index, "owner"), _PEOPLE, text("deel-rol-eigenaar-spoor")
        for flow in self.flows.values():
            for step in flow.steps:
                if "role" in step.data:
                    yield (*step.path, "role"), _PEOPLE, text("deel-rol-taak")
                spec = self.kinds.get(step.kind)
                params = _dict(step.data.get("params"))
                for param in spec.role_params if spec else ():
                    value = params.get(param.name)
                    if isinstance(value, str) and value not in param.also_allowed:
                        yield (*step.path, "params", param.name), param.kinds, text("deel-rol-param", param=param.name, kind=step.kind)

    def _chain_owners(self) -> Iterator[PathKey]:
        """Paths of every mapping that holds reminders/escalation/on_exceeded lists."""
        yield ("defaults",)
        yield ("lead_time",)
        yield ("evaluation",)
        for index, _track in enumerate(_list(self.data.get("tracks"))):
            yield ("tracks", index, "lead_time")
        for flow in self.flows.values():
            for step in flow.steps:
                yield step.path
                if isinstance(step.data.get("params"), dict):
                    yield (*step.path, "params")  # a request_partner step's chain for the partner

    def _check_roles(self) -> None:
        for path, allowed, what in self._role_refs():
            role_id = _value(self.data, path)
            if not isinstance(role_id, str):
                continue
            if role_id not in self.roles:
                self.report(path, text("onbekende-rol", role=role_id),
                            did_you_mean(role_id, self.roles) or text("hint-gedeclareerde-rollen", options=one_of(self.roles)))
            elif allowed and self.roles[role_id] not in allowed:
                kinds = one_of(sorted(k.value for k in allowed))
                self.report(path, text("rol-verkeerde-soort", role=role_id, kind=self.roles[role_id].value, what=what,
                                       kinds=kinds))

    def _check_case_data(self) -> None:
        if "case_data" in self.data:
            self.problems.extend(check_embedded_schema(self.doc, ("case_data",), self.data["case_data"],
                                                       "deel-wat-zaakgegevens"))
        properties = _dict(self.case_schema.get("properties"))
        for index, name in enumerate(_list(self.data.get("personal_data"))):
            if isinstance(name, str) and name not in properties:
                self.report(("personal_data", index), text("geen-zaakveld", name=name),
                            did_you_mean(name, properties) or text("hint-alleen-zaakvelden"))

    def _check_triggers(self) -> None:
        names = _Names(frozenset({"case", "now"}), text("deel-plek-signaal"))
        for index, trigger in enumerate(_list(self.data.get("triggers"))):
            condition = _dict(trigger).get("condition")
            if isinstance(condition, str):
                self._check_expression(("triggers", index, "condition"), condition, names)

    def _check_outcomes(self) -> None:
        for index, reason in enumerate(_list(self.data.get("close_reasons"))):
            outcome = _text(_dict(reason).get("outcome"))
            if outcome is not None and outcome not in self.outcomes:
                self.report(("close_reasons", index, "outcome"), text("onbekende-uitkomst", outcome=outcome),
                            did_you_mean(outcome, self.outcomes)
                            or text("hint-gedeclareerde-uitkomsten", options=one_of(sorted(self.outcomes))))

    # ------------------------------------------------------------ steps

    def _check_step(self, flow: _Flow, step: _Step) -> None:
        kind, data = step.kind, step.data
        spec = self.kinds.get(kind)
        if kind not in BUILTIN_KINDS and spec is None:
            self.report((*step.path, "kind"), text("onbekende-stapsoort", kind=kind),
                        did_you_mean(kind, [*sorted(BUILTIN_KINDS), *sorted(self.kinds)])
                        or text("hint-gebruik", options=one_of([*sorted(BUILTIN_KINDS), *sorted(self.kinds)])))
            return
        if flow.key == MAIN and kind == StepKind.CLOSE_TRACK.value:
            self.report((*step.path, "kind"), text("close-track-in-hoofdstroom"), text("hint-hoofdstroom-eindigt"))
        if flow.key != MAIN and kind in (StepKind.END.value, StepKind.TRACKS.value):
            self.report((*step.path, "kind"), text("end-niet-in-spoor") if kind == "end"
                        else text("stapsoort-niet-in-spoor", kind=kind), text("hint-spoor-eindigt"))
        if kind == StepKind.HUMAN_TASK.value:
            if flow.key == MAIN and "role" not in data and near_miss("role", data) is None:
                self.report((*step.path, "role"), text("taak-zonder-rol"), text("hint-taak-rol"))
            if "form" in data:
                self.problems.extend(check_embedded_schema(self.doc, (*step.path, "form"), data["form"],
                                                           "deel-wat-formulier"))
        if kind == StepKind.END.value:
            outcome = _text(data.get("outcome"))
            if outcome is not None and outcome not in self.outcomes:
                self.report((*step.path, "outcome"), text("onbekende-uitkomst", outcome=outcome),
                            did_you_mean(outcome, self.outcomes)
                            or text("hint-gedeclareerde-uitkomsten", options=one_of(sorted(self.outcomes))))
            reason = _text(data.get("close_reason"))
            reasons = {c for r in _list(self.data.get("close_reasons")) if (c := _text(_dict(r).get("code")))}
            if reason is not None and reason not in reasons:
                self.report((*step.path, "close_reason"), text("onbekende-sluitreden", reason=reason),
                            did_you_mean(reason, reasons)
                            or text("hint-gedeclareerde-sluitredenen", options=one_of(sorted(reasons))))
        if kind == StepKind.TRACKS.value:
            self._check_tracks_step(step)
        if spec is not None:
            self._check_task_step(step, spec)
        self._check_reminders(step.path, data)
        self._check_branches(flow, step)

    def _check_reminders(self, path: PathKey, owner: dict[str, Any]) -> None:
        for index, reminder in enumerate(_list(owner.get("reminders"))):
            reminder = _dict(reminder)
            has = [k for k in ("before", "after") if k in reminder]
            if len(has) != 1:
                self.report((*path, "reminders", index), text("herinnering-voor-of-na"), text("hint-herinnering"))

    def _check_tracks_step(self, step: _Step) -> None:
        data = step.data
        has = [k for k in ("tracks", "tracks_from") if k in data]
        if len(has) != 1:
            self.report(step.path, text("tracks-stap-tracks-of-from", step=step.id), text("hint-tracks-of-from"))
        for index, track_id in enumerate(_list(data.get("tracks"))):
            if isinstance(track_id, str) and track_id not in self.track_ids:
                self.report((*step.path, "tracks", index), text("onbekend-spoor", track=track_id),
                            did_you_mean(track_id, self.track_ids)
                            or text("hint-gedeclareerde-sporen", options=one_of(self.track_ids)))
        source = data.get("tracks_from")
        if isinstance(source, str):
            self._check_expression((*step.path, "tracks_from"), source,
                                   _Names(frozenset({"case", "steps", "now"}), text("deel-plek-param", param="tracks_from"),
                                          step))

    def _check_task_step(self, step: _Step, spec: TaskKindSpec) -> None:
        data = step.data
        if "timeout" in data and not spec.waits_for_answer:
            self.report((*step.path, "timeout"), text("timeout-wacht-niet", kind=step.kind),
                        text("hint-alleen-wachten-timeout"), key=True)
        params = data.get("params", {})
        if not isinstance(params, dict):
            return  # reported by the structural check
        self.problems.extend(check_against(self.doc, (*step.path, "params"), params, spec.params_schema))
        if spec.answer_schema_param is not None and isinstance(params.get(spec.answer_schema_param), dict):
            self.problems.extend(check_embedded_schema(
                self.doc, (*step.path, "params", spec.answer_schema_param), params[spec.answer_schema_param],
                "deel-wat-antwoord"))
        for name in spec.expression_params:
            source = params.get(name)
            if isinstance(source, str):
                self._check_expression((*step.path, "params", name), source,
                                       _Names(frozenset({"case", "steps", "now"}), text("deel-plek-param", param=name),
                                              step))
        if not self.data.get("origin_registration"):
            for name in spec.origin_params:
                if params.get(name) is True:
                    self.report((*step.path, "params", name), text("herkomst-niet-toegestaan", param=name),
                                text("hint-herkomst"))

    def _check_branches(self, flow: _Flow, step: _Step) -> None:
        ids = self.edges[flow.key].keys()
        for path, target in self._targets(step):
            if target in ids:
                continue
            other = self.steps.get(target)
            if other is not None:
                self.report(path, text("stap-in-andere-stroom", step=target, other=self.flows[other.flow].label,
                                       flow=flow.label))
            else:
                self.report(path, text("onbekende-stap", step=target),
                            did_you_mean(target, ids)
                            or text("hint-stappen-van", flow=flow.label, options=one_of(sorted(ids))))
        branches = step.data.get("next")
        if not isinstance(branches, list):
            return
        names = _Names(frozenset({"case", "form", "steps", "tracks", "now"}), text("deel-plek-tak"), step)
        last = len(branches) - 1
        for index, branch in enumerate(branches):
            branch = _dict(branch)
            when = branch.get("when")
            if index < last and "when" not in branch:
                self.report((*step.path, "next", index), text("tak-zonder-when"), text("hint-tak-when"))
            if index == last and "when" in branch:
                self.report((*step.path, "next", index, "when"), text("laatste-tak-met-when"),
                            text("hint-laatste-tak", step=step.id), key=True)
            if isinstance(when, str):
                self._check_expression((*step.path, "next", index, "when"), when, names)

    # ------------------------------------------------------------ flow shape

    def _check_flow_shape(self, flow: _Flow) -> None:
        """Reachability, a way to finish from every step, and a limit on every loop.

        Skipped for a flow that points at unknown steps: its graph is not the
        one the coordinator meant, and the unknown step is already reported.
        """
        ids = {s.id for s in flow.steps}
        if not flow.steps or any(t not in ids for s in flow.steps for _, t in self._targets(s)):
            return
        edges = self.edges[flow.key]
        order = {s.id: i for i, s in enumerate(flow.steps)}
        by_id = {s.id: s for s in reversed(flow.steps)}
        reached = flow_graph.reachable([flow.steps[0].id], edges)
        self._check_unreached(flow, edges, reached, order, by_id)
        terminal = StepKind.END.value if flow.key == MAIN else StepKind.CLOSE_TRACK.value
        # an end in a track or a close_track in the main flow is reported as misplaced; count it as final
        finals = [s.id for s in flow.steps if s.kind in (StepKind.END.value, StepKind.CLOSE_TRACK.value)]
        if not finals:
            self.report(flow.path, text("stroom-zonder-einde", flow=flow.label, kind=terminal),
                        text("hint-eindstap-toevoegen", kind=terminal))
        else:
            can_finish = flow_graph.reachable(finals, flow_graph.reverse(edges))
            stuck = sorted((s for s in reached if s not in can_finish), key=order.__getitem__)
            for group in _source_or_sink_groups(stuck, edges, sinks=True):
                first = min(group, key=order.__getitem__)
                self.report((*by_id[first].path, "id"), text("stap-kan-niet-afronden", step=first, kind=terminal),
                            text("hint-lus-uitweg", steps=all_of(sorted(group, key=order.__getitem__)))
                            if len(group) > 1 else text("hint-tak-naar-einde", step=first, kind=terminal))
        bounded = {s.id for s in flow.steps if "max_visits" in s.data}
        for loop in flow_graph.cycles_without([s.id for s in flow.steps], edges, bounded):
            ordered = sorted(loop, key=order.__getitem__)
            first = ordered[0]
            shown = " → ".join([*ordered, ordered[0]])
            self.report((*by_id[first].path, "id"), text("lus-zonder-grens", loop=shown),
                        text("hint-lus-grens", step=first))

    def _check_unreached(self, flow: _Flow, edges: dict[str, set[str]], reached: set[str],
                         order: dict[str, int], by_id: dict[str, _Step]) -> None:
        """Report where unreachable parts begin, not every step behind them."""
        unreached = sorted((s for s in order if s not in reached), key=order.__getitem__)
        for group in _source_or_sink_groups(unreached, edges, sinks=False):
            first = min(group, key=order.__getitem__)
            if len(group) == 1 and first not in edges.get(first, ()):
                self.report((*by_id[first].path, "id"), text("stap-onbereikbaar", step=first),
                            text("hint-stap-onbereikbaar"))
            else:
                self.report((*by_id[first].path, "id"),
                            text("stap-alleen-via-lus", step=first, steps=all_of(sorted(group, key=order.__getitem__))),
                            text("hint-lus-onbereikbaar"))

    def _check_tracks_started(self) -> None:
        started: set[str] = set()
        dynamic = False
        for step in self.flows[MAIN].steps:
            if step.kind == StepKind.TRACKS.value:
                started.update(t for t in _list(step.data.get("tracks")) if isinstance(t, str))
                dynamic = dynamic or "tracks_from" in step.data
        if dynamic:
            return
        for index, track in enumerate(_list(self.data.get("tracks"))):
            track_id = _text(_dict(track).get("id"))
            if track_id is not None and track_id not in started:
                self.report(("tracks", index, "id"), text("spoor-nooit-gestart", track=track_id),
                            text("hint-spoor-starten"))

    def _check_evaluation(self) -> None:
        evaluation = self.data.get("evaluation")
        if not isinstance(evaluation, dict):
            return
        self._check_reminders(("evaluation",), evaluation)
        if "form" in evaluation:
            self.problems.extend(check_embedded_schema(self.doc, ("evaluation", "form"), evaluation["form"],
                                                       "deel-wat-evaluatieformulier"))
        start = _text(evaluation.get("starts_after"))
        main_ids = [s.id for s in self.flows[MAIN].steps]
        if start is not None and start not in main_ids:
            self.report(("evaluation", "starts_after"), text("onbekende-stap-hoofdstroom", step=start),
                        did_you_mean(start, main_ids) or text("hint-stap-hoofdstroom"))

    # ------------------------------------------------------------ expressions

    def _check_expression(self, path: PathKey, source: str, names: _Names) -> None:
        problem = syntax_problem(source)
        if problem is not None:
            self.report(path, problem.text, problem.hint_text)
            return
        for chain in referenced_names(source):
            found = self._check_name(chain, names)
            if found is not None:
                self.report(path, *found)

    def _check_name(self, chain: tuple[str, ...], names: _Names) -> _Found:
        root, dotted = chain[0], ".".join(chain)
        if root not in names.roots:
            if root in ("case", "form", "steps", "tracks", "now"):
                usable = one_of(sorted(names.roots))
                return text("naam-niet-hier", name=root, site=names.site), text("hint-namen-hier", options=usable)
            return text("onbekende-naam", name=root, site=names.site), (
                did_you_mean(root, names.roots) or text("hint-namen-beginnen", options=one_of(sorted(names.roots))))
        if root == "case":
            return self._check_field(chain, 1, self.case_schema, text("deel-zaakgegevens"))
        if root == "form":
            step = names.step
            form = self._form_of(step) if step is not None else None
            if step is None or form is None:
                return (text("form-leeg-hier", name=dotted, step=step.id if step else "?"),
                        text("hint-eerder-formulier"))
            return self._check_field(chain, 1, form, text("deel-formulier-van", step=step.id))
        if root == "steps":
            return self._check_step_ref(chain, names)
        if root == "tracks":
            return self._check_track_ref(chain, names)
        return None

    def _form_of(self, step: _Step) -> dict[str, Any] | None:
        if step.kind == StepKind.HUMAN_TASK.value:
            form = step.data.get("form")
            return form if isinstance(form, dict) else None
        recorded = semantic_constructs.recorded_form(step.kind, _dict(step.data.get("params")))
        if recorded is not None:
            return recorded
        spec = self.kinds.get(step.kind)
        if spec is not None and spec.answer_schema_param is not None:
            answer = _dict(step.data.get("params")).get(spec.answer_schema_param)
            return answer if isinstance(answer, dict) else None
        return None

    def _check_step_ref(self, chain: tuple[str, ...], names: _Names) -> _Found:
        dotted = ".".join(chain)
        if len(chain) < 2:
            return text("steps-zonder-stap"), None
        step_id = chain[1]
        target = self.steps.get(step_id)
        if target is None:
            with_forms = [s.id for s in self.steps.values() if self._form_of(s) is not None]
            return text("expressie-onbekende-stap", name=dotted, step=step_id), (
                did_you_mean(step_id, with_forms or self.steps)
                or (text("hint-stappen-met-velden", options=one_of(with_forms)) if with_forms
                    else text("hint-geen-formulieren")))
        form = self._form_of(target)
        if form is None:
            return text("stap-zonder-formulier", name=dotted, step=step_id), text("hint-wie-legt-vast")
        current = names.step
        if current is not None and step_id != current.id and step_id not in self._preceding(current):
            return (text("stap-niet-eerder", name=dotted, step=step_id, current=current.id),
                    text("hint-alleen-eerdere-stappen", current=current.id))
        return self._check_field(chain, 2, form, text("deel-formulier-van", step=step_id))

    def _check_track_ref(self, chain: tuple[str, ...], names: _Names) -> _Found:
        dotted = ".".join(chain)
        if len(chain) < 3:
            return text("tracks-vorm", name=dotted), None
        track_id = chain[1]
        if track_id not in self.track_ids:
            return text("expressie-onbekend-spoor", name=dotted, track=track_id), did_you_mean(track_id, self.track_ids)
        if chain[2] != "result" or len(chain) > 3:
            return text("spoor-alleen-result", name=dotted), text("hint-tracks-result", track=track_id)
        current = names.step
        if current is None or current.flow != MAIN:
            return text("result-alleen-hoofdstroom", name=dotted), None
        before = self._preceding(current) | {current.id}
        starters = [s for s in self.flows[MAIN].steps if s.kind == StepKind.TRACKS.value and s.id in before
                    and ("tracks_from" in s.data or track_id in _list(s.data.get("tracks")))]
        if not starters:
            return text("result-na-tracks-stap", name=dotted, track=track_id), text("hint-na-tracks-stap")
        return None

    def _check_field(self, chain: tuple[str, ...], start: int, schema: dict[str, Any], owner: Text) -> _Found:
        node: Any = schema
        for depth in range(start, len(chain)):
            properties = _dict(node).get("properties")
            if not isinstance(properties, dict):
                kind = _dict(node).get("type")
                if kind in ("string", "integer", "number", "boolean", "null"):
                    return text("veld-heeft-geen-velden", name=".".join(chain[:depth]), kind=describe_type(kind),
                                field=chain[depth]), None
                return None  # free-form object or list: nothing more to check
            name = chain[depth]
            if name not in properties:
                dotted = ".".join(chain[: depth + 1])
                return text("geen-veld-van", name=dotted, owner=owner), (
                    did_you_mean(name, properties) or text("hint-velden", options=one_of(sorted(properties))))
            node = properties[name]
        return None

    def _reversed(self, flow: str) -> dict[str, set[str]]:
        if flow not in self._backward:
            self._backward[flow] = flow_graph.reverse(self.edges[flow])
        return self._backward[flow]

    def _preceding(self, step: _Step) -> set[str]:
        """Ids of the steps that can have run before `step` (it may be reached from them)."""
        key = step.id
        if key in self._ancestors:
            return self._ancestors[key]
        back = self._reversed(step.flow)
        before = flow_graph.reachable(back.get(step.id, ()), back)  # holds step.id only if it is in a loop
        if step.flow != MAIN:
            for starter in self.flows[MAIN].steps:
                if starter.kind == StepKind.TRACKS.value and (
                        "tracks_from" in starter.data or step.flow in _list(starter.data.get("tracks"))):
                    before |= self._preceding(starter) | {starter.id}
        self._ancestors[key] = before
        return before


def _source_or_sink_groups(nodes: list[str], edges: dict[str, set[str]], *, sinks: bool) -> list[list[str]]:
    """Loops (strongly connected groups) among `nodes` that nothing else in `nodes` enters (sources)
    or that lead to nothing else in `nodes` (sinks): where a problem starts or ends up."""
    groups = flow_graph.strongly_connected(nodes, edges)
    group_of = {node: i for i, group in enumerate(groups) for node in group}
    linked: set[int] = set()
    for node in nodes:
        for target in edges.get(node, ()):
            if target in group_of and group_of[target] != group_of[node]:
                linked.add(group_of[node] if sinks else group_of[target])
    return [group for i, group in enumerate(groups) if i not in linked]


def describe_type(kind: str) -> Text | str:
    code = {"string": "deel-type-string", "integer": "deel-type-integer", "number": "deel-type-number",
            "boolean": "deel-type-waar-onwaar", "null": "deel-type-null"}.get(kind)
    return text(code) if code is not None else kind


def _value(data: Any, path: PathKey) -> Any:
    node = data
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _chain_paths(owner: Any, path: PathKey) -> Iterator[PathKey]:
    owner = _dict(owner)
    for index, reminder in enumerate(_list(owner.get("reminders"))):
        for key in ("before", "after"):
            if key in _dict(reminder):
                yield (*path, "reminders", index, key)
    for index, rung in enumerate(_list(owner.get("escalation"))):
        if "after" in _dict(rung):
            yield (*path, "escalation", index, "after")


def _lead_time_paths(lead_time: Any, path: PathKey) -> Iterator[PathKey]:
    lead_time = _dict(lead_time)
    if "within" in lead_time:
        yield (*path, "within")
    for index, rung in enumerate(_list(lead_time.get("on_exceeded"))):
        if "after" in _dict(rung):
            yield (*path, "on_exceeded", index, "after")


def _duration_hint(value: str) -> Text | None:
    words = value.split()
    if len(words) >= 2 and not words[0].isdigit():
        return text("hint-duur-getal-eerst")
    unit = " ".join(words[1:]).lower()
    return did_you_mean(unit, UNIT_WORDS) if unit else text("hint-duur-eenheid")


def check_semantics(doc: SourceDocument, kinds: Mapping[str, TaskKindSpec]) -> list[Problem]:
    """Every problem beyond the JSON Schema in `doc`."""
    return SemanticChecker(doc, kinds).run()

