"""A fast path for the CEL that pathways actually write.

cel-python interprets its parse tree node by node and converts every input
to CEL types first: about 0.7 ms per condition, most of the engine's time per
completed task. Nearly every pathway condition is a small boolean over fields
(`!form.reached`, `form.route == "debts" || case.months >= 2`,
`size(steps.intake.problems) > 0`). This module turns such parse trees into
plain Python closures once, and runs them in microseconds.

It is a fast path, never a second semantics: a tree with anything it does not
know (arithmetic, macros, `has`, ternaries, escapes in strings, ...) is not
compiled, and at run time any doubt (a missing field, values of different
types, a non-boolean where CEL wants one) raises `Fallback`, after which the
caller evaluates the same expression with cel-python. So a result from here
is always the result cel-python would give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import lark

Closure = Callable[[Mapping[str, Any]], Any]


class Fallback(Exception):
    """This evaluation needs full CEL semantics: ask cel-python."""


class _Unsupported(Exception):
    pass


_SCALARS = (bool, int, float, str)


def _same_type(a: Any, b: Any) -> None:
    if type(a) is not type(b) or not isinstance(a, (*_SCALARS, type(None))):
        raise Fallback


def _truth(value: Any) -> bool:
    if type(value) is not bool:
        raise Fallback
    return value


def _literal(token: str) -> Any:
    if token in ("true", "false"):
        return token == "true"
    if token == "null":
        return None
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        body = token[1:-1]
        if "\\" in body or token[0] in body or token.startswith(('"""', "'''")):
            raise _Unsupported
        return body
    if token.isdigit():
        return int(token)
    try:
        if any(ch in token for ch in ".eE") and not token.lower().startswith("0x"):
            return float(token)
    except ValueError:
        pass
    raise _Unsupported


def _only_child(node: lark.Tree[Any]) -> lark.Tree[Any]:
    if len(node.children) != 1 or not isinstance(node.children[0], lark.Tree):
        raise _Unsupported
    return node.children[0]


_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "relation_eq": lambda a, b: a == b,
    "relation_ne": lambda a, b: a != b,
    "relation_lt": lambda a, b: a < b,
    "relation_le": lambda a, b: a <= b,
    "relation_gt": lambda a, b: a > b,
    "relation_ge": lambda a, b: a >= b,
}


def _compile(node: lark.Tree[Any]) -> Closure:
    kind = node.data
    children = node.children
    if kind in ("expr", "addition", "multiplication"):
        return _compile(_only_child(node))
    if kind == "conditionalor":
        if len(children) == 1:
            return _compile(_only_child(node))
        left, right = (_compile(c) for c in children)
        return lambda v: True if _truth(left(v)) else _truth(right(v))
    if kind == "conditionaland":
        if len(children) == 1:
            return _compile(_only_child(node))
        left, right = (_compile(c) for c in children)
        return lambda v: _truth(right(v)) if _truth(left(v)) else False
    if kind == "relation":
        if len(children) == 1:
            return _compile(_only_child(node))
        op_node, right_node = children
        assert isinstance(op_node, lark.Tree) and isinstance(right_node, lark.Tree)
        left = _compile(_only_child(op_node))
        right = _compile(right_node)
        if op_node.data == "relation_in":
            def within(v: Mapping[str, Any]) -> bool:
                item, container = left(v), right(v)
                if isinstance(container, list):
                    for element in container:
                        _same_type(item, element)
                    return item in container
                if isinstance(container, dict) and type(item) is str:
                    return item in container
                raise Fallback
            return within
        compare = _RELATIONS.get(op_node.data)
        if compare is None:
            raise _Unsupported

        def relation(v: Mapping[str, Any]) -> bool:
            a, b = left(v), right(v)
            _same_type(a, b)
            if op_node.data not in ("relation_eq", "relation_ne") and type(a) in (bool, type(None)):
                raise Fallback
            return compare(a, b)
        return relation
    if kind == "unary":
        if len(children) == 1:
            return _compile(_only_child(node))
        op, operand = children
        if isinstance(op, lark.Tree) and op.data == "unary_not" and isinstance(operand, lark.Tree):
            inner = _compile(operand)
            return lambda v: not _truth(inner(v))
        raise _Unsupported
    if kind == "member":
        return _compile(_only_child(node))
    if kind == "member_dot":
        base_node, name = children
        assert isinstance(base_node, lark.Tree)
        base = _compile(base_node)
        field = str(name)

        def member(v: Mapping[str, Any]) -> Any:
            container = base(v)
            if type(container) is not dict or field not in container:
                raise Fallback
            return container[field]
        return member
    if kind == "primary":
        return _compile(_only_child(node))
    if kind == "ident":
        name = str(children[0])

        def ident(v: Mapping[str, Any]) -> Any:
            if name not in v:
                raise Fallback
            return v[name]
        return ident
    if kind == "literal":
        value = _literal(str(children[0]))
        return lambda v: value
    if kind == "paren_expr":
        return _compile(_only_child(node))
    if kind == "list_lit":
        if not children:
            return lambda v: []
        exprlist = _only_child(node)
        items = [_compile(c) for c in exprlist.children if isinstance(c, lark.Tree)]
        return lambda v: [item(v) for item in items]
    if kind == "ident_arg" and str(children[0]) == "size" and len(children) == 2:
        args = children[1]
        assert isinstance(args, lark.Tree)
        if len(args.children) != 1:
            raise _Unsupported
        arg = _compile(args.children[0])

        def size(v: Mapping[str, Any]) -> int:
            value = arg(v)
            if not isinstance(value, (list, dict, str)):
                raise Fallback
            return len(value)
        return size
    raise _Unsupported


def compile_fast(tree: lark.Tree[Any]) -> Closure | None:
    """A closure for `tree`, or None when the expression needs full CEL."""
    try:
        return _compile(tree)
    except (_Unsupported, RecursionError):
        return None
