"""The quick yes of form schemas (engine/fast_schema.py) never accepts what jsonschema refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.compiled import compile_pathway
from engine.fast_schema import compile_accepts
from engine.json_validation import validator_for
from engine.loader import load_pathway
from tasks.registry import default_kinds

PATHWAYS = sorted((Path(__file__).resolve().parents[2] / "pathways").glob("*.yaml"))
COMPILED = [compile_pathway(load_pathway(p.read_bytes(), str(p), default_kinds())) for p in PATHWAYS]
SCHEMAS = [(f"{cp.key}:{which}", v.schema) for cp in COMPILED for which, v in cp.validators.items()]


def _words(schema: Any, found: set[Any]) -> set[Any]:
    """Property names, consts and enum values anywhere in `schema`: the values a form is made of."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                found.update(value)
            if key == "const":
                found.add(value if not isinstance(value, list | dict) else None)
            if key == "enum" and isinstance(value, list):
                found.update(v for v in value if not isinstance(v, list | dict))
            _words(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _words(value, found)
    return found


def _values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    words = sorted(_words(schema, set()), key=repr)
    scalars = st.one_of(
        st.sampled_from(words) if words else st.none(), st.text(max_size=12), st.integers(-5, 3000),
        st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
        st.sampled_from(["2026-02-30", "2026-03-01", "a@b.nl", "12:00:00", "x" * 3000]),
    )
    keys = st.sampled_from([w for w in words if isinstance(w, str)] or ["x"]) | st.text(max_size=4)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=8),
                        max_leaves=20)


@pytest.mark.parametrize(("name", "schema"), SCHEMAS, ids=[n for n, _ in SCHEMAS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_quick_yes_only_for_valid_values(name: str, schema: dict[str, Any], data: st.DataObject) -> None:
    accepts = compile_accepts(schema)
    if accepts is None:
        return
    value = data.draw(_values(schema))
    if accepts(value):
        assert not list(validator_for(schema).iter_errors(value)), f"{name}: quick yes for an invalid {value!r}"


def test_most_shipped_forms_have_a_quick_yes() -> None:
    compiled = sum(1 for _, schema in SCHEMAS if compile_accepts(schema) is not None)
    assert compiled >= 0.8 * len(SCHEMAS)
    for cp in COMPILED:
        assert set(cp.accepts) <= set(cp.validators)


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": "integer", "minimum": 1}}, "required": ["a"],
     "additionalProperties": False},
    {"type": "array", "items": {"oneOf": [{"const": "x"}, {"const": "y"}]}, "uniqueItems": True, "minItems": 1},
    {"type": ["string", "null"], "maxLength": 3, "pattern": "^a"},
    {"enum": ["a", True, None]},
])
def test_quick_yes_on_hand_picked_values(schema: dict[str, Any]) -> None:
    accepts = compile_accepts(schema)
    assert accepts is not None
    validator = validator_for(schema)
    for value in ({"a": 1}, {"a": 0}, {"a": True}, {"a": 1.0}, {"a": float("nan")}, {}, {"a": 1, "b": 2},
                  ["x"], ["x", "x"], [], ["z"], [1], "abc", "abcd", "b", None, True, 1, "a", False):
        if accepts(value):
            assert not list(validator.iter_errors(value)), (schema, value)


def test_if_then_else() -> None:
    schema = {"type": "object", "if": {"properties": {"a": {"const": True}}, "required": ["a"]},
              "then": {"required": ["b"]}, "else": {"required": ["c"]}}
    accepts = compile_accepts(schema)
    assert accepts is not None
    assert accepts({"a": True, "b": 1}) and accepts({"c": 1}) and accepts({"a": False, "c": 1})
    assert not accepts({"a": True, "c": 1}) and not accepts({"b": 1})
    # a condition whose False would not be sure (uniqueItems of non-strings): no quick yes at all
    assert compile_accepts({"if": {"uniqueItems": True}, "then": {"type": "array"}}) is None


def test_unknown_keywords_get_no_quick_yes() -> None:
    assert compile_accepts({"$ref": "#/$defs/x"}) is None
    assert compile_accepts({"type": "number", "multipleOf": 0.1}) is None
