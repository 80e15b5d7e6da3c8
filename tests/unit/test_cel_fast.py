"""The CEL fast path never disagrees with cel-python: it answers the same or defers."""

from __future__ import annotations

from typing import Any

import celpy
import pytest
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import expressions
from engine.cel_fast import Fallback, compile_fast
from engine.definition import Expr
from engine.errors import ExpressionError, MissingFieldError

FAST = [
    "!form.reached",
    "form.route == 'debts' || case.months >= 2",
    "form.x in ['a', 'b']",
    "size(steps.intake.problems) > 0",
    "(form.a && !form.b) || false",
    "case.months != 3",
    "steps.intake.problems",
    "form.score <= 2.5",
]
SLOW = ["has(form.x)", "case.months + 1 > 2", "form.a ? 1 : 2", "form.l.exists(x, x == 'a')", "'a\\\\n' == form.x"]


@pytest.mark.parametrize("source", FAST)
def test_common_conditions_compile(source: str) -> None:
    assert compile_fast(expressions._parse(source)) is not None


@pytest.mark.parametrize("source", SLOW)
def test_everything_else_is_left_to_cel_python(source: str) -> None:
    assert compile_fast(expressions._parse(source)) is None


def _celpy(source: str, variables: dict[str, Any]) -> Any:
    env = celpy.Environment()
    program = env.program(env.compile(source))
    result = program.evaluate({k: json_to_cel(v) for k, v in variables.items()})
    if isinstance(result, CELEvalError):
        raise result
    return expressions.to_python(result)


values = st.one_of(st.booleans(), st.integers(-3, 3), st.sampled_from(["a", "b", "debts"]),
                   st.floats(-3, 3, allow_nan=False), st.none(), st.lists(st.sampled_from(["a", "b"]), max_size=3))
forms = st.dictionaries(st.sampled_from(["reached", "route", "x", "a", "b", "score"]), values, max_size=6)


@settings(max_examples=400, deadline=None)
@given(source=st.sampled_from(FAST), form=forms, months=values)
def test_fast_path_agrees_with_cel_python(source: str, form: dict[str, Any], months: Any) -> None:
    variables = {"form": form, "case": {"months": months}, "steps": {"intake": {"problems": ["a"]}}}
    closure = compile_fast(expressions._parse(source))
    assert closure is not None
    try:
        fast = closure(variables)
    except Fallback:
        return  # deferred: cel-python decides
    assert fast == _celpy(source, variables)
    assert type(fast) is type(_celpy(source, variables))


def test_evaluate_still_names_missing_fields_through_the_fallback() -> None:
    with pytest.raises(MissingFieldError, match="geen veld"):
        expressions.evaluate(Expr("form.reached"), {"form": {}})
    with pytest.raises(ExpressionError, match="niet te combineren"):
        expressions.evaluate(Expr("form.x > 1"), {"form": {"x": "a"}})
