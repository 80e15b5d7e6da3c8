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
        },
    },
    waits_for_answer=True,
    answer_schema_param="answer",
    role_params=(RoleParam("partner", kinds=frozenset({RoleKind.PARTNER})),),
)
