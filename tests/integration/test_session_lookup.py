"""The session lookup of every web request (`accounts.session_account`) reads plain rows on a bare
connection (`engine_factory.snapshot_connection`, autocommit on PostgreSQL): the same account,
with its teams, as the ORM's `find_account` makes, and nothing for a session that ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from engine.clock import ManualClock
from integrations.db import accounts
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import snapshot_connection, write_session
from web.testing import PASSWORD, cheap_password_hashing

IDLE = timedelta(hours=1)


def _account_with_session(db: Engine, clock: ManualClock, username: str, teams: tuple[str, ...],
                          role: AccountRole = AccountRole.WORKER, **extra: object) -> tuple[accounts.Account, str]:
    with write_session(db) as session:
        for team in teams:
            accounts.upsert_team(session, team, team.capitalize(), "AMW Test")
        made = accounts.create_account(session, username=username, display_name=username.capitalize(),
                                       password=PASSWORD, role=role, organisation="AMW Test",
                                       now=clock.now(), teams=teams, pathway_roles=("outreach_worker",),
                                       email=f"{username}@example.org", **extra)  # type: ignore[arg-type]
        value, _ = accounts.start_session(session, made.id, clock.now(), timedelta(hours=8))
    return made, value


@pytest.mark.parametrize(("role", "teams"), [(AccountRole.ADMIN, ()), (AccountRole.WORKER, ("noord",)),
                                             (AccountRole.COORDINATOR, ("noord", "zuid", "oost"))])
def test_the_lookup_gives_the_account_as_stored_with_its_teams(db: Engine, clock: ManualClock, role: AccountRole,
                                                                teams: tuple[str, ...]) -> None:
    cheap_password_hashing()
    made, value = _account_with_session(db, clock, "wil", teams, role, must_change_password=True)
    with snapshot_connection(db) as connection:
        found = accounts.session_account(connection, value, clock.now(), IDLE)
    assert found is not None
    stored, account = found
    assert account == made
    assert account.teams == tuple(sorted(teams)) and account.role is role
    assert account.must_change_password and not account.system
    assert stored.user_id == made.id and stored.expires_at == clock.now() + timedelta(hours=8)
    with write_session(db) as session:
        assert accounts.find_account(session, "wil") == account


def test_an_ended_idle_or_unknown_session_finds_nothing(db: Engine, clock: ManualClock) -> None:
    cheap_password_hashing()
    _, value = _account_with_session(db, clock, "ans", ("noord",))
    with snapshot_connection(db) as connection:
        assert accounts.session_account(connection, "not-a-session", clock.now(), IDLE) is None
        assert accounts.session_account(connection, value, clock.now() + IDLE, IDLE) is None  # idle too long
        assert accounts.session_account(connection, value, clock.now() + timedelta(hours=8), timedelta(days=1)) is None


@pytest.mark.postgres
def test_the_lookup_runs_in_autocommit_on_postgresql(postgresql_db: Engine) -> None:
    with snapshot_connection(postgresql_db) as connection:
        assert connection.connection.driver_connection.autocommit is True  # type: ignore[union-attr]
