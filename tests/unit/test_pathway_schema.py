"""schemas/pathway.schema.json and the task kinds' params schemas: valid, strict, documented."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.definition import BUILTIN_KINDS
from engine.kinds import TaskKindSpec
from tasks.registry import default_kinds

SCHEMA_FILE = Path(__file__).parents[2] / "schemas" / "pathway.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def properties(schema: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, subschema) under a `properties` keyword, anywhere in `schema`."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield f"{path}.{name}", sub
                    yield from properties(sub, f"{path}.{name}")
            else:
                yield from properties(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from properties(item, f"{path}[{index}]")


def test_pathway_schema_is_valid_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_property_has_a_description() -> None:
    found = list(properties(SCHEMA))
    assert len(found) > 80
    undocumented = [path for path, sub in found
                    if sub is not False and not (isinstance(sub, dict) and sub.get("description"))
                    and "/allOf" not in path]
    assert undocumented == []


def test_every_object_is_closed() -> None:
    def objects(schema: Any) -> Iterator[dict[str, Any]]:
        if isinstance(schema, dict):
            if "properties" in schema and "additionalProperties" in schema:
                yield schema
            for value in schema.values():
                yield from objects(value)
        elif isinstance(schema, list):
            for item in schema:
                yield from objects(item)

    open_objects = [o.get("description", "?") for o in objects(SCHEMA) if o["additionalProperties"] is not False]
    assert open_objects == []


def test_kind_examples_list_every_builtin_and_shipped_kind() -> None:
    examples = SCHEMA["$defs"]["step"]["properties"]["kind"]["examples"]
    assert set(examples) == set(BUILTIN_KINDS) | set(default_kinds())


KIND_MODULES = ["send_letter", "send_message", "notify_partner", "request_partner", "wait", "export_registration",
                "handover", "joint_decision"]


@pytest.mark.parametrize("module", KIND_MODULES)
def test_task_kind_module_exports_a_strict_documented_spec(module: str) -> None:
    spec = importlib.import_module(f"tasks.{module}").SPEC
    assert isinstance(spec, TaskKindSpec)
    assert spec.name == module and spec.description
    Draft202012Validator.check_schema(spec.params_schema)
    assert spec.params_schema["type"] == "object"
    assert spec.params_schema["additionalProperties"] is False
    for name, sub in spec.params_schema["properties"].items():
        assert sub.get("description"), f"{module}.params.{name} has no description"
    declared = set(spec.params_schema["properties"])
    assert {r.name for r in spec.role_params} <= declared
    assert set(spec.duration_params) | set(spec.expression_params) | set(spec.origin_params) <= declared
    if spec.answer_schema_param is not None:
        assert spec.waits_for_answer and spec.answer_schema_param in declared


def test_registry_holds_every_kind_once_and_returns_a_fresh_dict() -> None:
    kinds = default_kinds()
    assert sorted(kinds) == sorted(KIND_MODULES)
    assert not set(kinds) & set(BUILTIN_KINDS)
    kinds.pop("wait")
    assert "wait" in default_kinds()
