"""The registration record of a case in the export model its pathway declares.

`registration:` in the pathway names the model, the fields (each from a case
field or one of the case facts below) and the code lists that turn a value
into the model's code. Personal fields never go in (the semantic check
refuses them); a value without a code in its list is exported as `null` with
the field named under `uncoded`, so the receiver sees what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.definition import Registration

CASE_FACTS = ("outcome", "municipality", "opened_on", "closed_on", "trigger")


def facts(state_json: Mapping[str, Any]) -> dict[str, Any]:
    """The case facts a field may name, from a case's state JSON."""
    opened, closed = state_json.get("opened_at"), state_json.get("closed_at")
    return {
        "outcome": state_json.get("outcome"),
        "municipality": state_json.get("municipality"),
        "opened_on": str(opened)[:10] if opened else None,
        "closed_on": str(closed)[:10] if closed else None,
        "trigger": state_json.get("trigger"),
    }


def _code(value: Any, codes: Mapping[str, str]) -> Any:
    if isinstance(value, list):
        return [codes.get(str(v)) for v in value]
    return None if value is None else codes.get(str(value))


def record(model: Registration, data: Mapping[str, Any], case_facts: Mapping[str, Any]) -> dict[str, Any]:
    """{"model", "fields": {name: value or code}, "uncoded": [names]} for one case."""
    fields: dict[str, Any] = {}
    uncoded: list[str] = []
    for f in model.fields:
        value = case_facts.get(f.source) if f.source in CASE_FACTS else data.get(f.source)
        if f.code_list is not None:
            coded = _code(value, model.code_lists.get(f.code_list, {}))
            if value is not None and (coded is None or (isinstance(coded, list) and None in coded)):
                uncoded.append(f.name)
            value = coded
        fields[f.name] = value
    return {"model": model.model, "fields": fields, "uncoded": uncoded}
