"""Closed-loop referrals in the engine: lifecycle, three answer channels, no answer, consent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine import commands as c
from engine.errors import ConflictError, ValidationError
from engine.loader import load_pathway
from engine.referrals import DUTCH_STATUS, ReferralStatus, check_transition, referrals_of
from engine.runner import InMemoryRunner
from engine.state import TaskStatus, TaskType
from tasks.registry import default_kinds
from tests.unit.engine_support import PATHWAYS, complete, load, only_task, runner_for, start

EVICTION = load(PATHWAYS / "eviction-prevention.yaml")
SIGNAL: dict[str, Any] = {
    "signal_type": "rent", "tenant_name": "T. Huurder", "address": "Dorpsstraat 1, 9981 AA Uithuizen",
    "arrears_amount": 1200.0, "arrears_months": 2, "signal_date": "2026-02-27", "reminder_sent": True,
}


def _to_referral(partners: list[str]) -> tuple[InMemoryRunner, str]:
    """A case at the formal request to the credit bank (and the other consented partners)."""
    runner = runner_for(EVICTION)
    start(runner, EVICTION, SIGNAL)
    complete(runner, only_task(runner, step_id="doorstep_visit"),
             {"contact_result": "spoken", "help_accepted": True, "partner_consent": partners})
    complete(runner, only_task(runner, step_id="call_credit_bank"), {"reached": True})
    return runner, only_task(runner, step_id="request_debt_help").id


def _answer(runner: InMemoryRunner, task_id: str, status: str, channel: str = "account", **kw: Any) -> None:
    runner.handle(c.AnswerReferral(case_id="C1", actor="partner:kredietbank", task_id=task_id, status=status,
                                   channel=channel, **kw))


def test_a_referral_is_requested_then_accepted_then_completed_and_the_track_moves_on() -> None:
    runner, task_id = _to_referral(["credit_bank"])
    (ref,) = referrals_of(runner.case("C1").referrals)
    assert (ref.status, ref.partner, ref.dutch_status) == (ReferralStatus.REQUESTED, "credit_bank", "Verstuurd")

    def links_queued() -> int:
        return sum(1 for e in runner.histories["C1"] if e.type == "message_queued"
                   and e.data["message"]["template"] == "referral_link")

    assert links_queued() == 1  # the first e-mail with a link
    _answer(runner, task_id, "received", channel="link")  # opening the link spends nothing
    assert links_queued() == 1
    _answer(runner, task_id, "accepted", channel="link")  # an answer by link: a fresh link for the next
    assert links_queued() == 2
    _answer(runner, task_id, "in-progress", channel="account")
    _answer(runner, task_id, "completed", data={"debt_help_started": True})
    state = runner.case("C1")
    (ref,) = referrals_of(state.referrals)
    assert ref.status is ReferralStatus.COMPLETED and ref.channel.value == "account"
    assert state.tracks["credit_bank"].result == "achieved"
    assert state.records["request_debt_help"] == {"debt_help_started": True}
    assert runner.replayed("C1").to_json() == state.to_json()


def test_the_worker_records_a_phone_answer_on_the_partners_behalf() -> None:
    runner, task_id = _to_referral(["credit_bank"])
    runner.handle(c.AnswerReferral(case_id="C1", actor="worker:anna", task_id=task_id, status="completed",
                                   channel="phone", data={"debt_help_started": False}))
    (ref,) = referrals_of(runner.case("C1").referrals)
    assert ref.on_behalf and ref.by == "worker:anna"
    assert runner.case("C1").tracks["credit_bank"].result == "not_achieved"


def test_a_rejection_needs_a_reason_and_sends_the_worker_to_follow_up() -> None:
    runner, task_id = _to_referral(["credit_bank"])
    with pytest.raises(ValidationError, match="reden van de afwijzing"):
        _answer(runner, task_id, "rejected")
    _answer(runner, task_id, "rejected", reason="Client valt buiten de gemeente")
    state = runner.case("C1")
    assert state.tasks[task_id].status is TaskStatus.CANCELLED
    assert only_task(runner, step_id="chase_credit_bank").type is TaskType.HUMAN
    with pytest.raises(ConflictError, match="definitief"):
        _answer(runner, task_id, "accepted")


def test_the_lifecycle_refuses_going_back() -> None:
    with pytest.raises(ConflictError, match="kan niet meer verstuurd"):
        check_transition("C1.5", ReferralStatus.ACCEPTED, ReferralStatus.REQUESTED)
    assert len(DUTCH_STATUS) == len(ReferralStatus) == 9


def test_no_answer_reminds_the_partner_then_the_worker_then_the_coordinator_then_fails() -> None:
    runner, task_id = _to_referral(["credit_bank"])
    task = runner.case("C1").tasks[task_id]
    runner.advance_to(task.due_at + timedelta(days=20))
    emails = [e.data["message"] for e in runner.histories["C1"] if e.type == "message_queued"
              and e.data["message"]["channel"] == "email" and e.data["message"].get("task_id") == task_id]
    assert [(m["template"], m["to_role"]) for m in emails] == [
        ("reminder_before", "credit_bank"),
        ("escalation_notify", "outreach_worker"),
        ("escalation_notify", "coordinator"),
    ]
    (ref,) = referrals_of(runner.case("C1").referrals)
    assert ref.status is ReferralStatus.FAILED and ref.reason
    assert any(t.step_id == "chase_credit_bank" for t in runner.case("C1").tasks.values())


def test_without_consent_the_referral_waits_and_goes_out_once_consent_is_recorded() -> None:
    text = (PATHWAYS / "eviction-prevention.yaml").read_text(encoding="utf-8").replace(
        "consent: \"'credit_bank' in steps.doorstep_visit.partner_consent\"",
        "consent: \"case.arrears_months > 99\"", 1)
    pathway = load_pathway(text.encode(), "eviction-no-consent.yaml", default_kinds())
    runner = runner_for(pathway)
    start(runner, pathway, SIGNAL)
    complete(runner, only_task(runner, step_id="doorstep_visit"),
             {"contact_result": "spoken", "help_accepted": True, "partner_consent": ["credit_bank"]})
    complete(runner, only_task(runner, step_id="call_credit_bank"), {"reached": True})
    state = runner.case("C1")
    assert state.held_referrals["credit_bank"]["partner"] == "credit_bank"
    assert not [t for t in state.open_tasks() if t.type is TaskType.PARTNER]
    assert not [t for t in state.pending_timers() if t.kind.value == "timeout"]
    with pytest.raises(ValidationError, match="geen partnerrol"):
        runner.handle(c.RecordConsent(case_id="C1", actor="worker:anna", partner="coordinator"))
    runner.handle(c.RecordConsent(case_id="C1", actor="worker:anna", partner="credit_bank"))
    state = runner.case("C1")
    assert not state.held_referrals and state.consents == ["credit_bank"]
    (ref,) = referrals_of(state.referrals)
    assert ref.status is ReferralStatus.REQUESTED
    assert [t for t in state.pending_timers() if t.kind.value == "timeout"]
