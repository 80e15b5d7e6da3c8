"""Password hashing off the event loop, a few at a time, outside any database transaction.

argon2 is slow on purpose (~0.1 s and 64 MiB per hash). Done inside the sign-in's write
transaction it held SQLite's write lock, so 120 bad sign-ins stalled everybody (issue #9). Here
each hash runs in a worker thread under its own capacity limiter (`hash_concurrency`), so waiting
sign-ins take neither the event loop nor the thread pool that pages and the API share.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TypeVar

import anyio
import anyio.to_thread

from integrations.db import accounts

T = TypeVar("T")
_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


class _InFlight:
    """Sign-ins waiting for or doing their hash, per source address and in all (one process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.by_source: dict[str, int] = {}

    @contextmanager
    def admit(self, source: str, per_source: int, in_all: int) -> Iterator[bool]:
        """True when this sign-in may queue for a hash: fewer than `per_source` from its address and
        fewer than `in_all` in all are waiting. A burst never builds a queue of argon2 work that
        would take minutes to drain; the rest are answered at once (429), as the delays would."""
        with self._lock:
            admitted = self.by_source.get(source, 0) < per_source and self.total < in_all
            if admitted:
                self.total += 1
                self.by_source[source] = self.by_source.get(source, 0) + 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    self.total -= 1
                    left = self.by_source[source] - 1
                    if left:
                        self.by_source[source] = left
                    else:
                        del self.by_source[source]


IN_FLIGHT = _InFlight()


class Waits:
    """The waits this process knows of (key -> until when), so a try during a wait is answered
    without a database read. The database stays the truth: a key not known here is looked up."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[str, datetime] = {}

    def longest(self, keys: list[str], now: datetime) -> timedelta | None:
        with self._lock:
            found = [self._until[k] - now for k in keys if k in self._until and self._until[k] > now]
        return max(found, default=None)

    def note(self, waits: dict[str, datetime], now: datetime) -> None:
        with self._lock:
            self._until.update(waits)
            if len(self._until) > self.LIMIT:
                self._until = {k: v for k, v in self._until.items() if v > now}

    def forget(self, key: str) -> None:
        with self._lock:
            self._until.pop(key, None)


def _limiter(size: int) -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    found = _LIMITERS.get(loop)
    if found is None or found.total_tokens != size:
        found = anyio.CapacityLimiter(size)
        _LIMITERS[loop] = found
    return found


async def _run(size: int, work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work, limiter=_limiter(size))


async def verify(size: int, password_hash: str | None, password: str) -> bool:
    """The password matches the hash (None: an unknown user; the same work is done)."""
    return await _run(size, lambda: accounts.verify_hash(password_hash, password))


async def hash_new(size: int, password: str) -> str:
    return await _run(size, lambda: accounts.hash_password(password))
