"""CEL expressions: syntax problems, referenced names, evaluation to plain Python values."""

from __future__ import annotations

import datetime

import pytest

from engine import expressions
from engine.definition import Expr
from engine.errors import EngineError, ExpressionError
from engine.expressions import evaluate, referenced_names, syntax_problem


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("case.arrears_months >= 2", [("case", "arrears_months")]),
        ("!form.client_reached && case.a.b", [("form", "client_reached"), ("case", "a", "b")]),
        ('steps.intake.problems.exists(p, p == "debts")', [("steps", "intake", "problems")]),
        ("size(case.kids) > 0 || has(case.address.city)", [("case", "kids"), ("case", "address", "city")]),
        ("case.kids[0].age > 3", [("case", "kids")]),
        ("[1, 2].map(x, x * case.factor)", [("case", "factor")]),
        ('tracks.debts.result == "achieved"', [("tracks", "debts", "result")]),
        ("now > timestamp(case.hearing)", [("now",), ("case", "hearing")]),
        ("case.a == case.a", [("case", "a")]),
        ("1 + 2", []),
    ],
)
def test_referenced_names(source: str, names: list[tuple[str, ...]]) -> None:
    assert list(referenced_names(source)) == names


def test_macro_variable_does_not_leak_outside_its_macro() -> None:
    assert referenced_names("case.l.all(x, x > 0) && x > 1") == (("case", "l"), ("x",))


@pytest.mark.parametrize(
    ("source", "message", "hint"),
    [
        ("case.x = 1", "`case.x = 1` is not a valid expression: unexpected `= 1` at character 8",
         "compare with ==; a single = is not allowed"),
        ("case.a and case.b", "`case.a and case.b` is not a valid expression: unexpected `and case.b` at character 8",
         "combine conditions with && (and), || (or) and ! (not)"),
        ("case.x >=", "`case.x >=` is not a valid expression: it ends too early", ""),
        ("   ", "the expression is empty", "write a condition such as case.arrears_months >= 2"),
        ('case.name == "Jan', '`case.name == "Jan` is not a valid expression: unexpected `"Jan` at character 14',
         "a text value needs a closing quote"),
    ],
)
def test_syntax_problems_are_explained(source: str, message: str, hint: str) -> None:
    problem = syntax_problem(source)
    assert problem is not None
    english_hint = problem.hint_text.render("en") if problem.hint_text is not None else ""
    assert (problem.text.render("en"), english_hint) == (message, hint)


@pytest.mark.parametrize(
    ("source", "message", "hint"),
    [
        ("case.x = 1", "`case.x = 1` is geen geldige expressie: onverwacht `= 1` op teken 8",
         "vergelijk met ==; een enkele = is niet toegestaan"),
        ("case.a and case.b", "`case.a and case.b` is geen geldige expressie: onverwacht `and case.b` op teken 8",
         "combineer voorwaarden met && (en), || (of) en ! (niet)"),
        ("case.x >=", "`case.x >=` is geen geldige expressie: hij houdt te vroeg op", ""),
        ("case.a\n b", "`case.a b` is geen geldige expressie: onverwacht `b` op regel 2, teken 2", ""),
    ],
)
def test_syntax_problems_are_dutch_by_default(source: str, message: str, hint: str) -> None:
    problem = syntax_problem(source)
    assert problem is not None
    assert (problem.message, problem.hint) == (message, hint)


def test_valid_expression_has_no_syntax_problem() -> None:
    assert syntax_problem('case.a > 1 ? "hoog" : "laag"') is None


def test_overlong_expression_is_refused() -> None:
    problem = syntax_problem("case.a + " * 300 + "1")
    assert problem is not None and "de grens is 2000" in problem.message


def test_referenced_names_raises_expression_error_on_bad_syntax() -> None:
    with pytest.raises(ExpressionError):
        referenced_names("case.x >=")


def test_evaluate_returns_plain_python_values() -> None:
    value = evaluate(Expr('[case.a + 1, "x", 2.5, true, {"k": null}, case.m]'), {"case": {"a": 1, "m": {"z": [1]}}})
    assert value == [2, "x", 2.5, True, {"k": None}, {"z": [1]}]
    assert type(value[0]) is int and type(value[3]) is bool and type(value[2]) is float


def test_evaluate_branch_condition() -> None:
    assert evaluate(Expr("!form.client_reached"), {"form": {"client_reached": False}}) is True
    assert evaluate(Expr('steps.intake.problems.exists(p, p == "debts")'),
                    {"steps": {"intake": {"problems": ["housing", "debts"]}}}) is True


def test_evaluate_with_timestamps() -> None:
    now = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    later = evaluate(Expr('now + duration("3600s")'), {"now": now})
    assert later == datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
    assert evaluate(Expr('now > timestamp("2026-01-01T00:00:00Z")'), {"now": now}) is True


@pytest.mark.parametrize(
    ("source", "variables", "reason", "english"),
    [
        ("case.missing > 1", {"case": {"a": 1}}, "geen veld 'missing'", "no such field: 'missing'"),
        ("nope", {"case": {}}, "onbekende naam `nope`", "unknown name `nope`"),
        ("case.a / 0", {"case": {"a": 1}}, "modulus or divide by zero", "modulus or divide by zero"),
        ('case.a + "x"', {"case": {"a": 1}}, "de waarden hebben typen die zo niet te combineren zijn",
         "the values have types that cannot be combined this way"),
        ("case.a ==", {"case": {"a": 1}}, "hij houdt te vroeg op", None),
    ],
)
def test_evaluate_errors_quote_the_expression(source: str, variables: dict[str, object], reason: str,
                                              english: str | None) -> None:
    from engine.messages import text_of

    with pytest.raises(ExpressionError) as caught:
        evaluate(Expr(source), variables)
    assert reason in str(caught.value)
    assert f"`{source}`" in str(caught.value)
    assert isinstance(caught.value, EngineError)
    if english is not None:  # a run-time refusal: coded, so also said in English
        assert text_of(caught.value, "en") == f"cannot evaluate `{source}`: {english}"


def test_unsupported_input_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="invoer die een uitdrukking niet kan lezen"):
        evaluate(Expr("case"), {"case": object()})


def test_programs_are_cached_by_source_text() -> None:
    expressions._parse.cache_clear()
    expressions._program.cache_clear()
    expressions._fast.cache_clear()
    for _ in range(5):
        evaluate(Expr("case.a > 1"), {"case": {"a": 2}})  # the fast path
        evaluate(Expr("case.a + 1 > 1"), {"case": {"a": 2}})  # arithmetic: cel-python
    assert expressions._parse.cache_info().misses == 2
    assert expressions._fast.cache_info().misses == 2
    assert expressions._program.cache_info().misses == 1
