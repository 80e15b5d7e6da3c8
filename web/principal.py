"""The signed-in person or system, apart from how it signed in.

Its own module so that the portal (which checks access) and the auth layer (which
finds the principal of a request) both use it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.db.accounts import Account, AccountRole


@dataclass(frozen=True)
class Principal:
    """The signed-in person or system, as every access check sees it."""

    account: Account
    via: str  # "session" | "token"
    session_hash: str | None = None
    csrf_token: str | None = None
    token_id: int | None = None
    operations: tuple[str, ...] | None = None  # a token limited to these operations (web/token_scope.py)
    partner: str | None = None  # a token limited to this partner organisation's referrals

    @property
    def actor(self) -> str:
        return self.account.actor

    @property
    def username(self) -> str:
        return self.account.username

    @property
    def role(self) -> AccountRole:
        return self.account.role

    @property
    def teams(self) -> tuple[str, ...]:
        return self.account.teams

    @property
    def pathway_roles(self) -> tuple[str, ...]:
        return self.account.pathway_roles

    @property
    def organisation(self) -> str:
        return self.account.organisation

    @property
    def municipality(self) -> str | None:
        return self.account.municipality

    @property
    def language(self) -> str:
        return self.account.language

    def is_(self, *roles: AccountRole) -> bool:
        return self.account.role in roles
