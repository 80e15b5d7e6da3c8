"""Migration 0009 on SQLite and PostgreSQL: existing cases, tasks and their tracks get a funder, record
keys and intervention rows from their state JSON, and the migration goes down again; 0022 drops the
indexes by municipality that 0009 made unused; 0025 makes the report index on tasks partial and drops
`tasks.municipality`, and gives both back on the way down."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, inspect, text

from integrations.db.engine_factory import create_db_engine
from integrations.db.models import CaseRow, TaskRow
from integrations.migrations import upgrade_database
from integrations.reporting.cellkey import record_key
from tests.integration.test_reporting import _migrate, blank_database  # noqa: F401  (the fixture)


def test_0009_fills_funders_keys_and_interventions(blank_database: str) -> None:  # noqa: F811
    engine = create_db_engine(blank_database)
    try:
        _migrate(engine, blank_database, "0006_queue_index")
        moment = datetime(2026, 3, 2, tzinfo=UTC)
        track: dict[str, Any] = {"id": "debts", "status": "closed", "owner_role": "worker", "position": None,
                 "started_at": "2026-03-03T09:00:00+00:00", "closed_at": "2026-04-01T09:00:00+00:00",
                 "result": "achieved", "progress": [], "lead_time_exceeded_at": None}
        planned = {**track, "id": "housing", "status": "planned", "started_at": None, "closed_at": None, "result": None}
        states = {"a": {"municipality": "GM0344", "pathway_id": "test-visits", "tracks": {"debts": track,
                                                                                           "housing": planned}},
                  "b": {"municipality": "GM0344", "funder": "health_insurer:3311", "tracks": {}},
                  "c": {"municipality": None}}
        with engine.begin() as connection:
            for case_id, state in states.items():
                connection.execute(text(
                    "INSERT INTO cases (id, pathway_id, pathway_version, status, pseudonym, opened_at, version, state)"
                    " VALUES (:id, 'test-visits', 1, 'open', 'p', :at, 1, :state)"
                ), {"id": case_id, "at": moment, "state": json.dumps(state)})
                connection.execute(text(
                    "INSERT INTO tasks (id, case_id, type, step, flow, title, role, status, due_at, created_at, "
                    "reminders_sent, escalation_level) VALUES (:id, :case, 'human_task', 's', 'main', 't', 'w', "
                    "'open', :at, :at, 0, 0)"
                ), {"id": case_id + ".1", "case": case_id, "at": moment})
        upgrade_database(blank_database, engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT id, funder, report_key FROM cases ORDER BY id")).all() == [
                ("a", "municipality:GM0344", record_key("a")), ("b", "health_insurer:3311", record_key("b")),
                ("c", None, record_key("c"))]
            assert connection.execute(text("SELECT id, funder, report_key FROM tasks ORDER BY id")).all() == [
                ("a.1", "municipality:GM0344", record_key("a.1")), ("b.1", "health_insurer:3311", record_key("b.1")),
                ("c.1", None, record_key("c.1"))]
            rows = connection.execute(text(
                "SELECT case_id, track_id, pathway_id, funder, status, result, report_key FROM case_tracks")).all()
            assert rows == [("a", "debts", "test-visits", "municipality:GM0344", "closed", "achieved",
                             record_key("a/debts"))]  # a planned track is no intervention yet
            assert "funder" in {c["name"] for c in inspect(engine).get_columns("web_users")}
        _migrate(engine, blank_database, "0006_queue_index", down=True)
        assert "funder" not in {c["name"] for c in inspect(engine).get_columns("cases")}
        assert "case_tracks" not in inspect(engine).get_table_names()
        upgrade_database(blank_database, engine)
    finally:
        engine.dispose()


def test_0022_drops_the_report_indexes_by_municipality_and_downgrade_makes_them_again(
        blank_database: str) -> None:  # noqa: F811
    engine = create_db_engine(blank_database)
    by_municipality = {"ix_tasks_report", "ix_cases_report_opened", "ix_cases_report_closed"}

    def indexes() -> set[str]:
        found = inspect(engine)
        return {i["name"] for t in ("cases", "tasks") for i in found.get_indexes(t) if i["name"]}

    try:
        upgrade_database(blank_database, engine)
        assert not by_municipality & indexes() and {"ix_tasks_funder_report", "ix_cases_funder_opened"} <= indexes()
        _migrate(engine, blank_database, "0021_sqlite_integer_moments", down=True)
        assert by_municipality <= indexes()
        upgrade_database(blank_database, engine)
        assert not by_municipality & indexes()
    finally:
        engine.dispose()


def test_0025_narrows_the_task_report_index_drops_the_municipality_copy_and_gives_both_back(
        blank_database: str) -> None:  # noqa: F811
    engine = create_db_engine(blank_database)
    moment = datetime(2026, 3, 2, tzinfo=UTC)

    def task_columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("tasks")}

    def report_index() -> dict[str, Any]:
        found = [dict(i) for i in inspect(engine).get_indexes("tasks") if i["name"] == "ix_tasks_funder_report"]
        assert len(found) == 1
        return found[0]

    def condition() -> str | None:
        options = report_index().get("dialect_options", {})
        where = options.get("postgresql_where") or options.get("sqlite_where")
        return None if where is None else str(where)

    try:
        upgrade_database(blank_database, engine)
        assert "municipality" not in task_columns()
        assert condition() is not None and "human_task" in str(condition()) and "cancelled" in str(condition())
        with engine.begin() as connection:
            connection.execute(insert(CaseRow).values(
                id="a", pathway_id="test-visits", pathway_version=1, status="open", pseudonym="p", opened_at=moment,
                version=1, state={"municipality": "GM0014"}, municipality="GM0014"))
            connection.execute(insert(TaskRow).values(
                id="a.1", case_id="a", type="human_task", step="s", flow="main", title="t", role="w", status="open",
                due_at=moment, created_at=moment, reminders_sent=0, escalation_level=0))
        _migrate(engine, blank_database, "0024_postgresql_packed_documents", down=True)
        assert "municipality" in task_columns() and condition() is None
        with engine.connect() as connection:
            assert connection.execute(text("SELECT id, municipality FROM tasks")).all() == [("a.1", "GM0014")]
        upgrade_database(blank_database, engine)
        assert "municipality" not in task_columns() and condition() is not None
    finally:
        engine.dispose()
