"""People and systems that use the web app: accounts, teams, sessions, API tokens and drafts.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106 low-memory
profile); a hash made with older parameters is upgraded at the next sign-in.
Session ids and API tokens are long random strings of which only the SHA-256
is stored, so a copy of the database signs nobody in. Failed sign-ins slow the
next try down (`signin_throttle.py`: growing delays, never a hard lock); the same
answer and about the same work is done for an unknown user name, so the sign-in
page does not tell which names exist.

These tables sit on the case tables' `Base` (one schema, migration
`0003_web_accounts`). Nothing here holds client data except `task_drafts`:
a worker's unfinished form, deleted when the task is completed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import ConflictError, NotFoundError, ValidationError
from engine.funding import parse_funder_key
from integrations.db.models import Base, UTCDateTime
from integrations.db.sql import rowcount


class AccountRole(str, Enum):
    """What a person does in carepath (not a pathway role: those are `pathway_roles`)."""

    WORKER = "worker"
    COORDINATOR = "coordinator"
    ANALYST = "analyst"  # municipality: aggregates of the cases it commissions, never a client
    ADMIN = "admin"  # accounts, teams and API tokens; no case data
    PARTNER = "partner"  # a partner organisation's contact: only referrals addressed to it (pathway_roles, teams)


class TeamRow(Base):
    __tablename__ = "web_teams"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the `team` of cases
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))


class UserRow(Base):
    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))  # AccountRole
    organisation: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str | None] = mapped_column(String(6))  # CBS code (GM0344) for analysts
    funder: Mapped[str | None] = mapped_column(String(100))  # funder key (engine/funding.py): a funder's analyst
    pathway_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)  # set by an administrator
    system: Mapped[bool] = mapped_column(Boolean, default=False)  # a partner system: API only, scoped tokens


class UserTeamRow(Base):
    __tablename__ = "web_user_teams"

    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), primary_key=True)
    team: Mapped[str] = mapped_column(ForeignKey("web_teams.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_web_user_teams_team", "team"),)


class SessionRow(Base):
    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiTokenRow(Base):
    __tablename__ = "web_api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists so a token can be recognised
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    operations: Mapped[list[str] | None] = mapped_column(JSON)  # None: every operation of the account
    partner_organisation: Mapped[str | None] = mapped_column(String(200))  # only this partner's referrals


class TaskDraftRow(Base):
    __tablename__ = "web_task_drafts"

    task_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the submitted form fields, as typed
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SettingRow(Base):
    """Small facts the web app keeps (e.g. when the demo data was seeded)."""

    __tablename__ = "web_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- plain views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    organisation: str


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    email: str | None
    role: AccountRole
    organisation: str
    municipality: str | None
    pathway_roles: tuple[str, ...]
    teams: tuple[str, ...]
    language: str
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    must_change_password: bool = False  # an administrator set the password: change it before anything else
    system: bool = False  # a partner system: API only, with tokens limited to its organisation
    funder: str | None = None  # an analyst of a funder other than a municipality: its funder key

    @property
    def actor(self) -> str:
        """The id the engine records for this person (task assignee, event actor)."""
        return actor_id(self.username)


def actor_id(username: str) -> str:
    return f"user:{username}"


def username_of(actor: str | None) -> str | None:
    """The user name in an engine actor/worker id `user:<name>`; None for other actors."""
    if actor is None or not actor.startswith("user:"):
        return None
    return actor[5:]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- passwords --------------------------------------------------------------------------------------

_HASHER = PasswordHasher()
_DUMMY_HASH: str | None = None  # made at the first verify: hashing at import cost every CLI command ~0.3 s CPU
MIN_PASSWORD_LENGTH = 10


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _HASHER.hash("carepath: a password nobody has")
    return _DUMMY_HASH


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash with other argon2 parameters from now on (tests use cheap ones; hashes made with other
    parameters still verify, and are upgraded at the next sign-in)."""
    global _HASHER, _DUMMY_HASH
    _HASHER = hasher
    _DUMMY_HASH = None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password_rules(password: str, username: str, *, others: Sequence[str] = ()) -> None:
    """ValidationError naming, in Dutch, what is wrong with a new password: too short, the user
    name in it, or too easy to guess (a strength estimator, `integrations/db/password_strength.py`)."""
    from integrations.db.password_strength import check_strength

    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"een wachtwoord heeft minstens {MIN_PASSWORD_LENGTH} tekens")
    if len(username) >= 4 and username.lower() in password.lower():
        raise ValidationError("een wachtwoord mag de gebruikersnaam niet bevatten")
    check_strength(password, [username, *others])


class SignInOutcome(str, Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"  # unknown user, wrong password or inactive account


@dataclass(frozen=True)
class PasswordRecord:
    """What checking a password needs, read before any hashing (so no transaction waits on argon2)."""

    user_id: int
    username: str
    password_hash: str
    active: bool


# --- loading ----------------------------------------------------------------------------------------


def _teams_of(session: Session, user_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {i: [] for i in user_ids}
    if not user_ids:
        return found
    rows = session.execute(
        select(UserTeamRow.user_id, UserTeamRow.team).where(UserTeamRow.user_id.in_(list(user_ids)))
        .order_by(UserTeamRow.team)
    )
    for user_id, team in rows:
        found[user_id].append(team)
    return found


# What an Account is made of, in the order `_account_of` takes it (the session lookup reads these
# columns, not the mapped row: no ORM instance on every request).
_ACCOUNT_COLUMNS = ("id", "username", "display_name", "email", "role", "organisation", "municipality",
                    "pathway_roles", "language", "active", "locked_until", "last_login_at", "funder",
                    "must_change_password", "system")


def _account(row: UserRow, teams: Iterable[str]) -> Account:
    return _account_of([getattr(row, name) for name in _ACCOUNT_COLUMNS], teams)


def _account_of(values: Sequence[Any], teams: Iterable[str]) -> Account:
    (id_, username, display_name, email, role, organisation, municipality, pathway_roles, language, active,
     locked_until, last_login_at, funder, must_change_password, system) = values
    return Account(
        id=id_, username=username, display_name=display_name, email=email, role=AccountRole(role),
        organisation=organisation, municipality=municipality, pathway_roles=tuple(pathway_roles or ()),
        teams=tuple(teams), language=language, active=active, locked_until=locked_until,
        last_login_at=last_login_at, funder=funder, must_change_password=bool(must_change_password),
        system=bool(system),
    )


def get_account(session: Session, user_id: int) -> Account | None:
    row = session.get(UserRow, user_id)
    if row is None:
        return None
    return _account(row, _teams_of(session, [row.id])[row.id])


def find_account(session: Session, username: str) -> Account | None:
    row = session.execute(select(UserRow).where(UserRow.username == username.strip().lower())).scalar_one_or_none()
    if row is None:
        return None
    return _account(row, _teams_of(session, [row.id])[row.id])


def list_accounts(session: Session, *, teams: Sequence[str] | None = None,
                  role: AccountRole | None = None) -> list[Account]:
    """Every account (or those in any of `teams`, or with `role`), by display name."""
    query = select(UserRow)
    if teams is not None:
        query = query.where(UserRow.id.in_(select(UserTeamRow.user_id).where(UserTeamRow.team.in_(list(teams)))))
    if role is not None:
        query = query.where(UserRow.role == role.value)
    rows = list(session.execute(query.order_by(UserRow.display_name, UserRow.username)).scalars())
    by_user = _teams_of(session, [r.id for r in rows])
    return [_account(r, by_user[r.id]) for r in rows]


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    names = sorted(set(usernames))
    if not names:
        return {}
    rows = session.execute(select(UserRow.username, UserRow.display_name).where(UserRow.username.in_(names)))
    return {u: d for u, d in rows}


# --- teams ------------------------------------------------------------------------------------------


def upsert_team(session: Session, team_id: str, name: str, organisation: str) -> Team:
    row = session.get(TeamRow, team_id)
    if row is None:
        session.add(TeamRow(id=team_id, name=name, organisation=organisation))
    else:
        row.name, row.organisation = name, organisation
    session.flush()
    return Team(team_id, name, organisation)


def organisations(session: Session, municipalities: Iterable[str] = ()) -> list[str]:
    """The organisations of the account registry, to choose from: those of the teams, the
    municipalities ("Gemeente <name>", for analysts) and those of administrators."""
    found = {org for (org,) in session.execute(select(TeamRow.organisation).distinct())}
    found |= {f"Gemeente {name}" for name in municipalities}
    found |= {org for (org,) in session.execute(select(UserRow.organisation).where(
        UserRow.role == AccountRole.ADMIN.value).distinct())}
    return sorted(found, key=str.lower)


def list_teams(session: Session, ids: Sequence[str] | None = None) -> list[Team]:
    query = select(TeamRow).order_by(TeamRow.name)
    if ids is not None:
        query = query.where(TeamRow.id.in_(list(ids)))
    return [Team(r.id, r.name, r.organisation) for r in session.execute(query).scalars()]


# --- account changes --------------------------------------------------------------------------------


def create_account(
    session: Session, *, username: str, display_name: str, password: str, role: AccountRole, organisation: str,
    now: datetime, teams: Sequence[str] = (), pathway_roles: Sequence[str] = (), municipality: str | None = None,
    email: str | None = None, language: str = "nl", check_rules: bool = True, must_change_password: bool = False,
    system: bool = False, password_hash: str | None = None, funder: str | None = None,
) -> Account:
    username = username.strip().lower()
    if not username or not all(ch.isalnum() or ch in "-_." for ch in username) or len(username) > 64:
        raise ValidationError("a user name uses letters, digits, '-', '_' and '.' only (at most 64)")
    if check_rules:
        check_password_rules(password, username)
    if session.execute(select(UserRow.id).where(UserRow.username == username)).first() is not None:
        raise ConflictError(f"user name {username} is taken")
    _check_account_shape(session, role, teams, municipality, organisation, funder)
    row = UserRow(
        username=username, display_name=display_name.strip() or username, email=email, role=role.value,
        organisation=organisation, municipality=municipality, pathway_roles=list(pathway_roles),
        language=language, password_hash=password_hash or hash_password(password), active=True, failed_logins=0,
        created_at=now, password_changed_at=now, must_change_password=must_change_password, system=system,
        funder=funder if role is AccountRole.ANALYST else None,
    )
    session.add(row)
    session.flush()
    _set_teams(session, row.id, teams)
    return _account(row, sorted(set(teams)))


def _check_account_shape(session: Session, role: AccountRole, teams: Sequence[str], municipality: str | None,
                         organisation: str | None = None, funder: str | None = None) -> None:
    all_teams = {t.id: t for t in list_teams(session)}
    unknown = sorted(set(teams) - set(all_teams))
    if unknown:
        raise ValidationError(f"unknown team(s): {', '.join(unknown)}")
    if organisation is not None and role in (AccountRole.WORKER, AccountRole.COORDINATOR):
        # The organisation is what pathway ownership is checked against: it must be the teams' own.
        others = sorted({all_teams[t].organisation for t in teams} - {organisation})
        if others:
            raise ValidationError(f"een medewerker of coördinator hoort bij de organisatie van zijn teams "
                                  f"({', '.join(others)}), niet bij {organisation}")
    if role is AccountRole.ANALYST and funder is not None:
        parse_funder_key(funder)  # a funder's analyst: aggregates of the cases that funder pays for
    elif role is AccountRole.ANALYST and not is_cbs_code(municipality):
        raise ValidationError("an analyst needs a municipality: its CBS code, e.g. GM0344")
    if role in (AccountRole.WORKER, AccountRole.COORDINATOR) and not teams:
        raise ValidationError("a worker or coordinator belongs to at least one team")
    if role is AccountRole.PARTNER and not teams:
        raise ValidationError("a partner account serves at least one team (the teams whose referrals it answers)")


def is_cbs_code(code: str | None) -> bool:
    """A municipality's CBS code: GM and four digits (GM0344 is Utrecht)."""
    return code is not None and len(code) == 6 and code.startswith("GM") and code[2:].isdigit()


def _set_teams(session: Session, user_id: int, teams: Iterable[str]) -> None:
    session.execute(delete(UserTeamRow).where(UserTeamRow.user_id == user_id))
    chosen = sorted(set(teams))
    if chosen:
        session.execute(insert(UserTeamRow), [{"user_id": user_id, "team": t} for t in chosen])


def update_account(
    session: Session, user_id: int, *, display_name: str | None = None, role: AccountRole | None = None,
    organisation: str | None = None, teams: Sequence[str] | None = None,
    pathway_roles: Sequence[str] | None = None, municipality: str | None = None, email: str | None = None,
    active: bool | None = None, language: str | None = None, system: bool | None = None,
) -> Account:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFoundError(f"no account {user_id}")
    new_role = role or AccountRole(row.role)
    new_teams = list(teams) if teams is not None else _teams_of(session, [user_id])[user_id]
    new_municipality = municipality if municipality is not None else row.municipality
    _check_account_shape(session, new_role, new_teams, new_municipality,
                         organisation if organisation is not None else row.organisation, row.funder)
    row.role = new_role.value
    if system is not None:
        row.system = system
    row.municipality = new_municipality if new_role is AccountRole.ANALYST else None
    if display_name is not None:
        row.display_name = display_name.strip() or row.username
    if organisation is not None:
        row.organisation = organisation
    if pathway_roles is not None:
        row.pathway_roles = list(pathway_roles)
    if email is not None:
        row.email = email or None
    if language is not None:
        row.language = language
    if active is not None:
        row.active = active
        if not active:
            end_sessions(session, user_id)
    if teams is not None:
        _set_teams(session, user_id, teams)
    session.flush()
    return _account(row, sorted(set(new_teams)))


def set_password(session: Session, user_id: int, password: str, now: datetime, *, check_rules: bool = True,
                 temporary: bool = False, password_hash: str | None = None) -> None:
    """A new password. `temporary`: set by an administrator, to be changed at the next sign-in.
    `password_hash`: hashed beforehand, outside the transaction (argon2 takes a while)."""
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFoundError(f"no account {user_id}")
    if check_rules:
        check_password_rules(password, row.username, others=[row.display_name])
    row.password_hash = password_hash or hash_password(password)
    row.password_changed_at = now
    row.must_change_password = temporary
    row.failed_logins = 0
    row.locked_until = None
    end_sessions(session, user_id)


def temporary_password() -> str:
    """A password an administrator hands over once (four random words' worth of entropy)."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def verify_password(session: Session, user_id: int, password: str) -> bool:
    row = session.get(UserRow, user_id)
    if row is None:
        return False
    try:
        return _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def unlock(session: Session, user_id: int) -> None:
    """Clear a user's failed sign-ins (the growing delay), as an administrator may."""
    from integrations.db.signin_throttle import clear_account

    row = session.get(UserRow, user_id)
    if row is None:
        return
    row.failed_logins, row.locked_until = 0, None
    clear_account(session, row.username)


def password_record(session: Session, username: str) -> PasswordRecord | None:
    row = session.execute(
        select(UserRow.id, UserRow.username, UserRow.password_hash, UserRow.active)
        .where(UserRow.username == username.strip().lower())
    ).first()
    return None if row is None else PasswordRecord(row[0], row[1], row[2], bool(row[3]))


def verify_hash(password_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash, with no database in sight (argon2 takes ~0.1 s).
    None (an unknown user name) costs the same work, so timing does not tell which names exist."""
    try:
        return bool(_HASHER.verify(password_hash or _dummy_hash(), password)) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return bool(_HASHER.check_needs_rehash(password_hash))


def signed_in(session: Session, user_id: int, now: datetime, new_hash: str | None = None) -> Account:
    """Note a good sign-in (and store a hash made with newer parameters, computed beforehand)."""
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFoundError(f"no account {user_id}")
    if new_hash is not None:
        row.password_hash = new_hash
    row.failed_logins, row.locked_until, row.last_login_at = 0, None, now
    session.flush()
    return _account(row, _teams_of(session, [row.id])[row.id])


def sign_in(session: Session, username: str, password: str, now: datetime) -> tuple[SignInOutcome, Account | None]:
    """Check a user name and password in one go (scripts and tests; the web app hashes outside any
    transaction and throttles, see web/pages/auth.py)."""
    record = password_record(session, username)
    if not verify_hash(record.password_hash if record else None, password) or record is None or not record.active:
        return SignInOutcome.BAD_CREDENTIALS, None
    return SignInOutcome.OK, signed_in(session, record.user_id, now)


# --- sessions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebSession:
    id_hash: str
    user_id: int
    csrf_token: str
    last_seen_at: datetime
    expires_at: datetime


def start_session(session: Session, user_id: int, now: datetime, lifetime: timedelta) -> tuple[str, WebSession]:
    """A new session: (the cookie value, what is stored). Only the value's hash is kept."""
    value = secrets.token_urlsafe(32)
    stored = WebSession(sha256(value), user_id, secrets.token_urlsafe(32), now, now + lifetime)
    session.execute(insert(SessionRow).values(
        id_hash=stored.id_hash, user_id=user_id, csrf_token=stored.csrf_token, created_at=now,
        last_seen_at=now, expires_at=stored.expires_at,
    ))
    # Sessions that ended long ago are cleared now and then, on sign-in.
    session.execute(delete(SessionRow).where(SessionRow.expires_at < now - timedelta(days=1)))
    return value, stored


def find_session(session: Session, value: str, now: datetime, idle: timedelta) -> WebSession | None:
    """The live session for a cookie value; None when unknown, expired or idle too long."""
    row = session.get(SessionRow, sha256(value))
    if row is None or row.expires_at <= now or row.last_seen_at + idle <= now:
        return None
    return WebSession(row.id_hash, row.user_id, row.csrf_token, row.last_seen_at, row.expires_at)


def session_account(connection: Connection, value: str, now: datetime,
                    idle: timedelta) -> tuple[WebSession, Account] | None:
    """The live session of a cookie value and its account with its teams, in one query (the hot path of
    every page: one row per team, or one without a team). A Core statement on a bare connection
    (`engine_factory.snapshot_connection`): no ORM session and instances on every request."""
    rows = connection.execute(_session_statement(), {"id_hash": sha256(value)}).all()
    if not rows:
        return None
    first = rows[0]
    id_hash, user_id, csrf, last_seen, expires = first[:5]
    if expires <= now or last_seen + idle <= now:
        return None
    teams = [row[-1] for row in rows if row[-1] is not None]
    return WebSession(id_hash, user_id, csrf, last_seen, expires), _account_of(first[5:-1], teams)


@lru_cache(maxsize=1)
def _session_statement() -> Any:
    """Built once: every page asks it."""
    return (
        select(SessionRow.id_hash, SessionRow.user_id, SessionRow.csrf_token, SessionRow.last_seen_at,
               SessionRow.expires_at, *(getattr(UserRow, name) for name in _ACCOUNT_COLUMNS), UserTeamRow.team)
        .join(UserRow, UserRow.id == SessionRow.user_id)
        .outerjoin(UserTeamRow, UserTeamRow.user_id == UserRow.id)
        .where(SessionRow.id_hash == bindparam("id_hash"))
        .order_by(UserTeamRow.team)
    )


def touch_session(session: Session, id_hash: str, now: datetime) -> None:
    session.execute(update(SessionRow).where(SessionRow.id_hash == id_hash).values(last_seen_at=now))


def end_session(session: Session, id_hash: str) -> None:
    session.execute(delete(SessionRow).where(SessionRow.id_hash == id_hash))


def end_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))


# --- API tokens -------------------------------------------------------------------------------------

TOKEN_PREFIX = "cpt_"


@dataclass(frozen=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    operations: tuple[str, ...] | None = None  # None: every operation of the account
    partner_organisation: str | None = None  # only this partner organisation's referrals


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(row.id, row.user_id, row.name, row.prefix, row.created_at, row.expires_at, row.last_used_at,
                    row.revoked_at, tuple(row.operations) if row.operations is not None else None,
                    row.partner_organisation)


def create_token(session: Session, user_id: int, name: str, now: datetime,
                 expires_at: datetime | None = None, *, operations: Sequence[str] | None = None,
                 partner_organisation: str | None = None) -> tuple[str, ApiToken]:
    """A new API token for its holder (the web app lets only the holder make one): (the secret,
    shown once; what is stored). A system account's token is always limited to its organisation."""
    user = session.get(UserRow, user_id)
    if user is None:
        raise NotFoundError(f"no account {user_id}")
    if user.system and partner_organisation is None:
        partner_organisation = user.organisation
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(user_id=user_id, name=name.strip() or "token", token_hash=sha256(secret),
                      prefix=secret[:10], created_at=now, expires_at=expires_at,
                      operations=list(operations) if operations is not None else None,
                      partner_organisation=partner_organisation)
    session.add(row)
    session.flush()
    return secret, _token(row)


def find_token(session: Session, secret: str, now: datetime) -> ApiToken | None:
    """The live token for a secret; None when unknown, revoked or expired. Notes its use (hourly)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    row = session.execute(select(ApiTokenRow).where(ApiTokenRow.token_hash == sha256(secret))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return _token(row)


def note_token_use(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now))


def list_tokens(session: Session, user_id: int | None = None) -> list[ApiToken]:
    query = select(ApiTokenRow).order_by(ApiTokenRow.created_at.desc(), ApiTokenRow.id.desc())
    if user_id is not None:
        query = query.where(ApiTokenRow.user_id == user_id)
    return [_token(r) for r in session.execute(query).scalars()]


def revoke_token(session: Session, token_id: int, now: datetime, *, user_id: int | None = None) -> bool:
    """Revoke a token (with `user_id`: only when it is that account's)."""
    query = update(ApiTokenRow).where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(ApiTokenRow.user_id == user_id)
    return bool(rowcount(session.execute(query.values(revoked_at=now))))


# --- drafts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    task_id: str
    case_id: str
    data: dict[str, Any]
    saved_at: datetime


def save_draft(session: Session, user_id: int, task_id: str, case_id: str, data: dict[str, Any],
               now: datetime) -> None:
    updated = rowcount(session.execute(
        update(TaskDraftRow).where(TaskDraftRow.task_id == task_id, TaskDraftRow.user_id == user_id)
        .values(data=data, saved_at=now)
    ))
    if not updated:
        session.execute(insert(TaskDraftRow).values(task_id=task_id, user_id=user_id, case_id=case_id, data=data,
                                                    saved_at=now))


def get_draft(session: Session, user_id: int, task_id: str) -> Draft | None:
    row = session.get(TaskDraftRow, (task_id, user_id))
    return None if row is None else Draft(row.task_id, row.case_id, dict(row.data), row.saved_at)


def delete_drafts(session: Session, task_id: str) -> None:
    session.execute(delete(TaskDraftRow).where(TaskDraftRow.task_id == task_id))


# --- settings ---------------------------------------------------------------------------------------


def get_setting(session: Session, key: str) -> dict[str, Any] | None:
    row = session.get(SettingRow, key)
    return None if row is None else dict(row.value)


def put_setting(session: Session, key: str, value: dict[str, Any], now: datetime) -> None:
    row = session.get(SettingRow, key)
    if row is None:
        session.add(SettingRow(key=key, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
    session.flush()


def count_accounts(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(UserRow)).scalar_one())
