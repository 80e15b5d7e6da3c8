"""Limits on what a request may carry, each refused with a Dutch message that names the limit.

- A JSON body to the API: at most `MAX_JSON_BYTES`, nested at most `MAX_DEPTH` deep, and only real
  numbers: Python's `json` reads `NaN`, `Infinity` and `-Infinity`, which are not JSON and would
  pass `minimum`/`maximum` checks unnoticed (NaN compares false with everything).
- Case data, form data and drafts (`check_data`): at most `MAX_DATA_BYTES` as JSON, every text at
  most `MAX_TEXT_CHARS` characters, every list at most `MAX_ITEMS` items, `MAX_DEPTH` levels.

`RequestLimits` is the ASGI middleware for the first (and refuses NUL characters everywhere); the portal calls `check_data` before a
command, for the pages and the API alike.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

MAX_JSON_BYTES = 8_000_000  # a pathway text of 1,000,000 characters fits, even written as \uXXXX escapes
MAX_DATA_BYTES = 65_536
MAX_TEXT_CHARS = 10_000
MAX_ITEMS = 500
MAX_DEPTH = 16

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DataRefused(Exception):
    """Data beyond a limit: `message` in Dutch, `field` the dotted path of the offending value."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _nl(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _where(path: list[str]) -> str:
    return ".".join(path)


def check_data(data: Any, what: str) -> None:
    """Raise `DataRefused` when `data` (case data, a form, a draft) is beyond the limits."""
    try:
        size = len(json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    except ValueError:
        raise DataRefused(f"De {what} bevatten NaN of oneindig; vul een gewoon getal in.") from None
    except RecursionError:
        raise DataRefused(f"De {what} zijn te diep genest.") from None
    if size > MAX_DATA_BYTES:
        raise DataRefused(f"De {what} zijn te groot: {_nl(size)} bytes; de grens is {_nl(MAX_DATA_BYTES)} bytes.")
    _walk(data, [], what)


def _walk(value: Any, path: list[str], what: str) -> None:
    if len(path) > MAX_DEPTH:
        raise DataRefused(f"De {what} zijn dieper genest dan {MAX_DEPTH} niveaus.", _where(path))
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        name = _where(path) or what
        raise DataRefused(f"Veld {name}: hoogstens {_nl(MAX_TEXT_CHARS)} tekens (nu {_nl(len(value))}).", name)
    if isinstance(value, str) and "\x00" in value:
        raise DataRefused(f"Veld {_where(path) or what}: een nul-teken (\\u0000) kan carepath niet opslaan.",
                           _where(path))
    if isinstance(value, float) and not math.isfinite(value):
        raise DataRefused(f"Veld {_where(path) or what}: vul een gewoon getal in (geen NaN of oneindig).",
                           _where(path))
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise DataRefused(f"Veld {_where(path) or what}: hoogstens {MAX_ITEMS} items (nu {_nl(len(value))}).",
                               _where(path))
        for index, item in enumerate(value):
            _walk(item, [*path, str(index)], what)
    elif isinstance(value, dict):
        for key, item in value.items():
            if len(str(key)) > 200:
                raise DataRefused(f"De {what} bevatten een veldnaam van meer dan 200 tekens.", _where(path))
            _walk(item, [*path, str(key)], what)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is geen getal in JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999 reads as infinity
        raise ValueError(f"{text[:20]} is geen getal in JSON")
    return number


NOT_A_NUMBER = "NaN, Infinity, -Infinity en getallen als 1e999 zijn geen getallen in JSON; stuur een gewoon getal."
NUL_CHARACTER = "Het verzoek bevat een nul-teken (\\u0000 of %00); dat kan carepath niet opslaan. Laat het weg."


def json_body_problem(body: bytes) -> str:
    """Why `body` cannot be taken as JSON by carepath ("" when it can, or when it is not JSON at all:
    then FastAPI's own parser gives its usual 422)."""
    if b"\x00" in body or b"\\u0000" in body.lower():
        return NUL_CHARACTER
    try:
        json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        return "De JSON is te diep genest om te lezen."
    except ValueError as exc:
        return NOT_A_NUMBER if "geen getal" in str(exc) else ""
    return ""


def form_body_problem(body: bytes, content_type: bytes) -> str:
    """Why a form post cannot be stored ("" when it can): a NUL character in any field."""
    if b"urlencoded" in content_type:
        return NUL_CHARACTER if b"%00" in body else ""
    return NUL_CHARACTER if b"\x00" in body else ""


def _error_response(status: int, code: str, message: str, api: bool) -> tuple[dict[str, Any], bytes]:
    if api:
        body = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")
        kind = b"application/json"
    else:
        body = message.encode("utf-8")
        kind = b"text/plain; charset=utf-8"
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]}
    return start, body


class RequestLimits:
    """Refuses, before any route runs, what no route can use: a NUL character in the path, the query
    or a form/JSON body (PostgreSQL cannot store it, and its driver fails on it), a body larger than
    `max_bytes` (413), and JSON with NaN/Infinity or absurd nesting (422). The body is read once and
    handed on to the app unchanged."""

    def __init__(self, app: ASGIApp, api_prefix: str = "/api/", max_bytes: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.api_prefix = api_prefix
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith(self.api_prefix)
        if "\x00" in str(scope.get("path", "")) or b"%00" in bytes(scope.get("query_string", b"")):
            await self._answer(send, 400, "invalid", NUL_CHARACTER, api)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        kind = headers.get(b"content-type", b"").lower()
        is_json, is_form = b"json" in kind, b"form" in kind  # x-www-form-urlencoded, multipart/form-data
        if scope.get("method") in ("GET", "HEAD", "OPTIONS") or not (is_json or is_form):
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
                                   f"Het verzoek is groter dan {_nl(self.max_bytes)} bytes; stuur minder tegelijk.", api)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        problem = json_body_problem(body) if is_json else form_body_problem(body, kind)
        if problem:
            await self._answer(send, 422, "invalid", problem, api)
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
    async def _answer(send: Send, status: int, code: str, message: str, api: bool) -> None:
        start, body = _error_response(status, code, message, api)
        await send(start)
        await send({"type": "http.response.body", "body": body})
