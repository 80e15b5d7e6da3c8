"""What a signal's case reports to DDAS: contact attempts, the end result and `datumOpgepakt`.

Contact attempts are the `contactpoging` objects workers fill in on the outreach steps' forms
(soort, bereikt, datum, dagdeel), read back from the `task_completed` events. The end result comes
from the pathway's own `ddas.end_results` mapping (close reason first, else outcome), so a
coordinator changes it in the YAML without code. `datumOpgepakt` is the date of the first contact
attempt, or the day the case was opened when it closed without one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.db import archive
from integrations.db.models import CaseRow
from integrations.db.pathway_store import PathwayCatalog
from integrations.exchange.ddas import codes

CONTACT_FIELD = "contactpoging"


@dataclass(frozen=True)
class CaseReport:
    """One case as a DDAS `vroegsignaalzaak` needs it."""

    case_id: str
    opened_on: date
    status: str  # open | suspended | closed
    resultaat: str | None
    datum_opgepakt: date | None
    contactpogingen: tuple[dict[str, Any], ...]


def _local_date(moment: datetime) -> date:
    return moment.astimezone(codes.AMSTERDAM).date()


def contact_attempts(event_data: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The DDAS contact attempts in `task_completed` event data, in order."""
    found: list[dict[str, Any]] = []
    for data in event_data:
        attempt = (data.get("data") or {}).get(CONTACT_FIELD)
        if isinstance(attempt, Mapping) and attempt.get("soort") in codes.CONTACTSOORTEN:
            found.append({k: attempt[k] for k in ("soort", "bereikt", "datum", "dagdeel") if k in attempt})
    return found


def case_reports(session: Session, catalog: PathwayCatalog, case_ids: Sequence[str]) -> dict[str, CaseReport]:
    """The DDAS view of these cases, in two queries per 1,000 cases."""
    reports: dict[str, CaseReport] = {}
    for start in range(0, len(case_ids), 1000):
        chunk = list(case_ids[start:start + 1000])
        attempts = archive.events_of_type(session, chunk, "task_completed")
        for row in session.execute(
            select(CaseRow.id, CaseRow.pathway_id, CaseRow.pathway_version, CaseRow.status, CaseRow.opened_at,
                   CaseRow.closed_at, CaseRow.outcome, CaseRow.close_reason).where(CaseRow.id.in_(chunk))
        ):
            tried = contact_attempts(attempts.get(row.id, []))
            resultaat = None
            picked_up = None
            if row.status == "closed":
                ddas = catalog.lookup(row.pathway_id, row.pathway_version).pathway.ddas
                resultaat = ddas.result_for(row.close_reason, row.outcome) if ddas else None
                resultaat = resultaat or codes.ANDERE_REDEN
                picked_up = date.fromisoformat(tried[0]["datum"]) if tried and "datum" in tried[0] else \
                    _local_date(row.opened_at)
            elif tried and "datum" in tried[0]:
                picked_up = date.fromisoformat(tried[0]["datum"])
            reports[row.id] = CaseReport(row.id, _local_date(row.opened_at), row.status, resultaat, picked_up,
                                         tuple(tried))
    return reports


# End results that are also a signal status (EnumSignaalstatus): a closed case's signal reports them.
_STATUS_FROM_RESULT = frozenset(codes.SIGNAALSTATUSSEN) - {codes.NOG_NIET_OPGEPAKT, codes.OPGEPAKT}


def signal_status(disposition: str, stored: str, report: CaseReport | None) -> str:
    """The `status` a signal has in the delivery now."""
    if disposition != "new_case" or report is None:
        return stored
    if report.resultaat in _STATUS_FROM_RESULT:
        return report.resultaat
    return codes.OPGEPAKT


@dataclass(frozen=True)
class CaseSignal:
    """One signal as the case page shows it: no client data, just what it was and how it matched."""

    signal_id: str
    partner_type: str
    signaaldatum: date | None
    crisis: bool
    warm: bool
    status: str
    match: str
    repeat: bool


def signals_of_case(session: Session, case_id: str) -> list[CaseSignal]:
    """The signals that opened or were linked to this case, oldest first."""
    from integrations.db.signal_tables import SignalRow
    from integrations.exchange.ddas.matching import MATCH_LABELS, MatchLevel

    rows = session.execute(select(SignalRow).where(SignalRow.case_id == case_id)
                           .order_by(SignalRow.received_at, SignalRow.key)).scalars()
    return [CaseSignal(r.signal_id, r.partner_type, r.signaaldatum, r.crisis, r.warm, r.status,
                       MATCH_LABELS[MatchLevel(r.match)], r.disposition == "linked") for r in rows]
