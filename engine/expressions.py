"""CEL expressions: parsed once, inspected at load time, evaluated at run time.

Pathways use CEL (via cel-python) for branch conditions, trigger conditions,
`tracks_from` and `wait until`. The loader needs two things from an expression
without running it: whether it parses, and which dotted names it reads
(`case.arrears_months`, `steps.intake.problems`) so it can check them against
the case data and the forms. The engine needs `evaluate`.

Parsing costs 0.1-1 ms per expression, so parse trees and runnable programs
are cached by source text; pathways repeat the same conditions a lot.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError, CELUnsupportedError

from engine.cel_fast import Closure, Fallback, compile_fast
from engine.definition import Expr
from engine.errors import ExpressionError, MissingFieldError
from engine.messages import Message, msg
from engine.problem_texts import Text, text

MAX_LENGTH = 2000  # characters; a longer condition belongs in a decision step or two
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_CACHE_SIZE = 8192


@dataclass(frozen=True)
class SyntaxProblem:
    """Why an expression does not parse, in words a coordinator can act on (`engine.problem_texts`)."""

    text: Text
    hint_text: Text | None = None

    @property
    def message(self) -> str:
        """The message in Dutch."""
        return self.text.render("nl")

    @property
    def hint(self) -> str:
        """The hint in Dutch ("" when there is none)."""
        return self.hint_text.render("nl") if self.hint_text is not None else ""


# Made on first use, once per process: building celpy's grammar tables takes 1-2 s, which a command
# that runs no expression (`carepath tasks`) should not pay. celpy raises the process's recursion
# limit (to 2500) when it creates the Environment; that happens at that first use, once.
@lru_cache(maxsize=1)
def _environment() -> celpy.Environment:
    return celpy.Environment()


@lru_cache(maxsize=_CACHE_SIZE)
def _parse(source: str) -> lark.Tree[Any]:
    tree: lark.Tree[Any] = _environment().compile(source)
    return tree


@lru_cache(maxsize=_CACHE_SIZE)
def _program(source: str) -> celpy.Runner:
    return _environment().program(_parse(source))


def _shorten(source: str, limit: int = 80) -> str:
    source = " ".join(source.split())
    return source if len(source) <= limit else source[: limit - 3] + "..."


def _syntax_hint(source: str) -> Text | None:
    padded = f" {source} "
    if any(f" {word} " in padded for word in ("and", "or", "not", "en", "of", "niet")):
        return text("hint-expressie-en-of")
    if "===" in source:
        return text("hint-expressie-drie-is")
    stripped = source.replace("==", "").replace("!=", "").replace("<=", "").replace(">=", "")
    if "=" in stripped:
        return text("hint-expressie-een-is")
    if source.count("'") % 2 or source.count('"') % 2:
        return text("hint-expressie-aanhalingsteken")
    return None


def syntax_problem(source: str) -> SyntaxProblem | None:
    """Return why `source` is not a valid CEL expression, or None when it parses."""
    if not source.strip():
        return SyntaxProblem(text("expressie-leeg"), text("hint-expressie-voorbeeld"))
    if len(source) > MAX_LENGTH:
        return SyntaxProblem(text("expressie-te-lang", length=len(source), limit=MAX_LENGTH),
                             text("hint-expressie-splitsen"))
    try:
        _parse(source)
    except CELParseError as exc:
        return SyntaxProblem(text("expressie-ongeldig", source=_shorten(source), where=_where(source, exc)),
                             _syntax_hint(source))
    except RecursionError:
        return SyntaxProblem(text("expressie-te-diep", source=_shorten(source)))
    return None


def _where(source: str, exc: CELParseError) -> Text:
    cause = exc.__context__
    if isinstance(cause, lark.exceptions.UnexpectedToken) and cause.token.type == "$END":
        return text("deel-eindigt-te-vroeg")
    line = int(getattr(exc, "line", 0) or 0)
    column = int(getattr(exc, "column", 0) or 0)
    lines = source.split("\n")
    if 0 < line <= len(lines) and 0 < column <= len(lines[line - 1]) + 1:
        rest = lines[line - 1][column - 1 :]
        if not rest:
            return text("deel-onverwacht-einde", line=line)
        if len(lines) > 1:
            return text("deel-onverwacht-op-regel", rest=_shorten(rest, 20), line=line, column=column)
        return text("deel-onverwacht-op-teken", rest=_shorten(rest, 20), column=column)
    return text("deel-onverwachte-tekst")


def referenced_names(source: str) -> tuple[tuple[str, ...], ...]:
    """The dotted names `source` reads, in order of appearance, without duplicates.

    `case.address.city` gives `("case", "address", "city")`; an index or a
    method call ends the chain (`case.kids[0].age` gives `("case", "kids")`).
    Variables bound by macros (`x` in `list.exists(x, x > 1)`) are left out.
    Raises `ExpressionError` when the source does not parse.
    """
    problem = syntax_problem(source)
    if problem is not None:
        raise ExpressionError(problem.message)
    found: dict[tuple[str, ...], None] = {}
    _collect(_parse(source), frozenset(), found)
    return tuple(found)


def _chain(node: lark.Tree[Any]) -> tuple[str, ...] | None:
    """The dotted name a `member`/`member_dot`/`primary` node spells, if it is a pure name chain."""
    if node.data in ("member", "primary"):
        child = node.children[0]
        return _chain(child) if isinstance(child, lark.Tree) else None
    if node.data == "member_dot":
        base, name = node.children
        assert isinstance(base, lark.Tree)
        prefix = _chain(base)
        return None if prefix is None else (*prefix, str(name))
    if node.data in ("ident", "dot_ident"):
        return (str(node.children[0]),)
    return None


def _collect(node: lark.Tree[Any], bound: frozenset[str], found: dict[tuple[str, ...], None]) -> None:
    if node.data in ("member_dot", "ident", "dot_ident"):
        chain = _chain(node)
        if chain is not None:
            if chain[0] not in bound:
                found[chain] = None
            return
    if node.data == "member_dot_arg":
        receiver, method, *rest = node.children
        assert isinstance(receiver, lark.Tree)
        _collect(receiver, bound, found)
        args = [c for c in rest if isinstance(c, lark.Tree)]
        if str(method) in _MACROS and args:
            exprs = [e for e in args[0].children if isinstance(e, lark.Tree)]
            variable = _chain(_unwrap(exprs[0])) if exprs else None
            if variable is not None and len(variable) == 1:
                for expr in exprs[1:]:
                    _collect(expr, bound | {variable[0]}, found)
                return
        for arg in args:
            _collect(arg, bound, found)
        return
    if node.data in ("fieldinits",):  # `Type{name: expr}`: field names are not variables
        for child in node.children:
            if isinstance(child, lark.Tree):
                _collect(child, bound, found)
        return
    for child in node.children:
        if isinstance(child, lark.Tree):
            _collect(child, bound, found)


def _unwrap(node: lark.Tree[Any]) -> lark.Tree[Any]:
    """Descend through single-child wrapper nodes (expr -> ... -> member) to the innermost tree."""
    while node.data not in ("member_dot", "ident", "dot_ident") and len(node.children) == 1:
        child = node.children[0]
        if not isinstance(child, lark.Tree):
            break
        node = child
    return node


@lru_cache(maxsize=_CACHE_SIZE)
def _fast(source: str) -> Closure | None:
    return compile_fast(_parse(source))


@lru_cache(maxsize=_CACHE_SIZE)
def _roots(source: str) -> frozenset[str]:
    """The variables an expression reads: only these are converted to CEL values."""
    found: dict[tuple[str, ...], None] = {}
    _collect(_parse(source), frozenset(), found)
    return frozenset(chain[0] for chain in found) | {"now"}


def evaluate(expr: Expr, variables: Mapping[str, Any]) -> Any:
    """Evaluate `expr` over plain Python `variables`; return plain Python values.

    Variables are JSON-like values (dict, list, str, int, float, bool, None)
    plus `datetime`/`timedelta`. The result is converted back the same way.
    Raises `ExpressionError` quoting the expression when it cannot be read or
    evaluated (a missing field, a type mismatch, a division by zero).
    """
    problem = syntax_problem(expr.source)
    if problem is not None:
        raise ExpressionError(problem.message)
    fast = _fast(expr.source)
    if fast is not None:
        try:
            value = fast(variables)
        except Fallback:
            pass  # full CEL semantics below decide (errors, mixed types, absorption)
        else:
            if isinstance(value, (bool, int, float, str, type(None))):
                return value
            if isinstance(value, list):
                return list(value)
            if isinstance(value, dict):
                return dict(value)
    roots = _roots(expr.source)
    try:
        activation = {name: json_to_cel(value) for name, value in variables.items() if name in roots}
    except (TypeError, ValueError) as exc:
        raise ExpressionError(msg("expression.cannot_evaluate", expression=_shorten(expr.source),
                                  reason=msg("expression.reason.input", detail=str(exc)))) from exc
    try:
        result = _program(expr.source).evaluate(activation)
    except (CELEvalError, CELUnsupportedError) as exc:
        raise _error(expr, exc) from exc
    except RecursionError as exc:
        raise ExpressionError(msg("expression.cannot_evaluate", expression=_shorten(expr.source),
                                  reason=msg("expression.reason.too_deep"))) from exc
    if isinstance(result, CELEvalError):
        raise _error(expr, result)
    return to_python(result)


def _error(expr: Expr, exc: BaseException) -> ExpressionError:
    reason = _eval_reason(exc)
    cls = MissingFieldError if reason.code == "expression.reason.no_field" else ExpressionError
    return cls(msg("expression.cannot_evaluate", expression=_shorten(expr.source), reason=reason))


def _eval_reason(exc: BaseException) -> Message:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, str) and detail.startswith("undeclared reference to "):
        name = detail.split("'")[1] if detail.count("'") >= 2 else "?"
        return msg("expression.reason.unknown_name", name=name)
    if isinstance(detail, str) and detail.startswith("no such member in mapping"):
        return msg("expression.reason.no_field", field=detail.removeprefix("no such member in mapping").lstrip(": "))
    if isinstance(detail, str) and "no matching overload" in detail:
        return msg("expression.reason.types")
    return msg("expression.reason.other", detail=_shorten(str(detail), 160))


def to_python(value: Any) -> Any:
    """Turn a CEL value into the plain Python value it stands for."""
    if value is None:
        return None
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, (celtypes.IntType, celtypes.UintType)):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.BytesType):
        return bytes(value)
    if isinstance(value, celtypes.TimestampType):
        return datetime.datetime.fromtimestamp(value.timestamp(), tz=datetime.UTC)
    if isinstance(value, celtypes.DurationType):
        return datetime.timedelta(seconds=value.total_seconds())
    if isinstance(value, celtypes.ListType):
        return [to_python(item) for item in value]
    if isinstance(value, celtypes.MapType):
        return {to_python(key): to_python(item) for key, item in value.items()}
    if isinstance(value, (bool, int, float, str, bytes, list, dict)):
        return value
    raise ExpressionError(msg("expression.bad_value", kind=type(value).__name__))
