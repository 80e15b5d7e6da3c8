"""Schemathesis against /openapi.json, once per role: no server errors, every answer as described.

The app runs in-process (ASGI) on SQLite with a few cases of the caller's team
to find. Generated requests are bounded (`MAX_EXAMPLES` per operation and
role, derandomized: the same cases every run, so CI is stable); Hypothesis keeps no database. `positive_data_acceptance`
is left out: a task's form is described as an object because its fields depend
on the pathway step, so schema-valid data is often refused (422) by the step's
own JSON Schema, as it should be.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import Engine

from engine.clock import ManualClock
from tests.integration.conftest import empty_tables, make_service
from web.app import create_app
from web.testing import MUNICIPALITY, TEAM_A, api_token, cheap_password_hashing, standard_accounts

MAX_EXAMPLES = 12
ROLES = ("worker", "coordinator", "analyst", "admin")


@pytest.fixture(scope="module")
def api_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from datetime import UTC, datetime

    from integrations.db.engine_factory import create_db_engine
    from integrations.migrations import upgrade_database

    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'carepath.db'}"
    engine: Engine = create_db_engine(url)
    upgrade_database(url, engine)
    empty_tables(engine)
    clock = ManualClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    service = make_service(url, engine, clock, Path(str(tmp_path_factory.mktemp("data"))))
    cheap_password_hashing()
    people = standard_accounts(engine, clock.now())
    started = [service.start_case("test-visits", "signal", {"client_name": f"Client {i}", "concern": "huur"},
                                  actor="user:cor", team=TEAM_A, municipality=MUNICIPALITY) for i in range(3)]
    tokens = {role: api_token(engine, people[role].username, clock.now()) for role in ROLES}
    yield {"app": create_app(service), "tokens": tokens, "case_id": started[0].case_id,
           "task_id": started[0].opened_tasks[0]}
    engine.dispose()


@pytest.fixture(scope="module")
def web_schema(api_world: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", api_world["app"])


def _run(strategy: Any, headers: dict[str, str]) -> None:
    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              derandomize=True,
              phases=[Phase.explicit, Phase.generate])
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()


@pytest.mark.parametrize("role", ROLES)
def test_api_matches_its_description(web_schema: Any, api_world: dict[str, Any], role: str) -> None:
    """Every operation, with generated valid and invalid input, and once more with the ids of real
    cases and tasks of the team so the happy paths are exercised too."""
    headers = {"Authorization": f"Bearer {api_world['tokens'][role]}"}
    real = {"case_id": api_world["case_id"], "task_id": api_world["task_id"], "pathway_id": "test-visits",
            "version": 1}
    operations = [result.ok() for result in web_schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation.as_strategy(generation_mode=mode), headers)
        names = {p.name for p in operation.path_parameters}
        if names and names <= set(real):
            _run(operation.as_strategy(path_parameters={n: real[n] for n in names}), headers)


def test_the_description_covers_the_api_only(api_world: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    description = TestClient(api_world["app"]).get("/openapi.json").json()
    paths = set(description["paths"])
    assert paths and all(p.startswith("/api/") for p in paths)
    assert {"/api/cases", "/api/tasks", "/api/tasks/{task_id}/complete", "/api/cases/{case_id}",
            "/api/reports/outcomes"} <= paths
    assert description["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    complete = description["paths"]["/api/tasks/{task_id}/complete"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(complete)
