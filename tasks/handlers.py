"""What each automated step kind does when a case enters it.

Handlers act only through the engine's `StepContext`: they queue outbound
messages, open a task for a partner, or hold the flow until a moment. They
never send anything themselves; delivery is the runtime's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.definition import Step
from engine.durations import Duration, Unit, parse_duration
from engine.errors import EngineError
from engine.step_handlers import StepContext, StepHandler, StepResult

# A partner request without `timeout` still needs a due moment for its task.
DEFAULT_PARTNER_DUE = Duration(14, Unit.DAYS)


class _NoAnswer:
    def answer_schema(self, step: Step) -> Mapping[str, Any] | None:
        return None


class SendLetter(_NoAnswer):
    def enter(self, ctx: StepContext) -> StepResult:
        to = str(ctx.step.params.get("to", "client"))
        ctx.queue_message(
            "letter",
            str(ctx.step.params["template"]),
            to_role=None if to == "client" else to,
            payload={"to": to},
        )
        return StepResult.CONTINUE


class SendMessage(_NoAnswer):
    def enter(self, ctx: StepContext) -> StepResult:
        params = ctx.step.params
        channel = "email" if params.get("channel") == "email" else "inbox"
        ctx.queue_message(
            channel,
            "pathway_message",
            to_role=str(params["to"]),
            payload={"subject": params["subject"], "body": params["body"]},
        )
        return StepResult.CONTINUE


class NotifyPartner(_NoAnswer):
    def enter(self, ctx: StepContext) -> StepResult:
        ctx.queue_message(
            "webhook",
            "partner_notification",
            to_role=str(ctx.step.params["partner"]),
            payload={"message": ctx.step.params["message"]},
        )
        return StepResult.CONTINUE


class RequestPartner:
    def enter(self, ctx: StepContext) -> StepResult:
        params = ctx.step.params
        partner = str(params["partner"])
        if not ctx.consent_given(partner):
            ctx.hold_for_consent(partner)  # the case page says why the step waits
            return StepResult.WAIT
        within = params.get("answer_within")
        due = ctx.due(parse_duration(str(within)) if within else ctx.step.timeout or DEFAULT_PARTNER_DUE)
        task_id = ctx.open_partner_task(partner, ctx.step.title or str(params["question"]), due)
        ctx.queue_message(
            "webhook",
            "partner_request",
            to_role=partner,
            payload={"question": params["question"], "task_id": task_id, "answer_before": due.isoformat()},
        )
        # the partner contact's e-mail with a single-use link (made when the e-mail goes out)
        ctx.queue_message(
            "email",
            "referral_link",
            to_role=partner,
            payload={"task_id": task_id, "title": ctx.step.title or str(params["question"]), "due_at": due.isoformat()},
        )
        return StepResult.WAIT

    def answer_schema(self, step: Step) -> Mapping[str, Any] | None:
        schema = step.params.get("answer")
        return schema if isinstance(schema, Mapping) else None


class Wait(_NoAnswer):
    def enter(self, ctx: StepContext) -> StepResult:
        params = ctx.step.params
        if "for" in params:
            ctx.wait_until(ctx.due(parse_duration(params["for"])))
            return StepResult.WAIT
        moment = ctx.evaluate(str(params["until"]))
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise EngineError(
                f"step {ctx.step.id}: `until` {params['until']!r} gave {moment!r}, not a timestamp"
            )
        ctx.wait_until(moment)
        return StepResult.WAIT


class ExportRegistration(_NoAnswer):
    def enter(self, ctx: StepContext) -> StepResult:
        params = ctx.step.params
        ctx.queue_message(
            "export",
            "registration",
            payload={"model": params.get("model", "amw"), "include_origin": bool(params.get("include_origin"))},
        )
        return StepResult.CONTINUE


def default_handlers() -> dict[str, StepHandler]:
    """The handler of every kind in `tasks.registry.default_kinds()`."""
    return {
        "send_letter": SendLetter(),
        "send_message": SendMessage(),
        "notify_partner": NotifyPartner(),
        "request_partner": RequestPartner(),
        "wait": Wait(),
        "export_registration": ExportRegistration(),
    }
