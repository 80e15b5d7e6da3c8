"""A decision taken together with a partner: both record it, each is named, each confirms."""

from __future__ import annotations

from engine.definition import RoleKind
from engine.kinds import RoleParam, TaskKindSpec

SPEC = TaskKindSpec(
    name="joint_decision",
    description=(
        "A decision recorded together with a partner: the role and the partner each get a task for "
        "the same decision; the partner names who confirms. When both answered, steps.<id> holds the "
        "decision, `agreed` (both the same), `worker`, `partner` and `partner_name`; branch on form.agreed."
    ),
    params_schema={
        "type": "object",
        "additionalProperties": False,
        "required": ["role", "partner", "question", "decision", "due"],
        "properties": {
            "role": {"type": "string", "description": "Role id of the organisation's side (a person's role)."},
            "partner": {"type": "string", "description": "Role id of the partner deciding along (kind partner)."},
            "question": {"type": "string", "minLength": 1, "description": "The decision to take, as both read it."},
            "decision": {
                "type": "object",
                "description": "JSON Schema (type object) of the decision both record (add no `name`: it is built in).",
            },
            "due": {"type": "string", "description": "How long both sides have (a duration)."},
        },
    },
    waits_for_answer=True,
    answer_schema_param="decision",
    role_params=(
        RoleParam("role", kinds=frozenset({RoleKind.WORKER, RoleKind.COORDINATOR, RoleKind.MANAGER})),
        RoleParam("partner", kinds=frozenset({RoleKind.PARTNER})),
    ),
    duration_params=("due",),
)
