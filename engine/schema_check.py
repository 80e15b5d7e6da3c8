"""Structural checks: the pathway against its JSON Schema, params against a kind's schema,
and embedded JSON Schemas (case data, forms, answers) against the 2020-12 meta-schema.

jsonschema's own messages are written for programmers ("'x' does not match
'^[a-z]...'"); this module turns each error into a `Problem` a coordinator can
act on: which key, what is wrong, and where it can, what was meant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from engine.definition import BUILTIN_KINDS
from engine.errors import Problem
from engine.json_validation import ENFORCED_FORMATS, describe, keyword_message, pattern_problem
from engine.problem_texts import Text, one_of, text
from engine.suggest import did_you_mean, near_miss
from engine.yaml_source import PathKey, SourceDocument

SCHEMA_FILE = Path(__file__).parents[1] / "schemas" / "pathway.schema.json"
PATHWAY_SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))



def _inline_refs(schema: Any, defs: Mapping[str, Any]) -> Any:
    """`schema` with every local `#/$defs/x` reference replaced by the definition itself.

    The pathway schema is not recursive, and jsonschema spends a third of its
    time resolving references; validating the inlined copy gives the same
    errors with the same paths (a sibling `description` is only an annotation).
    """
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline_refs(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline_refs(item, defs) for item in schema]
    return schema


def _flat_meta_schema() -> dict[str, Any]:
    """The 2020-12 meta-schema as one schema without `$dynamicRef`.

    The official meta-schema combines seven vocabulary meta-schemas through
    `$dynamicRef`, which jsonschema resolves slowly (about 2 ms per small form).
    Merging the vocabularies' properties and definitions into one schema that
    refers to itself with plain `$ref` checks the same keywords several times faster.
    """
    from jsonschema_specifications import REGISTRY

    base = "https://json-schema.org/draft/2020-12/"
    merged: dict[str, Any] = {"type": ["object", "boolean"], "properties": {}, "$defs": {}}
    for part in ("meta/core", "meta/applicator", "meta/unevaluated", "meta/validation", "meta/meta-data",
                 "meta/format-annotation", "meta/content", "schema"):
        contents = REGISTRY.contents(base + part)
        merged["properties"].update(contents.get("properties", {}))
        merged["$defs"].update(contents.get("$defs", {}))

    def plain(node: Any) -> Any:
        if isinstance(node, dict):
            return {("$ref" if k == "$dynamicRef" else k): ("#" if k == "$dynamicRef" else plain(v))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [plain(item) for item in node]
        return node

    flat: dict[str, Any] = plain(merged)
    return flat


_FORMATS = FormatChecker(formats=("date",))


def _validation_schema() -> dict[str, Any]:
    """The pathway schema as the loader validates it: references inlined and the step's
    per-kind `allOf` rules taken out (`_check_step_rules` applies those, ten times faster
    than jsonschema's if/then evaluation, with the same messages)."""
    defs = {**PATHWAY_SCHEMA["$defs"]}
    defs["step"] = {k: v for k, v in defs["step"].items() if k != "allOf"}
    inlined: dict[str, Any] = _inline_refs(PATHWAY_SCHEMA, defs)
    return inlined


_PATHWAY_VALIDATOR = Draft202012Validator(_validation_schema(), format_checker=_FORMATS)
_META_VALIDATOR = Draft202012Validator(_flat_meta_schema())
_STEP_RULES: list[dict[str, Any]] = PATHWAY_SCHEMA["$defs"]["step"]["allOf"]

# Where a key that does not fit a step's kind belongs instead (hint codes).
_BELONGS = {
    "role": "hint-alleen-taak-rol",
    "due": "hint-alleen-taak-termijn",
    "form": "hint-alleen-taak-formulier",
    "reminders": "hint-alleen-taak-herinneringen",
    "escalation": "hint-alleen-taak-escalatie",
    "params": "hint-alleen-automatisch-params",
    "tracks": "hint-alleen-tracks-stap",
    "tracks_from": "hint-alleen-tracks-stap",
    "mode": "hint-alleen-tracks-mode",
    "outcome": "hint-alleen-end-uitkomst",
    "result": "hint-alleen-close-track-resultaat",
    "timeout": "hint-alleen-wachten-timeout",
    "on_timeout": "hint-alleen-wachten-timeout",
    "next": "hint-eindstap-geen-next",
    "max_visits": "hint-eindstap-rondt-af",
    "on_max_visits": "hint-eindstap-rondt-af",
}

# JSON Schema 2020-12 keywords (core, applicator, validation, annotation, format, content, unevaluated)
_KEYWORD_TEXT = (
    "$schema $id $ref $anchor $dynamicRef $dynamicAnchor $vocabulary $comment $defs "
    "allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains properties "
    "patternProperties additionalProperties propertyNames unevaluatedItems unevaluatedProperties "
    "type enum const multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength minLength "
    "pattern maxItems minItems uniqueItems maxContains minContains maxProperties minProperties required "
    "dependentRequired title description default deprecated readOnly writeOnly examples format "
    "contentEncoding contentMediaType contentSchema"
)
_SCHEMA_KEYWORDS = frozenset(_KEYWORD_TEXT.split())
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_SCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_ONE_KEYWORDS = frozenset({"not", "if", "then", "else", "items", "contains", "additionalProperties",
                                  "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema"})
_SIMPLE_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


def check_structure(doc: SourceDocument, known_kinds: Collection[str]) -> list[Problem]:
    """Every way the file's data breaks `schemas/pathway.schema.json`."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    found = [p for error in _PATHWAY_VALIDATOR.iter_errors(doc.data) for p in _translate(doc, error, ())]
    found += _check_step_rules(doc, set(BUILTIN_KINDS) | set(known_kinds))
    for problem in found:
        key = (problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            problems.append(problem)
    return problems


def _step_paths(data: Any) -> list[PathKey]:
    paths: list[PathKey] = []
    if not isinstance(data, dict):
        return paths
    steps = data.get("steps")
    if isinstance(steps, list):
        paths += [("steps", i) for i in range(len(steps))]
    tracks = data.get("tracks")
    for t, track in enumerate(tracks if isinstance(tracks, list) else []):
        track_steps = track.get("steps") if isinstance(track, dict) else None
        if isinstance(track_steps, list):
            paths += [("tracks", t, "steps", i) for i in range(len(track_steps))]
    return paths


def _rule_for(kind: str) -> dict[str, Any] | None:
    """The `then` of the schema's per-kind rule that applies to `kind`."""
    for rule in _STEP_RULES:
        condition = rule["if"]["properties"]["kind"]
        if condition.get("const") == kind or ("not" in condition and kind not in condition["not"]["enum"]):
            then: dict[str, Any] = rule["then"]
            return then
    return None


def _check_step_rules(doc: SourceDocument, known: set[str]) -> list[Problem]:
    """The schema's per-kind step rules: keys each kind needs, keys that do not apply to it.

    An unknown kind is skipped: the semantic check reports it once, not once per key.
    """
    problems: list[Problem] = []
    for path in _step_paths(doc.data):
        step = _at(doc.data, path)
        if not isinstance(step, dict):
            continue
        kind = step.get("kind")
        rule = _rule_for(kind) if isinstance(kind, str) and kind in known else None
        if rule is None:
            continue
        for key in rule.get("required", ()):
            if key not in step and near_miss(key, step) is None:  # a typo is reported as unknown key
                problems.append(doc.problem((*path, key), text("stapsoort-mist-veld", key=key, kind=str(kind))))
        forbidden = rule.get("properties", {})
        for key in step:
            if forbidden.get(key) is False:
                belongs = _BELONGS.get(key)
                problems.append(doc.problem((*path, key), text("niet-bij-stapsoort", key=key, kind=str(kind)),
                                            text(belongs) if belongs else None, key=True))
    return problems


def check_against(doc: SourceDocument, path: PathKey, value: Any, schema: Mapping[str, Any]) -> list[Problem]:
    """Problems of `value` (found at `path`) against a kind's `params` schema."""
    validator = _validator_for(json.dumps(schema, sort_keys=True))
    problems: list[Problem] = []
    for error in validator.iter_errors(value):
        problems.extend(_translate(doc, error, path))
    return problems


@lru_cache(maxsize=256)
def _validator_for(schema_text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_text))


def _at(data: Any, path: Iterable[str | int]) -> Any:
    node = data
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def unknown_key_hint(key: str, value: Any, allowed: Collection[str]) -> Text:
    """Did-you-mean for an unknown key; spots text split by a comma inside `{...}`."""
    if value is None and " " in key.strip():
        return text("hint-komma-in-accolades")
    return did_you_mean(key, allowed) or text(
        "hint-hier-toegestaan", options=one_of(sorted(allowed) if len(allowed) > 30 else allowed))


def _translate(doc: SourceDocument, error: SchemaError, base: PathKey) -> list[Problem]:
    path: PathKey = (*base, *error.absolute_path)
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator is None:  # a `false` schema (none in the validated schema; kept for kinds' params)
        return [doc.problem(path, text("niet-toegestaan-hier"))]
    validator = str(error.validator)
    expected: Any = error.validator_value
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        return [
            doc.problem((*path, key), text("onbekend-veld", key=key), unknown_key_hint(key, instance[key], allowed),
                        key=True)
            for key in instance
            if key not in allowed
        ]
    if validator == "required" and isinstance(instance, dict):
        owner = _owner(doc, path)
        return [
            doc.problem((*path, key), text("verplicht-veld-ontbreekt", key=key, owner=owner))
            for key in expected
            if key not in instance and near_miss(key, instance) is None  # a typo is reported as unknown key
        ]
    if validator == "dependentRequired" and isinstance(instance, dict):
        problems = []
        for key, needed in expected.items():
            for other in needed:
                if key in instance and other not in instance:
                    problems.append(doc.problem((*path, key), text("veld-vraagt-ook", key=key, other=other), key=True))
        return problems
    several = validator == "oneOf" and not error.context
    return [doc.problem(path, *keyword_message(validator, expected, instance, schema, several))]


def _owner(doc: SourceDocument, path: PathKey) -> Text:
    """What the mapping at `path` is, in words: the pathway, step `x`, the params of step `x`."""
    if not path:
        return text("deel-eigenaar-zorgpad")
    step_path = path[:-1] if path[-1] == "params" else path
    step = _at(doc.data, step_path)
    if len(step_path) >= 2 and step_path[-2] == "steps" and isinstance(step, dict) and isinstance(step.get("id"), str):
        return text("deel-eigenaar-params" if path[-1] == "params" else "deel-eigenaar-stap", step=step["id"])
    if isinstance(path[-1], int) and isinstance(path[-2] if len(path) > 1 else None, str):
        return text("deel-eigenaar-elk", key=str(path[-2]))
    return text("deel-eigenaar-veld", key=str(path[-1]))


# ---------------------------------------------------------------- embedded JSON Schemas


def check_embedded_schema(doc: SourceDocument, path: PathKey, schema: Any, what: str) -> list[Problem]:
    """Problems of a JSON Schema written inside the pathway (case_data, a form, an answer).

    It must be a valid 2020-12 schema of type object with `properties`; every
    `required` name must be one of the properties; unknown keywords (a typo
    such as `propertes` would otherwise silently accept anything) are errors.
    `what` is the catalogue code naming the schema (`deel-wat-formulier`, ...).
    """
    if not isinstance(schema, dict):
        return []  # the structural check already reported the wrong type
    problems: list[Problem] = []
    for error in _META_VALIDATOR.iter_errors(schema):
        sub = (*path, *error.absolute_path)
        if error.absolute_path and error.absolute_path[-1] == "type":
            problems.append(_bad_type(doc, sub, error.instance))
        else:
            keyword_schema = error.schema if isinstance(error.schema, dict) else {}
            detail, hint = keyword_message(str(error.validator), error.validator_value, error.instance, keyword_schema,
                                    error.validator == "oneOf" and not error.context)
            problems.append(doc.problem(sub, text("ongeldig-schema", detail=detail), hint))
    if schema.get("type") != "object":
        problems.append(doc.problem((*path, "type") if "type" in schema else path,
                                    text("schema-niet-object", what=text(what)), text("hint-schema-object")))
    if not isinstance(schema.get("properties"), dict) and near_miss("properties", schema) is None:
        problems.append(doc.problem(path, text("schema-zonder-properties", what=text(what)),
                                    text("hint-velden-onder-properties")))
    problems.extend(_walk_schema(doc, path, schema))
    return problems


def _regex_problem(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return ""


def _bad_type(doc: SourceDocument, path: PathKey, value: Any) -> Problem:
    if isinstance(value, str):
        return doc.problem(path, text("geen-schema-type", value=value),
                           did_you_mean(value, _SIMPLE_TYPES) or text("hint-gebruik", options=one_of(_SIMPLE_TYPES)))
    return doc.problem(path, text("waarde-geen-schema-type", value=describe(value)),
                       text("hint-gebruik", options=one_of(_SIMPLE_TYPES)))


def _walk_schema(doc: SourceDocument, path: PathKey, schema: Any) -> list[Problem]:
    if not isinstance(schema, dict):
        return []
    problems: list[Problem] = []
    for key, value in schema.items():
        if key not in _SCHEMA_KEYWORDS and not key.startswith("x-"):
            hint = unknown_key_hint(key, value, _SCHEMA_KEYWORDS)
            problems.append(doc.problem((*path, key), text("onbekend-schema-sleutelwoord", key=key),
                                        hint if hint.code in ("hint-bedoel-je", "hint-komma-in-accolades") else
                                        text("hint-eigen-sleutels-x"), key=True))
        elif key == "pattern" and isinstance(value, str) and _regex_problem(value):
            problems.append(doc.problem((*path, key), text("ongeldige-regex", value=value,
                                                             reason=_regex_problem(value))))
        elif key == "pattern" and isinstance(value, str) and pattern_problem(value):
            problems.append(doc.problem(
                (*path, key), text("regex-niet-lineair", value=value[:80], reason=pattern_problem(value)),
                text("hint-regex-re2")))
        elif key == "patternProperties":
            problems.append(doc.problem((*path, key), text("patternproperties-niet-ondersteund"),
                                        text("hint-velden-bij-naam"), key=True))
        elif key == "format" and isinstance(value, str) and value not in ENFORCED_FORMATS:
            problems.append(doc.problem((*path, key), text("formaat-onbekend", value=value),
                                        did_you_mean(value, ENFORCED_FORMATS) or
                                        text("hint-formaat-of-pattern", options=one_of(ENFORCED_FORMATS))))
        elif key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            for name, sub in value.items():
                problems.extend(_walk_schema(doc, (*path, key, name), sub))
        elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            for index, sub in enumerate(value):
                problems.extend(_walk_schema(doc, (*path, key, index), sub))
        elif key in _SCHEMA_ONE_KEYWORDS:
            problems.extend(_walk_schema(doc, (*path, key), value))
    required, properties = schema.get("required"), schema.get("properties")
    if isinstance(required, list) and isinstance(properties, dict):
        for index, name in enumerate(required):
            if isinstance(name, str) and name not in properties:
                problems.append(doc.problem((*path, "required", index), text("verplicht-veld-onbekend", name=name),
                                            did_you_mean(name, properties) or text("hint-onder-properties")))
    return problems
