"""The server's own error answers (404, 405, 422, 500) and the engine's refusals are Dutch, as a page
and as API JSON; English when the person's language setting or CAREPATH_LANGUAGE=en says so."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.clock import ManualClock
from integrations.service import CaseService
from tests.integration.test_web_pages import new_case, people
from web.app import create_app
from web.settings import WebSettings
from web.testing import cheap_password_hashing, standard_accounts


def _broken_app(service: CaseService, settings: WebSettings | None = None) -> FastAPI:
    app = create_app(service, settings=settings)

    @app.get("/stuk")
    def broken_page() -> None:
        raise RuntimeError("geheim: Jan Jansen, BSN 123456782")

    @app.get("/api/stuk")
    def broken_api() -> None:
        raise RuntimeError("geheim: Jan Jansen, BSN 123456782")

    return app


def test_not_found_is_dutch_as_page_and_json(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    page = wanda.get("/bestaat-niet")
    assert page.status_code == 404 and "<h1>Niet gevonden</h1>" in page.text
    assert "Deze pagina of zaak bestaat niet, of is niet voor jou." in page.text
    api = wanda.api("GET", "/api/cases/C-BESTAAT-NIET")
    assert api.status_code == 404
    assert api.json()["error"] == {"code": "not_found", "message": "Deze pagina of zaak bestaat niet, of is niet voor jou."}


def test_method_not_allowed_is_dutch_and_names_the_methods(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    api = wanda.api("DELETE", "/api/cases")
    assert api.status_code == 405 and api.json()["error"]["code"] == "method_not_allowed"
    assert re.fullmatch(r"Dit adres kent de methode DELETE niet; wel: .*GET.*\.", api.json()["error"]["message"])
    assert "GET" in api.headers["allow"]
    page = wanda.http.request("PUT", "/login")
    assert page.status_code == 405 and "<h1>Methode niet toegestaan</h1>" in page.text
    assert "Dit adres kent de methode PUT niet" in page.text


def test_a_refused_request_names_each_field_and_its_place_in_dutch(service: CaseService, clock: ManualClock) -> None:
    clients = people(service, clock, "coordinator")
    cor = clients["coordinator"]
    case_id, _task = new_case(service)
    answer = cor.api("POST", f"/api/cases/{case_id}/close", json={"reason_code": 5, "outcome": ["x"]})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == ("Het verzoek klopt niet: veld `reason_code` in de body: moet tekst zijn; "
                                "veld `outcome` in de body: moet tekst zijn")
    assert error["fields"] == {"reason_code": "moet tekst zijn", "outcome": "moet tekst zijn"}
    missing = cor.api("POST", f"/api/cases/{case_id}/close", json={})
    assert "veld `reason_code` in de body: ontbreekt" in missing.json()["error"]["message"]
    broken_json = cor.api("POST", f"/api/cases/{case_id}/close", content=b"{nope",
                          headers={"content-type": "application/json"})
    assert broken_json.status_code == 422 and "is geen geldige JSON" in broken_json.json()["error"]["message"]
    page = cor.get(f"/cases/{case_id}?tijdlijn=roddels")
    assert page.status_code == 400 and "<h1>Onjuist verzoek</h1>" in page.text
    assert "veld `tijdlijn` in de query: heeft niet het juiste formaat" in page.text


def test_an_unexpected_error_shows_a_reference_and_no_trace(service: CaseService, clock: ManualClock,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(_broken_app(service), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="carepath.web"):
        page = client.get("/stuk")
        api = client.get("/api/stuk")
    assert page.status_code == 500 and "<h1>Er ging iets mis</h1>" in page.text
    for body in (page.text, api.text):
        assert "geheim" not in body and "Traceback" not in body and "RuntimeError" not in body
    page_ref = re.search(r"noem referentie (R-[0-9A-F]{8}) als je de beheerder om hulp vraagt", page.text)
    assert page_ref is not None and f"<code>{page_ref.group(1)}</code>" in page.text
    error = api.json()["error"]
    assert api.status_code == 500 and error["code"] == "internal" and re.fullmatch(r"R-[0-9A-F]{8}", error["reference"])
    assert error["message"].startswith("Er ging iets mis aan onze kant.") and error["reference"] in error["message"]
    assert error["reference"] != page_ref.group(1)
    logged = [r.getMessage() for r in caplog.records]
    assert any(page_ref.group(1) in line and "RuntimeError" in line for line in logged)
    assert not any("geheim" in line for line in logged)


def test_an_engine_refusal_is_dutch_with_its_code_and_english_for_an_english_person(
        service: CaseService, clock: ManualClock) -> None:
    cor = people(service, clock, "coordinator")["coordinator"]
    case_id, _task = new_case(service)
    refused = cor.api("POST", f"/api/cases/{case_id}/reopen", json={"reason": "toch nog iets"})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "conflict"
    assert error["message"] == f"zaak {case_id} is lopend, niet gesloten"
    assert error["detail"] == {"code": "reopen.not_closed", "args": {
        "case": case_id, "status": {"code": "status.case.open", "args": {}}}}
    assert cor.post("/language", {"language": "en", "next": "/"}).status_code == 303
    english = cor.api("POST", f"/api/cases/{case_id}/reopen", json={"reason": "toch nog iets"})
    assert english.json()["error"]["message"] == f"case {case_id} is open, not closed"
    assert english.json()["error"]["detail"]["code"] == "reopen.not_closed"
    page = cor.get("/bestaat-niet")
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text


def test_carepath_language_en_makes_the_answers_english_for_people_without_a_setting(
        service: CaseService, clock: ManualClock) -> None:
    cheap_password_hashing()
    standard_accounts(service.db, clock.now())
    settings = WebSettings.from_env({"CAREPATH_LANGUAGE": "en"})
    assert settings.default_language == "en"
    client = TestClient(_broken_app(service, settings), raise_server_exceptions=False)
    page = client.get("/bestaat-niet")
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    api = client.get("/api/stuk")
    assert api.json()["error"]["message"].startswith("Something went wrong on our side.")
    client.cookies.set("carepath_lang", "nl")
    dutch_cookie = client.get("/bestaat-niet")
    assert "<h1>Niet gevonden</h1>" in dutch_cookie.text


def test_a_portal_error_copied_from_an_engine_refusal_keeps_its_code_and_english() -> None:
    from engine.errors import ValidationError
    from engine.messages import msg
    from web.app import _engine_refusal
    from web.portal import Invalid

    try:
        try:
            raise ValidationError(msg("adhoc.title_needed"))
        except ValidationError as exc:
            raise Invalid(str(exc)) from None
    except Invalid as copied:
        assert _engine_refusal(copied, "nl") == ("geef de taak een naam", {"code": "adhoc.title_needed", "args": {}})
        assert _engine_refusal(copied, "en")[0] == "give the task a title"
    reworded = Invalid("iets anders")
    assert _engine_refusal(reworded, "en") == ("iets anders", None)


def test_the_portals_own_refusals_are_dutch_and_english_for_an_english_person(
        service: CaseService, clock: ManualClock) -> None:
    cor = people(service, clock, "coordinator")["coordinator"]
    case_id, _task = new_case(service)
    closed = cor.api("POST", f"/api/cases/{case_id}/close", json={"reason_code": "onzin", "outcome": "onzin"})
    assert closed.status_code == 422
    error = closed.json()["error"]
    assert (error["code"], error["message"]) == ("invalid", "Kies een reden.")
    assert error["fields"] == {"reason_code": "Kies een van de redenen."}
    empty = cor.api("POST", f"/api/cases/{case_id}/close", json={"reason_code": "", "outcome": ""})
    assert "veld `reason_code` in de body: mag niet leeg zijn" in empty.json()["error"]["message"]
    twice = cor.api("GET", "/api/cases?status=open&status=closed")
    assert twice.status_code == 422
    assert twice.json()["error"]["message"] == "De queryparameter «status» staat er meer dan één keer in."
    assert cor.post("/language", {"language": "en", "next": "/"}).status_code == 303
    english = cor.api("POST", f"/api/cases/{case_id}/close",
                      json={"reason_code": "onzin", "outcome": "onzin"}).json()["error"]
    assert (english["message"], english["fields"]) == ("Choose a reason.", {"reason_code": "Choose one of the reasons."})
    twice_en = cor.api("GET", "/api/cases?status=open&status=closed").json()["error"]["message"]
    assert twice_en == "The query parameter «status» is given more than once."
