"""How the web app behaves: sessions, lock-out, cookies, languages. Defaults suit production."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta


@dataclass(frozen=True)
class WebSettings:
    session_idle: timedelta = timedelta(minutes=60)  # signed out after this long without a request
    session_max: timedelta = timedelta(hours=12)  # and after this long whatever happens
    lockout_after: int = 5  # failed sign-ins per address or user name before the growing delays start
    signin_account_cap: timedelta = timedelta(seconds=60)  # the longest wait for a user name (nobody locks anyone out)
    signin_source_cap: timedelta = timedelta(minutes=15)  # the longest wait for a source address
    # argon2 hashes at once (each takes ~0.1 s of a core and 64 MiB): sign-ins queue for these off the
    # event loop and off the shared thread pool, so a burst of sign-ins leaves other requests alone.
    hash_concurrency: int = field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2))
    signin_queue: int = 16  # sign-ins waiting for a hash at most, in all; more are answered 429 at once
    # Secure cookies: None = when the request came over https (behind a proxy: run uvicorn with
    # --proxy-headers so X-Forwarded-Proto counts); True/False to force.
    secure_cookies: bool | None = None
    default_language: str = "nl"
    languages: tuple[str, ...] = ("nl", "en")
    page_size: int = 50
    worklist_limit: int = 50  # rows per list on "My work", soonest due first (filters narrow it down)
    # Known municipalities (CBS code -> name), offered when a case is registered by hand.
    municipalities: Mapping[str, str] = field(default_factory=lambda: dict(MUNICIPALITIES))
    simulation_cases: int = 60  # the coordinator's dry run before publishing
    simulation_days: int = 180
    journal_edit_window: timedelta = timedelta(minutes=30)  # an author may change a journal entry this long
    title: str = "carepath"
    reports_per_hour: int = 60  # reports an analyst may draw up per hour (integrations/reporting/published.py)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        """Defaults, changed by CAREPATH_WEB_* variables (idle/max minutes, lock-out, secure cookies)."""
        env = os.environ if environ is None else environ
        settings = cls()
        if env.get("CAREPATH_WEB_SESSION_IDLE_MINUTES"):
            settings = replace(settings, session_idle=timedelta(minutes=int(env["CAREPATH_WEB_SESSION_IDLE_MINUTES"])))
        if env.get("CAREPATH_WEB_SESSION_MAX_HOURS"):
            settings = replace(settings, session_max=timedelta(hours=int(env["CAREPATH_WEB_SESSION_MAX_HOURS"])))
        if env.get("CAREPATH_WEB_REPORTS_PER_HOUR"):
            settings = replace(settings, reports_per_hour=int(env["CAREPATH_WEB_REPORTS_PER_HOUR"]))
        if env.get("CAREPATH_WEB_LOCKOUT_AFTER"):
            settings = replace(settings, lockout_after=int(env["CAREPATH_WEB_LOCKOUT_AFTER"]))
        if env.get("CAREPATH_WEB_SIGNIN_ACCOUNT_CAP_SECONDS"):
            settings = replace(settings, signin_account_cap=timedelta(
                seconds=int(env["CAREPATH_WEB_SIGNIN_ACCOUNT_CAP_SECONDS"])))
        if env.get("CAREPATH_WEB_SIGNIN_SOURCE_CAP_SECONDS"):
            settings = replace(settings, signin_source_cap=timedelta(
                seconds=int(env["CAREPATH_WEB_SIGNIN_SOURCE_CAP_SECONDS"])))
        if env.get("CAREPATH_WEB_HASH_CONCURRENCY"):
            settings = replace(settings, hash_concurrency=max(1, int(env["CAREPATH_WEB_HASH_CONCURRENCY"])))
        if env.get("CAREPATH_WEB_SIGNIN_QUEUE"):
            settings = replace(settings, signin_queue=max(1, int(env["CAREPATH_WEB_SIGNIN_QUEUE"])))
        if env.get("CAREPATH_WEB_JOURNAL_EDIT_MINUTES"):
            settings = replace(settings,
                               journal_edit_window=timedelta(minutes=int(env["CAREPATH_WEB_JOURNAL_EDIT_MINUTES"])))
        if env.get("CAREPATH_LANGUAGE", "").strip().lower().startswith("en"):
            settings = replace(settings, default_language="en")  # for people without their own setting
        secure = env.get("CAREPATH_WEB_SECURE_COOKIES", "").lower()
        if secure in ("1", "true", "yes"):
            settings = replace(settings, secure_cookies=True)
        elif secure in ("0", "false", "no"):
            settings = replace(settings, secure_cookies=False)
        return settings


# The municipalities of the shipped pathways' regions (CBS gemeentecodes, 2024).
MUNICIPALITIES: dict[str, str] = {
    "GM1966": "Het Hogeland",
    "GM1969": "Westerkwartier",
    "GM0014": "Groningen",
    "GM0344": "Utrecht",
    "GM0106": "Assen",
    "GM0114": "Emmen",
    "GM0118": "Hoogeveen",
    "GM0599": "Rotterdam",
    "GM0505": "Dordrecht",
}
