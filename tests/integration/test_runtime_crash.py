"""Crash test: kill -9 the sweeping and dispatching process at random moments, over 100 times, over
thousands of due timers; then every due timer has fired exactly once and every message was
delivered exactly once (inbox rows and files: exactly once; SMTP and webhooks: exactly once per
Message-ID / Idempotency-Key at the receiver, with at most one duplicate per kill).

The worker is a real process (`runtime_worker.py`, forked from a warm zygote so a restart takes
milliseconds) using the system clock over cases that started three days ago. The test kills it
after a random number of its steps; a third of the kills come right after a message was accepted
by the receiver and before it is marked sent: the one window the design leaves open.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from engine.clock import ManualClock
from engine.events import replay
from integrations.db import repository
from integrations.db.engine_factory import read_session
from integrations.db.models import OutboxRow, TimerRow
from integrations.runtime.channels import smtp_message_id
from integrations.runtime.models import InboxMessageRow, LateTimerRow
from integrations.service import CaseService
from tests.fixtures.notices_pathway import ALWAYS_ID
from tests.integration.conftest import make_service
from tests.integration.runtime_support import (
    COORDINATOR_MAILS,
    PARTNER_SECRET,
    WORKER_MAIL,
    SmtpSink,
    WebhookSink,
    Worker,
    fired_timer_ids,
    publish_notices,
    seed_cases,
)

KILLS = 100
VISITS_CASES = 900  # three due timers each (reminder, two escalation rungs): 2,700
NOTICE_CASES = 150  # two due timers each and every channel: webhook, letter, export

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def partners() -> Iterator[WebhookSink]:
    sink = WebhookSink(secrets={"/woonbron": PARTNER_SECRET.encode()}).start()
    yield sink
    sink.stop()


def _config(smtp: SmtpSink, partners: WebhookSink) -> dict[str, Any]:
    return {
        "base_url": "https://carepath.test",
        "workers": {"anna": {"email": WORKER_MAIL}},
        "roles": {"worker": ["anna"], "coordinator": COORDINATOR_MAILS},
        "partners": {"housing_corporation": {"url": f"{partners.url}/woonbron", "secret": PARTNER_SECRET}},
        "mail": {"host": "127.0.0.1", "port": smtp.port, "timeout": 0.5},
        "webhooks": {"timeout": 0.5},
        "sweep": {"batch_size": 25, "late_after": 10},
        "dispatch": {"batch_size": 20, "lease": 2, "max_attempts": 50, "backoff_first": 0.2, "backoff_max": 1},
    }


def _count(db: Engine, query: Any) -> int:
    with read_session(db) as session:
        return int(session.execute(query).scalar_one())


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_kill_minus_nine_at_random_moments(backend: str, request: pytest.FixtureRequest, smtp: SmtpSink,
                                           partners: WebhookSink, tmp_path: Path) -> None:
    url, db = request.getfixturevalue(f"{backend}_database")
    from tests.integration.conftest import empty_tables

    empty_tables(db)
    started = datetime.now(UTC) - timedelta(days=3, hours=1)  # every reminder and escalation is due now
    service: CaseService = make_service(url, db, ManualClock(started), tmp_path / "data")
    publish_notices(service)
    visits = seed_cases(service, VISITS_CASES, started, assignments={"worker": "anna"})
    notices = seed_cases(service, NOTICE_CASES, started, pathway_id=ALWAYS_ID, data={"client_name": "X"},
                         assignments={"worker": "anna"})
    due_timers = _count(db, select(func.count()).select_from(TimerRow).where(
        TimerRow.status == "pending", TimerRow.due_at <= datetime.now(UTC)))
    assert due_timers == VISITS_CASES + NOTICE_CASES  # each chain's first timer; firing sets the next

    worker = Worker({
        "url": url, "data_dir": str(tmp_path / "data"), "config": _config(smtp, partners),
        "pathways": [["test-visits", 1], [ALWAYS_ID, 1]],
    })
    rng = random.Random(20261128)
    kills = busy_kills = window_kills = 0
    began = time.monotonic()
    try:
        for _ in range(KILLS):
            pid = worker.command("fork")
            steps, after_send = rng.randint(0, 40), rng.random() < 1 / 3
            line, idle = "", False
            while steps > 0 or (after_send and line != "m sent"):
                line = worker.next_line(deadline=30)
                if line == "idle":
                    idle = True
                    break
                steps -= line.startswith("m ")
                if after_send and line == "m sent" and steps <= 0:
                    break
            os.kill(pid, signal.SIGKILL)
            kills += 1
            busy_kills += not idle
            window_kills += line == "m sent"
        killing = time.monotonic() - began
        worker.command("drain")
        while worker.next_line(deadline=120) != "done":
            pass
    finally:
        worker.close()
    elapsed = time.monotonic() - began
    assert busy_kills >= 100, f"only {busy_kills} of {kills} kills hit a working process"

    # Every due timer fired exactly once, and what fired late is marked late once.
    now = datetime.now(UTC)
    assert _count(db, select(func.count()).select_from(TimerRow).where(
        TimerRow.status == "pending", TimerRow.due_at <= now)) == 0
    fired = fired_timer_ids(service)
    assert max(fired.values()) == 1, [t for t, n in fired.items() if n > 1][:5]
    assert sum(fired.values()) == 3 * VISITS_CASES + 2 * NOTICE_CASES
    # The first timer of each chain was due a day ago; the rungs it set are due "now" (not late).
    assert _count(db, select(func.count()).select_from(LateTimerRow)) == VISITS_CASES + NOTICE_CASES
    with read_session(db) as session:
        late_ids = set(session.execute(select(LateTimerRow.timer_id)).scalars())
        assert late_ids <= set(fired)
        for case_id in rng.sample(visits + notices, 25):
            history = repository.history(session, case_id)
            assert replay(history).to_json(live_only=True) == repository.stored_state(session, case_id)

    # Every message delivered: none pending or failed.
    with read_session(db) as session:
        statuses = dict(session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all())
        by_channel: dict[str, set[str]] = {}
        for message_id, channel in session.execute(select(OutboxRow.id, OutboxRow.channel)):
            by_channel.setdefault(channel, set()).add(message_id)
        inbox_rows = list(session.execute(select(InboxMessageRow.id)).scalars())
    assert set(statuses) == {"sent"}, statuses

    # Inbox and files: exactly once.
    assert sorted(inbox_rows) == sorted(by_channel["inbox"])
    for channel, folder in (("letter", "letters"), ("export", "exports")):
        files = {p.stem for p in (tmp_path / "data" / folder).glob("*.json")}
        assert files == by_channel[channel]

    # SMTP and webhooks: exactly once per key at the receiver; duplicates only from kills in the window.
    received = smtp.by_message_id()
    assert set(received) == {smtp_message_id(m) for m in by_channel["email"]}
    keys = partners.keys()
    assert set(keys) == by_channel["webhook"]
    duplicates = sum(received.values()) - len(received) + sum(keys.values()) - len(keys)
    assert duplicates <= kills
    print(f"\n{backend}: {kills} kills ({busy_kills} busy, {window_kills} right after a send), "
          f"{sum(fired.values())} timers, {sum(len(v) for v in by_channel.values())} messages, "
          f"{duplicates} duplicate e-mails/webhooks at the receivers, {elapsed:.0f} s ({killing:.0f} s of kills)")
