"""The engine's message catalogue: every code in both languages, and every refusal raised with a code."""

from __future__ import annotations

import ast
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import messages
from engine.errors import ConflictError, EngineError, NotFoundError, ValidationError
from engine.messages import CATALOGUE, Message, msg, placeholders, render
from engine.referrals import ReferralStatus
from engine.state import CaseStatus, TaskStatus, TrackStatus

ENGINE = Path(__file__).resolve().parents[2] / "engine"
# Every refusal in engine/ raises with a code, except an expression's syntax problem, which carries the
# text of its pathway problem (engine/problem_texts.py, Dutch; the loader reports the coded problem itself).
NOT_YET_CODED: set[str] = set()


def _carries_a_problem(call: ast.Call | None) -> bool:
    first = call.args[0] if call is not None and call.args else None
    return (isinstance(first, ast.Attribute) and first.attr == "message" and isinstance(first.value, ast.Name)
            and first.value.id == "problem")


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_has_both_languages_with_the_same_arguments(code: str) -> None:
    nl, en = CATALOGUE[code]
    assert nl.strip() and en.strip(), f"{code}: an empty template"
    assert placeholders(nl) == placeholders(en), f"{code}: Dutch uses {placeholders(nl)}, English {placeholders(en)}"


def test_codes_are_stable_dotted_names() -> None:
    for code in CATALOGUE:
        assert code == code.lower() and "." in code and " " not in code, code


def test_the_dutch_texts_use_the_glossary_not_its_forbidden_words() -> None:
    glossary = (ENGINE.parent / "docs" / "glossary.md").read_text(encoding="utf-8")
    forbidden: set[str] = set()
    for line in glossary.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("concept", "---"):
            forbidden |= {re.sub(r"\(.*?\)", "", w).strip().lower() for w in cells[2].split(",")} - {""}
    assert {"migreren", "deadline", "opgeschort"} <= forbidden
    for code, (nl, _en) in CATALOGUE.items():
        text = re.sub(r"\{\w+\}", "", nl)  # argument names are not words a person reads
        used = [w for w in forbidden if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.IGNORECASE)]
        assert not used, f"{code}: {nl!r} uses {used}"


@pytest.mark.parametrize("enum, prefix", [(CaseStatus, "status.case."), (TaskStatus, "status.task."),
                                          (TrackStatus, "status.track."), (ReferralStatus, "referral_status.")])
def test_every_status_has_a_word(enum: type, prefix: str) -> None:
    for member in enum:  # type: ignore[attr-defined]
        assert prefix + member.value in CATALOGUE


def test_an_error_is_dutch_and_renders_english_and_keeps_code_and_ids() -> None:
    error = ConflictError(msg("task.already_closed_by", task="Huisbezoek", task_id="C1.t3",
                              status=msg("status.task.completed"), worker="worker:bob",
                              at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    assert str(error) == "taak «Huisbezoek» is al afgerond door worker:bob (2 maart 2026 09:00)"
    assert messages.text_of(error, "en") == "task «Huisbezoek» was already completed by worker:bob (2 March 2026 09:00)"
    assert error.code == "task.already_closed_by" and error.params["task_id"] == "C1.t3"
    detail = messages.detail(error)
    assert detail is not None
    assert json.loads(json.dumps(detail)) == {"code": "task.already_closed_by", "args": {
        "task": "Huisbezoek", "task_id": "C1.t3", "status": {"code": "status.task.completed", "args": {}},
        "worker": "worker:bob", "at": "2026-03-02T08:00:00+00:00"}}


def test_plain_text_errors_still_work_without_a_code() -> None:
    error = NotFoundError("no such thing")
    assert str(error) == "no such thing" and error.code == "" and error.message is None
    assert messages.text_of(error, "en") == "no such thing" and messages.detail(error) is None


def test_an_unknown_code_is_refused_at_once() -> None:
    with pytest.raises(KeyError):
        msg("no.such.code")


def test_lists_and_nested_messages_render_per_language() -> None:
    m = msg("answer.invalid", task="Intake", problems=[msg("adhoc.title_needed"), msg("adhoc.reminders", limit=3)])
    assert render(m) == "het antwoord op taak «Intake» klopt niet: geef de taak een naam; hoogstens 3 herinneringen per taak"
    assert render(m, "en") == "the answer to task «Intake» is not valid: give the task a title; at most 3 reminders per task"


def test_schema_errors_become_coded_problems_in_the_words_of_json_validation() -> None:
    from jsonschema import Draft202012Validator

    from engine.json_validation import error_text

    schema = {"type": "object", "required": ["name"], "additionalProperties": False,
              "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0},
                             "kind": {"enum": ["a", "b"]}}}
    errors = sorted(Draft202012Validator(schema).iter_errors({"age": -1, "kind": "c", "nme": 1}),
                    key=lambda e: str(e.validator))
    problems = messages.schema_problems(errors)
    assert {p.code for p in problems} <= {"schema.problem", "schema.problem_hint"} and len(problems) == 4
    for error, problem in zip(errors, problems, strict=True):
        for language in ("nl", "en"):
            expected = error_text(error, language)
            shown = render(problem, language)
            assert shown == expected or shown == ("het geheel: " if language == "nl" else "the whole: ") + expected
    subject = msg("schema.invalid", subject=msg("subject.form", task="Intake"), problems=problems)
    assert render(subject).startswith("fout in het formulier van taak «Intake»: ")
    assert render(subject, "en").startswith("the form of task «Intake» is not valid: ")
    detail = messages.plain_args(subject.args)
    assert json.loads(json.dumps(detail))["problems"][0]["code"].startswith("schema.problem")


def _engine_error_classes(trees: dict[str, ast.Module]) -> tuple[set[str], set[str]]:
    """Names of EngineError and its subclasses in engine/, and those with their own __init__."""
    names = {"EngineError", "ConflictError", "NotFoundError", "ValidationError", "CalendarError", "ExpressionError",
             "MissingFieldError"}
    own_init: set[str] = set()
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        isinstance(b, ast.Name) and b.id in names for b in node.bases):
                    names.add(node.name)
                    grew = True
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in names and node.name != "EngineError" and any(
                    isinstance(f, ast.FunctionDef) and f.name == "__init__" for f in node.body):
                own_init.add(node.name)
    return names, own_init


def _is_msg_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "msg"


def _check_msg_call(call: ast.Call, where: str) -> list[str]:
    problems = []
    code = call.args[0] if call.args else None
    keywords = {k.arg for k in call.keywords if k.arg is not None}
    if isinstance(code, ast.Constant) and isinstance(code.value, str):
        if code.value not in CATALOGUE:
            return [f"{where}: unknown code {code.value!r}"]
        nl, en = CATALOGUE[code.value]
        missing = (placeholders(nl) | placeholders(en)) - keywords
        if missing:
            problems.append(f"{where}: {code.value} needs {sorted(missing)}")
    elif isinstance(code, ast.BinOp) and isinstance(code.left, ast.Constant) and isinstance(code.left.value, str):
        prefix = code.left.value
        if not any(c.startswith(prefix) for c in CATALOGUE):
            problems.append(f"{where}: no code starts with {prefix!r}")
    else:
        problems.append(f"{where}: msg() without a literal code")
    return problems


def test_every_engine_refusal_is_raised_with_a_known_code_and_all_its_arguments() -> None:
    trees = {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(ENGINE.glob("*.py"))}
    classes, own_init = _engine_error_classes(trees)
    problems: list[str] = []
    raises = 0
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_msg_call(node) and name != "messages.py":  # its own tables
                problems += _check_msg_call(node, f"engine/{name}:{node.lineno}")
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            exc = node.exc
            call = exc if isinstance(exc, ast.Call) else None
            cls = call.func.id if call is not None and isinstance(call.func, ast.Name) else (
                exc.id if isinstance(exc, ast.Name) else None)
            if cls not in classes or name in NOT_YET_CODED:
                continue
            raises += 1
            if cls in own_init:
                continue  # its __init__ builds the message (checked below)
            if _carries_a_problem(call):
                continue
            if call is None or not call.args or not _is_msg_call(call.args[0]):
                problems.append(f"engine/{name}:{node.lineno}: raise {cls} without msg(...)")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in own_init:
                supers = [n for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                          and n.func.attr == "__init__"]
                if not supers or not all(s.args and _is_msg_call(s.args[0]) for s in supers):
                    problems.append(f"engine/{name}: {node.name}.__init__ does not pass msg(...) on")
    assert raises > 100, f"the scan found only {raises} raises: is it still looking at engine/?"
    assert not problems, "\n".join(problems)


def test_the_scan_catches_a_plain_text_raise() -> None:
    tree = ast.parse('def f():\n    raise ConflictError(f"task {x} is taken")\n')
    raise_node = next(n for n in ast.walk(tree) if isinstance(n, ast.Raise))
    assert isinstance(raise_node.exc, ast.Call) and not _is_msg_call(raise_node.exc.args[0])
    bad = ast.parse('msg("task.claimed", task="x")').body[0]
    assert isinstance(bad, ast.Expr) and isinstance(bad.value, ast.Call)
    assert _check_msg_call(bad.value, "here") == ["here: task.claimed needs ['worker']"]


def test_messages_read_no_settings() -> None:
    source = (ENGINE / "messages.py").read_text(encoding="utf-8")
    assert "import os" not in source and "environ" not in source and "getenv" not in source


def test_refusals_of_the_engine_carry_codes(tmp_path: Path) -> None:
    from engine.funding import parse_funder_key

    with pytest.raises(ValidationError) as caught:
        parse_funder_key("municipality:0599")
    assert caught.value.code == "funder.bad"
    assert str(caught.value).startswith("financier municipality:0599: de code van een gemeente is de CBS-code")
    assert messages.text_of(caught.value, "en").startswith("funder municipality:0599: a municipality's code")
    assert isinstance(caught.value, EngineError) and isinstance(caught.value.message, Message)
