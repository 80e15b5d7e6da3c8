"""Open the cases the importer decided on, in batches, and queue each signal's feedback.

The importer gives every signal that needs a case a case id; this module starts those cases through
the engine (`Engine.start`, the same decision a hand-started case gets) and stores a whole batch at
once (`repository.insert_cases`), marking the signals "Opgepakt" in the same transaction. A crash
between import and opening loses nothing: the signals wait with `case_opened = false` and the next
run (CLI, upload, inbox flow) opens them. Then every signal whose case exists gets one outbound
feedback message through the outbox: "opgepakt" or "niet opgepakt", never why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from engine import commands as c
from engine.decide import Decision
from engine.errors import CarepathError
from integrations.db import repository
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CaseRow, OutboxRow
from integrations.db.signal_tables import SignalClientRow, SignalRow
from integrations.db.sql import insert_many, table
from integrations.exchange.ddas import codes
from integrations.exchange.ddas.importer import LINKED, NEW_CASE, NOT_TAKEN_UP, Route
from integrations.exchange.ddas.matching import MATCH_LABELS, MatchLevel, address_text
from integrations.service import CaseService, new_case_id

log = logging.getLogger("carepath.signals")

IMPORT_ACTOR = "system:ddas-import"
FEEDBACK_ENV = "CAREPATH_SIGNAL_FEEDBACK"  # webhook (default) | off
FEEDBACK_TEMPLATE = "ddas_terugmelding"
PARTNER_ROLE = {codes.EVICTION_PREVENTION: "housing_corporation", codes.EARLY_SIGNAL: "signal_partner"}
BATCH = 1000

_MARK_OPENED = (update(table(SignalRow)).where(table(SignalRow).c.key == bindparam("k_key"))
                .values(case_opened=True, status=codes.OPGEPAKT))
_MARK_FEEDBACK = (update(table(SignalRow)).where(table(SignalRow).c.key == bindparam("k_key"))
                  .values(feedback_queued=True))


_OPEN_COLUMNS = (SignalRow.key, SignalRow.case_id, SignalRow.municipality, SignalRow.pathway_id, SignalRow.warm,
                 SignalRow.crisis, SignalRow.client_key, SignalRow.address_key, SignalRow.match, SignalRow.signaaldatum,
                 SignalRow.received_at, SignalRow.partner_type, SignalRow.partner_name, SignalRow.bedrag,
                 SignalRow.ontstaansdatum)


@dataclass
class OpenReport:
    opened: int = 0
    not_opened: int = 0  # the pathway refused the signal's data: stored as not taken up
    feedback: int = 0


def _months(row: Any) -> int:
    """Whole months between the arrears arising (`ontstaansdatum`) and the signal; 0 when not given."""
    if row.ontstaansdatum is None or row.signaaldatum is None:
        return 0
    first, last = row.ontstaansdatum, row.signaaldatum
    months: int = (last.year - first.year) * 12 + last.month - first.month - (1 if last.day < first.day else 0)
    return max(0, months)


def _case_data(pathway_id: str, row: Any, client: Mapping[str, Any]) -> dict[str, Any]:
    match = MATCH_LABELS[MatchLevel(row.match)]
    signal_date = (row.signaaldatum or row.received_at.date()).isoformat()
    common: dict[str, Any] = {"signal_date": signal_date, "crisis": bool(row.crisis), "warm_transfer": bool(row.warm),
                              "match": match}
    bsn = client.get("burgerservicenummer")
    if pathway_id == codes.EVICTION_PREVENTION:
        # The Wgs lets a landlord signal only after a written reminder: `reminder_sent` is a fact here.
        data = {**common, "signal_type": "rent", "from_ddas": True, "reminder_sent": True,
                "arrears_amount": max(int(row.bedrag or 0), 0), "arrears_months": _months(row)}
        if bsn:
            data["bsn"] = bsn
        address = address_text(client)
        if address:
            data["address"] = address
        return data
    data = {**common, "signal_type": codes.SIGNAL_TYPES.get(row.partner_type, "other"),
            "signal_partner": row.partner_name}
    if row.bedrag is not None:
        data["arrears_amount"] = int(row.bedrag)
    if row.ontstaansdatum is not None:
        data["arrears_since"] = row.ontstaansdatum.isoformat()
    if bsn:
        data["bsn"] = bsn
    for source, target in (("postcode", "postcode"), ("huisnummer", "huisnummer"),
                           ("huisnummertoevoeging", "huisnummertoevoeging"), ("geboortedatum", "birth_date")):
        if client.get(source):
            data[target] = client[source]
    return data


class CaseOpener:
    """Starts the cases of imported signals for the municipalities in `routes`."""

    def __init__(self, service: CaseService, routes: Mapping[str, Route], *, batch_size: int = BATCH,
                 feedback: bool | None = None) -> None:
        self.service = service
        self.routes = dict(routes)
        self.batch_size = batch_size
        self.feedback = (os.environ.get(FEEDBACK_ENV, "webhook") != "off") if feedback is None else feedback

    def run(self, progress: Callable[[int], None] | None = None, *, max_cases: int | None = None) -> OpenReport:
        """Open every waiting case (at most `max_cases`), then queue the feedback; batch by batch, each
        its own transaction. What is left waits for the next run."""
        report = OpenReport()
        versions: dict[str, int] = {}
        with read_session(self.service.db) as session:
            for pathway_id in codes.SIGNAL_PATHWAYS:
                versions[pathway_id] = self.service.catalog.latest_version(session, pathway_id)
        while True:
            with write_session(self.service.db) as session:
                done = self._open_batch(session, versions, report)
            if progress is not None:
                progress(report.opened + report.not_opened)
            if done < self.batch_size or (max_cases is not None and report.opened + report.not_opened >= max_cases):
                break
        if self.feedback:
            while True:
                with write_session(self.service.db) as session:
                    queued = self._queue_feedback(session, self.service.clock.now())
                report.feedback += queued
                if queued < self.batch_size:
                    break
        log.info("signal cases opened: %d, not opened: %d, feedback queued: %d",
                 report.opened, report.not_opened, report.feedback)
        return report

    def _open_batch(self, session: Session, versions: Mapping[str, int], report: OpenReport) -> int:
        rows = session.execute(
            select(*_OPEN_COLUMNS, SignalClientRow.data)
            .join(SignalClientRow, SignalClientRow.key == SignalRow.key)
            .where(SignalRow.case_opened.is_(False), SignalRow.disposition == NEW_CASE)
            .order_by(SignalRow.received_at, SignalRow.key)
            .limit(self.batch_size)
        ).all()
        now = self.service.clock.now()
        renamed = _free_case_ids(session, [r.case_id for r in rows if r.case_id])
        started: list[tuple[Decision, tuple[str, ...]]] = []
        opened: list[dict[str, Any]] = []
        for signal in rows:
            client = signal.data
            route = self.routes.get(signal.municipality)
            pathway_id = signal.pathway_id
            try:
                cp = self.service.catalog.lookup(pathway_id, versions[pathway_id])
                assignments = {"outreach_worker": route.duty_worker} if (
                    route is not None and route.duty_worker and signal.warm) else {}
                decision = self.service.engine.start(c.StartCase(
                    case_id=renamed.get(str(signal.case_id), str(signal.case_id)), actor=IMPORT_ACTOR, pathway_id=pathway_id,
                    pathway_version=versions[pathway_id], trigger="ddas_signal",
                    data=_case_data(pathway_id, signal, client),
                    pseudonym=signal.client_key or signal.address_key or "", team=route.team if route else None,
                    municipality=signal.municipality, assignments=assignments,
                ), now)
            except (CarepathError, KeyError) as exc:
                # The pathway refuses this signal's data (its schema is stricter than DDAS): not taken up.
                log.warning("signal case not opened: %s", type(exc).__name__)
                session.execute(update(SignalRow).where(SignalRow.key == signal.key).values(
                    disposition=NOT_TAKEN_UP, status=codes.ANDERE_REDEN, case_id=None,
                    reason="kan geen zaak openen: de gegevens van het signaal passen niet bij het traject"))
                report.not_opened += 1
                continue
            started.append((decision, tuple(cp.pathway.personal_data)))
            opened.append({"k_key": signal.key})
        repository.insert_cases(session, started)
        if opened:
            session.connection().execute(_MARK_OPENED, opened)
        report.opened += len(opened)
        return len(rows)

    def _queue_feedback(self, session: Session, now: datetime) -> int:
        """One "opgepakt"/"niet opgepakt" message per signal whose case exists (through the outbox)."""
        rows = session.execute(
            select(SignalRow.key, SignalRow.signal_id, SignalRow.case_id, SignalRow.disposition, CaseRow.pathway_id)
            .join(CaseRow, CaseRow.id == SignalRow.case_id)
            .where(SignalRow.feedback_queued.is_(False), SignalRow.disposition.in_([NEW_CASE, LINKED]))
            .limit(self.batch_size)
        ).all()
        messages = [{
            "id": f"ddas-{row.key[:40]}", "case_id": row.case_id, "channel": "webhook",
            "template": FEEDBACK_TEMPLATE, "to_role": PARTNER_ROLE.get(row.pathway_id, "signal_partner"),
            "to_worker": None, "task_id": None,
            "payload": {"message": f"Vroegsignaal {row.signal_id}: "
                                   + ("opgepakt" if row.disposition == NEW_CASE else "niet opgepakt")},
            "created_at": now, "deliver_after": now, "status": "pending", "attempts": 0, "next_attempt_at": now,
            "last_error": None, "sent_at": None,
        } for row in rows]
        insert_many(session.connection(), table(OutboxRow), messages)
        if rows:
            session.connection().execute(_MARK_FEEDBACK, [{"k_key": row.key} for row in rows])
        return len(rows)


def _free_case_ids(session: Session, case_ids: list[str]) -> dict[str, str]:
    """Case ids the importer chose are random; should one exist already (a one-in-billions draw), give
    its signals a fresh one so the batch does not fail on it forever. Returns old -> new."""
    if not case_ids:
        return {}
    taken = set(session.execute(select(CaseRow.id).where(CaseRow.id.in_(case_ids))).scalars())
    renamed = {old: new_case_id() for old in taken}
    for old, new in renamed.items():
        session.execute(update(SignalRow).where(SignalRow.case_id == old).values(case_id=new))
    return renamed
