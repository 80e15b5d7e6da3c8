"""The events' data, the outbox payloads and the case states are stored packed (SQLite: migration
0018, PostgreSQL: 0024), on SQLite the events' moments as integers (issue #14, storage).

Whichever path writes them (a worker's command, the sweep), they read back as they were decided;
migration 0018 packs the rows stored before it and unpacks them on the way down; a damaged or
unknown stored form is refused with a message that says what it is; a shipped dictionary never changes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from engine.clock import ManualClock
from integrations.db import event_pages, outbox, packed_json, repository
from integrations.db.engine_factory import read_session
from integrations.db.event_pages import EventPageError
from integrations.db.json_codec import compact_json
from integrations.db.models import micros_of, moment_of
from integrations.db.packed_json import PackedJsonError
from integrations.service import CaseService
from tests.integration.test_reporting import _migrate
from tests.integration.test_repository import _intake_task, _walk


def _stored_forms(db: Engine, case_id: str, events: str = "case_event_pages") -> set[tuple[str, str]]:
    """SQLite's storage classes of the case's event moments and data (in `events`: the pages, or the
    rows of `case_events` before migration 0019), message payloads and state."""
    column = "events" if events == "case_event_pages" else "data"
    with db.connect() as connection:
        found = {(f"at {a}", f"data {d}") for a, d in connection.exec_driver_sql(
            f"SELECT DISTINCT typeof(at), typeof({column}) FROM {events} WHERE case_id = ?", (case_id,))}
        found |= {("payload", p) for (p,) in connection.exec_driver_sql(
            "SELECT DISTINCT typeof(payload) FROM outbox WHERE case_id = ?", (case_id,))}
        found |= {("state", s) for (s,) in connection.exec_driver_sql(
            "SELECT typeof(state) FROM cases WHERE id = ?", (case_id,))}
        return found


def _as_seen(service: CaseService, db: Engine, case_id: str) -> tuple[Any, ...]:
    """What the rest of carepath reads of the case: its state as stored and whole, its messages."""
    with read_session(db) as session:
        stored = repository.stored_state(session, case_id)
        messages = [(m.id, m.payload, m.deliver_after) for m in outbox.messages_of_case(session, case_id)]
    return stored, service.case(case_id).to_json(), messages


def _walked(service: CaseService, clock: ManualClock, db: Engine) -> tuple[str, list[dict[str, Any]], tuple[Any, ...]]:
    """A walked case, its history as JSON and what the rest of carepath reads of it: what a migration
    test compares after going down and up again."""
    case_id = _walk(service, clock)
    return case_id, [e.to_json() for e in service.history(case_id)], _as_seen(service, db, case_id)


PACKED = {("at integer", "data blob"), ("payload", "blob"), ("state", "blob")}
PLAIN = {("at text", "data text"), ("payload", "text"), ("state", "text")}


def test_a_document_packs_and_unpacks_to_itself() -> None:
    document = {"task": {"id": "C1.2", "title": "Onaangekondigd bezoek aan de voordeur", "due_at":
                         "2026-03-05T16:00:00+00:00"}, "n": 2**70, "text": "één ü"}
    packed = packed_json.pack(document)
    assert packed[0] == packed_json.CURRENT == packed_json.DICTIONARY_2
    assert packed_json.unpack(packed) == document
    assert packed_json.unpack(memoryview(packed)) == document
    assert packed_json.unpack('{"a":1}') == {"a": 1} == packed_json.unpack(b'{"a":1}')  # JSON text as it is
    assert packed_json.unpack(document) is document  # parsed already (JSONB, read by a migration before 0024)


def test_the_dictionary_makes_an_event_a_fraction_of_its_json() -> None:
    document = {"timer": {"id": "C040127E57232.t3", "kind": "task_deadline", "due_at": "2026-03-04T16:00:00+00:00",
                          "status": "pending", "ref": "C040127E57232.2"}}
    assert len(packed_json.pack(document)) < len(compact_json(document)) / 2


@pytest.mark.parametrize(("number", "sha256"), [
    (1, "519207a6a17f10b6ed68d34bcfb3331a72e14916bd4c43add4d9f17969d833a5"),
    (2, "6b5d7f3a1a59bad204c789419c71277ad7dbe4ccc0b728722112f0f0ff908cdd"),
])
def test_a_shipped_dictionary_never_changes(number: int, sha256: str) -> None:
    """Rows packed with a dictionary must stay readable for years: a better one gets the next number."""
    shipped = Path(packed_json.__file__).parent / "dictionaries" / f"json-{number}.zdict"
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == sha256


def test_what_an_earlier_dictionary_packed_still_reads() -> None:
    import zstandard

    document = {"step": "doorstep_visit", "title": "Onaangekondigd bezoek aan de voordeur"}
    earlier = zstandard.ZstdCompressor(dict_data=zstandard.ZstdCompressionDict(
        (Path(packed_json.__file__).parent / "dictionaries" / "json-1.zdict").read_bytes()))
    assert packed_json.unpack(b"\x01" + earlier.compress(compact_json(document).encode())) == document


@pytest.mark.parametrize(("stored", "says"), [
    (b"", "leeg"),
    (b"\x07abc", "onbekend formaat 7"),
    (b"\x01not a zstd frame", "formaat 1 is beschadigd"),
])
def test_a_damaged_or_unknown_stored_form_is_refused_by_name(stored: bytes, says: str) -> None:
    with pytest.raises(PackedJsonError, match=says):
        packed_json.unpack(stored)


@pytest.mark.parametrize("moment", [
    datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
    datetime(2026, 3, 2, 7, 0, 0, 123456, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 10, 25, 2, 30, tzinfo=UTC) + timedelta(hours=1),
])
def test_a_moment_survives_its_integer(moment: datetime) -> None:
    assert moment_of(micros_of(moment)) == moment
    assert moment_of(moment.replace(tzinfo=None).isoformat(sep=" ")) == moment  # the text written before 0018


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        micros_of(datetime(2026, 3, 2, 7, 0))


def test_both_write_paths_store_the_packed_form_and_history_reads_it(
        service: CaseService, clock: ManualClock, db: Engine) -> None:
    case_id = _walk(service, clock)  # commands, and the sweep firing a timer
    history = service.history(case_id)
    assert history and {e.type for e in history} >= {"case_started", "timer_fired", "task_completed"}
    assert all(e.at.tzinfo is UTC for e in history)
    if db.dialect.name == "sqlite":
        assert _stored_forms(db, case_id) == PACKED


def test_migration_0018_packs_what_was_stored_and_unpacks_it_on_the_way_down(
        database: tuple[str, Engine], service: CaseService, clock: ManualClock) -> None:
    url, db = database
    case_id, history, seen = _walked(service, clock, db)
    _migrate(db, url, "0018_sqlite_packed_documents", down=True)
    if db.dialect.name == "sqlite":
        assert _stored_forms(db, case_id, "case_events") == PACKED
    _migrate(db, url, "0017_sqlite_events_clustered", down=True)
    if db.dialect.name == "sqlite":
        assert _stored_forms(db, case_id, "case_events") == PLAIN
    _migrate(db, url, "head")
    if db.dialect.name == "sqlite":
        assert _stored_forms(db, case_id) == PACKED
    assert [e.to_json() for e in service.history(case_id)] == history
    assert _as_seen(service, db, case_id) == seen
    fresh = service.start_case("test-visits", "signal", {"client_name": "B", "phone": "06 2", "concern": "y"},
                               actor="intake").case_id
    service.complete_task(_intake_task(service, fresh), {"outcome": "help", "problems": ["debts"]}, actor="anna")
    assert [e.type for e in service.history(fresh)][-1] != "case_started"


def _postgresql_forms(db: Engine, case_id: str) -> set[tuple[str, str, bool]]:
    """PostgreSQL's column types of the case's state, pages of events and message payloads, and
    whether each value is packed (packed_json's format byte first)."""
    formats = ", ".join(str(n) for n in packed_json.SHIPPED)

    def packed(column: str) -> str:
        return f"CASE WHEN pg_typeof({column}) = 'bytea'::regtype THEN get_byte({column}::text::bytea, 0) IN ({formats}) ELSE false END"

    with db.connect() as connection:
        found: set[tuple[str, str, bool]] = set()
        for table, column, key in (("cases", "state", "id"), ("case_event_pages", "events", "case_id"),
                                   ("outbox", "payload", "case_id")):
            found |= {(column, str(kind), bool(is_packed)) for kind, is_packed in connection.exec_driver_sql(
                f"SELECT DISTINCT pg_typeof({column})::text, {packed(column)} FROM {table} WHERE {key} = %s",
                (case_id,))}
        return found


def test_migration_0024_packs_postgresql_documents_and_gives_jsonb_back_on_the_way_down(
        database: tuple[str, Engine], service: CaseService, clock: ManualClock) -> None:
    url, db = database
    case_id, history, seen = _walked(service, clock, db)
    packed = {("state", "bytea", True), ("events", "bytea", True), ("payload", "bytea", True)}
    postgresql = db.dialect.name == "postgresql"
    if postgresql:
        assert _postgresql_forms(db, case_id) == packed
    _migrate(db, url, "0023_case_escalations_open", down=True)
    if postgresql:
        assert _postgresql_forms(db, case_id) == {("state", "jsonb", False), ("events", "jsonb", False),
                                                  ("payload", "jsonb", False)}
        with db.connect() as connection:  # queryable as JSON again
            assert connection.exec_driver_sql("SELECT state ->> 'id' FROM cases WHERE id = %s",
                                              (case_id,)).scalar_one() == case_id
    else:
        assert _stored_forms(db, case_id) == PACKED  # SQLite: packed since 0018, left as it is
    _migrate(db, url, "head")
    if postgresql:
        assert _postgresql_forms(db, case_id) == packed
    assert [e.to_json() for e in service.history(case_id)] == history
    assert _as_seen(service, db, case_id) == seen


# --- a page of events per decision (migration 0019) ---------------------------------------------------

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _event(seq: int, kind: str = "step_entered", *, case_id: str = "C1", at: datetime = T0, actor: str = "anna",
           reason: str | None = None) -> dict[str, Any]:
    return {"case_id": case_id, "seq": seq, "type": kind, "at": at, "actor": actor, "reason": reason,
            "data": {"step": f"s{seq}"}}


def test_a_decision_is_one_page_and_reads_back_event_by_event() -> None:
    stored = [_event(4), _event(5, "timer_set", reason="herinnering"), _event(6, actor="system"),
              _event(7, at=T0 + timedelta(microseconds=1)), _event(3, case_id="C2")]
    pages = event_pages.pages_of(stored)
    assert [(p["case_id"], p["first_seq"], p["last_seq"]) for p in pages] == [("C1", 4, 7), ("C2", 3, 3)]
    assert pages[0]["events"][0] == ["step_entered", {"step": "s4"}]  # what the page says once is not repeated
    read = [e for p in pages for e in event_pages.events_of(p["case_id"], p["first_seq"], p["last_seq"], p["at"],
                                                             p["actor"], p["events"])]
    assert [(e.case_id, e.seq, e.type, e.at, e.actor, e.reason, e.data) for e in read] == [
        (r["case_id"], r["seq"], r["type"], r["at"], r["actor"], r["reason"], r["data"]) for r in stored]


def test_numbers_that_do_not_follow_on_start_a_new_page() -> None:
    assert [p["first_seq"] for p in event_pages.pages_of([_event(1), _event(2), _event(4)])] == [1, 4]


@pytest.mark.parametrize(("entries", "says"), [
    ([["step_entered", {}]], "bevat 1 gebeurtenissen"),
    ({"not": "a list"}, "geen lijst van"),
    ([["step_entered", {}], "kapot"], "gebeurtenis 6 is onleesbaar"),
])
def test_a_damaged_page_is_refused_by_case_and_number(entries: Any, says: str) -> None:
    with pytest.raises(EventPageError, match=f"zaak C1: .*{says}"):
        event_pages.events_of("C1", 5, 6, T0, "anna", entries)


def _pages(db: Engine, case_id: str) -> list[tuple[int, int]]:
    from sqlalchemy import text

    with db.connect() as connection:
        return [(first, last) for first, last in connection.execute(text(
            "SELECT first_seq, last_seq FROM case_event_pages WHERE case_id = :c ORDER BY first_seq"), {"c": case_id})]


def test_migration_0019_pages_the_events_and_writes_them_back_a_row_each(
        database: tuple[str, Engine], service: CaseService, clock: ManualClock) -> None:
    url, db = database
    case_id, history, seen = _walked(service, clock, db)
    written = _pages(db, case_id)
    assert written[0][0] == 1 and written[-1][1] == len(history) and len(written) < len(history) / 2
    _migrate(db, url, "0018_sqlite_packed_documents", down=True)
    with db.connect() as connection:
        rows = connection.exec_driver_sql("SELECT count(*) FROM case_events").scalar_one()
    assert rows == len(history)
    _migrate(db, url, "head")
    assert _pages(db, case_id) == written  # one page per decision again: one moment, one actor
    assert [e.to_json() for e in service.history(case_id)] == history
    assert _as_seen(service, db, case_id) == seen
    if db.dialect.name == "sqlite":
        assert _stored_forms(db, case_id) == PACKED


def _timer_rows(db: Engine, case_id: str) -> dict[str, tuple[str, datetime]]:
    from sqlalchemy import select

    from integrations.db.models import TimerRow

    with read_session(db) as session:
        return {r.id: (r.status, r.due_at) for r in session.execute(
            select(TimerRow).where(TimerRow.case_id == case_id)).scalars()}


def test_a_cancelled_timer_leaves_the_table_and_migration_0020_gives_the_rows_back_on_the_way_down(
        database: tuple[str, Engine], service: CaseService, clock: ManualClock) -> None:
    url, db = database
    case_id = _walk(service, clock)
    timers = service.case(case_id).timers.values()
    cancelled = {t.id: ("cancelled", t.due_at) for t in timers if t.status.value == "cancelled"}
    kept = {t.id: (t.status.value, t.due_at) for t in timers if t.status.value != "cancelled"}
    assert cancelled and kept and _timer_rows(db, case_id) == kept
    _migrate(db, url, "0019_event_pages", down=True)
    assert _timer_rows(db, case_id) == kept | cancelled  # as carepath kept them before
    _migrate(db, url, "head")
    assert _timer_rows(db, case_id) == kept


def _moment_forms(db: Engine, case_id: str) -> set[str]:
    """SQLite's storage classes of the case's task and message moments."""
    with db.connect() as connection:
        found = {str(t) for row in connection.exec_driver_sql(
            "SELECT typeof(due_at), typeof(created_at) FROM tasks WHERE case_id = ?", (case_id,)) for t in row}
        found |= {str(t) for row in connection.exec_driver_sql(
            "SELECT typeof(created_at), typeof(deliver_after), typeof(next_attempt_at) FROM outbox WHERE case_id = ?",
            (case_id,)) for t in row}
        return found


def test_migration_0021_stores_task_and_message_moments_as_integers_and_text_on_the_way_down(
        database: tuple[str, Engine], service: CaseService, clock: ManualClock) -> None:
    url, db = database
    case_id = _walk(service, clock)
    seen = _as_seen(service, db, case_id)
    work = [(t.id, t.due_at) for t in service.case(case_id).open_tasks()]
    sqlite = db.dialect.name == "sqlite"
    assert not sqlite or _moment_forms(db, case_id) == {"integer"}
    _migrate(db, url, "0020_cancelled_timers_go", down=True)
    assert not sqlite or _moment_forms(db, case_id) == {"text"}
    _migrate(db, url, "head")
    assert not sqlite or _moment_forms(db, case_id) == {"integer"}
    assert _as_seen(service, db, case_id) == seen
    assert [(t.id, t.due_at) for t in service.case(case_id).open_tasks()] == work
    with read_session(db) as session:  # compared in SQL against a moment bound through the column
        from sqlalchemy import func, select

        from integrations.db.models import TaskRow

        later = clock.now() + timedelta(days=3650)
        assert session.execute(select(func.count()).select_from(TaskRow).where(
            TaskRow.case_id == case_id, TaskRow.due_at < later)).scalar_one() > 0


def _escalations_open(db: Engine, case_id: str) -> int:
    from sqlalchemy import text

    with db.connect() as conn:
        return int(conn.execute(text("SELECT escalations_open FROM cases WHERE id = :id"), {"id": case_id}).scalar_one())


def test_migration_0023_counts_each_case_s_open_escalations_from_its_state(
        database: tuple[str, Engine], service: CaseService, clock: ManualClock) -> None:
    from integrations.db import caselists
    from tests.integration.test_web_audit import RAISE_PATHWAY, raise_source

    url, db = database
    service.publish_pathway(raise_source(), "raise.yaml")  # the intake's third escalation step raises one
    quiet = service.start_case(RAISE_PATHWAY, "signal", {"client_name": "Ans", "concern": "huur"}, actor="intake",
                               client_id="123456782", team="noord").case_id
    loud = service.start_case(RAISE_PATHWAY, "signal", {"client_name": "Bo", "concern": "huur"}, actor="intake",
                              client_id="111222333", team="noord").case_id
    service.complete_task(_intake_task(service, quiet), {"outcome": "help", "problems": ["debts"]}, actor="anna")
    for _ in range(4):  # the intake of `loud` is long overdue: every escalation step taken, one raised
        clock.advance(timedelta(days=1))
        service.fire_due()
    raised = len(service.case(loud).open_escalations)
    assert raised > 0 and _escalations_open(db, loud) == raised and _escalations_open(db, quiet) == 0
    _migrate(db, url, "0022_unused_report_indexes_go", down=True)
    _migrate(db, url, "head")
    assert (_escalations_open(db, loud), _escalations_open(db, quiet)) == (raised, 0)
    with read_session(db) as session:
        assert {e.case_id for e in caselists.open_escalations(session, ["noord"])} == {loud}
    resolved = service.case(loud).open_escalations[0]["id"]
    service.resolve_escalation(loud, resolved, actor="coordinator")
    assert _escalations_open(db, loud) == raised - 1
