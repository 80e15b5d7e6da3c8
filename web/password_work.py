"""Password hashing off the event loop, a few at a time, outside any database transaction.

argon2 is slow on purpose (~0.1 s and 64 MiB per hash). Done inside the sign-in's write
transaction it held SQLite's write lock, so 120 bad sign-ins stalled everybody (issue #9). Here
each hash runs in a worker thread under its own capacity limiter (`hash_concurrency`), so waiting
sign-ins take neither the event loop nor the thread pool that pages and the API share.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from integrations.db import accounts

T = TypeVar("T")
_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


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
