"""Send a one-way signal to a partner organisation; nothing comes back."""

from __future__ import annotations

from engine.definition import RoleKind
from engine.kinds import RoleParam, TaskKindSpec

SPEC = TaskKindSpec(
    name="notify_partner",
    description="Tell a partner organisation something (a one-way signal); the case moves on at once.",
    params_schema={
        "type": "object",
        "additionalProperties": False,
        "required": ["partner"],
        "properties": {
            "partner": {"type": "string", "description": "Role id of the partner (a role of kind partner)."},
            "message": {
                "type": "string",
                "minLength": 1,
                "description": "What the partner is told. Share no more about the client than needed.",
            },
            "template": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_]*$",
                "description": "Instead of `message`: a message_templates id (its {fields} filled in).",
            },
        },
    },
    role_params=(RoleParam("partner", kinds=frozenset({RoleKind.PARTNER})),),
)
