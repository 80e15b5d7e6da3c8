"""The DDAS contract: the shared schema found in place, valid and invalid files, errors in Dutch."""

from __future__ import annotations

import json
import random
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from integrations.exchange.ddas import codes, reader
from integrations.exchange.ddas.contract import SCHEMA_ENV, ContractMissing, load_schema, schema_path
from integrations.exchange.ddas.samples import PARTNERS, delivery, signal, write_delivery

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, document: Any, name: str = "levering.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def _valid(n: int = 3) -> dict[str, Any]:
    rng = random.Random(4)
    return delivery([("0014", PARTNERS[1], [signal(rng, i, "Energie", date(2026, 2, 2)) for i in range(1, n + 1)])],
                    date(2026, 2, 1), date(2026, 2, 28))


def test_the_schema_is_read_in_place_from_the_shared_standards() -> None:
    assert schema_path() == (ROOT / ".." / "shared" / "standards" / "ddas-v1.2" / "uitwisselmodel.schema.json").resolve()
    assert schema_path().is_file(), "the shared DDAS schema must be at ../shared/standards/ddas-v1.2/"
    assert load_schema()["title"] == "Uitwisselmodel"


def test_a_missing_schema_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SCHEMA_ENV, str(tmp_path / "nowhere.json"))
    with pytest.raises(ContractMissing, match=r"het DDAS-schema .* ontbreekt.*nowhere\.json"):
        load_schema()


@pytest.mark.parametrize(("name", "values"), [
    ("EnumContactsoort", codes.CONTACTSOORTEN), ("EnumDagdeel", codes.DAGDELEN),
    ("EnumEindresultaat", codes.EINDRESULTATEN), ("EnumSignaalpartner", codes.SIGNAALPARTNERS),
    ("EnumSignaalstatus", codes.SIGNAALSTATUSSEN),
])
def test_code_lists_are_the_standards(name: str, values: tuple[str, ...]) -> None:
    assert list(values) == load_schema()["$defs"][name]["enum"]


def test_every_partner_type_has_a_route() -> None:
    assert set(codes.SIGNAL_TYPES) == set(codes.SIGNAALPARTNERS)
    assert codes.pathway_for("Huur") == "eviction-prevention"
    assert {codes.pathway_for(t) for t in codes.SIGNAALPARTNERS if t != "Huur"} == {"early-signal"}


def test_dagdeel_boundaries() -> None:
    assert [codes.dagdeel(time(h, m)) for h, m in ((11, 59), (12, 0), (17, 59), (18, 0))] == [
        "Ochtend", "Middag", "Middag", "Avond"]


def test_a_valid_file_passes(tmp_path: Path) -> None:
    result = reader.check(_write(tmp_path, _valid()))
    assert result.ok, result.errors
    assert result.signals == 3
    assert result.headers[0].gemeentecode == "0014"
    assert result.headers[0].partner == "kvk:02023456"


def test_a_generated_large_file_passes(tmp_path: Path) -> None:
    result = reader.check(write_delivery(tmp_path / "groot.json", 2500, gemeentecodes=("0014", "1966")))
    assert result.ok, result.errors[:3]
    assert (result.signals, len(result.headers)) == (2500, 10)


def test_every_error_is_reported_with_place_field_and_dutch_message(tmp_path: Path) -> None:
    document = _valid(4)
    signals = document["leveringen"][0]["vroegsignalen"]
    signals[0]["signaaldatum"] = "2026-02-30"  # no such day
    signals[1]["client"] = {"burgerservicenummer": "12345"}  # too short
    signals[2]["signaalpartner"] = {"type": "Telefoon"}  # not a partner type
    del signals[3]["ID"]
    signals[3]["kleur"] = "rood"
    document["leveringen"][0].pop("gemeentecode")
    document["aanleverdatumEnTijd"] = "gisteren"
    result = reader.check(_write(tmp_path, document))
    assert not result.ok
    text = [str(e) for e in result.errors]
    assert "bestand, veld aanleverdatumEnTijd: \"gisteren\" is geen geldige datum en tijd (ISO 8601 met tijdzone)" in text
    assert "levering 1, veld gemeentecode: verplicht veld ontbreekt" in text
    assert any(t.startswith("levering 1, signaal 1 (ID S00000001), veld signaaldatum: \"2026-02-30\" is geen geldige datum")
               for t in text)
    assert ("levering 1, signaal 2 (ID S00000002), veld client: burgerservicenummer moet precies 9 tekens zijn, "
            "niet 5") in text
    assert any(t.startswith("levering 1, signaal 3 (ID S00000003), veld signaalpartner.type: \"Telefoon\" is geen "
                            "toegestane waarde") for t in text)
    assert "levering 1, signaal 4, veld ID: verplicht veld ontbreekt" in text
    assert "levering 1, signaal 4, veld kleur: onbekend veld (niet in het DDAS-schema)" in text
    by_signal = {(e.levering, e.signaal) for e in result.errors}
    assert {(0, 0), (0, 1), (0, 2), (0, 3)} <= by_signal


def test_duplicate_ids_in_one_file_are_refused(tmp_path: Path) -> None:
    document = _valid(3)
    signals = document["leveringen"][0]["vroegsignalen"]
    signals[2]["ID"] = signals[0]["ID"]
    second = json.loads(json.dumps(document["leveringen"][0]))
    second["teller"] = 2
    second["vroegsignalen"] = [dict(signals[1], crisissignaal=not signals[1]["crisissignaal"])]
    document["leveringen"].append(second)
    result = reader.check(_write(tmp_path, document))
    text = [str(e) for e in result.errors]
    assert "levering 1, signaal 3 (ID S00000001), veld ID: dubbel signaal-ID: komt ook voor als signaal 1 in deze " \
           "levering" in text
    assert any("dezelfde signaalpartner leverde dit ID ook in levering 1" in t for t in text)


def test_the_same_delivery_twice_is_refused(tmp_path: Path) -> None:
    document = _valid(1)
    document["leveringen"].append(json.loads(json.dumps(document["leveringen"][0])))
    text = [str(e) for e in reader.check(_write(tmp_path, document)).errors]
    assert any("levering is gelijk aan levering 1" in t for t in text)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kapot.json"
    path.write_text('{"leveringen": [{"teller": 1,', encoding="utf-8")
    errors = reader.check(path).errors
    assert len(errors) == 1 and errors[0].plaats == "bestand" and errors[0].fout.startswith("geen geldige JSON")


def test_signals_stream_with_their_delivery(tmp_path: Path) -> None:
    path = _write(tmp_path, _valid(2))
    checked = reader.check(path)
    items = list(reader.signals(path, checked.headers))
    assert [(h.index, s["ID"]) for h, s in items] == [(0, "S00000001"), (0, "S00000002")]
