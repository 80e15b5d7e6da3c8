"""Early signals on the database (SQLite and PostgreSQL): import, matching, cases, feedback, export, retention."""

from __future__ import annotations

import json
import logging
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.clock import ManualClock
from integrations.db.archive import archive_closed
from integrations.db.engine_factory import read_session
from integrations.db.models import CaseEventPageRow, CasePersonalDataRow, CaseRow, OutboxRow, TaskRow
from integrations.db.signal_tables import SignalClientRow, SignalRow
from integrations.exchange.ddas import codes
from integrations.exchange.ddas.contract import default_contract
from integrations.exchange.ddas.export import export_pages
from integrations.exchange.ddas.importer import (
    LINKED,
    NEW_CASE,
    NOT_TAKEN_UP,
    REFUSED,
    UNCHANGED,
    Route,
    SignalImporter,
)
from integrations.exchange.ddas.opener import CaseOpener
from integrations.exchange.ddas.retention import erase_due
from integrations.exchange.ddas.samples import PARTNERS, delivery, signal
from integrations.service import CaseService

ROOT = Path(__file__).resolve().parents[2]
ROUTES = {"GM0014": Route("GM0014", "noord-groningen", "user:anna")}
HOUSING, ENERGY = PARTNERS[0], PARTNERS[1]


@pytest.fixture
def signals_service(service: CaseService) -> CaseService:
    for name in ("eviction-prevention.yaml", "early-signal.yaml"):
        path = ROOT / "pathways" / name
        service.publish_pathway(path.read_text(encoding="utf-8"), str(path))
    return service


def _file(tmp_path: Path, groups: list[tuple[str, tuple[str, str, str], list[dict[str, Any]]]],
          name: str = "levering.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(delivery(groups, date(2026, 2, 1), date(2026, 2, 28))), encoding="utf-8")
    return path


def _signal(number: int, partner_type: str, client: dict[str, Any], **extra: Any) -> dict[str, Any]:
    item = signal(random.Random(number), number, partner_type, date(2026, 2, 20), client=client, crisis=False)
    item.update(extra)
    return item


def _import(service: CaseService, path: Path) -> tuple[Any, Any]:
    report = SignalImporter(service, ROUTES, keep_outcomes=True).import_file(path)
    opened = CaseOpener(service, ROUTES).run()
    return report, opened


def _rows(service: CaseService) -> dict[str, SignalRow]:
    with read_session(service.db) as session:
        return {r.signal_id: r for r in session.execute(select(SignalRow)).scalars()}


BSN = {"burgerservicenummer": "900000017"}
ADDRESS = {"postcode": "9741 ab", "huisnummer": "12", "huisnummertoevoeging": "a"}


def test_signals_open_cases_on_the_right_pathway_and_repeats_link(signals_service: CaseService, tmp_path: Path) -> None:
    path = _file(tmp_path, [
        ("0014", HOUSING, [_signal(1, "Huur", BSN)]),
        ("0014", ENERGY, [_signal(2, "Energie", BSN), _signal(3, "Energie", ADDRESS),
                          _signal(4, "Energie", {**ADDRESS, "postcode": "9741AB", "huisnummertoevoeging": "A"}),
                          _signal(5, "Energie", {**ADDRESS, "huisnummertoevoeging": "B"})]),
        ("0344", ENERGY, [_signal(6, "Energie", {"burgerservicenummer": "900000029"})]),
    ])
    report, opened = _import(signals_service, path)
    assert report.counts == {NEW_CASE: 3, LINKED: 2, NOT_TAKEN_UP: 1, REFUSED: 0, UNCHANGED: 0}
    assert opened.opened == 3
    rows = _rows(signals_service)
    # Rent to eviction prevention; the energy signal of the same BSN is a repeat on that case (certain).
    assert rows["S00000001"].pathway_id == "eviction-prevention" and rows["S00000001"].status == codes.OPGEPAKT
    assert (rows["S00000002"].disposition, rows["S00000002"].match) == (LINKED, "bsn")
    assert rows["S00000002"].case_id == rows["S00000001"].case_id
    assert rows["S00000002"].status == "Niet opgepakt: herhaalde melding"
    # Address with the same toevoeging, written differently: likely the same household.
    assert rows["S00000003"].pathway_id == "early-signal" and rows["S00000003"].disposition == NEW_CASE
    assert (rows["S00000004"].disposition, rows["S00000004"].match) == (LINKED, "adres")
    # Another toevoeging is another address: a new case.
    assert rows["S00000005"].disposition == NEW_CASE
    # A municipality not served here: stored, not taken up, never matched.
    assert (rows["S00000006"].disposition, rows["S00000006"].match, rows["S00000006"].status) == (
        NOT_TAKEN_UP, "buiten_gemeente", "Persoon is geen inwoner (meer) in de gemeente")
    with read_session(signals_service.db) as session:
        case = session.get(CaseRow, rows["S00000001"].case_id)
        assert case is not None and (case.team, case.municipality, case.status) == ("noord-groningen", "GM0014", "open")
        assert case.pseudonym == signals_service.pseudonymiser("900000017")  # the client's own pseudonym
        # No BSN or address in the case row or its events: only in the personal-data table.
        assert "900000017" not in json.dumps(case.state)
        personal = session.get(CasePersonalDataRow, case.id)
        assert personal is not None and personal.data["bsn"] == "900000017"
        feedback = session.execute(select(OutboxRow.payload, OutboxRow.to_role).where(
            OutboxRow.template == "ddas_terugmelding")).all()
    assert sorted(p["message"] for p, _ in feedback) == sorted([
        "Vroegsignaal S00000001: opgepakt", "Vroegsignaal S00000002: niet opgepakt",
        "Vroegsignaal S00000003: opgepakt", "Vroegsignaal S00000004: niet opgepakt",
        "Vroegsignaal S00000005: opgepakt"])
    assert {role for _, role in feedback} == {"housing_corporation", "signal_partner"}


def test_no_bsn_or_address_reaches_the_logs(signals_service: CaseService, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _import(signals_service, _file(tmp_path, [("0014", ENERGY, [_signal(1, "Energie", BSN), _signal(2, "Energie", ADDRESS)]),
                                              ("0344", ENERGY, [_signal(3, "Energie", ADDRESS)])]))
    erase_due(signals_service)
    assert caplog.records  # the import, the opener and retention do log (counts)
    logged = caplog.text.upper().replace(" ", "")
    assert "900000017" not in logged and "9741AB" not in logged


def test_a_later_import_links_to_the_open_case_and_reimport_changes_nothing(
        signals_service: CaseService, tmp_path: Path) -> None:
    first = _file(tmp_path, [("0014", ENERGY, [_signal(1, "Energie", BSN)])], "een.json")
    _import(signals_service, first)
    report, _ = _import(signals_service, first)
    assert report.counts[UNCHANGED] == 1 and report.changes == 0
    assert "er is niets veranderd" in report.summary()
    second = _file(tmp_path, [("0014", PARTNERS[3], [_signal(7, "Zorg", BSN)])], "twee.json")
    report, _ = _import(signals_service, second)
    assert report.counts[LINKED] == 1
    rows = _rows(signals_service)
    assert rows["S00000007"].case_id == rows["S00000001"].case_id
    # The same ID from the same partner with other content is refused, the stored signal unchanged.
    changed = _file(tmp_path, [("0014", ENERGY, [_signal(1, "Energie", BSN, bedrag=99999)])], "drie.json")
    report, _ = _import(signals_service, changed)
    assert report.counts[REFUSED] == 1 and report.outcomes[0].reason is not None
    assert _rows(signals_service)["S00000001"].bedrag != 99999
    with read_session(signals_service.db) as session:
        assert session.execute(select(func.count()).select_from(CaseRow)).scalar_one() == 1


def test_a_refused_file_imports_nothing(signals_service: CaseService, tmp_path: Path) -> None:
    bad = _signal(2, "Energie", {"postcode": "9741AB"})  # huisnummer missing
    report, _ = _import(signals_service, _file(tmp_path, [("0014", ENERGY, [_signal(1, "Energie", BSN), bad])]))
    assert report.refused_whole and report.signals == 0
    assert [str(e) for e in report.errors] == [
        "levering 1, signaal 2 (ID S00000002), veld client: zonder burgerservicenummer zijn postcode en huisnummer "
        "verplicht; ontbreekt: huisnummer"]
    assert _rows(signals_service) == {}


def _open_task(service: CaseService, case_id: str) -> TaskRow:
    with read_session(service.db) as session:
        return session.execute(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.status == "open")).scalar_one()


def test_crisis_signal_is_due_in_three_working_days_across_easter(signals_service: CaseService, tmp_path: Path,
                                                                   clock: ManualClock) -> None:
    clock.set(datetime(2026, 4, 2, 8, 0, tzinfo=UTC))  # Thursday before Easter, 10:00 in Amsterdam
    crisis = _signal(1, "Energie", BSN, crisissignaal=True)
    normal = _signal(2, "Water", ADDRESS)
    warm = _signal(3, "Zorg", {"burgerservicenummer": "900000030"}, warmeOverdracht=True)
    _import(signals_service, _file(tmp_path, [("0014", ENERGY, [crisis, normal, warm])]))
    rows = _rows(signals_service)
    urgent = _open_task(signals_service, str(rows["S00000001"].case_id))
    assert urgent.step == "first_contact_urgent"
    # Friday 3 (Good Friday works), Easter Monday off, Tuesday 7, Wednesday 8: 17:00 Amsterdam.
    assert urgent.due_at == datetime(2026, 4, 8, 15, 0, tzinfo=UTC)
    ordinary = _open_task(signals_service, str(rows["S00000002"].case_id))
    assert ordinary.step == "first_contact" and ordinary.due_at == datetime(2026, 4, 30, 8, 0, tzinfo=UTC)
    transfer = _open_task(signals_service, str(rows["S00000003"].case_id))
    assert (transfer.step, transfer.assignee) == ("warm_transfer_contact", "user:anna")


def test_export_of_a_handled_case_validates_against_the_shared_schema(
        signals_service: CaseService, tmp_path: Path, clock: ManualClock) -> None:
    _import(signals_service, _file(tmp_path, [("0014", ENERGY, [_signal(1, "Energie", BSN),
                                                                  _signal(2, "Energie", ADDRESS)])]))
    case_id = str(_rows(signals_service)["S00000001"].case_id)
    task = _open_task(signals_service, case_id)
    signals_service.complete_task(task.id, {"contactpoging": {
        "soort": "Huisbezoek", "bereikt": False, "datum": "2026-03-03", "dagdeel": "Avond"}}, actor="user:anna")
    clock.advance(timedelta(days=3))
    signals_service.fire_due()
    retry = _open_task(signals_service, case_id)
    signals_service.complete_task(retry.id, {"contactpoging": {
        "soort": "Telefoon", "bereikt": True, "datum": "2026-03-05", "dagdeel": "Ochtend"}}, actor="user:anna")
    talk = _open_task(signals_service, case_id)
    signals_service.complete_task(talk.id, {"result": "referred_financial"}, actor="user:anna")
    pages = list(export_pages(signals_service, "GM0014", date(2026, 2, 1), date(2026, 2, 28)))
    assert len(pages) == 1
    document = pages[0].document
    assert default_contract().document_errors(document) == []
    levering = document["leveringen"][0]
    assert levering["gemeentecode"] == "0014"
    zaak = next(z for z in levering["vroegsignaalzaken"] if z["vroegsignalen"] == [{"ID": "S00000001"}])
    assert zaak["resultaat"] == "Vervolghulp en/of verwijzing financieel"
    assert zaak["datumOpgepakt"] == "2026-03-03"
    assert zaak["contactpogingen"] == [
        {"soort": "Huisbezoek", "bereikt": False, "datum": "2026-03-03", "dagdeel": "Avond"},
        {"soort": "Telefoon", "bereikt": True, "datum": "2026-03-05", "dagdeel": "Ochtend"}]
    open_zaak = next(z for z in levering["vroegsignaalzaken"] if z["vroegsignalen"] == [{"ID": "S00000002"}])
    assert "resultaat" not in open_zaak
    # Another period holds none of these signals; paging splits at the page size.
    assert [p.signals for p in export_pages(signals_service, "GM0014", date(2026, 3, 1), date(2026, 3, 31))] == [0]
    assert [p.signals for p in export_pages(signals_service, "GM0014", date(2026, 2, 1), date(2026, 2, 28),
                                             page_size=1)] == [1, 1]
    # The closed case's history moved to the archive: the export reads the same contact attempts from it.
    assert archive_closed(signals_service.db, clock.now(), after=timedelta(0)).cases == 1
    with read_session(signals_service.db) as session:
        assert session.execute(select(func.count()).select_from(CaseEventPageRow)
                               .where(CaseEventPageRow.case_id == case_id)).scalar_one() == 0
    archived = list(export_pages(signals_service, "GM0014", date(2026, 2, 1), date(2026, 2, 28)))
    assert archived[0].document == document


def test_retention_erases_what_is_due_and_nothing_else(signals_service: CaseService, tmp_path: Path,
                                                        clock: ManualClock) -> None:
    _import(signals_service, _file(tmp_path, [
        ("0014", ENERGY, [_signal(1, "Energie", BSN), _signal(2, "Energie", BSN)]),
        ("0344", ENERGY, [_signal(3, "Energie", ADDRESS)])]))
    rows = _rows(signals_service)
    case_id = str(rows["S00000001"].case_id)
    assert erase_due(signals_service).total == 0
    clock.advance(timedelta(days=30))
    signals_service.close_case(case_id, "unjustified", actor="user:carla")
    clock.advance(timedelta(days=160))  # more than 6 months after import
    report = erase_due(signals_service)
    assert report.erased["early-signal"]["signal_not_taken_up"] == 1  # the repeat
    assert report.erased["early-signal"]["signal_unmatched"] == 1  # the other municipality
    assert set(_rows(signals_service)) == {"S00000001"}
    clock.advance(timedelta(days=210))  # 12 months after the case closed (1 April 2026)
    assert erase_due(signals_service).erased["early-signal"]["signal_taken_up"] == 1
    with read_session(signals_service.db) as session:
        assert session.execute(select(func.count()).select_from(SignalClientRow)).scalar_one() == 0
        assert session.get(CasePersonalDataRow, case_id) is not None
    clock.advance(timedelta(days=190))  # 18 months after closing
    assert "1 persoonsgegevens van gesloten zaken" in erase_due(signals_service).summary()
    with read_session(signals_service.db) as session:
        assert session.get(CasePersonalDataRow, case_id) is None
        assert session.get(CaseRow, case_id) is not None  # the case and its statistics stay


def test_a_case_id_drawn_twice_gets_a_fresh_one(signals_service: CaseService, tmp_path: Path) -> None:
    SignalImporter(signals_service, ROUTES).import_file(_file(tmp_path, [
        ("0014", ENERGY, [_signal(1, "Energie", BSN), _signal(2, "Energie", BSN)])]))
    chosen = str(_rows(signals_service)["S00000001"].case_id)
    # Someone else's case took that id meanwhile (a one-in-billions draw, forced here).
    signals_service.start_case("test-visits", "signal", {"client_name": "X", "concern": "y"}, actor="user:cor",
                               case_id=chosen)
    assert CaseOpener(signals_service, ROUTES).run().opened == 1
    rows = _rows(signals_service)
    assert rows["S00000001"].case_id != chosen and rows["S00000001"].case_opened
    assert rows["S00000002"].case_id == rows["S00000001"].case_id  # the repeat follows its case
