"""Helpers for testing the web app (integration tests, browser tests, the benchmark).

`standard_accounts` makes two teams and one account per role; `WebClient` is a
test client that signs in like a browser (sign-in form, CSRF token) and sends
the CSRF token with every form; `live_server` runs the app under uvicorn on a
free port in a thread, for Playwright and load tests.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine as Database

from integrations.db import accounts
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import write_session

PASSWORD = "paarse olifant 2026"
TEAM_A, TEAM_B = "team-a", "team-b"
MUNICIPALITY = "GM0344"


@dataclass(frozen=True)
class Person:
    username: str
    role: AccountRole
    teams: tuple[str, ...] = ()
    pathway_roles: tuple[str, ...] = ()
    municipality: str | None = None
    organisation: str = "AMW Test"


PEOPLE = {
    "worker": Person("wanda", AccountRole.WORKER, (TEAM_A,), ("worker",)),
    "worker2": Person("wim", AccountRole.WORKER, (TEAM_A,), ("worker",)),
    "other_worker": Person("olga", AccountRole.WORKER, (TEAM_B,), ("worker",), organisation="AMW Elders"),
    "coordinator": Person("cor", AccountRole.COORDINATOR, (TEAM_A,), ("coordinator", "manager")),
    "analyst": Person("ada", AccountRole.ANALYST, municipality=MUNICIPALITY, organisation="Gemeente Utrecht"),
    "admin": Person("adam", AccountRole.ADMIN, organisation="carepath"),
}


def cheap_password_hashing() -> None:
    """argon2id with test-sized parameters (the production defaults cost ~0.1 s per hash)."""
    from argon2 import PasswordHasher

    accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def standard_accounts(db: Database, now: datetime, people: Mapping[str, Person] = PEOPLE) -> dict[str, accounts.Account]:
    with write_session(db) as session:
        accounts.upsert_team(session, TEAM_A, "Team A", "AMW Test")
        accounts.upsert_team(session, TEAM_B, "Team B", "AMW Elders")
        made = {}
        for key, person in people.items():
            found = accounts.find_account(session, person.username)
            made[key] = found or accounts.create_account(
                session, username=person.username, display_name=person.username.capitalize(), password=PASSWORD,
                role=person.role, organisation=person.organisation, now=now, teams=person.teams,
                pathway_roles=person.pathway_roles, municipality=person.municipality)
    return made


def api_token(db: Database, username: str, now: datetime, name: str = "test") -> str:
    with write_session(db) as session:
        account = accounts.find_account(session, username)
        assert account is not None, username
        secret, _ = accounts.create_token(session, account.id, name, now)
    return secret


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient:
    """A browser-like client: signs in through the form and sends the CSRF token with forms."""

    def __init__(self, app: FastAPI, base_url: str = "http://testserver") -> None:
        self.http = TestClient(app, base_url=base_url, follow_redirects=False)
        self.csrf = ""

    def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        page = self.http.get("/login")
        token = _CSRF.search(page.text)
        assert token is not None
        response: httpx.Response = self.http.post("/login", data={"username": username, "password": password,
                                                                  "csrf_token": token.group(1)})
        if response.status_code == 303:
            self.refresh_csrf()
        return response

    def refresh_csrf(self) -> None:
        page = self.http.get("/account")
        found = _CSRF.search(page.text)
        self.csrf = found.group(1) if found else ""

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.http.get(url, **kwargs)
        return response

    def post(self, url: str, data: Mapping[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> httpx.Response:
        body: dict[str, Any] = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.csrf)
        response: httpx.Response = self.http.post(url, data=body, **kwargs)
        return response

    def api(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if method.upper() not in ("GET", "HEAD"):
            headers.setdefault("X-CSRF-Token", self.csrf)
        response: httpx.Response = self.http.request(method, url, headers=headers, **kwargs)
        return response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: FastAPI, port: int | None = None, *, workers_threads: int = 40) -> Iterator[str]:
    """The app under uvicorn on 127.0.0.1 in a background thread; yields its base URL."""
    import asyncio

    import uvicorn

    chosen = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=chosen, log_level="warning", lifespan="off",
                            access_log=False)
    server = uvicorn.Server(config)
    setattr(server, "install_signal_handlers", lambda: None)  # noqa: B010 - the thread is not the main one

    def run() -> None:
        asyncio.run(server.serve())

    thread = threading.Thread(target=run, name="carepath-test-server", daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(500):
        if server.started:
            started.set()
            break
        thread.join(0.02)
    if not started.is_set():
        raise RuntimeError("the test web server did not start")
    try:
        yield f"http://127.0.0.1:{chosen}"
    finally:
        server.should_exit = True
        thread.join(10)
