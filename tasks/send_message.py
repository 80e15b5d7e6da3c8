"""Send an e-mail or in-app message to everyone holding a role."""

from __future__ import annotations

from engine.definition import RoleKind
from engine.kinds import RoleParam, TaskKindSpec

SPEC = TaskKindSpec(
    name="send_message",
    description="Send an e-mail or in-app message to a role (a team, the coordinator, a manager).",
    params_schema={
        "type": "object",
        "additionalProperties": False,
        "required": ["to", "subject", "body"],
        "properties": {
            "to": {"type": "string", "description": "Role id of the receivers; must not be a partner."},
            "subject": {"type": "string", "minLength": 1, "description": "Subject line of the message."},
            "body": {"type": "string", "minLength": 1, "description": "Text of the message."},
            "channel": {
                "enum": ["in_app", "email"],
                "default": "in_app",
                "description": "How the message is delivered: 'in_app' (the default) or 'email'.",
            },
        },
    },
    role_params=(
        RoleParam("to", kinds=frozenset({RoleKind.WORKER, RoleKind.COORDINATOR, RoleKind.MANAGER})),
    ),
)
