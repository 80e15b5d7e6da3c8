"""A trace id per request (W3C Trace Context), so the audit entries of one request belong together.

The processing log (Logboek Dataverwerkingen) follows one processing across systems by its trace
id: a caller that sends `traceparent: 00-<32 hex>-<16 hex>-<2 hex>` has its trace id kept; otherwise
carepath starts a new trace. Every audit entry written while the request runs carries it, and the
response names it in `traceparent`, so a privacy officer can match a partner's log to ours.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from integrations.db import audit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def trace_id_of(header: str | None) -> str | None:
    """The trace id of a valid `traceparent` header (all-zero ids are invalid), else None."""
    if not header:
        return None
    found = _TRACEPARENT.match(header.strip().lower())
    if found is None or set(found.group(1)) == {"0"} or set(found.group(2)) == {"0"}:
        return None
    return found.group(1)


class Tracing:
    """Sets the request's trace id for the audit log and answers with `traceparent`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                      send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers", [])).get(b"traceparent")
        given = trace_id_of(raw.decode("latin-1")) if raw else None
        with audit.trace(given) as trace_id:
            header = f"00-{trace_id}-{secrets.token_hex(8)}-01".encode()

            async def with_trace(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"traceparent", header)]
                await send(message)

            await self.app(scope, receive, with_trace)
