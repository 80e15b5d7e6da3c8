"""The contract between the engine and the step kinds of `tasks/`.

A handler is told a step was entered and answers whether the flow goes on at
once (`CONTINUE`) or waits (`WAIT`: for a partner's answer, or until a
moment). It acts only through `StepContext`, so it cannot touch state the
engine does not record as events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from engine.definition import Pathway, Step
from engine.durations import Duration


class StepResult(str, Enum):
    CONTINUE = "continue"
    WAIT = "wait"


class StepContext(Protocol):
    @property
    def step(self) -> Step: ...

    @property
    def now(self) -> datetime: ...

    @property
    def case_data(self) -> Mapping[str, Any]: ...

    def evaluate(self, source: str) -> Any:
        """Evaluate a CEL expression with the case's variables (case, steps, tracks, now)."""

    def due(self, duration: Duration) -> datetime:
        """`duration` from now, in the pathway's calendar."""

    def queue_message(
        self,
        channel: str,
        template: str,
        *,
        to_role: str | None = None,
        to_worker: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Put an outbound message in the outbox (delivered by the runtime)."""

    def open_partner_task(self, role: str, title: str, due: datetime) -> str:
        """Open a task for a partner role to answer; returns its id."""

    def wait_until(self, moment: datetime) -> None:
        """Hold the flow on this step until `moment`."""

    def open_worker_task(self, role: str, title: str, due: datetime) -> str:
        """Open a task for a role of the organisation on this step (a joint decision); returns its id."""

    @property
    def pathway(self) -> Pathway:
        """The pathway the case runs on (its message templates, registration model, roles)."""

    def consent_given(self, partner: str) -> bool:
        """Whether the client's consent to share with `partner` is recorded (engine.referrals)."""

    def hold_for_consent(self, partner: str) -> None:
        """Keep this step's referral unsent until the client's consent for `partner` is recorded."""


class StepHandler(Protocol):
    def enter(self, ctx: StepContext) -> StepResult: ...

    def answer_schema(self, step: Step) -> Mapping[str, Any] | None:
        """JSON Schema of the answer a waiting step records, if any."""
