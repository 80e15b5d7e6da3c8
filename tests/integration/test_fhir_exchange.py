"""FHIR R5 of every shipped pathway's demo cases validates with fhir.resources, holds no personal
data, and is served to authorised systems at /fhir/... (404 to anybody else)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.bundle import Bundle
from fhir.resources.careplan import CarePlan
from fhir.resources.operationoutcome import OperationOutcome
from fhir.resources.servicerequest import ServiceRequest
from fhir.resources.task import Task as FhirTask
from sqlalchemy import Engine, select

from engine.clock import ManualClock
from engine.referrals import ReferralStatus
from integrations.db.engine_factory import read_session
from integrations.db.models import CaseRow
from integrations.exchange.fhir.build import bundle
from integrations.service import CaseService, build_service
from web.app import create_app
from web.demo import seed
from web.testing import WebClient, api_token, cheap_password_hashing

SHIPPED = {"eviction-prevention", "team-case-management", "school-social-work", "swa-trajectory", "early-signal"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> CaseService:
    data = tmp_path_factory.mktemp("fhir-demo")
    from tests.integration.conftest import START

    service = build_service(f"sqlite:///{data / 'carepath.db'}", ManualClock(START), data_dir=data)
    cheap_password_hashing()
    seed(service, cases=60, months=4)
    return service


def _case_ids(db: Engine) -> list[str]:
    with read_session(db) as session:
        return list(session.execute(select(CaseRow.id).order_by(CaseRow.id)).scalars())


def test_every_demo_case_of_every_shipped_pathway_is_valid_fhir_without_personal_data(demo: CaseService) -> None:
    seen: set[str] = set()
    referrals = 0
    for case_id in _case_ids(demo.db):
        state = demo.case(case_id)  # with personal data merged: none of it may appear below
        cp = demo.catalog.lookup(state.pathway_id, state.pathway_version)
        document = bundle(state, cp, "https://carepath.test").model_dump(mode="json", exclude_none=True)
        again = Bundle.model_validate(document)  # round trip through fhir.resources
        kinds = [e.resource.get_resource_type() for e in again.entry or [] if e.resource is not None]
        assert kinds[0] == "CarePlan" and kinds.count("Task") == len(state.tasks)
        assert kinds.count("ServiceRequest") == len(state.referrals)
        CarePlan.model_validate(document["entry"][0]["resource"])
        for entry in document["entry"][1:]:
            if entry["resource"]["resourceType"] == "Task":
                FhirTask.model_validate(entry["resource"])
            else:
                ServiceRequest.model_validate(entry["resource"])
            if entry["resource"]["resourceType"] == "Task" and entry["resource"]["id"] in state.referrals:
                assert entry["resource"]["status"] in {s.value for s in ReferralStatus}
        text = json.dumps(document, ensure_ascii=False)
        for field in cp.pathway.personal_data:
            value = state.data.get(field)
            if isinstance(value, str) and len(value) > 3:
                assert value not in text, (case_id, field)
        seen.add(state.pathway_id)
        referrals += len(state.referrals)
    assert seen == SHIPPED
    assert referrals > 0


def test_authorised_systems_read_fhir_resources_and_others_get_404(demo: CaseService) -> None:
    app = create_app(demo)
    clock = demo.clock
    case_id = next(c for c in _case_ids(demo.db) if demo.case(c).team == "noord-groningen" and demo.case(c).referrals)
    referral_id = next(iter(demo.case(case_id).referrals))
    anna = api_token(demo.db, "anna", clock.now(), "fhir")
    henk = api_token(demo.db, "henk", clock.now(), "fhir")
    client = WebClient(app)
    headers = {"Authorization": f"Bearer {anna}"}
    plan = client.http.get(f"/fhir/CarePlan/{case_id}", headers=headers)
    assert plan.status_code == 200 and plan.headers["content-type"].startswith("application/fhir+json")
    assert CarePlan.model_validate(plan.json()).id == case_id
    task = client.http.get(f"/fhir/Task/{referral_id}", headers=headers)
    assert task.status_code == 200 and FhirTask.model_validate(task.json()).basedOn
    request = client.http.get(f"/fhir/ServiceRequest/{referral_id}", headers=headers)
    assert request.status_code == 200 and ServiceRequest.model_validate(request.json()).intent == "order"
    assert client.http.get(f"/fhir/CarePlan/{case_id}").status_code == 401
    assert client.http.get(f"/fhir/CarePlan/{case_id}", headers={"Authorization": f"Bearer {henk}"}).status_code \
        in (403, 404)
    missing = client.http.get("/fhir/CarePlan/NOPE", headers=headers)
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"
    issue = OperationOutcome.model_validate(missing.json()).issue[0]
    assert issue.code == "not-found" and issue.diagnostics == "CarePlan/NOPE is niet gevonden."
    assert issue.details is not None and issue.details.coding is not None
    assert (issue.details.coding[0].system, issue.details.coding[0].code) == ("urn:carepath:error-code", "fhir.not_found")
    other = client.http.get("/fhir/Patient/1", headers=headers).json()["issue"][0]
    assert other["diagnostics"] == "Het resourcetype Patient levert carepath niet (alleen CarePlan, Task, ServiceRequest)."
    anonymous = client.http.get(f"/fhir/CarePlan/{case_id}").json()["issue"][0]
    assert anonymous["diagnostics"].startswith("Meld je aan") and anonymous["details"]["coding"][0]["code"] == "fhir.login"
    client.http.cookies.set("carepath_lang", "en")
    english = client.http.get(f"/fhir/CarePlan/{case_id}").json()["issue"][0]
    assert english["diagnostics"] == "Sign in: send 'Authorization: Bearer <token>'."


def test_the_cli_exports_a_case_as_a_fhir_bundle(demo: CaseService, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from integrations.cli import main

    case_id = _case_ids(demo.db)[0]
    monkeypatch.setenv("CAREPATH_DATABASE_URL", str(demo.db.url))
    out = tmp_path / "case.json"
    assert main(["fhir", "export", case_id, "--out", str(out)]) == 0
    Bundle.model_validate_json(out.read_text(encoding="utf-8"))
    assert main(["fhir", "export", "NOPE"]) == 1
    assert "NOPE" in capsys.readouterr().err
