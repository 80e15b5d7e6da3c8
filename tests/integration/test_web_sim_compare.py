"""Simulation: the edited version next to the published one, on the same cohort, with a coordinator's knobs."""

from __future__ import annotations

import re

from engine.clock import ManualClock
from integrations.service import CaseService
from tests.fixtures.visits_pathway import visits_source
from tests.integration.test_web_pages import people


def test_two_versions_side_by_side_in_dutch(service: CaseService, clock: ManualClock) -> None:
    cor = people(service, clock, "coordinator")["coordinator"]
    edited = visits_source(2).replace("    due: 2 days\n", "    due: 1 day\n", 1)
    page = cor.post("/pathways/editor", {"action": "compare", "source": edited, "sim_cases": "20", "sim_days": "60",
                                         "sim_on_time": "50", "sim_partner_answers": "90", "sim_late_days": "5"})
    assert page.status_code == 200
    table = page.text.split('id="comparison"', 1)[1].split("</section>", 1)[0]
    assert "Vergelijking op dezelfde 20 gesimuleerde zaken over 60 dagen" in table
    assert "Start 2 maart 2026 09:00 (Nederlandse tijd)" in table and "taken op tijd 50%" in table
    assert "Versie 1 (gepubliceerd)" in table and "Versie 2 (deze tekst)" in table
    assert "Uitkomst: Geholpen" in table
    rows = re.findall(r'<th scope="row">Gesloten</th><td class="num">(\d+)</td><td class="num">(\d+)</td>', table)
    assert rows and all(int(a) <= 20 and int(b) <= 20 for a, b in rows)
    refused = cor.post("/pathways/editor", {"action": "compare", "source": edited, "sim_cases": "100000"})
    assert refused.status_code == 422 and "Aantal zaken: kies een getal van 1 tot en met 500." in refused.text
