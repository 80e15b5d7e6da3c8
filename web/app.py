"""The carepath web app: server-rendered pages for people, a JSON API under /api/ for systems.

`create_app(service, db, settings=...)` builds the FastAPI app around an
application service; `carepath serve` calls it, and tests run it with uvicorn
on a manual clock (`python -m web.app --help` runs it standalone). Every
response carries a strict Content-Security-Policy (no inline script or style,
nothing from another site), pages are never cached, and a 500 logs only the
route and the error type: never a message that might quote client data.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine as Database
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine import messages
from engine.errors import CarepathError, EngineError, NotFoundError
from integrations.db.errors import StorageError
from integrations.service import CaseService
from web.auth import SAFE_METHODS, AuthError, CsrfError, same_origin
from web.i18n_errors import SERVER_TEXTS, request_problems, server_text
from web.input_limits import RequestLimits
from web.pathway_work import PathwayWork, PathwayWorkLimit, PathwayWorkLimits
from web.portal import Conflict, Hidden, Invalid, Portal, Refused
from web.settings import WebSettings
from web.token_scope import ScopeError
from web.ui import (
    PasswordChangeRequired,
    SignInRequired,
    language,
    make_templates,
    optional_principal,
    render,
)

log = logging.getLogger("carepath.web")
STATIC_DIR = Path(__file__).parent / "static"
API_PREFIX = "/api/"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
# A page may allow <style> elements carrying one nonce (request.state.csp_style_nonce, set by the
# pathway editor for CodeMirror's styles); every other response keeps the CSP above unchanged.
STYLE_NONCE = "csp_style_nonce"
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """Adds the security headers to every response; pages and API answers are not cached.
    Refuses a cookie-authenticated state change whose Origin/Referer names another site."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if scope.get("method", "GET") not in SAFE_METHODS and b"authorization" not in headers:
            request = Request(scope)
            if not same_origin(request):
                response = PlainTextResponse("cross-site request refused", status_code=403)
                await response(scope, receive, send)
                return
        https = scope.get("scheme") == "https"
        state = scope.setdefault("state", {})  # shared with request.state, even in a copied scope

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(_HEADERS)
                nonce = state.get(STYLE_NONCE)  # the pathway editor's CodeMirror styles
                if isinstance(nonce, str) and nonce.isalnum():
                    extra[0] = (b"content-security-policy",
                                CSP.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'").encode())
                if not path.startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                if https:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, with_headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or request.url.path == "/api"


def api_error(status: int, code: str, message: str, fields: dict[str, str] | None = None,
              headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """The API's error answer: {"error": {"code", "message", "fields"?, ...}}; `extra` adds keys such
    as `detail` (an engine refusal's code and arguments) or `reference` (of a 500)."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    body["error"].update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers)


def _language(request: Request) -> str:
    """The language of an error answer: the person's setting, else the cookie, else the app's default
    (`CAREPATH_LANGUAGE`); never fails, whatever broke."""
    try:
        return language(request, optional_principal(request))
    except Exception:  # an error answer must not fail on the way
        return "nl"


def _engine_refusal(exc: BaseException, lang: str) -> tuple[str, dict[str, Any] | None]:
    """The text of `exc` in `lang` and the engine's {code, args} behind it, if any: a coded engine
    error itself, or the one a portal error (Invalid, Conflict) copied its text from."""
    seen: BaseException | None = exc
    for _ in range(3):
        if seen is None:
            break
        if isinstance(seen, EngineError) and seen.message is not None and str(seen) == str(exc):
            return messages.text_of(seen, lang), messages.detail(seen)
        seen = seen.__cause__ or seen.__context__
    return str(exc), None


def _page_error(request: Request, status: int, heading: str, message: str, reference: str = "") -> Response:
    principal = optional_principal(request)
    return render(request, "error.html", {"status": status, "heading": heading, "message": message,
                                          "reference": reference},
                  principal=principal, status_code=status, title=heading)


def _server_error(request: Request, status: int, code: str, headers: dict[str, str] | None = None,
                  **values: Any) -> Response:
    """The app's own answer for `status` (404, 405, 429, ...), in the person's language."""
    lang = _language(request)
    heading, text = server_text(status, lang, **values)
    if _is_api(request):
        return api_error(status, code, text, headers=headers)
    response = _page_error(request, status, heading, text)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def change_password_first(request: Request, exc: PasswordChangeRequired) -> Response:
        from web.i18n import translate
        from web.ui import redirect

        return redirect("/account", translate("Je wachtwoord is tijdelijk. Kies eerst een eigen wachtwoord.",
                                              language(request)), "warn")

    @app.exception_handler(ScopeError)
    async def out_of_scope(request: Request, exc: ScopeError) -> Response:
        return api_error(403, "forbidden", str(exc))

    @app.exception_handler(AuthError)
    async def unauthenticated(request: Request, exc: AuthError) -> Response:
        if _is_api(request):
            return api_error(401, "unauthenticated", str(exc), headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(Hidden)
    async def hidden(request: Request, exc: Hidden) -> Response:
        return _not_found(request)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if _is_api(request):
            return api_error(403, "forbidden", exc.text(_language(request)))
        return _page_error(request, 403, "Geen toegang", "Dit deel van carepath is niet voor jouw rol.")

    @app.exception_handler(CsrfError)
    async def csrf(request: Request, exc: CsrfError) -> Response:
        if _is_api(request):
            return api_error(403, "csrf", str(exc))
        return _page_error(request, 403, "Formulier verlopen",
                           "Het formulier is verlopen of kwam niet van carepath. Laad de pagina opnieuw.")

    @app.exception_handler(Invalid)
    async def invalid(request: Request, exc: Invalid) -> Response:
        lang = _language(request)
        text, detail = _engine_refusal(exc, lang)
        if detail is None:
            text = exc.text(lang)  # the portal's own words (a Dutch template of web/i18n)
        if _is_api(request):
            return api_error(422, "invalid", text, exc.field_texts(lang), detail=detail)
        return _page_error(request, 422, "Niet gelukt", text)

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Response:
        text, detail = _engine_refusal(exc, _language(request))
        if _is_api(request):
            return api_error(409, "conflict", text, detail=detail)
        return _page_error(request, 409, "Iemand was je voor", text)

    @app.exception_handler(PathwayWorkLimit)
    async def work_limit(request: Request, exc: PathwayWorkLimit) -> Response:
        if _is_api(request):
            code = {413: "too_large", 503: "busy"}.get(exc.status, "limit")
            return api_error(exc.status, code, str(exc))
        return _page_error(request, exc.status, "Niet gelukt", str(exc))

    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(StorageError)
    async def storage(request: Request, exc: Exception) -> Response:
        log.error("storage error on %s %s: %s", request.method, _route(request), type(exc).__name__)
        return _server_error(request, 503, "unavailable")

    @app.exception_handler(NotFoundError)
    async def engine_not_found(request: Request, exc: NotFoundError) -> Response:
        return _not_found(request)

    @app.exception_handler(CarepathError)
    async def carepath_error(request: Request, exc: CarepathError) -> Response:
        text, detail = _engine_refusal(exc, _language(request))
        if _is_api(request):
            return api_error(422, "refused", text, detail=detail)
        return _page_error(request, 422, "Niet gelukt", text)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        lang = _language(request)
        text, fields = request_problems(exc.errors(), lang)
        if _is_api(request):
            return api_error(422, "invalid", text, fields)
        heading, _intro = server_text(400, lang)  # a page: the address or form was not one carepath made
        return _page_error(request, 400, heading, text)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _not_found(request)
        headers = getattr(exc, "headers", None)
        code = {405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden",
                429: "too_many_requests", 413: "too_large", 415: "unsupported"}.get(exc.status_code, "error")
        if exc.status_code == 405:
            allowed = (headers or {}).get("Allow", "") or (headers or {}).get("allow", "")
            return _server_error(request, 405, code, headers=headers, method=request.method, allowed=allowed)
        detail = str(exc.detail)
        if detail == HTTPStatus(exc.status_code).phrase and exc.status_code in SERVER_TEXTS:
            return _server_error(request, exc.status_code, code, headers=headers)  # Starlette's English default
        if _is_api(request):
            return api_error(exc.status_code, code, detail, headers=headers)
        return _page_error(request, exc.status_code, "Niet gelukt", detail)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        # Only the route, the error's type and a reference: a message could quote what a worker typed.
        reference = "R-" + secrets.token_hex(4).upper()
        log.error("unexpected %s on %s %s (reference %s)", type(exc).__name__, request.method, _route(request),
                  reference)
        lang = _language(request)
        heading, text = server_text(500, lang, reference=reference)
        if _is_api(request):
            return api_error(500, "internal", text, reference=reference)
        return _page_error(request, 500, heading, text, reference)


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", None) or "(no route)"


def _not_found(request: Request) -> Response:
    return _server_error(request, 404, "not_found")


def route_table(app: FastAPI) -> list[tuple[str, str, bool]]:
    """(method, path, in the API description) of every route of the app, whatever the router nesting."""
    from fastapi import routing
    from fastapi.routing import APIRoute

    iterate = getattr(routing, "iter_route_contexts", None)
    contexts = list(iterate(app.routes)) if iterate is not None else list(app.routes)
    found = []
    for context in contexts:
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, str(getattr(context, "path", route.path)), bool(route.include_in_schema)))
    return found


def create_app(service: CaseService, db: Database | None = None, *, settings: WebSettings | None = None,
               **_offered: Any) -> FastAPI:
    """The web app on `service` (and its database `db`, default the service's). Extra keyword
    arguments that `carepath serve` offers (runtime, status, data_dir, demo) are accepted."""
    from web import api
    from web.pages import adhoc as adhoc_pages
    from web.pages import admin, auth, cases, inbox, pathways, reports, tasks, team, tokens, work
    from web.pages import clients as client_pages
    from web.pages import journal as journal_pages

    settings = settings or WebSettings.from_env()
    app = FastAPI(
        title="carepath API", version="1",
        description="Cases, tasks, pathways and municipal reports of carepath. Authenticate with "
                    "`Authorization: Bearer <token>` (an API token its holder made on 'Mijn account', possibly limited to named "
                    "operations or to a partner organisation's referrals). Objects the "
                    "caller may not see answer 404, exactly like objects that do not exist.",
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
    )
    app.state.portal = Portal(service, db or service.db, settings)
    app.state.templates = make_templates()
    app.state.runtime_status = _offered.get("status")
    app.state.pathway_work = PathwayWork(PathwayWorkLimits.from_env())
    _install_errors(app)
    app.add_middleware(RequestLimits)  # inside SecurityHeaders: its answers get the headers too
    app.add_middleware(SecurityHeaders)
    from web.tracing import Tracing

    app.add_middleware(Tracing)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for module in (auth, work, inbox, cases, tasks, team, pathways, reports, admin, tokens):
        app.include_router(module.router)
    from web import signals  # early signalling (DDAS): upload, result per signal, delivery download

    app.include_router(signals.router)
    app.include_router(journal_pages.router)
    app.include_router(client_pages.router)
    app.include_router(adhoc_pages.router)
    app.include_router(api.router)
    from web.pages import referrals as referral_pages  # partners in the loop (docs/partners.md)

    referral_pages.install(app)
    from web import fhir  # FHIR R5 read access for authorised systems (docs/exchange.md)

    app.include_router(fhir.router)
    api.install_openapi(app)
    return app


def app_from_env() -> FastAPI:
    """An app for `uvicorn --factory web.app:app_from_env [--workers N]`: the database from
    CAREPATH_DATABASE_URL (migrated, shipped pathways published), the system clock, settings from the
    CAREPATH_WEB_* variables. The timer sweep and dispatch run elsewhere (`carepath sweep`/`dispatch`)."""
    from integrations.clock import SystemClock
    from integrations.db.engine_factory import database_url
    from integrations.runtime.heap import settle
    from integrations.service import build_service

    app = create_app(build_service(database_url(), SystemClock()))
    settle()  # started: the start-up objects leave the collector's walks (integrations/runtime/heap.py)
    return app


def main(argv: list[str] | None = None) -> int:
    """Run the web app alone on a database (migrated, shipped pathways published)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m web.app", description=main.__doc__)
    parser.add_argument("--database-url", default=None, help="default: $CAREPATH_DATABASE_URL or ./data SQLite")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--demo", action="store_true", help="seed the demo accounts and cases first")
    args = parser.parse_args(argv)
    import uvicorn

    from integrations.clock import SystemClock
    from integrations.db.engine_factory import database_url
    from integrations.service import build_service

    service = build_service(args.database_url or database_url(), SystemClock())
    if args.demo:
        from web.demo import seed

        seed(service)
    app = create_app(service)
    from integrations.runtime.heap import settle

    settle()  # started: the start-up objects leave the collector's walks (integrations/runtime/heap.py)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
