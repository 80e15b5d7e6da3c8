"""Export the case's registration record (national AMW model) for aggregate reporting."""

from __future__ import annotations

from engine.kinds import TaskKindSpec

SPEC = TaskKindSpec(
    name="export_registration",
    description=(
        "Add the case to the registration export (the national AMW registration model). Municipalities "
        "see only aggregates of these records, never a single client."
    ),
    params_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "model": {
                "enum": ["amw"],
                "default": "amw",
                "description": "Registration model of the export; 'amw' is the national AMW model.",
            },
            "include_origin": {
                "type": "boolean",
                "default": False,
                "description": (
                    "Include country of birth of client, parents and grandparents. Only for pathways "
                    "with origin_registration: true, and never when the client objects."
                ),
            },
        },
    },
    origin_params=("include_origin",),
)
