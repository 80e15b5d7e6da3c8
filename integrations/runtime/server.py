"""`carepath serve`: the web app, the sweep and the dispatch in one process, state in the data dir.

Start-up order (issue #14: the first page within seconds, the whole of it in one process):

1. Prefect's environment (inside the data dir, no telemetry) is set before anything imports
   Prefect; the database is migrated and the shipped pathways published.
2. The web server starts listening and prints `carepath luistert op http://HOST:PORT` (English
   with CAREPATH_LANGUAGE=en). Nothing before it imports Prefect.
3. Then, in a background thread: `--demo` hands the service to `web.demo:seed` (the web app
   answers meanwhile; `status.demo` is "seeding" and sign-in waits until the demo data is
   complete, so nobody sees or changes a half-made demo), and after it the runtime loop starts.
   The runtime loop never runs while the demo is being seeded: the seed fires the demo's timers
   on its own clock.
4. The loop's first flow run starts Prefect's API server in this process (`embedded.py`, a few
   seconds); until it answers, nothing waits but the loop.

SIGTERM or Ctrl-C stop the web server, ask the seed to stop between two of its actions (each one
its own transaction; a later start goes on where it stopped), stop the loop and the Prefect
server, and exit 0. See docs/runtime.md for why this shape.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from integrations.runtime import prefect_env
from integrations.runtime.config import RuntimeConfig
from integrations.runtime.context import Runtime, build_runtime, install
from integrations.runtime.embedded import EmbeddedPrefectServer
from integrations.runtime.loop import SERVE_JOBS, RuntimeLoop

log = logging.getLogger("carepath.serve")


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """`module.name` when the module exists (the web app's hooks), else None."""
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            return None
        raise  # the module exists but is broken: say so
    hook = getattr(found, name, None)
    return hook if callable(hook) else None


def call_with_known(function: Callable[..., Any], first: Any, **offered: Any) -> Any:
    """Call `function(first, ...)` passing only the keyword arguments its signature names."""
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    chosen = {k: v for k, v in offered.items() if takes_any or k in parameters}
    return function(first, **chosen) if first is not None else function(**chosen)


def health_app(runtime: Runtime, loop: RuntimeLoop) -> Any:
    """The stand-in web app until `web.app:create_app` exists: /health only."""
    from fastapi import FastAPI

    app = FastAPI(title="carepath", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    def health() -> dict[str, Any]:
        from sqlalchemy import text

        database = "ok"
        try:
            with runtime.service.db.connect() as connection:
                connection.execute(text("select 1"))
        except Exception as exc:
            database = f"unavailable: {type(exc).__name__}"
        return {"status": "ok" if database == "ok" else "degraded", "database": database,
                "runtime": loop.status.to_json()}

    return app


def make_app(runtime: Runtime, loop: RuntimeLoop, demo: bool) -> Any:
    create_app = _optional("web.app", "create_app")
    if create_app is None:
        return health_app(runtime, loop)
    return call_with_known(create_app, None, service=runtime.service, runtime=runtime, status=loop.status,
                           data_dir=runtime.data_dir, demo=demo)


def seed_demo(runtime: Runtime, stop: threading.Event | None = None) -> bool:
    seed = _optional("web.demo", "seed")
    if seed is None:
        log.warning("--demo: the web app has no demo data yet (web.demo:seed); starting empty")
        return False
    call_with_known(seed, runtime.service, runtime=runtime, data_dir=runtime.data_dir, clock=runtime.service.clock,
                    stop=stop)
    return True


def durability_notice(db: Any, environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """What `serve` says at start when commands are not on disk when they return: the embedded
    SQLite store with `CAREPATH_SQLITE_SYNC=normal` (integrations/db/engine_factory.py); in Dutch and
    in English. None otherwise."""
    from integrations.db.engine_factory import SQLITE_SYNC_ENV, is_sqlite, sqlite_sync

    if not is_sqlite(db) or sqlite_sync(environ) != "NORMAL":
        return None
    return (f"Let op: {SQLITE_SYNC_ENV}=normal. Een opdracht staat pas na het volgende controlepunt op schijf; "
            f"een stroomstoring kan de laatste opdrachten ongedaan maken (docs/deployment.md).",
            f"Note: {SQLITE_SYNC_ENV}=normal. A command is on disk only after the next checkpoint; "
            f"a power cut can undo the last commands (docs/deployment.md).")


def _stopped(signum: int, frame: object) -> None:
    log.info("carepath serve: stopped by signal %d", signum)


def serve(*, host: str, port: int, data_dir: Path, demo: bool = False, use_prefect: bool = True,
          prefect_ui: bool = False, runtime_loop: bool = True, announce: Callable[[str], None] | None = None) -> int:
    """Run until SIGINT/SIGTERM; returns the exit code."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    prefect_server: EmbeddedPrefectServer | None = None
    if use_prefect:
        prefect_env.configure(data_dir)
        if not os.environ.get("PREFECT_API_URL"):  # an operator's own Prefect server is used as it is
            prefect_server = EmbeddedPrefectServer(data_dir, ui=prefect_ui)  # started by the loop's first run
    # The embedded server stops at exit, after Prefect's exit hooks have delivered to it (embedded.py).
    return _serve(host=host, port=port, data_dir=data_dir, demo=demo, use_prefect=use_prefect,
                  prefect_server=prefect_server, runtime_loop=runtime_loop, announce=announce)


def demo_config(config: RuntimeConfig) -> RuntimeConfig:
    """The demo's partners have no endpoints: their webhooks go to the local sink
    (<data dir>/webhooks) instead of becoming hundreds of failed deliveries (docs/exchange.md)."""
    return config if config.webhook_sink else dataclasses.replace(config, webhook_sink=True)


def warm_calendar(runtime: Runtime) -> None:
    """Build this year's Dutch working days now, not in the first request that sets a deadline.

    Cheap since the holidays come from a table (`engine/public_holidays_nl.py`); importing the
    `holidays` package itself, as the engine did until December 2026, took about 0.2-0.7 s.
    """
    from engine.calendar import calendar_for
    from engine.definition import CalendarKind

    calendar_for(CalendarKind.WORKING_DAYS).is_working_day(runtime.service.clock.now().date())


def after_listening(runtime: Runtime, loop: RuntimeLoop, stop: threading.Event, *, demo: bool,
                    runtime_loop: bool) -> None:
    """What follows the open socket, in its own thread: the demo data first, then the runtime loop."""
    warm_calendar(runtime)
    if demo:
        try:
            seed_demo(runtime, stop)
        except Exception:
            loop.status.demo = "failed"
            log.exception("--demo: seeding the demo data failed; carepath runs without it")
        else:
            loop.status.demo = "stopped" if stop.is_set() else "ready"
    if runtime_loop and not stop.is_set():
        loop.start(stop)


def _serve(*, host: str, port: int, data_dir: Path, demo: bool, use_prefect: bool,
           prefect_server: EmbeddedPrefectServer | None, runtime_loop: bool,
           announce: Callable[[str], None] | None) -> int:
    runtime = build_runtime(data_dir=data_dir)
    if demo:
        runtime.config = demo_config(runtime.config)
    install(runtime)
    for source, why in runtime.service.unpublished:
        log.warning("pathway %s not published: %s", source, why)
    loop = RuntimeLoop(runtime, use_prefect=use_prefect, prefect_server=prefect_server, jobs=SERVE_JOBS)
    if demo:
        loop.status.demo = "seeding"  # sign-in waits for it (web/pages/auth.py)
    app = make_app(runtime, loop, demo)
    stop = threading.Event()
    say = announce or (lambda line: print(line, flush=True))
    starting = threading.Thread(target=after_listening, args=(runtime, loop, stop),
                                kwargs={"demo": demo, "runtime_loop": runtime_loop}, name="carepath-start",
                                daemon=True)

    import uvicorn

    from integrations.runtime.heap import settle

    settle()  # started: the start-up objects leave the collector's walks (runtime/heap.py)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="auto")
    server = uvicorn.Server(config)

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                await serving  # start-up failed (port taken...): its exception or exit
                return
            await asyncio.sleep(0.02)
        bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
        from integrations.cli.language import say as words

        say(words(f"carepath luistert op http://{host}:{bound}", f"carepath listening on http://{host}:{bound}"))
        notice = durability_notice(runtime.service.db)
        if notice is not None:
            say(words(*notice))
        if prefect_server is not None and prefect_server.ui:
            say(words(f"Prefect-UI op {prefect_server.ui_url}", f"Prefect UI on {prefect_server.ui_url}"))
        starting.start()
        await serving

    # uvicorn shuts down gracefully on SIGTERM/SIGINT and then raises the signal again for the
    # handler that was there before it: make that a plain return, so atexit hooks run and a stop by
    # the service manager exits 0.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        asyncio.run(main())
    finally:
        stop.set()
        signal.signal(signal.SIGTERM, previous)
        if starting.is_alive():  # the seed stops after its current action (one transaction)
            starting.join(timeout=30)
        if loop.thread is not None:  # a job in progress ends (its flow run with it) before the exit
            loop.thread.join(timeout=30)
    if not server.started:
        print(f"carepath serve: could not listen on {host}:{port}", file=sys.stderr)
        return 1
    return 0
