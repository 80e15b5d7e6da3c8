"""Send a letter (post or PDF) from a template, usually to the client."""

from __future__ import annotations

from engine.kinds import RoleParam, TaskKindSpec

SPEC = TaskKindSpec(
    name="send_letter",
    description="Send a letter made from a template, to the client or to a partner role.",
    params_schema={
        "type": "object",
        "additionalProperties": False,
        "required": ["template"],
        "properties": {
            "template": {
                "type": "string",
                "minLength": 1,
                "description": "Name of the letter template, e.g. 'uitnodiging-huisbezoek'.",
            },
            "to": {
                "type": "string",
                "minLength": 1,
                "default": "client",
                "description": "Who receives the letter: 'client' (the default) or a role id.",
            },
        },
    },
    role_params=(RoleParam("to", also_allowed=frozenset({"client"})),),
)
