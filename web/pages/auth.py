"""Signing in and out, the home redirect, language, and one's own account."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from engine.errors import ValidationError
from integrations.db import accounts, signin_throttle
from integrations.db.engine_factory import read_session, write_session
from integrations.db.signin_throttle import ThrottlePolicy
from web import password_work
from web.auth import (
    LANGUAGE_COOKIE,
    LOGIN_CSRF_COOKIE,
    CsrfError,
    Principal,
    check_login_csrf,
    clear_session_cookie,
    is_https,
    new_login_csrf,
    set_session_cookie,
)
from web.i18n import LANGUAGES, translate
from web.ui import (
    form_principal,
    home_of,
    language,
    optional_principal,
    page_principal,
    portal_of,
    redirect,
    render,
    safe_next,
)

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    principal = optional_principal(request)
    if principal is None:
        return _login_page(request, None, "")
    return RedirectResponse(home_of(principal), status_code=303)


DEMO_SEEDING = "De demogegevens worden nog klaargezet. Over een paar seconden kun je inloggen."


def demo_seeding(request: Request) -> bool:
    """True while `carepath serve --demo` is still making the demo data (it listens before that is
    done): sign-in waits, so nobody sees or changes a half-made demo."""
    status = getattr(request.app.state, "runtime_status", None)
    return getattr(status, "demo", None) == "seeding"


def _login_page(request: Request, error: str | None, username: str, status: int = 200,
                next_url: str = "") -> HTMLResponse:
    token = new_login_csrf()
    notice = translate(DEMO_SEEDING, language(request)) if error is None and demo_seeding(request) else None
    response = render(request, "login.html", {"error": error, "notice": notice, "username": username,
                                              "login_csrf": token, "next": next_url},
                      status_code=status, title=translate("Inloggen", language(request)))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path="/", httponly=True, samesite="lax",
                        secure=is_https(request, portal_of(request)))
    return response


_WAIT_PAGE = (
    '<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/static/app.css">'
    '</head><body><main class="login"><div class="login-card"><h1>{title}</h1>'
    '<div class="alert alert-error" role="alert" id="login-error">{message}</div>'
    '<form method="post" action="/login" class="stack" novalidate>'
    '<input type="hidden" name="csrf_token" value="{token}"><input type="hidden" name="next" value="{next}">'
    '<div class="field"><label for="username">{user_label}</label><input id="username" name="username" type="text" '
    'autocomplete="username" required value="{username}"></div>'
    '<div class="field"><label for="password">{password_label}</label><input id="password" name="password" '
    'type="password" autocomplete="current-password" required></div>'
    '<button type="submit" class="btn btn-primary btn-wide">{button}</button></form></div></main></body></html>'
)


def _wait_page(request: Request, message: str, username: str, next_url: str, retry_after: int) -> HTMLResponse:
    """The sign-in form with a 429 message, without the template engine: a flood of tries during a wait
    costs little, so other people's pages do not wait for it."""
    from markupsafe import escape

    lang = language(request)
    token = new_login_csrf()
    body = _WAIT_PAGE.format(
        lang=lang, title=escape(translate("Inloggen bij carepath", lang)), message=escape(message), token=token,
        next=escape(safe_next(next_url, "")), username=escape(username[:200]),
        user_label=escape(translate("Gebruikersnaam", lang)), password_label=escape(translate("Wachtwoord", lang)),
        button=escape(translate("Inloggen", lang)))
    response = HTMLResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path="/", httponly=True, samesite="lax",
                        secure=is_https(request, portal_of(request)))
    return response


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    principal = optional_principal(request)
    if principal is not None:
        return RedirectResponse(safe_next(next, home_of(principal)), status_code=303)
    return _login_page(request, None, "", next_url=safe_next(next, ""))


@router.post("/login")
async def login(request: Request, username: Annotated[str, Form(max_length=200)] = "",
                password: Annotated[str, Form(max_length=1000)] = "", csrf_token: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "") -> Response:
    """Sign in. The argon2 work runs outside any transaction, a few at a time and off the event
    loop (`web/password_work.py`); failures slow the next try per address and per user name."""
    portal = portal_of(request)
    lang = language(request)
    try:
        check_login_csrf(request, csrf_token)
    except CsrfError:
        return _login_page(request, translate("Het formulier was verlopen. Probeer het opnieuw.", lang), username,
                           400, next)
    if demo_seeding(request):
        response = _login_page(request, translate(DEMO_SEEDING, lang), username, 503, next)
        response.headers["Retry-After"] = "5"
        return response
    settings = portal.settings
    policy = ThrottlePolicy(free_failures=settings.lockout_after, account_cap=settings.signin_account_cap,
                            source_cap=settings.signin_source_cap)
    source = request.client.host if request.client else "unknown"
    name = username.strip().lower()[:64]
    now = portal.now()

    def wait_and_record() -> tuple[timedelta | None, accounts.PasswordRecord | None]:
        with read_session(portal.db) as session:
            wait = signin_throttle.wait_needed(
                session, [signin_throttle.source_key(source), signin_throttle.account_key(name)], now)
            return wait, (None if wait else accounts.password_record(session, name))

    waits = signin_waits(request)
    keys = [signin_throttle.source_key(source), signin_throttle.account_key(name)]
    wait = waits.longest(keys, now)  # a try during a known wait costs no database read
    record = None
    if wait is None:
        wait, record = await run_in_threadpool(wait_and_record)
    if wait is not None:
        seconds = max(1, math.ceil(wait.total_seconds()))
        text = "Te veel mislukte pogingen. Probeer het over 1 seconde opnieuw." if seconds == 1 else \
            "Te veel mislukte pogingen. Probeer het over {n} seconden opnieuw."
        return _wait_page(request, translate(text, lang, n=seconds), username, next, seconds)
    with password_work.IN_FLIGHT.admit(source, settings.lockout_after, settings.signin_queue) as admitted:
        if not admitted:  # too many sign-ins at once (from this address, or in all): no queue of hashes
            return _wait_page(request, translate(
                "Te veel aanmeldingen tegelijk. Probeer het over een paar seconden opnieuw.", lang), username, next, 5)
        good = await password_work.verify(settings.hash_concurrency, record.password_hash if record else None,
                                          password)
    if not good or record is None or not record.active:
        def failed() -> None:
            with write_session(portal.db) as session:
                waits.note(signin_throttle.record_failure(session, source, name, portal.now(), policy), now)

        await run_in_threadpool(failed)
        return _login_page(request, translate("Gebruikersnaam of wachtwoord klopt niet.", lang), username, 401, next)
    new_hash = await password_work.hash_new(settings.hash_concurrency, password) \
        if accounts.needs_rehash(record.password_hash) else None

    def succeeded() -> tuple[str, accounts.Account]:
        with write_session(portal.db) as session:
            account = accounts.signed_in(session, record.user_id, portal.now(), new_hash)
            signin_throttle.clear_account(session, name)
            waits.forget(signin_throttle.account_key(name))
            value, _stored = accounts.start_session(session, account.id, portal.now(), settings.session_max)
        return value, account

    value, account = await run_in_threadpool(succeeded)
    target = "/account" if account.must_change_password else (safe_next(next, "") or home_of_account(account))
    signed_in = RedirectResponse(target, status_code=303)
    set_session_cookie(signed_in, request, portal, value)
    signed_in.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    signed_in.set_cookie(LANGUAGE_COOKIE, account.language, max_age=365 * 86400, path="/", samesite="lax",
                        httponly=True, secure=is_https(request, portal))
    return signed_in


def signin_waits(request: Request) -> password_work.Waits:
    """The sign-in waits this app knows of (one per app, so tests with their own apps do not share them)."""
    found = getattr(request.app.state, "signin_waits", None)
    if found is None:
        found = request.app.state.signin_waits = password_work.Waits()
    return found


def home_of_account(account: accounts.Account) -> str:
    from integrations.db.accounts import AccountRole

    return {AccountRole.ANALYST: "/reports", AccountRole.ADMIN: "/admin/users",
            AccountRole.PARTNER: "/verwijzingen"}.get(account.role, "/work")


@router.post("/logout")
def logout(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    if principal.session_hash:
        with write_session(portal.db) as session:
            accounts.end_session(session, principal.session_hash)
    response = redirect("/login", translate("Je bent uitgelogd.", principal.language))
    clear_session_cookie(response, request, portal)
    return response


@router.post("/language")
async def set_language(request: Request) -> Response:
    """Switch the interface language (remembered in the account, or a cookie before signing in)."""
    portal = portal_of(request)
    form = await request.form()
    chosen = str(form.get("language") or "")
    back = safe_next(str(form.get("next") or ""), "/")
    if chosen not in LANGUAGES:
        return RedirectResponse(back, status_code=303)
    principal = optional_principal(request)
    if principal is not None:
        from web.auth import check_csrf

        submitted = form.get("csrf_token")
        check_csrf(principal, submitted if isinstance(submitted, str) else None)
        with write_session(portal.db) as session:
            accounts.update_account(session, principal.account.id, language=chosen)
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=365 * 86400, path="/", samesite="lax", httponly=True,
                        secure=is_https(request, portal))
    return response


def account_response(request: Request, principal: Principal, errors: dict[str, str], status: int = 200,
                  new_token: str | None = None) -> Response:
    from web.token_scope import OPERATIONS

    portal = portal_of(request)
    with read_session(portal.db) as session:
        teams = accounts.list_teams(session, list(principal.teams)) if principal.teams else []
        tokens = accounts.list_tokens(session, principal.account.id)
    return render(request, "account.html", {"teams": teams, "tokens": tokens, "errors": errors,
                                            "new_token": new_token, "token_operations": OPERATIONS},
                  principal=principal, status_code=status, title=translate("Mijn account", principal.language))


@router.get("/account")
def account_page(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    return account_response(request, principal, {})


@router.post("/account/password")
def change_password(request: Request, principal: Annotated[Principal, Depends(form_principal)],
                    current: Annotated[str, Form(max_length=1000)] = "",
                    new: Annotated[str, Form(max_length=1000)] = "",
                    repeat: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """A person changes their own password (also the temporary one an administrator gave them).
    Hashing happens outside the write transaction."""
    portal = portal_of(request)
    lang = principal.language
    errors: dict[str, str] = {}
    with read_session(portal.db) as session:
        record = accounts.password_record(session, principal.username)
    if record is None or not accounts.verify_hash(record.password_hash, current):
        errors["current"] = translate("Het huidige wachtwoord klopt niet.", lang)
    elif new != repeat:
        errors["repeat"] = translate("De twee nieuwe wachtwoorden zijn niet gelijk.", lang)
    elif new == current:
        errors["new"] = translate("Kies een ander wachtwoord dan het huidige.", lang)
    else:
        try:
            accounts.check_password_rules(new, principal.username, others=[principal.account.display_name])
        except ValidationError as exc:
            errors["new"] = str(exc)[:1].upper() + str(exc)[1:] + "."
    if errors:
        return account_response(request, principal, errors, 422)
    hashed = accounts.hash_password(new)
    with write_session(portal.db) as session:
        accounts.set_password(session, principal.account.id, new, portal.now(), check_rules=False,
                              password_hash=hashed)
        value, _ = accounts.start_session(session, principal.account.id, portal.now(), portal.settings.session_max)
    target = home_of_account(principal.account) if principal.account.must_change_password else "/account"
    response = redirect(target, translate("Je wachtwoord is gewijzigd. Andere sessies zijn beëindigd.", lang))
    set_session_cookie(response, request, portal, value)
    return response


@router.get("/health", response_class=JSONResponse)
def health(request: Request) -> JSONResponse:
    from sqlalchemy import text

    portal = portal_of(request)
    database = "ok"
    try:
        with portal.db.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:  # the health check reports, it does not fail
        database = f"unavailable: {type(exc).__name__}"
    body: dict[str, object] = {"status": "ok" if database == "ok" else "degraded", "database": database}
    status = getattr(request.app.state, "runtime_status", None)
    if status is not None and hasattr(status, "to_json"):
        body["runtime"] = status.to_json()
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
