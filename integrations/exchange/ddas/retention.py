"""Retention: erase early-signal data when its pathway's `retention` block says it is due.

Per pathway (its newest published version's `retention`): signals not taken up (repeats included)
and signals for a municipality not served ("unmatched") are deleted with their client data once they
are older than their term; a signal that opened a case is deleted its term after the case closed;
and the personal data of a closed case (the one `case_personal_data` row) is erased its term after
closing. What is left of a case is its history and statistics, which hold no personal data. The
run logs and audits counts only, never a name, BSN or address.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.definition import Retention
from engine.durations import Duration, Unit
from integrations.db import audit
from integrations.db.engine_factory import write_session
from integrations.db.models import CasePersonalDataRow, CaseRow
from integrations.db.signal_tables import SignalClientRow, SignalRow
from integrations.db.sql import rowcount
from integrations.exchange.ddas.importer import LINKED, NEW_CASE, NOT_TAKEN_UP
from integrations.exchange.ddas.matching import MatchLevel
from integrations.service import CaseService

log = logging.getLogger("carepath.retention")

RETENTION_ACTOR = "system:retention"
KINDS = ("signal_not_taken_up", "signal_unmatched", "signal_taken_up", "personal_data_after_close")
KIND_LABELS = {"signal_not_taken_up": "signalen niet opgepakt", "signal_unmatched": "signalen niet gekoppeld",
               "signal_taken_up": "signalen opgepakt (zaak gesloten)",
               "personal_data_after_close": "persoonsgegevens van gesloten zaken"}


@dataclass
class RetentionReport:
    """How much was erased, per pathway and kind: counts only."""

    erased: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.erased.values())

    def summary(self) -> str:
        if not self.total:
            return "bewaartermijnen: niets over tijd, niets gewist"
        parts = [f"{pathway}: " + ", ".join(f"{n} {KIND_LABELS[k]}" for k, n in kinds.items() if n)
                 for pathway, kinds in sorted(self.erased.items()) if any(kinds.values())]
        return f"bewaartermijnen: {self.total} gewist ({'; '.join(parts)})"


def before(now: datetime, term: Duration) -> datetime:
    """The moment `term` before `now` (months are calendar months; working days counted as 7/5 days)."""
    if term.unit is Unit.MONTHS:
        month_index = now.year * 12 + now.month - 1 - term.amount
        year, month = divmod(month_index, 12)
        day = min(now.day, calendar.monthrange(year, month + 1)[1])
        return now.replace(year=year, month=month + 1, day=day)
    days = {Unit.WEEKS: 7.0, Unit.DAYS: 1.0, Unit.WORKING_DAYS: 7 / 5}.get(term.unit)
    if days is not None:
        return now - timedelta(days=term.amount * days)
    return now - timedelta(hours=term.amount) if term.unit is Unit.HOURS else now - timedelta(minutes=term.amount)


def _delete_signals(session: Session, condition: object) -> int:
    keys = select(SignalRow.key).where(condition)  # type: ignore[arg-type]
    session.execute(delete(SignalClientRow).where(SignalClientRow.key.in_(keys)))
    return rowcount(session.execute(delete(SignalRow).where(condition)))  # type: ignore[arg-type]


def _erase(session: Session, pathway_id: str, retention: Retention, now: datetime) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    of_pathway = SignalRow.pathway_id == pathway_id
    if retention.signal_not_taken_up is not None:
        counts["signal_not_taken_up"] = _delete_signals(session, of_pathway & SignalRow.disposition.in_(
            [NOT_TAKEN_UP, LINKED]) & (SignalRow.match != MatchLevel.ELSEWHERE.value)
            & (SignalRow.received_at < before(now, retention.signal_not_taken_up)))
    if retention.signal_unmatched is not None:
        counts["signal_unmatched"] = _delete_signals(session, of_pathway & (
            SignalRow.match == MatchLevel.ELSEWHERE.value) & (SignalRow.received_at < before(now, retention.signal_unmatched)))
    if retention.signal_taken_up is not None:
        closed = select(CaseRow.id).where(CaseRow.status == "closed",
                                          CaseRow.closed_at < before(now, retention.signal_taken_up))
        counts["signal_taken_up"] = _delete_signals(
            session, of_pathway & (SignalRow.disposition == NEW_CASE) & SignalRow.case_id.in_(closed))
    if retention.personal_data_after_close is not None:
        closed = select(CaseRow.id).where(CaseRow.pathway_id == pathway_id, CaseRow.status == "closed",
                                          CaseRow.closed_at < before(now, retention.personal_data_after_close))
        counts["personal_data_after_close"] = rowcount(session.execute(
            delete(CasePersonalDataRow).where(CasePersonalDataRow.case_id.in_(closed))))
    return counts


def retention_rules(service: CaseService) -> Mapping[str, Retention]:
    """pathway id -> the `retention` of its newest published version (pathways without one left out)."""
    rules: dict[str, Retention] = {}
    with write_session(service.db) as session:
        newest: dict[str, int] = {}
        for pathway_id, version, _ in service.catalog.published(session):
            newest[pathway_id] = max(version, newest.get(pathway_id, 0))
    for pathway_id, version in newest.items():
        retention = service.catalog.lookup(pathway_id, version).pathway.retention
        if retention is not None:
            rules[pathway_id] = retention
    return rules


def erase_due(service: CaseService) -> RetentionReport:
    """Erase everything whose term has passed, one transaction per pathway; log and audit counts."""
    now = service.clock.now()
    report = RetentionReport()
    for pathway_id, retention in sorted(retention_rules(service).items()):
        with write_session(service.db) as session:
            counts = _erase(session, pathway_id, retention, now)
            if any(counts.values()):
                audit.record_access(session, at=now, who=RETENTION_ACTOR, action="erase",
                                    what=f"bewaartermijn {pathway_id}: " + ", ".join(
                                        f"{k}={v}" for k, v in counts.items()))
        report.erased[pathway_id] = counts
        log.info("retention %s: %s", pathway_id, counts)
    return report
