"""Finding a client: by name (accents and case ignored), date of birth, postcode + house number and BSN,
only in the searcher's teams, every search audited with its reason; names on the case list and header."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine.clock import ManualClock
from integrations.db.engine_factory import read_session
from integrations.db.models import AuditLogRow
from integrations.service import CaseService
from tests.integration.test_web_pages import people
from web.testing import MUNICIPALITY, TEAM_A, TEAM_B

SWA = Path(__file__).resolve().parents[2] / "pathways" / "swa-trajectory.yaml"


def _swa_case(service: CaseService, name: str, born: str, address: str, team: str = TEAM_A) -> str:
    started = service.start_case("swa-trajectory", "self_referral", {
        "client_name": name, "date_of_birth": born, "address": address, "client_group": "family"},
        actor="user:cor", team=team, municipality=MUNICIPALITY)
    return started.case_id


def _results(html: str) -> str:
    return html.split('id="client-results"', 1)[1] if 'id="client-results"' in html else ""


def test_a_worker_finds_a_client_and_the_search_is_audited(service: CaseService, clock: ManualClock) -> None:
    service.publish_pathway(SWA.read_text(encoding="utf-8"), str(SWA))
    wanda = people(service, clock, "worker")["worker"]
    yilmaz = _swa_case(service, "Ayşe Yılmaz", "1984-05-12", "Dorpsstraat 12a, 3011 AB Rotterdam")
    _swa_case(service, "Ayşe Yılmaz-de Boer", "1990-01-02", "Kade 1, 3011 AB Rotterdam")
    elsewhere = _swa_case(service, "Ayse Yilmaz", "1984-05-12", "Dorpsstraat 12a, 3011 AB Rotterdam", team=TEAM_B)
    assert wanda.get("/clients").status_code == 200
    by_name = wanda.post("/clients", {"naam": "ayse yilmaz", "reden": "cliënt belt"})
    assert by_name.status_code == 200 and "2 zaken gevonden" in by_name.text
    assert elsewhere not in by_name.text  # another team's client stays out of sight
    by_birth = _results(wanda.post("/clients", {"geboortedatum": "12-05-1984", "reden": "post"}).text)
    assert yilmaz in by_birth and "1 zaak gevonden" in by_birth and "geboren 12 mei 1984" in by_birth
    by_address = _results(wanda.post("/clients", {"postcode": "3011ab", "huisnummer": "12A", "reden": "brief"}).text)
    assert yilmaz in by_address and "1 zaak gevonden" in by_address
    assert "0 zaken gevonden" in wanda.post("/clients", {"postcode": "3011 AB", "huisnummer": "2",
                                                         "reden": "brief"}).text
    # the SWA pathway keeps no BSN: a valid BSN finds nobody there
    assert "0 zaken gevonden" in wanda.post("/clients", {"bsn": "111222333", "reden": "brief"}).text
    with read_session(service.db) as session:
        logged = list(session.execute(select(AuditLogRow).where(AuditLogRow.action == "search")
                                      .order_by(AuditLogRow.id)).scalars())
    assert [e.why for e in logged] == ["cliënt belt", "post", "brief", "brief", "brief"]
    assert logged[0].what == "client search on name (2 found)" and logged[0].case_id is None
    assert all("yilmaz" not in e.what.lower() and "3011" not in e.what for e in logged)  # never the terms
    # the name on the case list and in the case header
    assert "Ayşe Yılmaz" in wanda.get("/cases").text
    header = wanda.get(f"/cases/{yilmaz}").text
    assert 'id="client-line"' in header and "geboren 12 mei 1984" in header


def test_a_search_without_reason_or_with_bad_criteria_is_refused(service: CaseService, clock: ManualClock) -> None:
    cor = people(service, clock, "coordinator")["coordinator"]
    for form, message in (
        ({"naam": "Jansen"}, "Geef een reden op"),
        ({"reden": "x"}, "Vul een naam, geboortedatum, postcode of BSN in."),
        ({"geboortedatum": "31-02-1984", "reden": "x"}, "Vul de geboortedatum in als dag-maand-jaar"),
        ({"postcode": "99 AB", "reden": "x"}, "vier cijfers en twee letters"),
        ({"huisnummer": "12", "reden": "x"}, "vul ook de postcode in"),
        ({"bsn": "123456789", "reden": "x"}, "geen geldig BSN"),
        ({"naam": "J", "reden": "x"}, "minstens twee letters"),
    ):
        refused = cor.post("/clients", form)
        assert refused.status_code == 422 and message in refused.text, form
    with read_session(service.db) as session:
        assert session.execute(select(AuditLogRow).where(AuditLogRow.action == "search")).first() is None


def test_closed_cases_are_searched_only_when_asked(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    started = service.start_case("test-visits", "signal", {"client_name": "Piet Post", "concern": "x"},
                                 actor="user:cor", team=TEAM_A, municipality=MUNICIPALITY)
    service.close_case(started.case_id, "client_moved", actor="user:cor")
    assert "0 zaken gevonden" in wanda.post("/clients", {"naam": "post", "reden": "archief"}).text
    found = wanda.post("/clients", {"naam": "post", "reden": "archief", "gesloten": "ja"}).text
    assert started.case_id in _results(found)
    assert "Piet Post" not in wanda.get("/cases").text  # a closed case's client is not named in lists


def test_each_shipped_pathway_names_its_client_fields() -> None:
    from engine.loader import load_pathway
    from tasks.registry import default_kinds
    from web.clientsearch import ClientFields, _valid_bsn, client_fields

    found = {path.stem: client_fields(load_pathway(path.read_text(encoding="utf-8"), str(path), default_kinds()))
             for path in sorted(SWA.parent.glob("*.yaml"))}
    assert found == {
        "early-signal": ClientFields(None, "birth_date", None, "bsn"),
        "eviction-prevention": ClientFields("tenant_name", None, "address", "bsn"),
        "school-social-work": ClientFields("pupil_name", "date_of_birth", None, None),
        "swa-trajectory": ClientFields("client_name", "date_of_birth", "address", None),
        "team-case-management": ClientFields("family_name", None, "address", None),
    }
    assert _valid_bsn("111222333") and not _valid_bsn("123456789") and not _valid_bsn("11122233")


def test_the_work_list_names_the_client(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    started = service.start_case("test-visits", "signal", {"client_name": "Jan Jansen", "concern": "x"},
                                 actor="user:cor", team=TEAM_A, municipality=MUNICIPALITY)
    work = wanda.get("/work").text
    assert f'<a href="/cases/{started.case_id}">Jan Jansen</a>' in work
