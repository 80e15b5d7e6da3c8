"""`carepath serve`: the web app, the sweep and the dispatch in one process, state in the data dir.

Start-up order: Prefect's environment (inside the data dir, no telemetry) is
set before anything imports Prefect; the database is migrated and the shipped
pathways published; `--demo` hands the service to `web.demo:seed` when the web
app provides it; the web server starts listening and prints
`carepath luistert op http://HOST:PORT` (English with CAREPATH_LANGUAGE=en); the runtime loop starts in a thread.
The first flow run starts Prefect's embedded server in the background (5-20 s),
so the web app answers at once. See docs/runtime.md for why this shape.
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
from collections.abc import Callable
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


def seed_demo(runtime: Runtime) -> bool:
    seed = _optional("web.demo", "seed")
    if seed is None:
        log.warning("--demo: the web app has no demo data yet (web.demo:seed); starting empty")
        return False
    call_with_known(seed, runtime.service, runtime=runtime, data_dir=runtime.data_dir, clock=runtime.service.clock)
    return True


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
            prefect_server = EmbeddedPrefectServer(data_dir, ui=prefect_ui)
            prefect_server.start()  # from the main thread: it lives exactly as long as carepath
    try:
        return _serve(host=host, port=port, data_dir=data_dir, demo=demo, use_prefect=use_prefect,
                      prefect_server=prefect_server, runtime_loop=runtime_loop, announce=announce)
    finally:
        if prefect_server is not None:
            prefect_server.stop()


def demo_config(config: RuntimeConfig) -> RuntimeConfig:
    """The demo's partners have no endpoints: their webhooks go to the local sink
    (<data dir>/webhooks) instead of becoming hundreds of failed deliveries (docs/exchange.md)."""
    return config if config.webhook_sink else dataclasses.replace(config, webhook_sink=True)


def _serve(*, host: str, port: int, data_dir: Path, demo: bool, use_prefect: bool,
           prefect_server: EmbeddedPrefectServer | None, runtime_loop: bool,
           announce: Callable[[str], None] | None) -> int:
    runtime = build_runtime(data_dir=data_dir)
    if demo:
        runtime.config = demo_config(runtime.config)
    install(runtime)
    for source, why in runtime.service.unpublished:
        log.warning("pathway %s not published: %s", source, why)
    if demo:
        try:
            seed_demo(runtime)
        except Exception:
            log.exception("--demo: seeding the demo data failed; carepath runs without it")
    loop = RuntimeLoop(runtime, use_prefect=use_prefect, prefect_server=prefect_server, jobs=SERVE_JOBS)
    app = make_app(runtime, loop, demo)
    stop = threading.Event()
    say = announce or (lambda line: print(line, flush=True))

    import uvicorn

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
        if prefect_server is not None and prefect_server.ui:
            say(words(f"Prefect-UI op {prefect_server.ui_url}", f"Prefect UI on {prefect_server.ui_url}"))
        if runtime_loop:
            loop.start(stop)
        await serving

    # uvicorn shuts down gracefully on SIGTERM/SIGINT and then raises the signal again for the
    # handler that was there before it: make that a plain return, so atexit hooks run (they stop
    # Prefect's embedded server) and a stop by the service manager exits 0.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        asyncio.run(main())
    finally:
        stop.set()
        signal.signal(signal.SIGTERM, previous)
    if not server.started:
        print(f"carepath serve: could not listen on {host}:{port}", file=sys.stderr)
        return 1
    return 0
