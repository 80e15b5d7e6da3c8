"""The timer sweep as plain functions (the Prefect flow in `flows.py` only orchestrates these).

A sweep takes one moment `now`, counts what is due per pathway (the run's name
and tags), then lets `CaseService.fire_due` claim due timers in batches in due
order and fire them, each batch in one transaction with its effects. In that
same transaction `LateMarker` is told which of the claimed timers fired, and
records those that fired more than `late_after` after their due moment in
`late_timers` (firing order = row id). Timers whose firing raised are taken
out of the sweep by the service; `report_failed_timers` turns each into an
incident.

Nothing here needs Prefect: `carepath sweep --no-prefect`, the crash test and
the benchmarks call these functions directly.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from integrations.db import timers
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CaseRow, TimerRow
from integrations.db.sql import insert_many, table
from integrations.runtime import incidents
from integrations.runtime.models import IncidentRow, LateTimerRow
from integrations.service import CaseService

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass
class SweepResult:
    """What one sweep did (the flow run's result)."""

    moment: datetime
    due: dict[str, int] = field(default_factory=dict)  # due timers per pathway when the sweep began
    fired: Counter[str] = field(default_factory=Counter)  # fired timers per pathway
    late: Counter[str] = field(default_factory=Counter)  # of those, fired late, per pathway
    cases: set[str] = field(default_factory=set)
    stale: int = 0  # left for the next sweep: their case was busy with another writer
    failed: int = 0  # timers whose firing raised (each an incident)
    batches: int = 0
    incidents: int = 0  # incidents opened by this sweep
    seconds: float = 0.0

    @property
    def fired_total(self) -> int:
        return sum(self.fired.values())

    @property
    def late_total(self) -> int:
        return sum(self.late.values())

    def run_name(self) -> str:
        return run_name("sweep", self.moment, self.due)

    def to_json(self) -> dict[str, Any]:
        return {
            "moment": self.moment.isoformat(), "due": dict(self.due), "fired": self.fired_total,
            "fired_by_pathway": dict(self.fired), "late": self.late_total, "late_by_pathway": dict(self.late),
            "cases": len(self.cases), "stale": self.stale, "failed": self.failed, "batches": self.batches,
            "incidents": self.incidents, "seconds": round(self.seconds, 3),
        }

    def absorb(self, other: SweepResult) -> None:
        self.fired.update(other.fired)
        self.late.update(other.late)
        self.cases |= other.cases
        self.stale += other.stale
        self.failed += other.failed
        self.batches += other.batches
        self.incidents += other.incidents
        self.seconds += other.seconds


def run_name(what: str, moment: datetime, counts: Mapping[str, int]) -> str:
    """'sweep 2026-11-28 10:00 · eviction-prevention 120, swa-trajectory 40' (Amsterdam time)."""
    local = moment.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M")
    parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if v)
    return f"{what} {local} · {parts or 'nothing due'}"


def pathway_tags(counts: Mapping[str, int]) -> list[str]:
    return sorted(f"pathway:{p}" for p, n in counts.items() if n)


def due_by_pathway(service: CaseService, now: datetime) -> dict[str, int]:
    """How many pending timers are due at `now`, per pathway (one indexed query)."""
    with read_session(service.db) as session:
        rows = session.execute(
            select(CaseRow.pathway_id, func.count())
            .select_from(TimerRow).join(CaseRow, CaseRow.id == TimerRow.case_id)
            .where(TimerRow.status == "pending", TimerRow.due_at <= now)
            .group_by(CaseRow.pathway_id)
        )
        return {pathway: int(count) for pathway, count in rows}


class LateMarker:
    """`fire_due`'s per-batch hook: counts what fired per pathway and records late firings,
    inside the batch's transaction (so a late mark exists exactly when the firing does). The batch
    says what fired and for which pathway: nothing is read back."""

    def __init__(self, late_after: timedelta, result: SweepResult) -> None:
        self.late_after = late_after
        self.result = result
        self._lock = threading.Lock()  # the batches of one sweep may be fired in parallel (fire_due)

    def __call__(self, session: Session, fired_timers: Sequence[timers.FiredTimer], now: datetime) -> None:
        if not fired_timers:
            return
        late = []
        fired: Counter[str] = Counter()
        overdue: Counter[str] = Counter()
        for f in fired_timers:  # due order: the late marks' row ids follow it
            timer, pathway = f.timer, f.pathway_id
            fired[pathway] += 1
            if now - timer.due_at > self.late_after:
                overdue[pathway] += 1
                late.append({"timer_id": timer.id, "case_id": timer.case_id, "pathway_id": pathway,
                             "kind": timer.kind, "due_at": timer.due_at, "fired_at": now,
                             "late_seconds": int((now - timer.due_at).total_seconds())})
        insert_many(session.connection(), table(LateTimerRow), late)
        with self._lock:
            self.result.fired.update(fired)
            self.result.late.update(overdue)
            self.result.cases.update(f.timer.case_id for f in fired_timers)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while batches are fired: a batch allocates hundreds of thousands
    of short-lived (acyclic) objects, and each full collection would also walk every long-lived
    object of the process (compiled pathways, SQLAlchemy, Prefect). The heap as it is is frozen
    out of future collections once; collection resumes after the chunk."""
    if not gc.isenabled():
        yield
        return
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def fire_batches(service: CaseService, now: datetime, *, late_after: timedelta, batch_size: int,
                 max_batches: int, parallel: int | None = None) -> SweepResult:
    """Fire up to `max_batches` batches of due timers (one Prefect task's share of a sweep), `parallel`
    at a time on PostgreSQL (`CaseService.fire_due`; default there 2)."""
    started = time.perf_counter()
    result = SweepResult(moment=now)
    with collector_paused():
        report = service.fire_due(now, batch_size=batch_size, max_batches=max_batches,
                                  on_batch=LateMarker(late_after, result), parallel=parallel)
    result.stale, result.failed, result.batches = report.stale, report.failed, report.batches
    result.seconds = time.perf_counter() - started
    return result


def more_may_be_due(part: SweepResult, max_batches: int) -> bool:
    """After a chunk: is another chunk worth starting? (Fired in parallel shares, `batches` is their
    sum and each share had `max_batches`: one that used them all makes the sum reach it.)"""
    return part.batches >= max_batches and part.fired_total > 0


def report_failed_timers(service: CaseService, now: datetime) -> int:
    """An open incident for every failed timer that has none yet; returns how many were opened."""
    opened = 0
    with write_session(service.db) as session:
        known = set(session.execute(
            select(IncidentRow.ref).where(IncidentRow.kind == incidents.TIMER_FAILED, IncidentRow.resolved_at.is_(None))
        ).scalars())
        failed = [f for f in timers.failed_timers(session) if f[0] not in known]
        cases = dict(session.execute(
            select(CaseRow.id, CaseRow.pathway_id).where(CaseRow.id.in_({case_id for _, case_id, _ in failed}))
        ).all()) if failed else {}
        teams = dict(session.execute(
            select(CaseRow.id, CaseRow.team).where(CaseRow.id.in_(set(cases)))
        ).all()) if cases else {}
        for timer_id, case_id, error in failed:
            opened += incidents.raise_incident(
                session, kind=incidents.TIMER_FAILED, ref=timer_id, case_id=case_id, pathway_id=cases.get(case_id),
                team=teams.get(case_id), now=now,
                summary=f"Een termijn van dossier {case_id} kon niet worden verwerkt; herinneringen en "
                        f"escalaties van dit dossier staan stil tot dit is opgelost.",
                detail=error or "(no error recorded)",
            )
    return opened


def sweep_once(service: CaseService, now: datetime | None = None, *, late_after: timedelta = timedelta(minutes=10),
               batch_size: int = 500, batches_per_chunk: int = 10, max_chunks: int = 10_000,
               parallel: int | None = None) -> SweepResult:
    """One whole sweep without Prefect: the same steps the flow takes, in the same order."""
    moment = now or service.clock.now()
    result = SweepResult(moment=moment, due=due_by_pathway(service, moment))
    for _ in range(max_chunks):
        part = fire_batches(service, moment, late_after=late_after, batch_size=batch_size,
                            max_batches=batches_per_chunk, parallel=parallel)
        result.absorb(part)
        if not more_may_be_due(part, batches_per_chunk):
            break
    if result.failed:
        result.incidents += report_failed_timers(service, moment)
    return result
