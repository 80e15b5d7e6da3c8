"""Closed cases' history archived compressed (issue #14), on SQLite and PostgreSQL.

After the move a case reads exactly as before (its whole state, its history, its messages), the
rows it moved are gone, what must stay stays (tasks, undelivered messages), a reopened case carries
on and is archived again, and a damaged archive is refused with a message naming the case.
"""

from __future__ import annotations

import subprocess
import sys
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from engine.clock import ManualClock
from engine.errors import ConflictError
from integrations.db import archive, outbox, packed_json, repository
from integrations.db.archive import ArchiveError, archive_closed
from integrations.db.engine_factory import read_session, write_session
from integrations.db.json_codec import compact_json
from integrations.db.models import CaseArchiveRow, CaseEventPageRow, CaseRow, OutboxRow, TaskRow, TimerRow
from integrations.service import CaseService
from tests.integration.test_repository import _walk

ROOT = Path(__file__).resolve().parents[2]


def _count(db: Engine, model: type, case_id: str) -> int:
    with read_session(db) as session:
        return int(session.execute(select(func.count()).select_from(model)
                                   .where(model.case_id == case_id)).scalar_one())  # type: ignore[attr-defined]


def _stored_events(db: Engine, case_id: str) -> int:
    """How many events of the case its (not archived) pages hold."""
    with read_session(db) as session:
        return sum(last - first + 1 for first, last in session.execute(
            select(CaseEventPageRow.first_seq, CaseEventPageRow.last_seq).where(CaseEventPageRow.case_id == case_id)))


def _closed_case(service: CaseService, clock: ManualClock, db: Engine) -> str:
    """A case with history of every kind, its messages delivered (one left pending), closed."""
    case_id = _walk(service, clock)
    with write_session(db) as session:
        ids = [m.id for m in outbox.messages_of_case(session, case_id)]
        assert len(ids) >= 2
        for message_id in ids[:-1]:
            outbox.mark_sent(session, message_id, clock.now())
    service.close_case(case_id, "client_moved", actor="coordinator")
    return case_id


def test_an_archived_case_reads_as_before(service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _closed_case(service, clock, db)
    before_state = service.case(case_id).to_json()
    before_history = [e.to_json() for e in service.history(case_id)]
    with read_session(db) as session:
        before_messages = [(m.id, m.template, m.payload) for m in outbox.messages_of_case(session, case_id)]
    tasks_before = _count(db, TaskRow, case_id)
    pending_message = before_messages[-1][0]

    # Not yet due: closed today, archived after 30 days by default.
    assert archive_closed(db, clock.now()).cases == 0
    clock.advance(timedelta(days=31))
    report = archive_closed(db, clock.now())
    assert (report.cases, report.events) == (1, len(before_history))
    assert report.messages == len(before_messages) - 1 and report.timers > 0
    assert "1 gesloten zaak/zaken gearchiveerd" in report.summary()

    assert _count(db, CaseEventPageRow, case_id) == 0
    with read_session(db) as session:
        assert session.execute(select(TimerRow.status).where(TimerRow.case_id == case_id)).scalars().all() == []
        assert session.execute(select(OutboxRow.id).where(OutboxRow.case_id == case_id)).scalars().all() == [
            pending_message]  # not delivered yet: it stays for the dispatcher
        stored = session.get(CaseArchiveRow, case_id)
        assert stored is not None and stored.through_seq == len(before_history)
        assert sorted((m.id, m.template, m.payload) for m in outbox.messages_of_case(session, case_id)) == sorted(
            before_messages)
    assert _count(db, TaskRow, case_id) == tasks_before  # the work lists and reports read these
    assert service.case(case_id).to_json() == before_state
    assert [e.to_json() for e in service.history(case_id)] == before_history
    # Nothing more to move: a second run finds nothing.
    assert archive_closed(db, clock.now()).cases == 0


def test_a_closed_case_s_state_is_packed_tighter_and_reads_the_same(service: CaseService, clock: ManualClock,
                                                                    db: Engine) -> None:
    case_id = _closed_case(service, clock, db)

    def stored() -> tuple[bytes, int]:
        with read_session(db) as session:
            row = session.execute(select(CaseRow.version).where(CaseRow.id == case_id)).one()
            raw = session.connection().exec_driver_sql(
                "SELECT state FROM cases WHERE id = " + ("?" if db.dialect.name == "sqlite" else "%s"),
                (case_id,)).scalar_one()
            return bytes(raw), row.version

    with read_session(db) as session:
        before_state = repository.stored_state(session, case_id)
    packed_before, version = stored()
    archive_closed(db, clock.now(), after=timedelta(0))
    packed_after, version_after = stored()
    assert len(packed_after) < len(packed_before) and version_after == version
    with read_session(db) as session:
        assert repository.stored_state(session, case_id) == before_state
    service.cases_kept.drop(case_id)
    service.reopen(case_id, actor="coordinator", reason="cliënt terug")  # a command on the repacked state
    assert service.case(case_id).status.value == "open"


def test_the_archive_holds_no_personal_data(service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _closed_case(service, clock, db)
    personal = service.case(case_id).data["client_name"]
    archive_closed(db, clock.now(), after=timedelta(0))
    with read_session(db) as session:
        blob = session.execute(select(CaseArchiveRow.history).where(CaseArchiveRow.case_id == case_id)).scalar_one()
    assert personal not in compact_json(archive.decode(case_id, blob))
    assert service.erase_personal_data(case_id, actor="coordinator", reason="verzoek cliënt")
    assert service.case(case_id).data.get("client_name") is None
    assert len(service.history(case_id)) > 0  # the history stays


def test_a_reopened_archived_case_carries_on_and_is_archived_again(service: CaseService, clock: ManualClock,
                                                                   db: Engine) -> None:
    case_id = _closed_case(service, clock, db)
    archive_closed(db, clock.now(), after=timedelta(0))
    archived = len(service.history(case_id))
    service.reopen(case_id, actor="coordinator", reason="cliënt terug")
    assert service.case(case_id).status.value == "open"
    since = len(service.history(case_id)) - archived  # the reopening and what it started: the rest stays archived
    assert since >= 1 and _stored_events(db, case_id) == since
    service.close_case(case_id, "client_moved", actor="coordinator")
    whole = service.case(case_id).to_json()
    history = [e.to_json() for e in service.history(case_id)]
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    report = archive_closed(db, clock.now(), after=timedelta(0))
    assert (report.cases, report.events) == (1, len(history) - archived)
    assert _count(db, CaseEventPageRow, case_id) == 0
    assert service.case(case_id).to_json() == whole
    assert [e.to_json() for e in service.history(case_id)] == history


def test_a_command_after_archiving_is_decided_on_the_whole_history(service: CaseService, clock: ManualClock,
                                                                   db: Engine) -> None:
    case_id = _closed_case(service, clock, db)
    archive_closed(db, clock.now(), after=timedelta(0))
    service.reopen(case_id, actor="coordinator", reason="cliënt terug")
    done = next(t for t in service.case(case_id).tasks.values() if t.completed_by == "anna")
    with pytest.raises(ConflictError, match="anna"):  # a second completion names who completed it, from the archive
        service.complete_task(done.id, {"outcome": "help", "problems": ["debts"]}, actor="bob")


def test_open_cases_and_recently_closed_ones_stay(service: CaseService, clock: ManualClock, db: Engine) -> None:
    open_case = _walk(service, clock)
    closed = _closed_case(service, clock, db)
    clock.advance(timedelta(days=10))
    assert archive_closed(db, clock.now(), after=timedelta(days=11)).cases == 0
    assert archive_closed(db, clock.now(), after=timedelta(days=9)).cases == 1
    assert _count(db, CaseEventPageRow, open_case) > 0 and _count(db, CaseEventPageRow, closed) == 0


def test_many_cases_move_in_batches(service: CaseService, clock: ManualClock, db: Engine,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "BATCH", 2)
    cases = [_closed_case(service, clock, db) for _ in range(5)]
    wholes = {case_id: service.case(case_id).to_json() for case_id in cases}
    assert archive_closed(db, clock.now(), after=timedelta(0)).cases == 5
    assert {case_id: service.case(case_id).to_json() for case_id in cases} == wholes


def test_a_damaged_archive_is_refused_naming_the_case(service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _closed_case(service, clock, db)
    archive_closed(db, clock.now(), after=timedelta(0))
    with write_session(db) as session:
        session.execute(update(CaseArchiveRow).where(CaseArchiveRow.case_id == case_id)
                        .values(history=b"not zlib"))
    with pytest.raises(ArchiveError, match=f"zaak {case_id}: het archief is beschadigd"):
        service.history(case_id)
    with write_session(db) as session:
        session.execute(update(CaseArchiveRow).where(CaseArchiveRow.case_id == case_id)
                        .values(history=archive.encode({"format": 99, "events": []})))
    with pytest.raises(ArchiveError, match="formaat 99"):
        service.history(case_id)


def test_an_archive_is_packed_and_one_written_before_as_zlib_still_reads(
        service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _closed_case(service, clock, db)
    archive_closed(db, clock.now(), after=timedelta(0))
    history = [e.to_json() for e in service.history(case_id)]
    with read_session(db) as session:
        blob = session.execute(select(CaseArchiveRow.history).where(CaseArchiveRow.case_id == case_id)).scalar_one()
    document = archive.decode(case_id, blob)
    old = zlib.compress(compact_json(document).encode(), 6)  # as archive.py wrote it before
    assert blob[0] == packed_json.CURRENT and len(blob) < len(old)
    with write_session(db) as session:
        session.execute(update(CaseArchiveRow).where(CaseArchiveRow.case_id == case_id).values(history=old))
    assert [e.to_json() for e in service.history(case_id)] == history


def test_an_unknown_case_is_still_not_found(service: CaseService, db: Engine) -> None:
    from engine.errors import NotFoundError

    with read_session(db) as session, pytest.raises(NotFoundError):
        repository.history(session, "Z-nope")


def test_a_bad_setting_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(archive.ARCHIVE_AFTER_ENV, "dertig")
    with pytest.raises(ArchiveError, match="CAREPATH_ARCHIVE_AFTER_DAYS='dertig': geen getal"):
        archive.archive_after()
    monkeypatch.setenv(archive.ARCHIVE_AFTER_ENV, "-1")
    with pytest.raises(ArchiveError, match="mag niet negatief"):
        archive.archive_after()
    monkeypatch.setenv(archive.ARCHIVE_AFTER_ENV, "7")
    assert archive.archive_after() == timedelta(days=7)


def test_the_command_line_archives(sqlite_db: Engine, tmp_path: Path) -> None:
    url = str(sqlite_db.url)
    env = {"CAREPATH_DATABASE_URL": url, "CAREPATH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "CAREPATH_LANGUAGE": "nl"}
    done = subprocess.run([sys.executable, "-m", "integrations.cli", "db", "archive", "--after-days", "0"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "archief: geen gesloten zaak om te archiveren" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "integrations.cli", "db", "archive", "--after-days", "-2"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and "--after-days -2: mag niet negatief zijn" in bad.stderr


def test_the_closed_at_order_is_kept_across_batches(service: CaseService, clock: ManualClock, db: Engine,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyset paging by (closed_at, id) passes over nothing when cases close in the same instant."""
    monkeypatch.setattr(archive, "BATCH", 1)
    cases = [_closed_case(service, clock, db) for _ in range(3)]
    with write_session(db) as session:
        session.execute(update(CaseRow).where(CaseRow.id.in_(cases)).values(closed_at=clock.now()))
    assert archive_closed(db, clock.now() + timedelta(seconds=1), after=timedelta(0)).cases == 3


@pytest.mark.postgres
def test_postgresql_keeps_an_archive_in_its_row_and_migration_0026_goes_down_again(
        postgresql_database: tuple[str, Engine]) -> None:
    from tests.integration.test_reporting import _migrate

    url, db = postgresql_database

    def storage() -> tuple[Any, str]:
        with db.connect() as connection:
            options = connection.exec_driver_sql(
                "SELECT reloptions FROM pg_class WHERE oid = 'case_archives'::regclass").scalar_one()
            kind = connection.exec_driver_sql(
                "SELECT attstorage FROM pg_attribute WHERE attrelid = 'case_archives'::regclass "
                "AND attname = 'history'").scalar_one()
        return options, kind

    assert storage() == (["toast_tuple_target=8160"], "e")
    _migrate(db, url, "0025_task_report_index_partial", down=True)
    assert storage() == (None, "x")
    _migrate(db, url, "head")
    assert storage() == (["toast_tuple_target=8160"], "e")
