"""Forms generated from the shipped pathways' JSON Schemas: every field renders, and what a worker
types comes back as the data the engine accepts (no database needed)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.compiled import compile_pathway
from engine.loader import load_pathway
from engine.simulate import WorkerModel, fill_form
from tasks.registry import default_kinds
from web import forms

PATHWAYS = sorted((Path(__file__).resolve().parents[2] / "pathways").glob("*.yaml"))
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Form(dict[str, Any]):
    """A submitted form: repeated fields as lists, like a browser sends them."""

    def getlist(self, key: str) -> list[Any]:
        value = self.get(key)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]


def as_submitted(schema: dict[str, Any], data: dict[str, Any]) -> Form:
    """What the browser sends for `data` through the generated fields."""
    sent = Form()
    for field in forms.build_fields(schema, data):
        value = field.value
        if field.widget == "checkboxes":
            sent[field.name] = list(value)
            sent[f"{field.name}.present"] = "1"
        elif field.widget == "group":
            for child in field.children:
                sent[child.name] = child.value
        elif value not in ("", None):
            sent[field.name] = value
    return sent


def all_forms() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in PATHWAYS:
        pathway = load_pathway(path.read_text(encoding="utf-8"), str(path), default_kinds())
        found.append((pathway.id, "case_data", dict(pathway.case_data)))
        for step in list(pathway.steps) + [s for t in pathway.tracks for s in t.steps]:
            if step.form:
                found.append((pathway.id, step.id, dict(step.form)))
            answer = step.params.get("answer")
            if isinstance(answer, dict):
                found.append((pathway.id, f"{step.id} (answer)", answer))
    return found


FORMS = all_forms()


@pytest.mark.parametrize(("pathway", "step", "schema"), FORMS, ids=[f"{p}:{s}" for p, s, _ in FORMS])
def test_filled_forms_round_trip(pathway: str, step: str, schema: dict[str, Any]) -> None:
    validator = Draft202012Validator(compile_pathway.__globals__["strict_schema"](schema))
    fields = forms.build_fields(schema)
    assert fields, "every form has fields"
    for field in fields:
        assert field.label and not field.label.startswith("{"), field.name
        if field.widget in ("radio", "select", "checkboxes"):
            assert field.options and all(o.label for o in field.options)
    rng = random.Random(7)
    for _ in range(25):
        data = fill_form(rng, schema, WorkerModel(), step, NOW, validator)
        for name, sub in schema.get("properties", {}).items():
            if name in data and sub.get("format") == "email":
                data[name] = "jan@example.nl"  # the simulator writes a placeholder; a person an address
        if list(validator.iter_errors(data)):
            continue  # the simulator's text does not meet a pattern; not what this test is about
        raw = forms.raw_values(schema, as_submitted(schema, data))
        parsed, errors = forms.parse(schema, raw)
        assert errors == {}
        # An unticked set of checkboxes is sent as an empty list (an answer: "none of these").
        assert {k: v for k, v in parsed.items() if not (v == [] and k not in data)} == data
        assert forms.validate(schema, parsed) == ({}, [])


def test_widgets_follow_the_schema() -> None:
    schema = {
        "type": "object", "required": ["choice"],
        "properties": {
            "choice": {"title": "Keuze", "oneOf": [{"const": "a", "title": "A"}, {"const": "b", "title": "B"}]},
            "many": {"type": "array", "items": {"oneOf": [{"const": "x", "title": "X"}]}},
            "yes": {"type": "boolean", "title": "Ja of nee"},
            "count": {"type": "integer", "minimum": 0},
            "amount": {"type": "number"},
            "day": {"type": "string", "format": "date"},
            "mail": {"type": "string", "format": "email"},
            "note": {"type": "string", "maxLength": 1000},
            "name": {"type": "string"},
            "long": {"title": "Lang", "enum": list("abcdefgh")},
        },
    }
    widgets = {f.name: f.widget for f in forms.build_fields(schema)}
    assert widgets == {"choice": "radio", "many": "checkboxes", "yes": "yesno", "count": "integer",
                       "amount": "number", "day": "date", "mail": "email", "note": "textarea", "name": "text",
                       "long": "select"}


def test_dutch_numbers_and_messages_next_to_the_field() -> None:
    schema = {"type": "object", "required": ["amount", "months"],
              "properties": {"amount": {"type": "number", "minimum": 0, "title": "Bedrag"},
                             "months": {"type": "integer", "minimum": 1, "title": "Maanden"}}}
    data, errors = forms.parse(schema, {"amount": "1.234,50", "months": "2,5"})
    assert data == {"amount": 1234.5}
    assert errors == {"months": "Vul een heel getal in."}
    data, errors = forms.parse(schema, {"amount": "-3", "months": "0"})
    assert forms.validate(schema, data) == ({"amount": "Minstens 0.", "months": "Minstens 1."}, [])
    assert forms.validate(schema, {}, "en") == ({"amount": "Fill in this field.", "months": "Fill in this field."}, [])


def test_conditional_fields_say_when_they_are_required() -> None:
    path = next(p for p in PATHWAYS if p.name == "eviction-prevention.yaml")
    pathway = load_pathway(path.read_text(encoding="utf-8"), str(path), default_kinds())
    form = dict(pathway.step("doorstep_visit").form or {})
    fields = {f.name: f for f in forms.build_fields(form)}
    assert fields["help_accepted"].condition == "Verplicht als «Resultaat van het bezoek» is «Huurder gesproken»"
    assert fields["partner_consent"].condition == "Verplicht als «Huurder wil hulp» is «ja»"
    errors, _ = forms.validate(form, {"contact_result": "spoken"})
    assert errors == {"help_accepted": "Vul dit veld in."}


def test_an_empty_form_flags_no_field_whose_condition_is_not_met() -> None:
    path = next(p for p in PATHWAYS if p.name == "eviction-prevention.yaml")
    pathway = load_pathway(path.read_text(encoding="utf-8"), str(path), default_kinds())
    form = dict(pathway.step("doorstep_visit").form or {})
    # empty: only the field that is always required (help_accepted waits for "Huurder gesproken")
    assert forms.validate(form, {})[0] == {"contact_result": "Vul dit veld in."}
    # condition not met: nothing more is asked
    assert forms.validate(form, {"contact_result": "not_home"})[0] == {}
    # condition met: now the dependent field is required, and the next one waits for its answer
    assert forms.validate(form, {"contact_result": "spoken"})[0] == {"help_accepted": "Vul dit veld in."}
    assert forms.validate(form, {"contact_result": "spoken", "help_accepted": False})[0] == {}
    assert forms.validate(form, {"contact_result": "spoken", "help_accepted": True})[0] == {
        "partner_consent": "Vul dit veld in."}
