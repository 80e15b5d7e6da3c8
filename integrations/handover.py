"""Carrying out hand-overs between pathways (the engine side is `engine/handover.py`).

The dispatcher hands every `handover` outbox message here:

- `handover_start` (from the first case's hand-over step): start the case on
  the other pathway with the mapped data, the same client pseudonym, team and
  municipality, and link both cases (`LinkCase` on each);
- `handover_outcome` (from the second case when it closes): record the outcome
  on the first case (`RecordHandoverOutcome`), which goes on if it waits.

Every command carries an idempotency key derived from the message id, so a
message delivered twice (at-least-once) starts one case and links once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from engine import commands as c
from engine.errors import CarepathError, ConflictError, NotFoundError, ValidationError
from engine.handover import OUTCOME_TEMPLATE, START_TEMPLATE
from integrations.service import CaseService

ACTOR = "system:handover"


class HandoverError(Exception):
    """A hand-over that cannot be carried out; `permanent`: trying again will not help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def child_case_id(message_id: str) -> str:
    """The id of the case a hand-over message starts: the same for every delivery of that message."""
    return "H" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:11].upper()


def deliver(service: CaseService, message_id: str, case_id: str, template: str,
            payload: Mapping[str, Any]) -> str:
    """Carry out one hand-over message; returns what was done (for the delivery record)."""
    try:
        if template == START_TEMPLATE:
            return _start(service, message_id, case_id, payload)
        if template == OUTCOME_TEMPLATE:
            return _outcome(service, message_id, case_id, payload)
    except (NotFoundError, ValidationError) as exc:
        raise HandoverError(f"hand-over of case {case_id} refused: {exc}", permanent=True) from exc
    except ConflictError as exc:
        raise HandoverError(f"hand-over of case {case_id}: {exc}", permanent=False) from exc
    except CarepathError as exc:
        raise HandoverError(f"hand-over of case {case_id}: {exc}", permanent=False) from exc
    raise HandoverError(f"unknown hand-over message {template!r}", permanent=True)


def _start(service: CaseService, message_id: str, case_id: str, payload: Mapping[str, Any]) -> str:
    parent = service.case(case_id)
    step_id = str(payload["step"])
    pathway_id = str(payload["pathway"])
    child = child_case_id(message_id)
    started = service.start_case(
        pathway_id, str(payload["trigger"]), dict(payload.get("data") or {}), actor=ACTOR, team=parent.team,
        municipality=parent.municipality, case_id=child, pseudonym=parent.pseudonym,
        reason=f"overdracht vanuit dossier {case_id}", idempotency_key=f"{message_id}:start",
    )
    service.execute(c.LinkCase(case_id=started.case_id, actor=ACTOR, relation="parent", other_case=case_id,
                               pathway_id=parent.pathway_id, step_id=step_id,
                               idempotency_key=f"{message_id}:parent"))
    service.execute(c.LinkCase(case_id=case_id, actor=ACTOR, relation="child", other_case=started.case_id,
                               pathway_id=pathway_id, step_id=step_id, wait=bool(payload.get("wait")),
                               idempotency_key=f"{message_id}:child"))
    return f"started case {started.case_id} on {pathway_id}"


def _outcome(service: CaseService, message_id: str, case_id: str, payload: Mapping[str, Any]) -> str:
    parent = str(payload["parent_case"])
    service.execute(c.RecordHandoverOutcome(case_id=parent, actor=ACTOR, step_id=str(payload["step"]),
                                            child_case=case_id, outcome=str(payload["outcome"]),
                                            idempotency_key=f"{message_id}:outcome"))
    return f"outcome {payload['outcome']} recorded on case {parent}"
