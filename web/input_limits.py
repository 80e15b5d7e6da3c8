"""Limits on what a request may carry, each refused with a Dutch message that names the limit.

- A JSON body to the API: at most `MAX_JSON_BYTES`, nested at most `MAX_DEPTH` deep, and only real
  numbers: Python's `json` reads `NaN`, `Infinity` and `-Infinity`, which are not JSON and would
  pass `minimum`/`maximum` checks unnoticed (NaN compares false with everything).
- Case data, form data and drafts (`check_data`): at most `MAX_DATA_BYTES` as JSON, every text at
  most `MAX_TEXT_CHARS` characters, every list at most `MAX_ITEMS` items, `MAX_DEPTH` levels.

`JsonBodyLimits` is the ASGI middleware for the first; the portal calls `check_data` before a
command, for the pages and the API alike.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

MAX_JSON_BYTES = 3_000_000  # a pathway text of 1,000,000 characters, escaped, fits
MAX_DATA_BYTES = 65_536
MAX_TEXT_CHARS = 10_000
MAX_ITEMS = 500
MAX_DEPTH = 16

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DataTooLarge(Exception):
    """Data beyond a limit: `message` in Dutch, `field` the dotted path of the offending value."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _nl(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _where(path: list[str]) -> str:
    return ".".join(path)


def check_data(data: Any, what: str) -> None:
    """Raise `DataTooLarge` when `data` (case data, a form, a draft) is beyond the limits."""
    try:
        size = len(json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    except ValueError:
        raise DataTooLarge(f"De {what} bevatten NaN of oneindig; vul een gewoon getal in.") from None
    except RecursionError:
        raise DataTooLarge(f"De {what} zijn te diep genest.") from None
    if size > MAX_DATA_BYTES:
        raise DataTooLarge(f"De {what} zijn te groot: {_nl(size)} bytes; de grens is {_nl(MAX_DATA_BYTES)} bytes.")
    _walk(data, [], what)


def _walk(value: Any, path: list[str], what: str) -> None:
    if len(path) > MAX_DEPTH:
        raise DataTooLarge(f"De {what} zijn dieper genest dan {MAX_DEPTH} niveaus.", _where(path))
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        name = _where(path) or what
        raise DataTooLarge(f"Veld {name}: hoogstens {_nl(MAX_TEXT_CHARS)} tekens (nu {_nl(len(value))}).", name)
    if isinstance(value, float) and not math.isfinite(value):
        raise DataTooLarge(f"Veld {_where(path) or what}: vul een gewoon getal in (geen NaN of oneindig).",
                           _where(path))
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise DataTooLarge(f"Veld {_where(path) or what}: hoogstens {MAX_ITEMS} items (nu {_nl(len(value))}).",
                               _where(path))
        for index, item in enumerate(value):
            _walk(item, [*path, str(index)], what)
    elif isinstance(value, dict):
        for key, item in value.items():
            if len(str(key)) > 200:
                raise DataTooLarge(f"De {what} bevatten een veldnaam van meer dan 200 tekens.", _where(path))
            _walk(item, [*path, str(key)], what)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is geen getal in JSON")


def json_body_problem(body: bytes) -> str:
    """Why `body` cannot be taken as JSON by carepath ("" when it can, or when it is not JSON at all:
    then FastAPI's own parser gives its usual 422)."""
    try:
        json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        return f"De JSON is dieper genest dan carepath leest (hoogstens {MAX_DEPTH} niveaus voor gegevens)."
    except ValueError as exc:
        if "geen getal" in str(exc):
            return "NaN, Infinity en -Infinity zijn geen getallen in JSON; stuur een gewoon getal."
        return ""
    return ""


def _json_error(status: int, code: str, message: str) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    return start, body


class JsonBodyLimits:
    """Reads an API request's JSON body once, refuses it when it is too large (413) or carries
    NaN/Infinity or absurd nesting (422), and hands the same bytes on to the app."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/", max_bytes: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.prefix = prefix
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix) or \
                scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if b"json" not in headers.get(b"content-type", b""):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client went away: let the app see it
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._answer(send, 413, "too_large",
                                   f"Het verzoek is groter dan {_nl(self.max_bytes)} bytes; stuur minder tegelijk.")
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        problem = json_body_problem(body)
        if problem:
            await self._answer(send, 422, "invalid", problem)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _answer(send: Send, status: int, code: str, message: str) -> None:
        start, body = _json_error(status, code, message)
        await send(start)
        await send({"type": "http.response.body", "body": body})
