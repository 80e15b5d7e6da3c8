"""The DDAS delivery of one municipality and period: `vroegsignalen` and `vroegsignaalzaken`, paged.

A signal belongs to the period of its `signaaldatum`. Pages hold at most 50,000 signals (the
standard's limit), each with the cases of its signals and their contact attempts. Every page is
validated against the shared schema (with format checking) before it is handed out: carepath never
writes a delivery the national monitor would refuse. The delivery holds what DDAS asks and nothing
more: the client as the partner sent it, no name, no notes, no reasons.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from integrations.db.engine_factory import read_session
from integrations.db.signal_tables import SignalClientRow, SignalRow
from integrations.exchange.ddas import codes
from integrations.exchange.ddas.contract import Contract, default_contract
from integrations.exchange.ddas.results import case_reports, signal_status
from integrations.service import CaseService

PAGE_SIZE = 50_000
SUPPLIER_ENV = "CAREPATH_DDAS_SUPPLIER_CODE"  # codeGegevensleverancier (default CAREPATH)
ORGANISATION_ENV = "CAREPATH_DDAS_ORGANISATION"  # aanleverendeOrganisatie.naam (default carepath)


@dataclass(frozen=True)
class ExportPage:
    number: int
    document: dict[str, Any]
    signals: int
    zaken: int


def _signal_json(row: Any, client: dict[str, Any] | None, exported_id: str, status: str) -> dict[str, Any]:
    item: dict[str, Any] = {"ID": exported_id, "crisissignaal": bool(row.crisis), "warmeOverdracht": bool(row.warm)}
    if row.bedrag is not None:
        item["bedrag"] = int(row.bedrag)
    if row.ontstaansdatum is not None:
        item["ontstaansdatum"] = row.ontstaansdatum.isoformat()
    if row.signaaldatum is not None:
        item["signaaldatum"] = row.signaaldatum.isoformat()
    item["status"] = status
    item["signaalpartner"] = {"type": row.partner_type}
    item["client"] = dict(client or {})
    return item


def export_pages(service: CaseService, municipality: str, first: date, last: date, *, page_size: int = PAGE_SIZE,
                 contract: Contract | None = None) -> Iterator[ExportPage]:
    """The delivery's pages, each validated against the DDAS schema (ValidationError if not)."""
    if last < first:
        raise ValidationError(f"de periode klopt niet: {last.isoformat()} ligt voor {first.isoformat()}")
    contract = contract or default_contract()
    municipality = codes.ddas_municipality(municipality)
    now = service.clock.now()
    header = {
        "startdatumLevering": first.isoformat(), "einddatumLevering": last.isoformat(),
        "aanleverdatumEnTijd": now.astimezone(codes.AMSTERDAM).isoformat(timespec="seconds"),
        "codeGegevensleverancier": os.environ.get(SUPPLIER_ENV, "CAREPATH"),
    }
    number = 0
    after: tuple[date, str] | None = None
    while True:
        with read_session(service.db) as session:
            rows = _page_rows(session, municipality, first, last, after, page_size)
            if not rows and number > 0:
                return
            number += 1
            document, zaken = _page(session, service, rows, header, municipality, number)
        errors = contract.document_errors(document)
        if errors:
            shown = "; ".join(f"{veld}: {fout}" for veld, fout in errors[:5])
            raise ValidationError(f"de DDAS-levering voldoet niet aan het schema ({len(errors)} fouten): {shown}")
        yield ExportPage(number, document, len(rows), zaken)
        if len(rows) < page_size:
            return
        after = (rows[-1].signaaldatum, rows[-1].key)


# Plain columns, not ORM objects: 50,000 mapped instances cost more than the whole export otherwise.
_COLUMNS = (SignalRow.key, SignalRow.signal_id, SignalRow.partner, SignalRow.partner_type, SignalRow.crisis,
            SignalRow.warm, SignalRow.bedrag, SignalRow.ontstaansdatum, SignalRow.signaaldatum, SignalRow.status,
            SignalRow.disposition, SignalRow.case_id)


def _page_rows(session: Session, municipality: str, first: date, last: date, after: tuple[date, str] | None,
               limit: int) -> list[Any]:
    query = (select(*_COLUMNS, SignalClientRow.data)
             .outerjoin(SignalClientRow, SignalClientRow.key == SignalRow.key)
             .where(SignalRow.municipality == municipality, SignalRow.signaaldatum >= first,
                    SignalRow.signaaldatum <= last)
             .order_by(SignalRow.signaaldatum, SignalRow.key).limit(limit))
    if after is not None:
        query = query.where((SignalRow.signaaldatum > after[0])
                            | ((SignalRow.signaaldatum == after[0]) & (SignalRow.key > after[1])))
    return list(session.execute(query).all())


def _page(session: Session, service: CaseService, rows: list[Any], header: dict[str, Any], municipality: str,
          number: int) -> tuple[dict[str, Any], int]:
    case_ids = sorted({row.case_id for row in rows if row.case_id})
    reports = case_reports(session, service.catalog, case_ids)
    seen: dict[str, str] = {}  # exported ID -> partner: IDs are unique per partner, the delivery needs them unique
    signals: list[dict[str, Any]] = []
    by_case: dict[str, list[str]] = {}
    for row in rows:
        client = row.data
        exported = row.signal_id if seen.setdefault(row.signal_id, row.partner) == row.partner else \
            f"{row.signal_id}@{row.partner}"
        report = reports.get(row.case_id) if row.case_id else None
        signals.append(_signal_json(row, client, exported, signal_status(row.disposition, row.status, report)))
        if report is not None:
            by_case.setdefault(row.case_id, []).append(exported)
    zaken: list[dict[str, Any]] = []
    for case_id, ids in by_case.items():
        report = reports[case_id]
        zaak: dict[str, Any] = {}
        if report.resultaat is not None:
            zaak["resultaat"] = report.resultaat
        zaak["matchingsdatum"] = report.opened_on.isoformat()
        if report.datum_opgepakt is not None:
            zaak["datumOpgepakt"] = report.datum_opgepakt.isoformat()
        zaak["vroegsignalen"] = [{"ID": i} for i in dict.fromkeys(ids)]
        zaak["contactpogingen"] = list(report.contactpogingen)
        zaken.append(zaak)
    levering: dict[str, Any] = {
        "teller": number, "gemeentecode": codes.ddas_gemeentecode(municipality),
        "aanleverendeOrganisatie": {"naam": os.environ.get(ORGANISATION_ENV, "carepath")},
        "vroegsignalen": signals, "vroegsignaalzaken": zaken,
    }
    return {**header, "leveringen": [levering]}, len(zaken)
