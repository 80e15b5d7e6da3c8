"""Where a `GET /work` spends its time inside the web server (issue #14, the national day's work list).

`uvicorn --factory web_phases:app_from_env` (with `bench/` on the path) serves `web.app` as
`web.app:app_from_env` does, and times each request's phases in the server: the whole request from
its arrival at the application to its last byte handed to uvicorn, the session lookup
(`web.auth._resolve`), the page's statement (`caselists.work_page`), the audit entry
(`audit.record_access`) and the template (`render` of `web/pages/work.py`), each in wall time and in
the thread's CPU time (wall minus CPU: waiting for the database or for a CPU). Each request's sample
is appended as a line of JSON to `$CAREPATH_BENCH_PHASES` as it ends (`read` reads them back). Only
the benches use this module.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

# The request's phases: the route's synchronous parts run in worker threads, which get a copy of the
# request's context (Starlette's run_in_threadpool), so they add to the same dict.
_phases: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar("bench_phases", default=None)
_out: list[Any] = []  # the open file, once the app is made


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            phases = _phases.get()
            if phases is not None:
                phases[name] = (time.perf_counter() - wall) * 1000
                phases[name + "_cpu"] = (time.thread_time() - cpu) * 1000
    return timed


def _install() -> None:
    from integrations.db import audit, caselists
    from web import auth
    from web.pages import work

    auth._resolve = _timed("session", auth._resolve)
    caselists.work_page = _timed("page", caselists.work_page)
    audit.record_access = _timed("audit", audit.record_access)
    setattr(work, "render", _timed("render", getattr(work, "render")))  # noqa: B009, B010 (the name the route calls)


class _Requests:
    """The whole request, in the server, with its phases."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != "/work":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        phases: dict[str, float] = {}

        async def sent(message: Any) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                phases["server"] = (time.perf_counter() - started) * 1000
                phases["at"] = time.time()
            await send(message)

        _phases.set(phases)
        await self.app(scope, receive, sent)
        if _out:
            _out[0].write(json.dumps(phases) + "\n")


def read(path: str) -> list[dict[str, float]]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def app_from_env() -> FastAPI:
    from web.app import app_from_env as real

    _install()
    app = real()
    _out.append(open(os.environ["CAREPATH_BENCH_PHASES"], "a", encoding="utf-8", buffering=1))  # noqa: SIM115
    app.add_middleware(_Requests)
    return app


def summary(samples: list[dict[str, float]]) -> list[tuple[str, float, float, float]]:
    """(phase, p50, p95, p99) in ms over the samples that have it; `rest`: the server's time outside
    the four phases (the middleware, the hand-overs to worker threads and back, waiting for them)."""
    timed = ("session", "page", "audit", "render")
    samples = [dict(s, rest=s["server"] - sum(s[n] for n in timed)) if all(n in s for n in ("server", *timed)) else s
               for s in samples]
    out = []
    for name in ("server", "session", "session_cpu", "page", "page_cpu", "audit", "audit_cpu", "render", "render_cpu",
                 "rest"):
        values = sorted(s[name] for s in samples if name in s)
        if values:
            out.append((name, values[len(values) // 2], values[max(0, int(len(values) * 0.95) - 1)],
                        values[max(0, int(len(values) * 0.99) - 1)]))
    return out
