"""Every probe of the hostile-input corpus answers below 500, and in bounded time.

The corpus (`hostile_corpus.py`, over 400 requests) covers the inputs that once answered 500 (a
5,000-digit `version`, versions beyond 64 bits, report dates 9999-12-31 and 0001-01-01), froze the
server (a 20,000-key file, a one-minute evaluation in the editor's dry run) or would crash
PostgreSQL's driver (NUL characters), plus ids, numbers, dates, texts and JSON oddities on every
kind of route, as the role that may use it. It runs on SQLite and PostgreSQL. The pathway work
limits are set low here so that a probe that would hang ends within seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from engine.clock import ManualClock
from tests.integration.conftest import empty_tables, make_service
from tests.integration.hostile_corpus import CORPUS, Probe
from web.app import create_app
from web.pathway_work import PathwayWork, PathwayWorkLimits
from web.testing import MUNICIPALITY, TEAM_A, WebClient, api_token, cheap_password_hashing, standard_accounts

LIMITS = PathwayWorkLimits(check_seconds=5, simulation_seconds=5, queue_seconds=20)
SLOWEST = 20.0  # seconds: a probe taking longer counts as a hang (the worst route waits for a 5 s limit)
ROLES = ("worker", "coordinator", "analyst", "admin")


def _world(url: str, engine: Any, data_dir: Path) -> dict[str, Any]:
    empty_tables(engine)
    clock = ManualClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    service = make_service(url, engine, clock, data_dir)
    cheap_password_hashing()
    people = standard_accounts(engine, clock.now())
    started = service.start_case("test-visits", "signal", {"client_name": "Client", "concern": "huur"},
                                 actor="user:cor", team=TEAM_A, municipality=MUNICIPALITY)
    app = create_app(service)
    app.state.pathway_work = PathwayWork(LIMITS)
    pages = {}
    for role in ROLES:
        client = WebClient(app)
        assert client.sign_in(people[role].username).status_code == 303
        pages[role] = client
    return {
        "app": app, "pages": pages, "anonymous": TestClient(app, follow_redirects=False),
        "tokens": {role: api_token(engine, people[role].username, clock.now()) for role in ROLES},
        "ids": {"case": started.case_id, "task": started.opened_tasks[0], "pathway": "test-visits"},
    }


@pytest.fixture(scope="module")
def sqlite_world(sqlite_database: tuple[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield _world(*sqlite_database, tmp_path_factory.mktemp("hostile-sqlite"))


@pytest.fixture(scope="module")
def postgresql_world(postgresql_database: tuple[str, Any],
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield _world(*postgresql_database, tmp_path_factory.mktemp("hostile-pg"))


def send(world: dict[str, Any], probe: Probe) -> httpx.Response:
    path = probe.path.format(**world["ids"])
    headers: dict[str, str] = {}
    if probe.content_type:
        headers["Content-Type"] = probe.content_type
    if probe.role == "anonymous":
        client: Any = world["anonymous"]
        form = dict(probe.form or {})
    elif probe.api:
        client = world["anonymous"]
        headers["Authorization"] = f"Bearer {world['tokens'][probe.role]}"
        form = dict(probe.form or {})
    else:
        page: WebClient = world["pages"][probe.role]
        client = page.http
        form = dict(probe.form or {})
        if probe.method == "POST":
            form.setdefault("csrf_token", page.csrf)
    if probe.method == "GET":
        response: httpx.Response = client.get(path, params=form or None, headers=headers)
        return response
    if probe.content is not None:
        response = client.request(probe.method, path, content=probe.content, headers=headers)
    elif probe.json is not None:
        response = client.request(probe.method, path, json=probe.json, headers=headers)
    else:
        response = client.request(probe.method, path, data=form, files=probe.files, headers=headers)
    return response


PROBES = [pytest.param(p, id=f"{i:03d}-{p.name[:40]}") for i, p in enumerate(CORPUS)]


def test_the_corpus_is_large_and_covers_every_kind_of_route() -> None:
    assert len(CORPUS) >= 200
    prefixes = {p.path.split("/")[1] + ("/" + p.path.split("/")[2] if p.api else "") for p in CORPUS}
    assert {"api/cases", "api/tasks", "api/pathways", "api/reports", "cases", "tasks", "pathways", "reports",
            "login"} <= {x.split("?")[0] for x in prefixes}


def _check(world: dict[str, Any], probe: Probe) -> None:
    began = time.monotonic()
    response = send(world, probe)
    took = time.monotonic() - began
    assert response.status_code < 500, (probe.name, response.status_code, response.text[:300])
    assert took < SLOWEST, (probe.name, f"{took:.1f} s")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("probe", PROBES)
def test_sqlite_answers_every_hostile_input_without_a_server_error(sqlite_world: dict[str, Any],
                                                                   probe: Probe) -> None:
    _check(sqlite_world, probe)


@pytest.mark.postgres
@pytest.mark.timeout(120)
@pytest.mark.parametrize("probe", PROBES)
def test_postgresql_answers_every_hostile_input_without_a_server_error(postgresql_world: dict[str, Any],
                                                                       probe: Probe) -> None:
    _check(postgresql_world, probe)
