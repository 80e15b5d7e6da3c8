"""Helpers of the runtime tests and benchmarks: receivers on loopback and fast seeding of cases.

- `SmtpSink`: a real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every e-mail
  it accepts and can refuse the next few with a temporary error.
- `WebhookSink`: an HTTP server on 127.0.0.1 that checks each request's
  signature with the partner's secret, as a partner would.
- `seed_cases`: many started cases written in a few transactions (the engine
  decides each start; rows go in with executemany), for thousands of timers.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from engine import commands as c
from integrations.db import repository
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CasePersonalDataRow
from integrations.db.sql import insert_many, table
from integrations.runtime.channels import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from integrations.runtime.context import Runtime, build_runtime
from integrations.service import CaseService, new_case_id

CLIENT = {"client_name": "Jan Jansen", "phone": "0501234567", "concern": "energie"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- SMTP ------------------------------------------------------------------------------------------


class SmtpSink:
    """aiosmtpd on loopback. `received` holds every accepted e-mail, duplicates included."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_next = 0  # answer the next N DATA commands with 451 (a temporary failure)
        self.lock = threading.Lock()
        self.port = free_port()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return "451 4.3.0 try again later"
            self.received.append(message_from_bytes(envelope.content))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def by_message_id(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.received)

    def messages(self) -> list[Message]:
        with self.lock:
            return list(self.received)


def mail_body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


# --- webhooks --------------------------------------------------------------------------------------


@dataclass
class WebhookCall:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass
class WebhookSink:
    """Partners on loopback: `secrets` maps a URL path to the partner's secret."""

    secrets: dict[str, bytes]
    calls: list[WebhookCall] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give first (then 200)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> WebhookSink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                secret = sink.secrets.get(self.path, b"")
                ok = verify(secret, self.headers.get(TIMESTAMP_HEADER, ""), body,
                            self.headers.get(SIGNATURE_HEADER, ""))
                with sink.lock:
                    sink.calls.append(WebhookCall(self.path, dict(self.headers.items()), body, ok))
                    status = sink.statuses.pop(0) if sink.statuses else (200 if ok else 401)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(call.headers[IDEMPOTENCY_HEADER] for call in self.calls)


# --- seeding ---------------------------------------------------------------------------------------


def seed_cases(service: CaseService, count: int, at: datetime, *, pathway_id: str = "test-visits",
               data: dict[str, Any] | None = None, team: str | None = None,
               assignments: dict[str, str] | None = None, chunk: int = 1000) -> list[str]:
    """Start `count` cases at `at`, written with executemany in transactions of `chunk` cases."""
    with read_session(service.db) as session:
        version = service.catalog.latest_version(session, pathway_id)
    personal = tuple(service.catalog.lookup(pathway_id, version).pathway.personal_data)
    ids: list[str] = []
    for first in range(0, count, chunk):
        decisions = []
        for _ in range(min(chunk, count - first)):
            cmd = c.StartCase(case_id=new_case_id(), actor="seed", reason=None, idempotency_key=None,
                              pathway_id=pathway_id, pathway_version=version, trigger="signal",
                              data=dict(data or CLIENT), pseudonym="seed", team=team,
                              assignments=dict(assignments or {}))
            decisions.append(service.engine.start(cmd, at))
        rows = repository._Rows()
        for decision in decisions:
            repository._collect(repository.PendingSave(0, decision, personal), rows)
        personal_rows = [{"case_id": case_id, "data": data} for case_id, data in rows.personal.items() if data]
        rows.personal.clear()  # written below in one go, not one INSERT per case
        with write_session(service.db) as session:
            connection = session.connection()
            connection.execute(insert(repository._CASES), [
                {"id": d.state.id, **repository._case_columns(d.state, personal)} for d in decisions])
            repository._write(session, rows, {d.state.id for d in decisions})
            insert_many(connection, table(CasePersonalDataRow), personal_rows)
        ids += [d.state.id for d in decisions]
    return ids


def fired_timer_ids(service: CaseService, case_ids: Sequence[str] | None = None) -> Counter[str]:
    """How often each timer fired, from the stored histories (the events are the truth)."""
    from sqlalchemy import select

    from integrations.db.event_pages import events_of
    from integrations.db.models import CaseEventPageRow

    pages = CaseEventPageRow.__table__
    query = select(pages)
    if case_ids is not None:
        query = query.where(pages.c.case_id.in_(list(case_ids)))
    with read_session(service.db) as session:
        return Counter(e.data["timer_id"] for r in session.execute(query)
                       for e in events_of(r.case_id, r.first_seq, r.last_seq, r.at, r.actor, r.events)
                       if e.type == "timer_fired")


# --- Prefect in the test process -------------------------------------------------------------------

PREFECT_TEST_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
}


def prepare_prefect(home: Path) -> None:
    """Settings for Prefect in this process, set before its first import (it reads them then):
    quiet, no telemetry, its files under `home` instead of ~/.prefect."""
    if "prefect" in sys.modules:
        return
    os.environ.update({**PREFECT_TEST_ENV, "PREFECT_HOME": str(home),
                       "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(home / "results")})


# --- worker processes ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """The zygote process and the lines its workers print, read by a thread into a queue."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.runtime_worker", json.dumps(options)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.next_line(deadline=60) == "ready"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.put(raw.decode().strip())

    def next_line(self, deadline: float) -> str:
        try:
            return self.lines.get(timeout=deadline)
        except queue.Empty:
            raise AssertionError(f"the worker said nothing for {deadline} s") from None

    def send(self, what: str) -> None:
        """A command the zygote answers with nothing (`go`)."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{what}\n".encode())
        self.process.stdin.flush()

    def command(self, what: str) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{what}\n".encode())
        self.process.stdin.flush()
        line = self.next_line(deadline=30)
        while not line.startswith("pid "):  # a line a killed worker left in the pipe
            line = self.next_line(deadline=30)
        return int(line.split()[1])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


# --- runtimes --------------------------------------------------------------------------------------

WORKER_MAIL = "anna@wijkteam.test"
COORDINATOR_MAILS = ["bert@wijkteam.test", "coordinatie@wijkteam.test"]
PARTNER_SECRET = "woonbron-test-secret-0123456789"


def runtime_config(smtp_port: int | None = None, webhook_url: str | None = None, **sections: Any) -> Any:
    """A configuration for tests: anna holds `worker`, two addresses hold `coordinator`, the housing
    corporation's webhook is `webhook_url` + /woonbron. `sections` replace or extend top-level keys."""
    from integrations.runtime.config import parse_config

    data: dict[str, Any] = {
        "base_url": "https://carepath.test",
        "workers": {"anna": {"email": WORKER_MAIL}, "bert": {"email": COORDINATOR_MAILS[0]}},
        "roles": {"worker": ["anna"], "coordinator": ["bert", COORDINATOR_MAILS[1]]},
        "dispatch": {"backoff_first": 30, "backoff_max": 3600, "max_attempts": 3, "lease": 300},
        "sweep": {"late_after": 10},
    }
    if smtp_port is not None:
        data["mail"] = {"host": "127.0.0.1", "port": smtp_port, "sender": "carepath <noreply@carepath.test>",
                        "timeout": 5}
    if webhook_url is not None:
        data["partners"] = {"housing_corporation": {"url": f"{webhook_url}/woonbron", "secret": PARTNER_SECRET}}
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return parse_config(data, "test config", {})


def make_runtime(service: CaseService, data_dir: Any, config: Any) -> Runtime:

    data_dir.mkdir(parents=True, exist_ok=True)
    return build_runtime(data_dir=data_dir, service=service, config=config)


def publish_notices(service: CaseService) -> None:
    from tests.fixtures.notices_pathway import YAML_PATH, notices_source

    service.publish_pathway(notices_source(), str(YAML_PATH))
    service.publish_pathway(notices_source(always=True), str(YAML_PATH))
