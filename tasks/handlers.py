"""What each automated step kind does when a case enters it.

Handlers act only through the engine's `StepContext`: they queue outbound
messages, open a task for a partner, or hold the flow until a moment. They
never send anything themselves; delivery is the runtime's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine import handover, partner_messages
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


def _from_template(ctx: StepContext, due: datetime | None) -> dict[str, Any]:
    """The payload of a message written as a `message_templates` entry (only allowed fields filled in)."""
    template = ctx.pathway.template(str(ctx.step.params["template"]))
    allowed = ctx.pathway.role(template.partner).may_receive
    text = partner_messages.render(template.text, ctx.case_data, allowed, due)
    return {"template": template.id, "subject": template.subject, "message": text}


class NotifyPartner(_NoAnswer):
    def enter(self, ctx: StepContext) -> StepResult:
        params = ctx.step.params
        payload = _from_template(ctx, None) if "template" in params else {"message": params["message"]}
        ctx.queue_message(
            "webhook",
            "partner_notification",
            to_role=str(params["partner"]),
            payload=payload,
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
        question = _from_template(ctx, due)["message"] if "template" in params else str(params["question"])
        task_id = ctx.open_partner_task(partner, ctx.step.title or question, due)
        ctx.queue_message(
            "webhook",
            "partner_request",
            to_role=partner,
            payload={"question": question, "task_id": task_id, "answer_before": due.isoformat(),
                     **({"template": params["template"]} if "template" in params else {})},
        )
        # the partner contact's e-mail with a single-use link (made when the e-mail goes out)
        ctx.queue_message(
            "email",
            "referral_link",
            to_role=partner,
            payload={"task_id": task_id, "title": ctx.step.title or question, "due_at": due.isoformat()},
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
        declared = ctx.pathway.registration
        model = params.get("model") or (declared.model if declared is not None else "amw")
        ctx.queue_message(
            "export",
            "registration",
            payload={"model": model, "include_origin": bool(params.get("include_origin"))},
        )
        return StepResult.CONTINUE


class Handover:
    """Queue the start of a case on another pathway; wait for its outcome when asked to."""

    def enter(self, ctx: StepContext) -> StepResult:
        params = ctx.step.params
        wait = bool(params.get("wait", False))
        ctx.queue_message(
            handover.CHANNEL,
            handover.START_TEMPLATE,
            payload={"pathway": params["pathway"], "trigger": params["trigger"], "wait": wait,
                     "data": handover.mapped_data(params["map"], ctx.case_data)},
        )
        return StepResult.WAIT if wait else StepResult.CONTINUE

    def answer_schema(self, step: Step) -> Mapping[str, Any] | None:
        return None


class JointDecision:
    """Open the two tasks of a joint decision: one for the role, one for the partner."""

    def enter(self, ctx: StepContext) -> StepResult:
        params = ctx.step.params
        due = ctx.due(parse_duration(params["due"]))
        title = ctx.step.title or str(params["question"])
        ctx.open_worker_task(str(params["role"]), title, due)
        task_id = ctx.open_partner_task(str(params["partner"]), title, due)
        ctx.queue_message(
            "webhook",
            "partner_request",
            to_role=str(params["partner"]),
            payload={"question": params["question"], "task_id": task_id, "answer_before": due.isoformat(),
                     "joint_decision": True},
        )
        return StepResult.WAIT

    def answer_schema(self, step: Step) -> Mapping[str, Any] | None:
        schema = step.params.get("decision")
        if not isinstance(schema, Mapping):
            return None
        properties = dict(schema.get("properties", {}))
        properties.setdefault("name", {"type": "string", "maxLength": 200, "title": "Naam van wie bevestigt"})
        properties.setdefault("note", {"type": "string", "maxLength": 2000, "title": "Toelichting"})
        return {**schema, "properties": properties}


def default_handlers() -> dict[str, StepHandler]:
    """The handler of every kind in `tasks.registry.default_kinds()`."""
    return {
        "send_letter": SendLetter(),
        "send_message": SendMessage(),
        "notify_partner": NotifyPartner(),
        "request_partner": RequestPartner(),
        "wait": Wait(),
        "export_registration": ExportRegistration(),
        "handover": Handover(),
        "joint_decision": JointDecision(),
    }
