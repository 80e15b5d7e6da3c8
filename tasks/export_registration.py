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
                "type": "string",
                "pattern": "^[a-z][a-z0-9-]{1,62}$",
                "default": "amw",
                "description": (
                    "Registration model of the export: 'amw' (the national AMW model), or the `model` "
                    "declared under `registration:` in this pathway (its fields and code lists)."
                ),
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
