"""Pathway roles in administration: grouped by pathway with each pathway's own label; partner roles
are for partner systems' accounts, not next to a staff member's roles."""

from __future__ import annotations

from pathlib import Path

from engine.clock import ManualClock
from integrations.db import accounts
from integrations.db.engine_factory import read_session
from integrations.service import CaseService
from tests.integration.test_web_pages import people

EVICTION = Path(__file__).resolve().parents[2] / "pathways" / "eviction-prevention.yaml"


def test_roles_are_grouped_per_pathway_and_partner_roles_stay_apart(service: CaseService,
                                                                    clock: ManualClock) -> None:
    service.publish_pathway(EVICTION.read_text(encoding="utf-8"), str(EVICTION))
    admin = people(service, clock, "admin")["admin"]
    with read_session(service.db) as session:
        wim = accounts.find_account(session, "wim")
    assert wim is not None
    page = admin.get(f"/admin/users/{wim.id}").text
    assert "<strong>Preventie huisuitzetting</strong>" in page and "<strong>Testpad huisbezoeken</strong>" in page
    # the coordinator role is shared: one checkbox, with the other pathway's own label named
    assert page.count('id="prole-coordinator"') == 1
    assert "Coördinator Preventie huisuitzetting<span class=\"muted small\"> · ook: Coördinator (Testpad huisbezoeken)" in page
    assert "<strong>Partnerrollen (alleen voor koppelingen van partners)</strong>" in page
    partner_group = page.split("Partnerrollen (alleen voor koppelingen van partners)", 1)[1]
    assert 'value="housing_corporation"' in partner_group
    form = {"display_name": "Wim", "role": "worker", "organisation": "AMW Test", "teams": "team-a",
            "active": "true"}
    refused = admin.post(f"/admin/users/{wim.id}", {**form, "pathway_roles": ["worker", "housing_corporation"]})
    assert refused.status_code == 422 and "Partnerrollen zijn voor koppelingen van partners" in refused.text
    kept = admin.post(f"/admin/users/{wim.id}", {**form, "pathway_roles": ["worker", "outreach_worker"]})
    assert kept.status_code == 303
    system = admin.post(f"/admin/users/{wim.id}", {**form, "pathway_roles": ["housing_corporation"]})
    assert system.status_code == 303  # a partner system's account carries partner roles only
