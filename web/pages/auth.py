"""Signing in and out, the home redirect, language, and one's own account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from engine.errors import ValidationError
from integrations.db import accounts
from integrations.db.accounts import LockoutPolicy, SignInOutcome
from integrations.db.engine_factory import read_session, write_session
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
from web.timefmt import fmt_datetime
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


def _login_page(request: Request, error: str | None, username: str, status: int = 200,
                next_url: str = "") -> HTMLResponse:
    token = new_login_csrf()
    response = render(request, "login.html", {"error": error, "username": username, "login_csrf": token,
                                              "next": next_url},
                      status_code=status, title=translate("Inloggen", language(request)))
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
def login(request: Request, username: Annotated[str, Form(max_length=200)] = "",
          password: Annotated[str, Form(max_length=1000)] = "", csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "") -> Response:
    portal = portal_of(request)
    lang = language(request)
    try:
        check_login_csrf(request, csrf_token)
    except CsrfError:
        return _login_page(request, translate("Het formulier was verlopen. Probeer het opnieuw.", lang), username,
                           400, next)
    now = portal.now()
    policy = LockoutPolicy(portal.settings.lockout_after, portal.settings.lockout_for)
    with write_session(portal.db) as session:
        result = accounts.sign_in(session, username, password, now, policy)
        if result.outcome is SignInOutcome.OK and result.account is not None:
            value, _stored = accounts.start_session(session, result.account.id, now, portal.settings.session_max)
    if result.outcome is SignInOutcome.LOCKED:
        until = fmt_datetime(result.locked_until, lang)
        return _login_page(request, translate(
            "Te veel mislukte pogingen. Dit account is geblokkeerd tot {until}.", lang, until=until), username, 429,
            next)
    if result.outcome is not SignInOutcome.OK or result.account is None:
        return _login_page(request, translate("Gebruikersnaam of wachtwoord klopt niet.", lang), username, 401, next)
    target = safe_next(next, "") or home_of_account(result.account)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, portal, value)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    response.set_cookie(LANGUAGE_COOKIE, result.account.language, max_age=365 * 86400, path="/", samesite="lax",
                        httponly=True, secure=is_https(request, portal))
    return response


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


@router.get("/account")
def account_page(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = portal_of(request)
    with read_session(portal.db) as session:
        teams = accounts.list_teams(session, list(principal.teams)) if principal.teams else []
        tokens = accounts.list_tokens(session, principal.account.id)
    return render(request, "account.html", {"teams": teams, "tokens": tokens, "errors": {}},
                  principal=principal, title=translate("Mijn account", principal.language))


@router.post("/account/password")
def change_password(request: Request, principal: Annotated[Principal, Depends(form_principal)],
                    current: Annotated[str, Form(max_length=1000)] = "",
                    new: Annotated[str, Form(max_length=1000)] = "",
                    repeat: Annotated[str, Form(max_length=1000)] = "") -> Response:
    portal = portal_of(request)
    lang = principal.language
    errors: dict[str, str] = {}
    with write_session(portal.db) as session:
        if not accounts.verify_password(session, principal.account.id, current):
            errors["current"] = translate("Het huidige wachtwoord klopt niet.", lang)
        elif new != repeat:
            errors["repeat"] = translate("De twee nieuwe wachtwoorden zijn niet gelijk.", lang)
        else:
            try:
                accounts.check_password_rules(new, principal.username)
            except ValidationError:
                errors["new"] = translate("Minstens 10 tekens, en niet je gebruikersnaam.", lang)
        if not errors:
            accounts.set_password(session, principal.account.id, new, portal.now())
            value, _ = accounts.start_session(session, principal.account.id, portal.now(), portal.settings.session_max)
    if errors:
        with read_session(portal.db) as session:
            teams = accounts.list_teams(session, list(principal.teams)) if principal.teams else []
            tokens = accounts.list_tokens(session, principal.account.id)
        return render(request, "account.html", {"teams": teams, "tokens": tokens, "errors": errors},
                      principal=principal, status_code=422, title=translate("Mijn account", lang))
    response = redirect("/account", translate("Je wachtwoord is gewijzigd. Andere sessies zijn beëindigd.", lang))
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
