"""Hand a case over to another pathway: start a case there with mapped data, and link both."""

from __future__ import annotations

from engine.kinds import TaskKindSpec

SPEC = TaskKindSpec(
    name="handover",
    description=(
        "Start a case on another pathway with the data named in `map`, linked both ways. With "
        "`wait: true` this case waits for the other case's outcome (steps.<id>.outcome); otherwise "
        "it goes on at once and the outcome is recorded when it comes. Use timeout/on_timeout for a "
        "hand-over that takes too long."
    ),
    params_schema={
        "type": "object",
        "additionalProperties": False,
        "required": ["pathway", "trigger", "map"],
        "properties": {
            "pathway": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9-]{1,62}$",
                "description": "Id of the pathway the new case starts on (its newest published version).",
            },
            "trigger": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_]*$",
                "description": "The trigger type of that pathway the new case starts with.",
            },
            "map": {
                "type": "object",
                "description": (
                    "The data mapping: field of the new case -> case_data field of this case. Only "
                    "these fields go over."
                ),
                "additionalProperties": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            },
            "wait": {
                "type": "boolean",
                "default": False,
                "description": "Wait for the other case to close and record its outcome before going on.",
            },
        },
    },
    waits_for_answer=True,
)
