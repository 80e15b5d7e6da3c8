"""Who is asking: server-side sessions (cookie) for people, bearer tokens for systems, and CSRF.

A session cookie holds only a random id; the session row (its SHA-256) holds
the user and the CSRF token every state-changing form and htmx request must
echo (`csrf_token` field or `X-CSRF-Token` header). The cookie is HttpOnly,
SameSite=Lax, and Secure (named `__Host-...`) when the request came over https.
API clients send `Authorization: Bearer cpt_...`; such requests carry no
cookie, so they need no CSRF token. The sign-in form itself is protected with
a double-submit cookie, so nobody can sign a visitor in as someone else.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import Request, Response

from integrations.db import accounts
from integrations.db.engine_factory import read_session, snapshot_connection, write_session
from web.principal import Principal

if TYPE_CHECKING:
    from web.portal import Portal

__all__ = ["AuthError", "CsrfError", "Principal"]

SESSION_COOKIE = "carepath_session"
SECURE_SESSION_COOKIE = "__Host-carepath_session"
LOGIN_CSRF_COOKIE = "carepath_login_csrf"
LANGUAGE_COOKIE = "carepath_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
TOUCH_EVERY = timedelta(minutes=1)  # a session's last-seen moment is written at most this often
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuthError(Exception):
    """No valid session or token (401; pages redirect to sign-in)."""


class CsrfError(Exception):
    """A state-changing request without the right CSRF token (403)."""


def is_https(request: Request, portal: Portal) -> bool:
    forced = portal.settings.secure_cookies
    if forced is not None:
        return forced
    return request.url.scheme == "https"


def session_cookie_name(request: Request, portal: Portal) -> str:
    return SECURE_SESSION_COOKIE if is_https(request, portal) else SESSION_COOKIE


def set_session_cookie(response: Response, request: Request, portal: Portal, value: str) -> None:
    response.set_cookie(
        session_cookie_name(request, portal), value, max_age=int(portal.settings.session_max.total_seconds()),
        path="/", httponly=True, samesite="lax", secure=is_https(request, portal),
    )


def clear_session_cookie(response: Response, request: Request, portal: Portal) -> None:
    for name in (SESSION_COOKIE, SECURE_SESSION_COOKIE):
        if name in request.cookies:
            response.delete_cookie(name, path="/", httponly=True, samesite="lax",
                                   secure=name == SECURE_SESSION_COOKIE)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return value.strip()


def resolve(request: Request, portal: Portal) -> Principal | None:
    """The principal of this request (cached on it), None when nobody is signed in.
    AuthError for a bearer token that is not valid: a system should hear that at once."""
    if hasattr(request.state, "principal"):
        found: Principal | None = request.state.principal
        return found
    principal = _resolve(request, portal)
    request.state.principal = principal
    return principal


def _resolve(request: Request, portal: Portal) -> Principal | None:
    now = portal.now()
    secret = _bearer(request)
    if secret is not None:
        with read_session(portal.db) as session:
            token = accounts.find_token(session, secret, now)
            account = None if token is None else accounts.get_account(session, token.user_id)
        if token is None or account is None or not account.active:
            raise AuthError("the API token is not valid (unknown, revoked or expired)")
        if token.last_used_at is None or now - token.last_used_at > timedelta(hours=1):
            with write_session(portal.db) as session:
                accounts.note_token_use(session, token.id, now)
        return Principal(account, "token", token_id=token.id, operations=token.operations,
                         partner=token.partner_organisation or (account.organisation if account.system else None))
    value = request.cookies.get(SECURE_SESSION_COOKIE) or request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    settings = portal.settings
    with snapshot_connection(portal.db) as connection:  # on every request: no BEGIN and ROLLBACK round trips
        found = accounts.session_account(connection, value, now, settings.session_idle)
    if found is None or not found[1].active:
        return None
    stored, account = found
    if now - stored.last_seen_at >= TOUCH_EVERY:
        with write_session(portal.db) as session:
            accounts.touch_session(session, stored.id_hash, now)
    return Principal(account, "session", session_hash=stored.id_hash, csrf_token=stored.csrf_token)


def check_csrf(principal: Principal, submitted: str | None) -> None:
    """A cookie-authenticated state change must echo the session's CSRF token."""
    if principal.via != "session":
        return
    expected = principal.csrf_token or ""
    if not submitted or not hmac.compare_digest(submitted, expected):
        raise CsrfError("the form has expired or did not come from carepath; reload the page and try again")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def check_login_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise CsrfError("the sign-in form has expired; reload the page and try again")


def same_origin(request: Request) -> bool:
    """False when a browser says the request came from another site (Origin or Referer)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin != "null"
    from urllib.parse import urlsplit

    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.netloc == host


def expired(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now
