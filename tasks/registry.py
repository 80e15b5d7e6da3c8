"""The task kinds carepath ships, by name."""

from __future__ import annotations

from engine.kinds import TaskKindSpec
from tasks import (
    export_registration,
    handover,
    joint_decision,
    notify_partner,
    request_partner,
    send_letter,
    send_message,
    wait,
)

_MODULES = (send_letter, send_message, notify_partner, request_partner, wait, export_registration, handover,
            joint_decision)


def default_kinds() -> dict[str, TaskKindSpec]:
    """Every shipped kind's spec keyed by its name (a fresh dict: callers may extend it)."""
    return {module.SPEC.name: module.SPEC for module in _MODULES}
