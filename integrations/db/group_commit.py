"""Group commit: commands that arrive together share one transaction and one commit.

With many writers (web workers completing tasks at the same moment) every command paying its own
BEGIN, commit and WAL write (SQLite) or round trips and WAL flush (PostgreSQL) makes the commit the
bottleneck, and on SQLite the writers queue for the one write lock anyway. Here a writer that finds
nobody writing becomes the *leader*: it opens one transaction, runs every command queued by then,
each in its own SAVEPOINT, commits once, and hands each caller its own result or error. Commands
arriving meanwhile wait for the next group, whose leader is the first of them.

Each command stays atomic (a command that raises is rolled back to its savepoint, alone) and
isolated in effect (the commands of a group run one after another, each seeing the ones before
it, exactly as if they had committed one by one); each caller returns only after the commit that
made its command durable. An uncontended command is a group of one: it runs on its caller's thread
as before, at the cost of one lock.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine

from integrations.db import hot_sql

T = TypeVar("T")
MAX_GROUP = 64  # commands per transaction at most
_REGISTRY: weakref.WeakKeyDictionary[Engine, GroupCommitter] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


@dataclass
class _Pending(Generic[T]):
    work: Callable[[hot_sql.RawTransaction], T]
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to lead the next group rather than with a result
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class GroupCommitter:
    """One per database (engine): `for_engine`; thread-safe."""

    @classmethod
    def for_engine(cls, engine: Engine) -> GroupCommitter:
        """The committer of `engine`, shared by every service on it in this process."""
        with _REGISTRY_LOCK:
            committer = _REGISTRY.get(engine)
            if committer is None:
                committer = _REGISTRY[engine] = cls(engine)
            return committer

    def __init__(self, engine: Engine, max_group: int = MAX_GROUP) -> None:
        self._engine = engine
        self._max_group = max_group
        self._lock = threading.Lock()
        self._queue: list[_Pending[Any]] = []
        self._leading = False
        self.groups = 0  # transactions committed (for benchmarks and tests)
        self.commands = 0  # commands they carried

    def run(self, work: Callable[[hot_sql.RawTransaction], T]) -> T:
        """Run `work` in a write transaction shared with whatever else arrives now; its result once
        committed, or the exception it (or the commit) raised."""
        pending: _Pending[T] = _Pending(work)
        with self._lock:
            self._queue.append(pending)
            if not self._leading:
                self._leading = True
                pending.lead = True
        while not pending.done:
            if pending.lead:
                pending.lead = False
                self._lead_one_group()
            else:
                pending.wake.wait()
                pending.wake.clear()
        if pending.error is not None:
            raise pending.error
        result: T = pending.result
        return result

    def _lead_one_group(self) -> None:
        with self._lock:
            group, self._queue = self._queue[: self._max_group], self._queue[self._max_group:]
        try:
            self._commit_group(group)
        finally:
            with self._lock:
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._leading = False
                else:
                    successor.lead = True
            for pending in group:
                pending.done = True
                pending.wake.set()
            if successor is not None:
                successor.wake.set()

    def _commit_group(self, group: list[_Pending[Any]]) -> None:
        dbapi_error = self._engine.dialect.loaded_dbapi.Error
        try:
            # Not pipelined: each command's errors must surface inside its own savepoint.
            with hot_sql.raw_write(self._engine, pipeline=False) as tx:
                solo = len(group) == 1
                for i, pending in enumerate(group):
                    if solo:  # a group of one needs no savepoint: the transaction is its own
                        pending.result = pending.work(tx)
                        continue
                    tx.cursor.execute(f"SAVEPOINT cmd{i}")
                    try:
                        pending.result = pending.work(tx)
                    except dbapi_error as exc:
                        tx.cursor.execute(f"ROLLBACK TO SAVEPOINT cmd{i}")
                        pending.error = hot_sql.translated(self._engine, exc)
                    except Exception as exc:
                        tx.cursor.execute(f"ROLLBACK TO SAVEPOINT cmd{i}")
                        pending.error = exc
                    tx.cursor.execute(f"RELEASE SAVEPOINT cmd{i}")
        except BaseException as exc:
            # The commit (or the group of one) failed: nothing of this group is stored.
            for pending in group:
                if pending.error is None:
                    pending.error = exc
                pending.result = None
            if not isinstance(exc, Exception):
                raise
            return
        self.groups += 1
        self.commands += len(group)
