"""Early signalling end to end over real HTTP: upload -> case visible -> contact attempt -> end result ->
export valid against the shared DDAS schema. carepath under uvicorn on loopback, SQLite, a manual clock."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from engine.clock import ManualClock
from integrations.db import accounts
from integrations.db.engine_factory import write_session
from integrations.db.signal_tables import SignalRow  # noqa: F401  (registers the table for the fixtures)
from integrations.exchange.ddas.contract import default_contract
from integrations.exchange.ddas.importer import ROUTES_SETTING
from integrations.exchange.ddas.samples import PARTNERS, delivery, signal
from integrations.service import CaseService, build_service
from web.app import create_app
from web.testing import PASSWORD, Person, api_token, cheap_password_hashing, live_server, standard_accounts

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Amsterdam
PEOPLE = {
    "intake": Person("ilse", accounts.AccountRole.WORKER, ("team-a",), ("intake_officer", "outreach_worker")),
    # A supplier's system account: a worker account in a team of its own (no cases), role signal_supplier.
    "supplier": Person("inforing", accounts.AccountRole.WORKER, ("suppliers",), ("signal_supplier",),
                       organisation="INFORING"),
    "analyst": Person("ada", accounts.AccountRole.ANALYST, municipality="GM0014", organisation="Gemeente Groningen"),
    "stranger": Person("olga", accounts.AccountRole.WORKER, ("team-b",), ("outreach_worker",), organisation="AMW Elders"),
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, CaseService]]:
    cheap_password_hashing()
    service = build_service(f"sqlite:///{tmp_path / 'carepath.db'}", ManualClock(NOW), data_dir=tmp_path)
    with write_session(service.db) as session:
        accounts.upsert_team(session, "suppliers", "Leveranciers van signalen", "INFORING")
    standard_accounts(service.db, NOW, PEOPLE)
    with write_session(service.db) as session:
        accounts.put_setting(session, ROUTES_SETTING, {"routes": "GM0014=team-a"}, NOW)
    with live_server(create_app(service)) as base:
        yield base, service


def _file() -> bytes:
    rng = random.Random(3)
    signals = [signal(rng, 1, "Energie", date(2026, 2, 20), client={"burgerservicenummer": "900000017"},
                      crisis=True),
               signal(rng, 2, "Energie", date(2026, 2, 21), client={"burgerservicenummer": "900000017"}),
               signal(rng, 3, "Energie", date(2026, 2, 21), client={"postcode": "9741AB", "huisnummer": "3"})]
    document = delivery([("0014", PARTNERS[1], signals)], date(2026, 2, 1), date(2026, 2, 28))
    document["codeGegevensleverancier"] = "INFORING"
    return json.dumps(document).encode()


def _signed_in(base: str, username: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    assert client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": token.group(1)}).status_code == 303
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text)
    assert csrf is not None
    return client, csrf.group(1)


def test_upload_case_contact_attempt_end_result_export(server: tuple[str, CaseService]) -> None:
    base, _service = server
    intake, csrf = _signed_in(base, "ilse")
    page = intake.post("/signalen", data={"csrf_token": csrf},
                       files={"file": ("februari.json", _file(), "application/json")})
    assert page.status_code == 200, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))[-800:]
    assert "3 signalen: 2 nieuwe zaak, 1 gekoppeld (herhaalde melding)" in page.text
    case_id = re.search(r'<tr class="signal-new_case"><td>1</td><td>S00000001</td>.*?href="/cases/(C[0-9A-F]+)"',
                        page.text, re.S)
    assert case_id is not None
    case_page = intake.get(f"/cases/{case_id.group(1)}")
    assert case_page.status_code == 200 and "Crisissignaal - eerste contact binnen 3 werkdagen" in case_page.text
    # The repeat signal shows on the case it was linked to, with how sure the match is.
    assert 'id="case-signals"' in case_page.text and "S00000002" in case_page.text
    assert "Niet opgepakt: herhaalde melding" in case_page.text and "zeker (BSN)" in case_page.text
    # The worker records the contact attempt in DDAS codes on the web form, then the end result (API).
    headers = {"X-CSRF-Token": csrf}
    tasks = intake.get(f"/api/cases/{case_id.group(1)}").json()
    task = next(t for t in tasks["tasks"] if t["status"] == "open")
    form = intake.get(f"/tasks/{task['id']}")
    assert 'name="contactpoging.soort"' in form.text and 'name="contactpoging.dagdeel"' in form.text
    done = intake.post(f"/tasks/{task['id']}/complete", data={
        "csrf_token": csrf, "contactpoging.soort": "Huisbezoek", "contactpoging.bereikt": "true",
        "contactpoging.datum": "2026-03-02", "contactpoging.dagdeel": "Middag"})
    assert done.status_code == 303, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", done.text))[-800:]
    tasks = intake.get(f"/api/cases/{case_id.group(1)}").json()
    talk = next(t for t in tasks["tasks"] if t["status"] == "open")
    assert talk["step"] == "conversation"
    assert intake.post(f"/api/tasks/{talk['id']}/complete", headers=headers,
                       json={"data": {"result": "quick_fix"}}).status_code == 200
    # The analyst of GM0014 downloads the delivery; it meets the shared schema with format checking.
    analyst, _ = _signed_in(base, "ada")
    delivered = analyst.get("/signalen/levering.json", params={"municipality": "GM0014", "from": "2026-02-01",
                                                                "to": "2026-02-28"})
    assert delivered.status_code == 200
    document = delivered.json()
    assert default_contract().document_errors(document) == []
    zaak = next(z for z in document["leveringen"][0]["vroegsignaalzaken"] if {"ID": "S00000001"} in z["vroegsignalen"])
    assert zaak["resultaat"] == "(Budget)advies en/of quick fix" and zaak["datumOpgepakt"] == "2026-03-02"
    assert {"ID": "S00000002"} in zaak["vroegsignalen"]  # the repeat counts on the same case
    assert zaak["contactpogingen"] == [{"soort": "Huisbezoek", "bereikt": True, "datum": "2026-03-02",
                                        "dagdeel": "Middag"}]
    statuses = {s["ID"]: s["status"] for s in document["leveringen"][0]["vroegsignalen"]}
    assert statuses == {"S00000001": "Opgepakt", "S00000002": "Niet opgepakt: herhaalde melding",
                        "S00000003": "Opgepakt"}
    # Another municipality's delivery is not the analyst's.
    assert analyst.get("/api/signals/export", params={"municipality": "GM0344", "from": "2026-02-01",
                                                      "to": "2026-02-28"}).status_code == 404


def test_a_supplier_system_uploads_with_its_own_token(server: tuple[str, CaseService]) -> None:
    base, service = server
    token = api_token(service.db, "inforing", NOW)
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        answer = client.post("/api/signals", content=_file(), headers={"Content-Type": "application/json"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["aantallen"]["nieuwe zaak"] == 2
        again = client.post("/api/signals", content=_file(), headers={"Content-Type": "application/json"})
        assert again.json()["aantallen"]["al geïmporteerd, ongewijzigd"] == 3
        broken = json.loads(_file())
        broken["leveringen"][0]["vroegsignalen"][0]["bedrag"] = "veel"
        refused = client.post("/api/signals", content=json.dumps(broken).encode())
        assert refused.status_code == 422
        assert refused.json()["fouten"][0]["veld"] == "bedrag"
        assert "geheel getal" in refused.json()["fouten"][0]["fout"]
    stranger_token = api_token(service.db, "olga", NOW)
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {stranger_token}"}) as client:
        assert client.post("/api/signals", content=_file()).status_code == 403
