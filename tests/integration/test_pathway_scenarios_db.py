"""Every pathway scenario (tests/scenarios) on the database, SQLite and PostgreSQL.

The case lives in the database only: each step is a service call in its own transaction that
loads the case, and every expectation reads the database again. Time moves on the service's
manual clock; the service's own timer sweep fires each timer at its due moment. Besides the
invariants every driver checks (replay, timers, owners, outcomes), the projections the service
keeps (case row, task, timer and outbox tables) must agree with the state after every step.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.integration.scenario_db_driver import DatabaseDriver
from tests.scenario_driver import play
from tests.scenario_language import load_scenario, scenario_params


@pytest.mark.parametrize("path", scenario_params())
def test_scenario_on_the_database(path: Path, database: tuple[str, Engine], tmp_path: Path) -> None:
    scenario = load_scenario(path)
    url, db = database
    play(scenario, DatabaseDriver(url, db, tmp_path / "data"))
