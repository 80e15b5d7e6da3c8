"""A quick yes for forms that are fine, compiled once per schema.

Checking a form with jsonschema walks the schema anew on every call (about 0.2 ms for a form of a
few fields, most of it the library's generic machinery). Nearly every form a worker sends is
valid, and then no error text is needed. `compile_accepts(schema)` turns a schema into one
predicate built of closures: True means jsonschema (with carepath's rules: finite numbers, RE2
patterns, enforced formats; `engine/json_validation.py`) accepts the value as well. False means
"ask jsonschema", which finds and words the problems exactly as before: the predicate may say
False to a valid value (it is only a shortcut), never True to an invalid one.

Only keywords whose meaning is plain are compiled (types, properties, required,
additionalProperties, enum and const of strings, booleans or null, allOf/anyOf, oneOf of distinct
string choices, if/then/else with a plain condition, string lengths, patterns, formats, number
bounds, items and their counts, uniqueItems of strings); a schema using any other keyword (`$ref`,
`not`, `multipleOf`, ...) gets no predicate (None) and is always checked by jsonschema.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from engine.json_validation import FORMAT_CHECKER, matches, pattern_problem

Accepts = Callable[[Any], bool]

# Keywords that only annotate: they never make a value invalid.
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment", "readOnly", "writeOnly",
                          "deprecated", "$schema", "$id"})


class _Unsupported(Exception):
    pass


def _is_number(x: Any) -> bool:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return False
    return isinstance(x, int) or math.isfinite(x)


def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, int):
        return True
    return isinstance(x, float) and math.isfinite(x) and x.is_integer()


_TYPES: dict[str, Accepts] = {
    "string": lambda x: isinstance(x, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "array": lambda x: isinstance(x, list),
    "object": lambda x: isinstance(x, dict),
}


def compile_accepts(schema: Any) -> Accepts | None:
    """The quick predicate of `schema`, or None when it uses a keyword not compiled here."""
    try:
        return _compile(schema)[0]
    except _Unsupported:
        return None


# Each compiled (sub)schema is a predicate and whether it is exact: True exactly when jsonschema
# accepts (needed where a False must mean "invalid": the condition of `if`). A predicate that is
# not exact only ever says True for valid values.
Compiled = tuple[Accepts, bool]


def _plain_values(values: list[Any]) -> tuple[frozenset[str], tuple[Any, ...]]:
    """Strings (compared by value) and True/False/None (by identity); anything else is not compiled
    (jsonschema's equality of numbers, lists and objects has its own rules)."""
    strings, singletons = [], []
    for v in values:
        if isinstance(v, str):
            strings.append(v)
        elif v is None or isinstance(v, bool):
            singletons.append(v)
        else:
            raise _Unsupported
    return frozenset(strings), tuple(singletons)


def _compile(schema: Any) -> Compiled:
    if schema is True or schema == {}:
        return (lambda x: True), True
    if schema is False:
        return (lambda x: False), True
    if not isinstance(schema, Mapping):
        raise _Unsupported
    checks: list[Compiled] = []
    for key, value in schema.items():
        if key in _ANNOTATIONS or key in ("then", "else"):  # then/else: part of `if`
            continue
        checks.append(_keyword(key, value, schema))
    if not checks:
        return (lambda x: True), True
    exact = all(e for _, e in checks)
    if len(checks) == 1:
        return checks[0][0], exact
    every = tuple(c for c, _ in checks)
    return (lambda x: all(check(x) for check in every)), exact


def _keyword(key: str, value: Any, schema: Mapping[str, Any]) -> Compiled:
    if key == "type":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) and n in _TYPES for n in names):
            raise _Unsupported
        tests = tuple(_TYPES[n] for n in names)
        if len(tests) == 1:
            return tests[0], True
        return (lambda x: any(t(x) for t in tests)), True
    if key in ("enum", "const"):
        if key == "enum" and not isinstance(value, list):
            raise _Unsupported
        strings, singletons = _plain_values(list(value) if key == "enum" else [value])
        return (lambda x: (isinstance(x, str) and x in strings) or any(x is s for s in singletons)), True
    if key == "properties":
        if not isinstance(value, Mapping):
            raise _Unsupported
        compiled = [(name, _compile(sub)) for name, sub in value.items()]
        props = tuple((name, check) for name, (check, _) in compiled)

        def properties(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            return all(check(x[name]) for name, check in props if name in x)

        return properties, all(e for _, (_, e) in compiled)
    if key == "required":
        if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
            raise _Unsupported
        names = tuple(value)
        return (lambda x: not isinstance(x, dict) or all(n in x for n in names)), True
    if key == "additionalProperties":
        if "patternProperties" in schema:
            raise _Unsupported
        declared = frozenset(schema.get("properties") or {})
        if value is False:
            return (lambda x: not isinstance(x, dict) or all(k in declared for k in x)), True
        extra, exact = _compile(value)
        return (lambda x: not isinstance(x, dict) or all(extra(v) for k, v in x.items() if k not in declared)), exact
    if key in ("oneOf", "anyOf", "allOf"):
        if not isinstance(value, list) or not value:
            raise _Unsupported
        branches = [_compile(sub) for sub in value]
        subs = tuple(c for c, _ in branches)
        exact = all(e for _, e in branches)
        if key == "allOf":
            return (lambda x: all(s(x) for s in subs)), exact
        if key == "anyOf":
            return (lambda x: any(s(x) for s in subs)), exact
        # oneOf needs exactly one branch to accept, and a branch's False may only mean "ask
        # jsonschema": compiled only when no two branches can accept the same value (consts and enums
        # of distinct strings, the usual labelled choice), where one True is the answer.
        if _disjoint_choices(value):
            return (lambda x: any(s(x) for s in subs)), exact
        raise _Unsupported
    if key == "if":
        condition, exact = _compile(value)
        if not exact:
            raise _Unsupported  # which branch applies must be known for sure
        then, then_exact = _compile(schema.get("then", True))
        otherwise, else_exact = _compile(schema.get("else", True))
        return (lambda x: then(x) if condition(x) else otherwise(x)), then_exact and else_exact
    if key in ("minLength", "maxLength"):
        limit = _count(value)
        if key == "minLength":
            return (lambda x: not isinstance(x, str) or len(x) >= limit), True
        return (lambda x: not isinstance(x, str) or len(x) <= limit), True
    if key == "pattern":
        if not isinstance(value, str) or pattern_problem(value):
            raise _Unsupported
        return (lambda x: not isinstance(x, str) or matches(value, x)), True
    if key == "format":
        if not isinstance(value, str):
            raise _Unsupported
        return (lambda x: FORMAT_CHECKER.conforms(x, value)), True
    if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if not _is_number(value):
            raise _Unsupported
        bound = value
        if key == "minimum":
            return (lambda x: not _is_number(x) or x >= bound), True
        if key == "maximum":
            return (lambda x: not _is_number(x) or x <= bound), True
        if key == "exclusiveMinimum":
            return (lambda x: not _is_number(x) or x > bound), True
        return (lambda x: not _is_number(x) or x < bound), True
    if key == "items":
        each, exact = _compile(value)
        return (lambda x: not isinstance(x, list) or all(each(v) for v in x)), exact
    if key in ("minItems", "maxItems"):
        limit = _count(value)
        if key == "minItems":
            return (lambda x: not isinstance(x, list) or len(x) >= limit), True
        return (lambda x: not isinstance(x, list) or len(x) <= limit), True
    if key == "uniqueItems":
        if value is False:
            return (lambda x: True), True
        if value is not True:
            raise _Unsupported
        # Strings only (other values compare by jsonschema's own equality): anything else, ask it.
        return (lambda x: not isinstance(x, list) or (all(isinstance(v, str) for v in x)
                                                      and len(set(x)) == len(x))), False
    raise _Unsupported  # `not`, `$ref`, `multipleOf`, `dependentRequired`, ...: jsonschema decides


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Unsupported
    return value


def _disjoint_choices(branches: list[Any]) -> bool:
    """Every branch accepts only strings of its own const or enum (with annotations), no two
    branches sharing one: at most one branch can accept any value."""
    seen: set[str] = set()
    for branch in branches:
        if not isinstance(branch, Mapping):
            return False
        values: list[Any]
        if "const" in branch:
            values = [branch["const"]]
        elif isinstance(branch.get("enum"), list):
            values = list(branch["enum"])
        else:
            return False
        if any(k not in _ANNOTATIONS and k not in ("const", "enum", "type") for k in branch):
            return False
        if not all(isinstance(v, str) for v in values) or seen & set(values):
            return False
        seen.update(values)
    return True
