"""`GET /api/cases/{id}` shows the hand-over links: the case this one was handed over from, and the
cases it handed over to (issue #10). The links are made as in production: by the dispatcher's
hand-over (`integrations/handover.py`), which starts the second case and links both ways."""

from __future__ import annotations

from engine.clock import ManualClock
from engine.handover import START_TEMPLATE
from integrations.handover import child_case_id, deliver
from integrations.service import CaseService
from web.app import create_app
from web.testing import MUNICIPALITY, TEAM_A, WebClient, api_token, cheap_password_hashing, standard_accounts


def test_a_case_shows_where_it_was_handed_over_from_and_to(service: CaseService, clock: ManualClock) -> None:
    cheap_password_hashing()
    people = standard_accounts(service.db, clock.now())
    first = service.start_case("test-visits", "signal", {"client_name": "Jan Jansen", "concern": "huur"},
                               actor="user:cor", team=TEAM_A, municipality=MUNICIPALITY).case_id
    done = deliver(service, "msg-1", first, START_TEMPLATE, {
        "step": "intake", "pathway": "test-visits", "trigger": "signal", "wait": True,
        "data": {"client_name": "Jan Jansen", "concern": "schulden"}})
    second = child_case_id("msg-1")
    assert second in done
    deliver(service, "msg-1", first, START_TEMPLATE, {  # delivered twice: still one link each way
        "step": "intake", "pathway": "test-visits", "trigger": "signal", "wait": True,
        "data": {"client_name": "Jan Jansen", "concern": "schulden"}})
    alone = service.start_case("test-visits", "signal", {"client_name": "Piet", "concern": "huur"},
                               actor="user:cor", team=TEAM_A, municipality=MUNICIPALITY).case_id

    client = WebClient(create_app(service))
    headers = {"Authorization": f"Bearer {api_token(service.db, people['worker'].username, clock.now())}"}

    def get(case_id: str) -> dict[str, object]:
        response = client.http.get(f"/api/cases/{case_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    assert get(first)["handovers"] == [{"direction": "to", "case_id": second, "pathway_id": "test-visits",
                                        "step_id": "intake", "waits": True, "href": f"/api/cases/{second}"}]
    assert get(second)["handovers"] == [{"direction": "from", "case_id": first, "pathway_id": "test-visits",
                                         "step_id": "intake", "waits": False, "href": f"/api/cases/{first}"}]
    assert get(alone)["handovers"] == []
