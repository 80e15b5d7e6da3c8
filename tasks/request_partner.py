"""Ask a partner organisation a question and wait for its answer (or the timeout)."""

from __future__ import annotations

from engine.definition import RoleKind
from engine.kinds import RoleParam, TaskKindSpec

SPEC = TaskKindSpec(
    name="request_partner",
    description=(
        "Ask a partner a question and wait for the answer; the answer is recorded like a form "
        "(steps.<id>.<field>). Use timeout/on_timeout for a partner that does not answer."
    ),
    params_schema={
        "type": "object",
        "additionalProperties": False,
        "required": ["partner", "answer"],
        "properties": {
            "partner": {"type": "string", "description": "Role id of the partner asked (a role of kind partner)."},
            "question": {"type": "string", "minLength": 1, "description": "The question as the partner reads it."},
            "template": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_]*$",
                "description": "Instead of `question`: a message_templates id ({fields} and {due} filled in).",
            },
            "answer": {
                "type": "object",
                "description": "JSON Schema (type object) of the answer the partner gives.",
            },
            "answer_within": {
                "type": "string",
                "description": (
                    "When the partner's answer is due (default: the timeout); reminders and escalation "
                    "count from this moment, so it should lie before the timeout."
                ),
            },
            "shares": {
                "type": "array",
                "uniqueItems": True,
                "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "description": (
                    "Case fields the partner sees with the referral (minimum necessary); "
                    "nothing else of the case is shown to the partner."
                ),
            },
            "consent": {
                "type": "string",
                "minLength": 1,
                "description": (
                    "CEL condition that is true when the client consented to sharing with this partner. "
                    "Until it holds (or consent is recorded on the case) the referral waits, and the "
                    "case page says why."
                ),
            },
            "reminders": {
                "type": "array",
                "description": "Reminders while the partner does not answer; without `to` they go to the partner.",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "before": {"type": "string"},
                        "after": {"type": "string"},
                        "to": {"type": "string"},
                    },
                    "oneOf": [{"required": ["before"]}, {"required": ["after"]}],
                },
            },
            "escalation": {
                "type": "array",
                "description": "Escalation chain when the partner does not answer (e.g. the worker, then the coordinator).",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["after", "action", "to"],
                    "properties": {
                        "after": {"type": "string"},
                        "action": {"enum": ["notify", "reassign", "raise"]},
                        "to": {"type": "string"},
                    },
                },
            },
        },
    },
    waits_for_answer=True,
    answer_schema_param="answer",
    role_params=(RoleParam("partner", kinds=frozenset({RoleKind.PARTNER})),),
    expression_params=("consent",),
    duration_params=("answer_within",),
)
