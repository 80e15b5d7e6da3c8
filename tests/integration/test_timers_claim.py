"""Claiming due timers: due order, nothing early, nothing twice, and sweepers that share work."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from engine.clock import ManualClock
from integrations.db import timers
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CaseRow, TimerRow
from integrations.service import CaseService
from tests.integration.conftest import START

CLIENT = {"client_name": "Piet Pieters", "concern": "schulden"}


def _case(session: Session, case_id: str) -> None:
    session.execute(insert(CaseRow).values(
        id=case_id, pathway_id="p", pathway_version=1, status="open", team=None, pseudonym="x",
        opened_at=START, closed_at=None, outcome=None, close_reason=None, version=1, state={}))


def _timer(session: Session, timer_id: str, case_id: str, due_at: datetime, status: str = "pending") -> None:
    session.execute(insert(TimerRow).values(id=timer_id, case_id=case_id, kind="wait", due_at=due_at,
                                            status=status, last_error=None))


def test_claim_returns_due_pending_timers_in_due_order(db: Engine) -> None:
    with write_session(db) as session:
        _case(session, "A")
        _timer(session, "A.t3", "A", START + timedelta(hours=1))
        _timer(session, "A.t1", "A", START - timedelta(days=2))
        _timer(session, "A.t2", "A", START)  # exactly now: due
        _timer(session, "A.t0", "A", START)  # same moment: id decides
        _timer(session, "A.t4", "A", START + timedelta(microseconds=1))  # a microsecond early: not due
        _timer(session, "A.t5", "A", START - timedelta(days=3), status="fired")
        _timer(session, "A.t6", "A", START - timedelta(days=3), status="cancelled")
        _timer(session, "A.t7", "A", START - timedelta(days=3), status="paused")
    with write_session(db) as session:
        due = timers.claim_due(session, START, limit=10)
    assert [t.id for t in due] == ["A.t1", "A.t0", "A.t2"]
    assert all(t.case_id == "A" and t.due_at.tzinfo is not None for t in due)
    with write_session(db) as session:
        assert [t.id for t in timers.claim_due(session, START, limit=2)] == ["A.t1", "A.t0"]


def test_times_in_other_zones_compare_as_moments(db: Engine) -> None:
    from zoneinfo import ZoneInfo

    amsterdam = START.astimezone(ZoneInfo("Europe/Amsterdam"))
    with write_session(db) as session:
        _case(session, "A")
        _timer(session, "A.t1", "A", amsterdam)  # 09:00+01:00 is 08:00 UTC
    with write_session(db) as session:
        assert [t.id for t in timers.claim_due(session, START, 10)] == ["A.t1"]
        assert timers.claim_due(session, START - timedelta(seconds=1), 10) == []


@pytest.mark.postgres
def test_two_sweepers_skip_each_others_locked_timers(postgresql_db: Engine) -> None:
    db = postgresql_db
    with write_session(db) as session:
        for case in "AB":
            _case(session, case)
        for n in range(6):
            _timer(session, f"{'AB'[n % 2]}.t{n}", "AB"[n % 2], START - timedelta(minutes=10 - n))
    first = Session(db)
    second = Session(db)
    try:
        with first.begin():
            mine = timers.claim_due(first, START, limit=3)
            with second.begin():
                theirs = timers.claim_due(second, START, limit=10)  # returns at once: no waiting on `first`
            assert [t.id for t in mine] == ["A.t0", "B.t1", "A.t2"]
            assert [t.id for t in theirs] == ["B.t3", "A.t4", "B.t5"]
        with second.begin():  # `first` committed without firing: its timers are free again
            assert [t.id for t in timers.claim_due(second, START, limit=10)][:3] == ["A.t0", "B.t1", "A.t2"]
    finally:
        first.close()
        second.close()


def test_sqlite_sweep_holds_the_write_lock(sqlite_db: Engine) -> None:
    """On SQLite a claim runs under BEGIN IMMEDIATE: no other writer gets in until it commits."""
    db = sqlite_db
    with write_session(db) as session:
        _case(session, "A")
        _timer(session, "A.t1", "A", START)
    database = db.url.database
    assert database is not None
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        with write_session(db) as session:
            assert [t.id for t in timers.claim_due(session, START, 10)] == ["A.t1"]
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again after the commit
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_the_sweep_fires_each_due_timer_once_across_many_cases(service: CaseService, clock: ManualClock,
                                                               db: Engine) -> None:
    cases = [service.start_case("test-visits", "signal", CLIENT, actor="intake").case_id for _ in range(12)]
    reminders = {cid: min(service.case(cid).pending_timers(), key=lambda t: t.due_at) for cid in cases}
    clock.set(max(t.due_at for t in reminders.values()))
    report = service.fire_due(batch_size=5)
    assert report.fired == 12 and report.cases == 12 and report.batches >= 3
    for case_id, timer in reminders.items():
        fired = [e for e in service.history(case_id) if e.type == "timer_fired"]
        assert [e.data["timer_id"] for e in fired] == [timer.id]
    with read_session(db) as session:
        assert session.execute(
            select(TimerRow.id).where(TimerRow.status == "pending", TimerRow.due_at <= clock.now())
        ).all() == []


@pytest.mark.postgres
def test_shares_split_the_due_timers_by_case(postgresql_db: Engine) -> None:
    """Two shares claim at once: between them every due timer, each case's timers in one share only."""
    db = postgresql_db
    cases = [f"C{n}" for n in range(20)]
    with write_session(db) as session:
        for n, case in enumerate(cases):
            _case(session, case)
            for k in range(3):
                _timer(session, f"{case}.t{k}", case, START - timedelta(minutes=n + 20 * k))
    first, second = Session(db), Session(db)
    try:
        with first.begin(), second.begin():
            mine = timers.claim_due(first, START, limit=100, share=(0, 2))
            theirs = timers.claim_due(second, START, limit=100, share=(1, 2))
            assert mine and theirs
            assert sorted(t.id for t in mine + theirs) == sorted(f"{c}.t{k}" for c in cases for k in range(3))
            assert not {t.case_id for t in mine} & {t.case_id for t in theirs}
            for share in (mine, theirs):
                assert [(t.due_at, t.id) for t in share] == sorted((t.due_at, t.id) for t in share)
    finally:
        first.close()
        second.close()
    with write_session(db) as session, pytest.raises(ValueError, match="share 2 of 2"):
        timers.claim_due(session, START, 10, share=(2, 2))
