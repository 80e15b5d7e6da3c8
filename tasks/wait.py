"""Pause the case for a while, or until a moment computed from the case."""

from __future__ import annotations

from engine.kinds import TaskKindSpec

SPEC = TaskKindSpec(
    name="wait",
    description=(
        "Pause the case: `for` a duration, or `until` a moment (a CEL timestamp expression). "
        "With `until`, timeout/on_timeout bound a moment that may never come."
    ),
    params_schema={
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            "for": {"type": "string", "description": "How long to wait, e.g. '2 weeks' or '10 werkdagen'."},
            "until": {
                "type": "string",
                "description": "CEL expression giving the moment to continue, e.g. 'timestamp(case.hearing_date)'.",
            },
        },
    },
    waits_for_answer=True,
    duration_params=("for",),
    expression_params=("until",),
)
