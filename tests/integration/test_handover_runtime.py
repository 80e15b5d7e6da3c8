"""Hand-over between pathways through the outbox: the dispatcher starts the second case (mapped data,
same pseudonym, team and municipality), links both ways, and brings the outcome back; a repeated
delivery starts nothing twice. Also the declared registration model in the export file. Both
backends through the `service` fixture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.clock import ManualClock
from engine.state import CaseStatus, TaskType
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import OutboxRow
from integrations.handover import child_case_id
from integrations.service import CaseService
from tests.integration.runtime_support import make_runtime, runtime_config

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
DATA = {"client_name": "Sara de Vries", "phone": "0612345678", "address": "Dorpsstraat 1",
        "risk_level": "high", "problem_area": "violence"}


def _task(service: CaseService, case_id: str, step_id: str, kind: TaskType = TaskType.HUMAN) -> str:
    state = service.case(case_id)
    found = [t.id for t in state.open_tasks() if t.step_id == step_id and t.type is kind]
    assert len(found) == 1, [(t.id, t.step_id) for t in state.open_tasks()]
    return found[0]


def _handover_messages(service: CaseService) -> list[OutboxRow]:
    with read_session(service.db) as session:
        return list(session.execute(select(OutboxRow).where(OutboxRow.channel == "handover")).scalars())


def _redeliver(service: CaseService, message_id: str) -> None:
    with write_session(service.db) as session:
        row = session.get(OutboxRow, message_id)
        assert row is not None
        row.status = "pending"


def test_handover_starts_links_and_returns_the_outcome(service: CaseService, clock: ManualClock,
                                                       data_dir: Path) -> None:
    for name in ("crisis-chain.yaml", "youth-debt.yaml"):
        service.publish_pathway((EXAMPLES / name).read_text(encoding="utf-8"), str(EXAMPLES / name))
    case_id = service.start_case("crisis-chain", "police_report", DATA, actor="user:carla", client_id="client-7",
                                 team="crisis-noord", municipality="GM1966").case_id
    service.complete_task(_task(service, case_id, "triage"), {"reached": True}, actor="user:anna")
    service.complete_task(_task(service, case_id, "safety_check", TaskType.PARTNER), {"safe": True},
                          actor="partner:police")
    service.complete_task(_task(service, case_id, "safety_decision"), {"measure": "none"}, actor="user:sanne")
    service.complete_task(_task(service, case_id, "safety_decision", TaskType.PARTNER),
                          {"measure": "none", "name": "Wijkagent De Boer"}, actor="partner:police")
    service.complete_task(_task(service, case_id, "safety_plan"), {"debts_found": True}, actor="user:sanne")
    runtime = make_runtime(service, data_dir, runtime_config())
    runtime.dispatch_once(clock.now())

    [start] = _handover_messages(service)
    assert start.status == "sent"
    child_id = child_case_id(start.id)
    child = service.case(child_id)
    parent = service.case(case_id)
    assert (child.pathway_id, child.team, child.municipality) == ("youth-debt", "crisis-noord", "GM1966")
    assert child.pseudonym == parent.pseudonym
    assert child.data == {"client_name": "Sara de Vries", "phone": "0612345678"}  # only the mapped fields
    assert child.links == [{"relation": "parent", "case_id": case_id, "pathway": "crisis-chain",
                            "step_id": "debt_handover", "wait": False}]
    assert [link["case_id"] for link in parent.links] == [child_id] and parent.links[0]["wait"] is True
    assert parent.main is not None and parent.main.step_id == "debt_handover"

    _redeliver(service, start.id)  # at-least-once: the same message again starts nothing new
    runtime.dispatch_once(clock.now())
    assert service.case(child_id).version == child.version
    assert len(service.case(case_id).links) == 1

    service.complete_task(_task(service, child_id, "intake"), {"settled": True}, actor="user:youssef")
    runtime.dispatch_once(clock.now())
    parent = service.case(case_id)
    assert parent.records["debt_handover"] == {"child_case": child_id, "outcome": "debts_settled"}
    assert parent.status is CaseStatus.CLOSED

    runtime.dispatch_once(clock.now())  # the export the outcome's command queued
    exports = [json.loads(p.read_text(encoding="utf-8")) for p in (data_dir / "exports").glob("*.json")]
    declared: Any = [e["declared"] for e in exports if e.get("case_id") == case_id]
    assert declared == [{"model": "crisis-2026", "uncoded": [], "fields": {
        "risico": "2", "probleemgebied": "HG", "uitkomst": "safe", "gemeente": "GM1966"}}]


def test_handover_to_an_unknown_pathway_becomes_an_incident(service: CaseService, clock: ManualClock,
                                                           data_dir: Path) -> None:
    text = (EXAMPLES / "crisis-chain.yaml").read_text(encoding="utf-8").replace(
        "pathway: youth-debt", "pathway: youth-debts")
    service.publish_pathway(text, "crisis-chain.yaml")
    case_id = service.start_case("crisis-chain", "police_report", DATA, actor="user:carla", team="crisis-noord",
                                 municipality="GM1966").case_id
    service.complete_task(_task(service, case_id, "triage"), {"reached": True}, actor="user:anna")
    service.complete_task(_task(service, case_id, "safety_check", TaskType.PARTNER), {"safe": True},
                          actor="partner:police")
    service.complete_task(_task(service, case_id, "safety_decision"), {"measure": "none"}, actor="user:sanne")
    service.complete_task(_task(service, case_id, "safety_decision", TaskType.PARTNER),
                          {"measure": "none", "name": "W. de Boer"}, actor="partner:police")
    service.complete_task(_task(service, case_id, "safety_plan"), {"debts_found": True}, actor="user:sanne")
    make_runtime(service, data_dir, runtime_config()).dispatch_once(clock.now())
    [message] = _handover_messages(service)
    assert message.status == "failed"
    assert service.case(case_id).links == []
