"""The unread count of the in-app inbox as a team's inbox grows (issue #14: a finding, not yet a fix).

Every work page asks `inbox.unread_count` for the badge. It counts the unread messages to the worker
and to their roles in their team that are still news (about no task, or about an open one), and so
visits every role message the team ever got, checking each one's task. This bench shows how that
grows: on PostgreSQL (`CAREPATH_TEST_POSTGRES_URL`, a fresh schema dropped at the end) it stores
`--messages` role messages of team `noord` (one a minute, each about its own task, one task in 50
still open) and times `unread_count` for a worker holding the role.

Usage: `python bench/bench_inbox.py [--messages 1000 10000 100000] [--repeat 20]`
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import Backend  # noqa: E402
from sqlalchemy import text  # noqa: E402

from engine.clock import ManualClock  # noqa: E402
from integrations.db.engine_factory import read_session  # noqa: E402
from integrations.db.models import CaseRow, TaskRow  # noqa: E402
from integrations.db.sql import insert_many, table  # noqa: E402
from integrations.runtime import inbox  # noqa: E402
from integrations.runtime.models import InboxMessageRow  # noqa: E402
from integrations.service import build_service  # noqa: E402

START = datetime(2026, 1, 5, 8, tzinfo=UTC)


def measure(messages: int, repeat: int) -> tuple[int, float]:
    """(unread count, median milliseconds of `unread_count`) over `messages` role messages."""
    tmp = Path(tempfile.mkdtemp(prefix="carepath-inbox-"))
    backend = Backend("postgresql", tmp)
    try:
        service = build_service(backend.url, ManualClock(START), data_dir=tmp)
        cases = max(1, messages // 10)
        with service.db.begin() as conn:
            insert_many(conn, table(CaseRow), [
                {"id": f"C{i}", "pathway_id": "p", "pathway_version": 1, "status": "open", "team": "noord",
                 "pseudonym": "x", "opened_at": START, "closed_at": None, "outcome": None, "close_reason": None,
                 "version": 1, "state": {}} for i in range(cases)])
            insert_many(conn, table(TaskRow), [
                {"id": f"C{i // 10}.{i}", "case_id": f"C{i // 10}", "type": "human_task", "step": "s", "flow": "main",
                 "title": "t", "role": "worker", "assignee": None, "team": "noord",
                 "status": "open" if i % 50 == 0 else "completed", "due_at": START, "created_at": START,
                 "completed_at": None, "reminders_sent": 0, "escalation_level": 0} for i in range(messages)])
            insert_many(conn, table(InboxMessageRow), [
                {"id": f"m{i}", "case_id": f"C{i // 10}", "task_id": f"C{i // 10}.{i}", "pathway_id": "p",
                 "team": "noord", "to_role": "worker", "to_worker": None, "template": "task_opened", "subject": "s",
                 "body": "b", "link": None, "created_at": START + timedelta(minutes=i),
                 "delivered_at": START + timedelta(minutes=i), "read_at": None} for i in range(messages)])
            conn.execute(text("ANALYZE"))
        times = []
        unread = 0
        for _ in range(repeat):
            with read_session(service.db) as session:
                started = time.perf_counter()
                unread = inbox.unread_count(session, "user:anna", ["worker"], "noord")
                times.append(time.perf_counter() - started)
        service.db.dispose()
        return unread, statistics.median(times) * 1000
    finally:
        backend.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"`python bench/bench_inbox.py --messages {' '.join(map(str, args.messages))}`: "
          "unread_count of a worker holding the role, PostgreSQL")
    for messages in args.messages:
        unread, ms = measure(messages, args.repeat)
        print(f"- {messages:,} role messages in the team ({unread:,} unread and still news): {ms:.1f} ms (median)")


if __name__ == "__main__":
    main()
