"""Publishing shows the difference with the current version, asks for confirmation, and refuses a
version that changes nothing but its number."""

from __future__ import annotations

from engine.clock import ManualClock
from integrations.service import CaseService
from tests.fixtures.visits_pathway import visits_pathway, visits_source
from tests.integration.test_web_pages import new_case, people
from web.pathwaydiff import compare


def test_the_difference_is_shown_and_confirmed_before_publishing(service: CaseService, clock: ManualClock) -> None:
    from integrations.db import ownership
    from integrations.db.engine_factory import write_session

    cor = people(service, clock, "coordinator")["coordinator"]
    with write_session(service.db) as session:  # only the owner's coordinators publish (docs/security.md)
        ownership.set_owner(session, "test-visits", "AMW Test", clock.now(), "test")
    new_case(service)  # its intake is open: a changed step concerns it
    source = visits_source(2, intake_title="Eerste gesprek")
    asked = cor.post("/pathways/editor", {"action": "publish", "source": source, "name": "visits.yaml"})
    assert asked.status_code == 200
    panel = asked.text.split('id="publish-diff"', 1)[1].split("</section>", 1)[0]
    assert "Stap gewijzigd: <strong>Eerste gesprek</strong> (titel)" in panel
    assert "1 lopende zaak van je teams blijft op haar versie tot je haar overzet." in panel
    assert "Bij 1 daarvan staat werk open bij een verwijderde of gewijzigde stap" in panel
    assert 'value="publish-confirmed"' in asked.text
    assert "test-visits@2" not in {f"{p}@{v}" for p, v, _ in _published(service)}  # nothing published yet
    published = cor.post("/pathways/editor", {"action": "publish-confirmed", "source": source, "name": "visits.yaml"})
    assert published.status_code == 303
    # version 3 with nothing changed but the number is refused
    same = source.replace("\nversion: 2\n", "\nversion: 3\n", 1)
    refused = cor.post("/pathways/editor", {"action": "publish-confirmed", "source": same, "name": "visits.yaml"})
    assert refused.status_code == 409 and "Niets te publiceren" in refused.text
    assert 'value="publish-confirmed"' not in refused.text


def test_compare_names_steps_added_removed_and_changed() -> None:
    old = visits_pathway(1)
    new = visits_pathway(2, intake_title="Intake 2")
    diff = compare(old, new)
    assert [c.id for c in diff.changed] == ["intake"] and diff.changed[0].aspects == ("titel",)
    assert diff.added == [] and diff.removed == [] and not diff.identical
    assert compare(old, visits_pathway(2)).identical


def _published(service: CaseService) -> list[tuple[str, int, object]]:
    from integrations.db.engine_factory import read_session

    with read_session(service.db) as session:
        return list(service.catalog.published(session))
