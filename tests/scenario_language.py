"""The scenario language: end-to-end stories of a shipped pathway, written as YAML data.

A scenario file (`tests/scenarios/<pathway-id>/<name>.yaml`) names a pathway file, a start
moment, a trigger and case data, and then lists steps: commands people give (complete a task,
answer a partner request, hold an evaluation, claim, close, suspend, resume), moves of the
controllable clock (`advance`, `advance_to`) and `expect` blocks. `tests/scenarios/README.md`
documents the language; this module reads and checks it. Checking is strict: an unknown key, a
step id, track, outcome, close reason, role or message template the pathway does not have, or a
time without a UTC offset is a `ScenarioError` naming the file, the line and the key.

Playing a scenario is `tests.scenario_driver.play`; it does not live here so this module only
needs the loader.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from engine.compiled import EVALUATION_STEP, CompiledPathway, compile_pathway
from engine.definition import Pathway, StepKind
from engine.durations import Duration, DurationError, parse_duration
from engine.errors import PathwayError
from engine.loader import load_pathway
from engine.state import MAIN_FLOW
from tasks.registry import default_kinds

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS_DIR = ROOT / "tests" / "scenarios"
PATHWAYS_DIR = ROOT / "pathways"

DEFAULT_WORKER = "worker:bob"
DEFAULT_STARTER = "coordinator:anna"
CASE_ID = "C1"

# Templates the engine and the shipped task kinds queue; send_letter templates come from the pathway.
ENGINE_TEMPLATES = frozenset({
    "task_opened", "task_reassigned", "reminder_before", "reminder_overdue",
    "escalation_notify", "escalation_reassign", "escalation_raise",
    "partner_request", "partner_notification", "pathway_message", "registration",
})
TRACK_STATES = frozenset({"planned", "active"})
TRACK_RESULTS = frozenset({"achieved", "not_achieved", "stopped"})
CASE_STATUSES = frozenset({"open", "suspended", "closed"})

_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


class ScenarioError(ValueError):
    """A scenario file that does not follow the language; the message names file, line and key."""


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Step:
    """One entry of `steps:`: an action with its arguments, and where it was written."""

    action: str
    args: Any  # a dict for commands and expect; a str for advance / advance_to
    line: int  # 1-based line in the file
    index: int  # 1-based position in `steps:`


@dataclass(frozen=True)
class Scenario:
    path: Path
    title: str
    description: str
    pathway_path: Path
    pathway: Pathway
    compiled: CompiledPathway
    start: datetime
    trigger: str
    case: dict[str, Any]
    assign: dict[str, str]
    steps: tuple[Step, ...]
    known_bug: str | None = None  # the scenario documents expected behaviour the code does not have yet
    case_id: str = CASE_ID
    starter: str = DEFAULT_STARTER

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"

    def where(self, step: Step | None = None) -> str:
        rel = _rel(self.path)
        if step is None:
            return rel
        return f"{rel}, line {step.line} (step {step.index}: {step.action})"

    def expected_outcomes(self) -> set[str]:
        """Outcome codes this scenario expects (and, when it passes, reaches)."""
        return {s.args["outcome"] for s in self.steps if s.action == "expect" and "outcome" in s.args}


# --------------------------------------------------------------------------- time


def parse_moment(text: object, where: str) -> datetime:
    """An ISO 8601 moment with a UTC offset (`2026-04-27T09:00+02:00`, `...Z`)."""
    if not isinstance(text, str):
        raise ScenarioError(f"{where}: expected an ISO moment such as 2026-04-27T09:00+02:00, got {text!r}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ScenarioError(f"{where}: {text!r} is not an ISO moment such as 2026-04-27T09:00+02:00") from None
    if moment.tzinfo is None:
        raise ScenarioError(f"{where}: {text!r} has no UTC offset; write e.g. {text}+02:00 or {text}Z")
    return moment


def check_time_text(text: object, where: str) -> str:
    """A moment as expectations write it: Amsterdam wall time `YYYY-MM-DD HH:MM`, or ISO with offset."""
    if isinstance(text, str) and _LOCAL.match(text):
        try:
            datetime.strptime(text, "%Y-%m-%d %H:%M")
        except ValueError:
            raise ScenarioError(f"{where}: {text!r} is not a real date and time") from None
        return text
    parse_moment(text, where + " (a local time is written 'YYYY-MM-DD HH:MM')")
    return str(text)


def parse_advance(text: object, where: str) -> Duration:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


# --------------------------------------------------------------------------- reading YAML


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    # Dates stay text: case data and forms want ISO strings, and moments are parsed here.
    yaml.constructor.add_constructor(
        "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
    )
    return yaml


def _plain(value: Any) -> Any:
    """ruamel's round-trip types as plain Python (dict, list, str, int, float, bool, None)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _line_of(node: Any, key: Any = None, default: int = 0) -> int:
    try:
        if key is not None and isinstance(node, CommentedMap):
            return int(node.lc.key(key)[0]) + 1
        if isinstance(node, CommentedMap | CommentedSeq):
            return int(node.lc.line) + 1
    except (AttributeError, KeyError, TypeError):
        pass
    return default


class _Reader:
    """Checks one file; every error names the file and line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rel = _rel(path)

    def at(self, line: int) -> str:
        return f"{self.rel}, line {line}" if line else self.rel

    def fail(self, line: int, message: str) -> ScenarioError:
        return ScenarioError(f"{self.at(line)}: {message}")

    def mapping(self, node: Any, what: str, line: int) -> CommentedMap:
        if not isinstance(node, CommentedMap):
            raise self.fail(line, f"{what} must be a mapping, got {_plain(node)!r}")
        return node

    def keys(self, node: CommentedMap, what: str, allowed: frozenset[str] | set[str],
             required: frozenset[str] | set[str] = frozenset()) -> None:
        for key in node:
            if key not in allowed:
                raise self.fail(
                    _line_of(node, key),
                    f"unknown key {key!r} in {what} (known: {', '.join(sorted(allowed))})",
                )
        missing = sorted(set(required) - set(node))
        if missing:
            raise self.fail(_line_of(node), f"{what} needs {', '.join(repr(m) for m in missing)}")


# --------------------------------------------------------------------------- the language

TOP_KEYS = frozenset({"title", "description", "known_bug", "pathway", "start", "trigger", "case", "assign", "steps"})
TOP_REQUIRED = frozenset({"title", "pathway", "start", "trigger", "case", "steps"})

# action -> (allowed keys, required keys); advance / advance_to / resume take a scalar (or nothing).
COMMAND_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "complete": (frozenset({"step", "data", "by", "refused"}), frozenset({"step"})),
    "answer": (frozenset({"step", "data", "by", "refused"}), frozenset({"step", "data"})),
    "evaluate": (frozenset({"data", "by", "refused"}), frozenset({"data"})),
    "claim": (frozenset({"step", "by", "refused"}), frozenset({"step", "by"})),
    "close": (frozenset({"reason", "outcome", "by", "why", "refused"}), frozenset({"reason"})),
    "suspend": (frozenset({"why", "by", "refused"}), frozenset({"why"})),
    "resume": (frozenset({"by", "refused"}), frozenset()),
}
ACTIONS = frozenset(COMMAND_KEYS) | {"advance", "advance_to", "expect"}

EXPECT_KEYS = frozenset({
    "now", "status", "outcome", "close_reason", "open_tasks", "due", "roles", "assignees", "position",
    "visits", "tracks", "evaluations_held", "reminders", "escalations", "messages",
    "lead_time_exceeded", "open_escalations",
})


class _Refs:
    """What a scenario may name, taken from its pathway."""

    def __init__(self, cp: CompiledPathway) -> None:
        self.cp = cp
        self.human_steps = {s.id for s in cp.steps.values() if s.kind == StepKind.HUMAN_TASK.value}
        self.partner_steps = {s.id for s in cp.steps.values() if s.kind == "request_partner"}
        self.task_steps = self.human_steps | self.partner_steps | (
            {EVALUATION_STEP} if cp.pathway.evaluation is not None else set()
        )
        self.all_steps = set(cp.steps)
        self.flows = {MAIN_FLOW, *cp.tracks}
        letters = {str(s.params["template"]) for s in cp.steps.values() if s.kind == "send_letter"}
        self.templates = ENGINE_TEMPLATES | letters


def _check_step_ref(r: _Reader, refs: _Refs, node: CommentedMap, key: str, allowed: set[str], what: str) -> None:
    value = node.get(key)
    if value not in allowed:
        raise r.fail(_line_of(node, key), f"{refs.cp.key} has no {what} {value!r} (known: {', '.join(sorted(allowed))})")


def _check_command(r: _Reader, refs: _Refs, action: str, node: Any, line: int) -> dict[str, Any]:
    if action == "resume" and node is None:
        node = CommentedMap()
    args = r.mapping(node, f"`{action}`", line)
    allowed, required = COMMAND_KEYS[action]
    r.keys(args, f"`{action}`", allowed, required)
    if action == "complete":
        _check_step_ref(r, refs, args, "step", refs.human_steps, "human task step")
    elif action == "answer":
        _check_step_ref(r, refs, args, "step", refs.partner_steps, "request_partner step")
    elif action == "claim":
        _check_step_ref(r, refs, args, "step", refs.task_steps, "task step")
    elif action == "close":
        _check_step_ref(r, refs, args, "reason", set(refs.cp.close_reasons), "close reason")
        if "outcome" in args:
            _check_step_ref(r, refs, args, "outcome", set(refs.cp.outcomes), "outcome")
    if "data" in args and not isinstance(args["data"], CommentedMap):
        raise r.fail(_line_of(args, "data"), f"`{action}` data must be a mapping of form fields")
    for key in ("by", "why", "refused"):
        if key in args and not (isinstance(args[key], str) and args[key]):
            raise r.fail(_line_of(args, key), f"`{action}` {key} must be a non-empty text")
    if "refused" in args:
        try:
            re.compile(args["refused"])
        except re.error as exc:
            raise r.fail(_line_of(args, "refused"), f"refused: {args['refused']!r} is not a regex ({exc})") from None
    return dict(_plain(args))


def _int_or_per_step(r: _Reader, refs: _Refs, node: CommentedMap, key: str) -> None:
    value = node[key]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return
    if isinstance(value, CommentedMap):
        for step, count in value.items():
            if step not in refs.task_steps:
                raise r.fail(_line_of(value, step), f"{key}: {refs.cp.key} has no task step {step!r}")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise r.fail(_line_of(value, step), f"{key}: {step}: expected a count, got {count!r}")
        return
    raise r.fail(_line_of(node, key), f"{key}: expected a count or a mapping of step -> count, got {_plain(value)!r}")


def _step_map(r: _Reader, node: CommentedMap, key: str, allowed: set[str], what: str,
              check: Callable[[Any, str], None]) -> None:
    value = r.mapping(node[key], f"expect {key}", _line_of(node, key))
    for name, item in value.items():
        where = f"{r.at(_line_of(value, name))}: expect {key}: {name}"
        if name not in allowed:
            raise ScenarioError(f"{where}: no {what} {name!r} in this pathway (known: {', '.join(sorted(allowed))})")
        check(item, where)


def _check_expect(r: _Reader, refs: _Refs, node: Any, line: int) -> dict[str, Any]:
    exp = r.mapping(node, "`expect`", line)
    r.keys(exp, "`expect`", EXPECT_KEYS)
    if not exp:
        raise r.fail(line, "`expect` is empty: say what you expect")
    cp = refs.cp

    def text(value: Any, where: str) -> None:
        if not isinstance(value, str) or not value:
            raise ScenarioError(f"{where}: expected a text, got {_plain(value)!r}")

    def text_or_null(value: Any, where: str) -> None:
        if value is not None:
            text(value, where)

    def count(value: Any, where: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ScenarioError(f"{where}: expected a count, got {_plain(value)!r}")

    def moment(value: Any, where: str) -> None:
        check_time_text(value, where)

    def role(value: Any, where: str) -> None:
        if value not in cp.roles:
            raise ScenarioError(f"{where}: {cp.key} has no role {value!r}")

    def step_or_null(value: Any, where: str) -> None:
        if value is not None and value not in refs.all_steps:
            raise ScenarioError(f"{where}: {cp.key} has no step {value!r}")

    def track_state(value: Any, where: str) -> None:
        if value not in TRACK_STATES | TRACK_RESULTS:
            raise ScenarioError(
                f"{where}: a track is planned, active, or closed with a result "
                f"({', '.join(sorted(TRACK_RESULTS))}); got {_plain(value)!r}"
            )

    for key in exp:
        where = f"{r.at(_line_of(exp, key))}: expect {key}"
        value = exp[key]
        if key == "now":
            check_time_text(value, where)
        elif key == "status":
            if value not in CASE_STATUSES:
                raise ScenarioError(f"{where}: one of {', '.join(sorted(CASE_STATUSES))}, got {value!r}")
        elif key == "outcome":
            if value not in cp.outcomes:
                raise ScenarioError(f"{where}: {cp.key} has no outcome {value!r} (known: {', '.join(cp.outcomes)})")
        elif key == "close_reason":
            if value is not None and value not in cp.close_reasons:
                raise ScenarioError(f"{where}: {cp.key} has no close reason {value!r}")
        elif key == "open_tasks":
            if not isinstance(value, CommentedSeq):
                raise ScenarioError(f"{where}: expected a list of step ids ([] for none)")
            for item in value:
                if item not in refs.task_steps:
                    raise ScenarioError(f"{where}: {cp.key} has no task step {item!r}")
        elif key == "due":
            _step_map(r, exp, key, refs.task_steps, "task step", moment)
        elif key == "roles":
            _step_map(r, exp, key, refs.task_steps, "task step", role)
        elif key == "assignees":
            _step_map(r, exp, key, refs.task_steps, "task step", text_or_null)
        elif key == "position":
            _step_map(r, exp, key, refs.flows, "flow", step_or_null)
        elif key == "visits":
            _step_map(r, exp, key, refs.all_steps, "step", count)
        elif key == "tracks":
            _step_map(r, exp, key, set(cp.tracks), "track", track_state)
        elif key == "evaluations_held":
            count(value, where)
        elif key in ("reminders", "escalations"):
            _int_or_per_step(r, refs, exp, key)
        elif key == "messages":
            _step_map(r, exp, key, set(refs.templates), "message template", count)
        elif key == "lead_time_exceeded":
            if not isinstance(value, CommentedSeq) or any(f not in refs.flows for f in value):
                raise ScenarioError(f"{where}: expected a list of flows (main or track ids: {', '.join(sorted(refs.flows))})")
        elif key == "open_escalations":
            if not isinstance(value, CommentedSeq):
                raise ScenarioError(f"{where}: expected a list of roles the open escalations went to")
            for item in value:
                role(item, where)
    return dict(_plain(exp))


@lru_cache(maxsize=16)
def _pathway(path: Path) -> tuple[Pathway, CompiledPathway]:
    pathway = load_pathway(path.read_bytes(), str(path), default_kinds())
    return pathway, compile_pathway(pathway)


def compiled_pathway(path: Path) -> CompiledPathway:
    """The shipped pathway file at `path`, loaded and compiled (once per process)."""
    return _pathway(path)[1]


def load_scenario(path: Path) -> Scenario:
    """Read and check one scenario file (see tests/scenarios/README.md)."""
    r = _Reader(path)
    try:
        doc = _yaml().load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise r.fail(0 if mark is None else mark.line + 1, f"not valid YAML: {exc.problem}") from None
    except YAMLError as exc:
        raise ScenarioError(f"{r.rel}: not valid YAML: {exc}") from None
    top = r.mapping(doc, "a scenario file", 1)
    r.keys(top, "the scenario", TOP_KEYS, TOP_REQUIRED)
    for key in ("title", "pathway", "trigger"):
        if not isinstance(top[key], str) or not top[key]:
            raise r.fail(_line_of(top, key), f"{key} must be a text")
    pathway_path = PATHWAYS_DIR / top["pathway"]
    if pathway_path.suffix != ".yaml" or pathway_path.parent != PATHWAYS_DIR or not pathway_path.is_file():
        known = ", ".join(p.name for p in sorted(PATHWAYS_DIR.glob("*.yaml")))
        raise r.fail(_line_of(top, "pathway"), f"pathway {top['pathway']!r} is not a file in pathways/ (known: {known})")
    try:
        pathway, cp = _pathway(pathway_path)
    except PathwayError as exc:
        raise r.fail(_line_of(top, "pathway"), f"pathway {top['pathway']} does not load: {exc}") from None
    if path.parent.name != pathway.id:
        raise r.fail(_line_of(top, "pathway"),
                     f"a scenario of {pathway.id} belongs in tests/scenarios/{pathway.id}/, not {path.parent.name}/")
    start = parse_moment(top["start"], f"{r.at(_line_of(top, 'start'))}: start")
    if top["trigger"] not in {t.type for t in pathway.triggers}:
        raise r.fail(_line_of(top, "trigger"), f"{cp.key} has no trigger {top['trigger']!r} "
                     f"(known: {', '.join(t.type for t in pathway.triggers)})")
    case = r.mapping(top["case"], "case", _line_of(top, "case"))
    assign = r.mapping(top.get("assign", CommentedMap()), "assign", _line_of(top, "assign"))
    for role_id, worker in assign.items():
        if role_id not in cp.roles:
            raise r.fail(_line_of(assign, role_id), f"assign: {cp.key} has no role {role_id!r}")
        if not isinstance(worker, str) or not worker:
            raise r.fail(_line_of(assign, role_id), f"assign: {role_id}: expected a worker id")
    description = top.get("description", "")
    if not isinstance(description, str):
        raise r.fail(_line_of(top, "description"), "description must be a text")
    known_bug = top.get("known_bug")
    if known_bug is not None and not (isinstance(known_bug, str) and known_bug.strip()):
        raise r.fail(_line_of(top, "known_bug"), "known_bug must say what is wrong (file, line, what)")

    refs = _Refs(cp)
    raw_steps = top["steps"]
    if not isinstance(raw_steps, CommentedSeq) or not raw_steps:
        raise r.fail(_line_of(top, "steps"), "steps must be a non-empty list")
    steps: list[Step] = []
    for index, item in enumerate(raw_steps, start=1):
        try:
            line = int(raw_steps.lc.item(index - 1)[0]) + 1
        except (AttributeError, KeyError, TypeError):
            line = _line_of(top, "steps")
        if not isinstance(item, CommentedMap) or len(item) != 1:
            raise r.fail(line, f"step {index} must be a mapping with exactly one action "
                         f"({', '.join(sorted(ACTIONS))}), got {_plain(item)!r}")
        ((action, value),) = item.items()
        if action not in ACTIONS:
            raise r.fail(line, f"unknown action {action!r} in step {index} (known: {', '.join(sorted(ACTIONS))})")
        where = f"{r.at(line)}: {action}"
        args: Any
        if action == "advance":
            parse_advance(value, where)
            args = str(value)
        elif action == "advance_to":
            parse_moment(value, where)
            args = str(value)
        elif action == "expect":
            args = _check_expect(r, refs, value, line)
        else:
            args = _check_command(r, refs, action, value, line)
        steps.append(Step(action=action, args=args, line=line, index=index))

    return Scenario(
        path=path, title=str(top["title"]), description=str(description), pathway_path=pathway_path,
        pathway=pathway, compiled=cp, start=start, trigger=str(top["trigger"]), case=dict(_plain(case)),
        assign={str(k): str(v) for k, v in assign.items()}, steps=tuple(steps),
        known_bug=None if known_bug is None else str(known_bug).strip(),
    )


def scenario_files(root: Path = SCENARIOS_DIR) -> list[Path]:
    return sorted(root.glob("*/*.yaml"))


def scenario_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def scenario_params() -> list[Any]:
    """Every scenario file as a pytest parameter; a `known_bug` scenario is a strict xfail."""
    import pytest

    params = []
    for path in scenario_files():
        try:
            known_bug = load_scenario(path).known_bug
        except ScenarioError:
            known_bug = None  # the test itself reports the error
        marks = [pytest.mark.xfail(strict=True, reason=known_bug)] if known_bug else []
        params.append(pytest.param(path, id=scenario_id(path), marks=marks))
    return params
