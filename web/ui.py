"""Shared plumbing of the HTML pages: templates, the signed-in person, CSRF, flash messages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from integrations.db.accounts import AccountRole
from web import timefmt
from web.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    LANGUAGE_COOKIE,
    AuthError,
    Principal,
    check_csrf,
    resolve,
)
from web.i18n import LANGUAGES, pick_language, translate
from web.portal import Portal

TEMPLATES_DIR = Path(__file__).parent / "templates"
FLASH_COOKIE = "carepath_flash"


class SignInRequired(Exception):
    """A page for signed-in people only: redirect to the sign-in page (and come back after)."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.globals["ROLE"] = AccountRole
    env.filters["tojson_attr"] = lambda value: json.dumps(value, ensure_ascii=False)
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
    return templates


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def language(request: Request, principal: Principal | None = None) -> str:
    portal = portal_of(request)
    return pick_language(
        principal.language if principal is not None else None,
        request.cookies.get(LANGUAGE_COOKIE),
        default=portal.settings.default_language,
    )


def optional_principal(request: Request) -> Principal | None:
    try:
        return resolve(request, portal_of(request))
    except AuthError:
        return None


class PasswordChangeRequired(Exception):
    """The password is a temporary one an administrator set: change it first (a redirect to /account)."""


# What a person with a temporary password, or a partner's system account, may still open.
_ACCOUNT_PATHS = ("/account", "/account/password", "/logout", "/language")


def page_principal(request: Request) -> Principal:
    """The signed-in person of a page; SignInRequired (a redirect) when there is none. A temporary
    password must be changed first; a system account uses the API and only its own account page."""
    principal = optional_principal(request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    path = request.url.path
    if principal.account.must_change_password and path not in _ACCOUNT_PATHS:
        raise PasswordChangeRequired(path)
    if principal.account.system and path not in _ACCOUNT_PATHS and not path.startswith("/account/"):
        from web.portal import Refused

        raise Refused("een systeemaccount gebruikt de API met een eigen token, niet de pagina's")
    return principal


async def form_principal(request: Request) -> Principal:
    """The signed-in person of a state-changing page request, with its CSRF token checked."""
    principal = page_principal(request)
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    check_csrf(principal, submitted)
    return principal


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site (no scheme, no host, no //): an open redirect is a phishing aid."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def home_of(principal: Principal) -> str:
    if principal.role is AccountRole.ANALYST:
        return "/reports"
    if principal.role is AccountRole.ADMIN:
        return "/admin/users"
    if principal.role is AccountRole.PARTNER:
        return "/verwijzingen"
    return "/work"


def redirect(url: str, message: str | None = None, kind: str = "ok") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        flash(response, message, kind)
    return response


def flash(response: Response, message: str, kind: str = "ok") -> None:
    response.set_cookie(FLASH_COOKIE, quote(json.dumps({"m": message, "k": kind})), max_age=60, path="/",
                        httponly=True, samesite="lax")


def _take_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    from urllib.parse import unquote

    try:
        data = json.loads(unquote(raw))
        return {"message": str(data["m"]), "kind": str(data.get("k", "ok"))}
    except (ValueError, KeyError, TypeError):
        return None


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           principal: Principal | None = None, status_code: int = 200, title: str = "") -> HTMLResponse:
    portal = portal_of(request)
    lang = language(request, principal)
    now = portal.now()

    def _(text: str, **values: Any) -> str:
        return translate(text, lang, **values)

    ctx: dict[str, Any] = {
        "request": request, "p": principal, "lang": lang, "_": _, "now": now, "title": title,
        "csrf": principal.csrf_token if principal is not None else "",
        "csrf_field": Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{principal.csrf_token}">')
        if principal is not None and principal.csrf_token else Markup(""),
        "languages": LANGUAGES, "app_title": portal.settings.title,
        "dt": lambda v: timefmt.fmt_datetime(v, lang), "d": lambda v: timefmt.fmt_date(v, lang),
        "iso": timefmt.iso_local, "rel": lambda v: timefmt.relative(v, now, lang),
        "urgency": lambda v: timefmt.urgency(v, now),
        "flash": _take_flash(request), "path": request.url.path,
    }
    if context:
        ctx.update(context)
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if ctx["flash"] is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def minutes_ago(moment: datetime | None, now: datetime) -> int:
    return 0 if moment is None else int((now - moment).total_seconds() // 60)
