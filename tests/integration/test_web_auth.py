"""Signing in: argon2 hashes, session cookies, growing delays, CSRF, sign-out, API tokens (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from engine.clock import ManualClock
from integrations.db import accounts
from integrations.db.accounts import ApiTokenRow, SessionRow, UserRow
from integrations.db.engine_factory import read_session
from integrations.service import CaseService
from web.app import create_app
from web.settings import WebSettings
from web.testing import PASSWORD, WebClient, api_token, standard_accounts


@pytest.fixture
def app(service: CaseService, clock: ManualClock) -> FastAPI:
    standard_accounts(service.db, clock.now())
    return create_app(service, settings=WebSettings())


def test_anonymous_visitor_gets_the_dutch_sign_in_page(app: FastAPI) -> None:
    response = WebClient(app).get("/")
    assert response.status_code == 200
    assert '<html lang="nl">' in response.text
    assert 'id="username"' in response.text and 'id="password"' in response.text
    assert "Inloggen" in response.text


def test_pages_redirect_to_sign_in_and_back(app: FastAPI) -> None:
    client = WebClient(app)
    response = client.get("/cases?status=open")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/cases%3Fstatus%3Dopen"
    page = client.get(response.headers["location"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None and 'name="next" value="/cases?status=open"' in page.text
    signed_in = client.http.post("/login", data={"username": "wanda", "password": PASSWORD,
                                                 "csrf_token": token.group(1), "next": "/cases?status=open"})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/cases?status=open"


def test_no_open_redirect_after_sign_in(app: FastAPI) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client = WebClient(app)
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        response = client.http.post("/login", data={"username": "wanda", "password": PASSWORD,
                                                     "csrf_token": token.group(1), "next": target})
        assert response.headers["location"] == "/work", target


def test_passwords_are_argon2id_and_sessions_and_tokens_are_stored_hashed(service: CaseService, app: FastAPI,
                                                                           clock: ManualClock) -> None:
    client = WebClient(app)
    response = client.sign_in("wanda")
    cookie = response.cookies.get("carepath_session")
    assert cookie
    secret = api_token(service.db, "wanda", clock.now())
    with read_session(service.db) as session:
        stored = session.execute(select(UserRow.password_hash).where(UserRow.username == "wanda")).scalar_one()
        session_ids = list(session.execute(select(SessionRow.id_hash)).scalars())
        token_hashes = list(session.execute(select(ApiTokenRow.token_hash)).scalars())
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert cookie not in session_ids and accounts.sha256(cookie) in session_ids
    assert secret not in token_hashes and accounts.sha256(secret) in token_hashes


def test_session_cookie_is_httponly_lax_and_secure_over_https(app: FastAPI) -> None:
    plain = WebClient(app).sign_in("wanda")
    header = plain.headers["set-cookie"]
    assert "carepath_session=" in header and "HttpOnly" in header and "SameSite=lax" in header
    assert "Secure" not in header.split("carepath_lang")[0]
    secure = WebClient(app, base_url="https://testserver").sign_in("wanda")
    header = next(h for h in secure.headers.get_list("set-cookie") if "carepath_session" in h)
    assert header.startswith("__Host-carepath_session=")
    assert "HttpOnly" in header and "SameSite=lax" in header and "Secure" in header and "Path=/" in header


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(app: FastAPI) -> None:
    client = WebClient(app)
    wrong_password = client.sign_in("wanda", "not the password")
    unknown_user = client.sign_in("nobody", "not the password")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "Gebruikersnaam of wachtwoord klopt niet." in wrong_password.text
    assert "Gebruikersnaam of wachtwoord klopt niet." in unknown_user.text


def test_failures_slow_the_next_try_down_instead_of_locking_the_account(app: FastAPI, clock: ManualClock) -> None:
    client = WebClient(app)
    for _ in range(5):
        assert client.sign_in("wanda", "guess").status_code == 401
    waiting = client.sign_in("wanda", "guess")
    assert waiting.status_code == 429 and "Probeer het over 1 seconde opnieuw." in waiting.text
    assert waiting.headers["retry-after"] == "1"
    assert client.sign_in("wanda").status_code == 429  # even the right password waits its second
    clock.advance(timedelta(seconds=2))
    assert client.sign_in("wanda", "guess").status_code == 401  # the sixth failure: now two seconds
    clock.advance(timedelta(seconds=1))
    assert "Probeer het over 1 seconde" in client.sign_in("wanda").text
    clock.advance(timedelta(seconds=2))
    assert client.sign_in("wanda").status_code == 303  # never a lock: the right password gets in


def test_sign_in_form_needs_its_csrf_cookie(app: FastAPI) -> None:
    client = WebClient(app)
    response = client.http.post("/login", data={"username": "wanda", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert "carepath_session" not in response.headers.get("set-cookie", "")


def test_state_changes_need_the_session_csrf_token(service: CaseService, app: FastAPI) -> None:
    client = WebClient(app)
    client.sign_in("wanda")
    assert client.post("/logout", csrf=False).status_code == 403
    assert client.post("/logout", {"csrf_token": "wrong"}).status_code == 403
    assert client.get("/work").status_code == 200  # still signed in
    assert client.api("POST", "/api/tasks/C1.1/claim", headers={"X-CSRF-Token": "wrong"}).status_code == 403


def test_cross_site_posts_are_refused(app: FastAPI) -> None:
    client = WebClient(app)
    client.sign_in("wanda")
    response = client.post("/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert client.get("/work").status_code == 200


def test_sign_out_ends_the_session_on_the_server(app: FastAPI) -> None:
    client = WebClient(app)
    response = client.sign_in("wanda")
    cookie = response.cookies.get("carepath_session")
    assert client.post("/logout").status_code == 303
    replay = WebClient(app)
    replay.http.cookies.set("carepath_session", cookie or "")
    assert replay.get("/work").status_code == 303


def test_idle_sessions_expire(app: FastAPI, clock: ManualClock) -> None:
    client = WebClient(app)
    client.sign_in("wanda")
    clock.advance(timedelta(minutes=30))
    assert client.get("/work").status_code == 200
    clock.advance(timedelta(minutes=61))
    assert client.get("/work").status_code == 303


def test_security_headers_on_every_page(app: FastAPI) -> None:
    response = WebClient(app).get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_api_tokens_authenticate_systems(service: CaseService, app: FastAPI, clock: ManualClock) -> None:
    client = WebClient(app)
    secret = api_token(service.db, "wanda", clock.now())
    me = client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["actor"] == "user:wanda"
    assert client.get("/api/me").status_code == 401
    bad = client.get("/api/me", headers={"Authorization": "Bearer cpt_not-a-token"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthenticated"
    with read_session(service.db) as session:
        token_id = session.execute(select(ApiTokenRow.id)).scalar_one()
    from integrations.db.engine_factory import write_session

    with write_session(service.db) as session:
        accounts.revoke_token(session, token_id, clock.now())
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_changing_the_password_ends_other_sessions(app: FastAPI) -> None:
    first, second = WebClient(app), WebClient(app)
    first.sign_in("wanda")
    second.sign_in("wanda")
    new = "a brand new passphrase"
    response = first.post("/account/password", {"current": PASSWORD, "new": new, "repeat": new})
    assert response.status_code == 303
    assert first.get("/work").status_code == 200
    assert second.get("/work").status_code == 303
    assert WebClient(app).sign_in("wanda", new).status_code == 303
