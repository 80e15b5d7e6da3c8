"""A pathway prepared for running: indexes, validators and its calendar, built once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from engine.calendar import WorkCalendar, calendar_for
from engine.definition import CloseReason, Outcome, Pathway, Role, Step, TrackTemplate
from engine.errors import ValidationError
from engine.fast_schema import Accepts, compile_accepts
from engine.json_validation import validator_for
from engine.messages import Message, msg, schema_problems
from engine.state import MAIN_FLOW

EVALUATION_STEP = "evaluation"

# What every evaluation records about the tracks, whatever the pathway adds.
_EVALUATION_BUILTIN: dict[str, Any] = {
    "track_reviews": {
        "type": "array",
        "title": "Voortgang per probleemgebied",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["track", "progress"],
            "properties": {
                "track": {"type": "string", "title": "Probleemgebied"},
                "progress": {"type": "string", "title": "Voortgang", "maxLength": 2000},
            },
        },
    },
    "close_tracks": {
        "type": "array",
        "title": "Af te sluiten probleemgebieden",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["track", "result"],
            "properties": {
                "track": {"type": "string", "title": "Probleemgebied"},
                "result": {"enum": ["achieved", "not_achieved", "stopped"], "title": "Resultaat"},
            },
        },
    },
    "add_tracks": {"type": "array", "title": "Nieuwe probleemgebieden", "items": {"type": "string"}},
    "focus": {"type": "string", "title": "Volgende focus (één leefgebied tegelijk)"},
}


def evaluation_form_schema(pathway: Pathway) -> dict[str, Any]:
    """The evaluation form: the built-in track review plus the pathway's own fields."""
    own = dict(pathway.evaluation.form or {}) if pathway.evaluation else {}
    properties = dict(_EVALUATION_BUILTIN)
    properties.update(own.get("properties", {}))
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(own.get("required", [])),
        "properties": properties,
    }


@dataclass(frozen=True)
class CompiledPathway:
    pathway: Pathway
    calendar: WorkCalendar
    steps: dict[str, Step]
    step_flow: dict[str, str]  # step id -> MAIN_FLOW or the track id it belongs to
    tracks: dict[str, TrackTemplate]
    roles: dict[str, Role]
    outcomes: dict[str, Outcome]
    close_reasons: dict[str, CloseReason]
    validators: dict[str, Draft202012Validator] = field(default_factory=dict)
    # The quick yes of each validator's schema (engine/fast_schema.py); absent: jsonschema decides.
    accepts: dict[str, Accepts] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.pathway.key

    def validate(self, which: str, data: Any, subject: Message | str) -> None:
        """Check `data` against the schema named `which` ("case_data", a step id or "evaluation");
        `subject` names what is checked in the refusal (`subject.*` in engine/messages.py)."""
        validator = self.validators.get(which)
        if validator is None:
            return
        accepts = self.accepts.get(which)
        if accepts is not None and accepts(data):
            return
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            raise ValidationError(msg("schema.invalid", subject=subject, problems=schema_problems(errors)))


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Case data and forms hold only what they declare: unknown fields are refused."""
    if schema.get("type") == "object" and "additionalProperties" not in schema:
        return {**schema, "additionalProperties": False}
    return schema


def compile_pathway(pathway: Pathway, *, good_friday: bool = False) -> CompiledPathway:
    steps: dict[str, Step] = {}
    step_flow: dict[str, str] = {}
    for step in pathway.steps:
        steps[step.id] = step
        step_flow[step.id] = MAIN_FLOW
    for track in pathway.tracks:
        for step in track.steps:
            steps[step.id] = step
            step_flow[step.id] = track.id
    validators: dict[str, Draft202012Validator] = {
        "case_data": validator_for(strict_schema(dict(pathway.case_data)))
    }
    for step in steps.values():
        if step.form is not None:
            validators[step.id] = validator_for(strict_schema(dict(step.form)))
    if pathway.evaluation is not None:
        validators[EVALUATION_STEP] = validator_for(evaluation_form_schema(pathway))
    accepts = {which: check for which, v in validators.items() if (check := compile_accepts(v.schema)) is not None}
    return CompiledPathway(
        pathway=pathway,
        calendar=calendar_for(pathway.calendar, pathway.school_holidays, good_friday=good_friday),
        steps=steps,
        step_flow=step_flow,
        tracks={t.id: t for t in pathway.tracks},
        roles={r.id: r for r in pathway.roles},
        outcomes={o.code: o for o in pathway.outcomes},
        close_reasons={c.code: c for c in pathway.close_reasons},
        validators=validators,
        accepts=accepts,
    )
