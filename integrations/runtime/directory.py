"""Who receives a message: the `Directory` port and its configuration-file implementation.

The dispatcher asks the directory for the e-mail addresses behind a worker or a
role (in a team, on a pathway) and for a partner role's webhook endpoint. Today
the answers come from `config.yaml` (`ConfigDirectory`); when the web app gets
user accounts it provides another implementation of the same two methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from integrations.runtime.config import PartnerEndpoint, RoleTable, RuntimeConfig


@dataclass(frozen=True)
class Addressee:
    """Whom a message is for, as the outbox says it."""

    role: str | None
    worker: str | None
    team: str | None
    pathway_id: str


class Directory(Protocol):
    def emails(self, to: Addressee) -> list[str]:
        """The e-mail addresses for `to`: the worker's own, else everyone holding the role
        (team first, then pathway, then the installation); [] when nobody is known."""
        ...

    def partner(self, role: str, pathway_id: str) -> PartnerEndpoint | None:
        """The webhook endpoint of a partner role (pathway first, then the installation)."""
        ...


class ConfigDirectory:
    """The directory written in `config.yaml`."""

    def __init__(self, config: RuntimeConfig) -> None:
        self._config = config

    def _address(self, holder: str) -> str | None:
        if "@" in holder:
            return holder
        return self._config.workers.get(holder)

    def _tables(self, to: Addressee) -> list[RoleTable]:
        tables = []
        if to.team is not None and to.team in self._config.teams:
            tables.append(self._config.teams[to.team])
        if to.pathway_id in self._config.pathways:
            tables.append(self._config.pathways[to.pathway_id])
        tables.append(self._config.everyone)
        return tables

    def emails(self, to: Addressee) -> list[str]:
        if to.worker is not None:
            own = self._address(to.worker)
            if own is not None:
                return [own]
        if to.role is None:
            return []
        for table in self._tables(to):
            holders = table.roles.get(to.role)
            if holders:
                found = [a for a in (self._address(h) for h in holders) if a is not None]
                return list(dict.fromkeys(found))
        return []

    def partner(self, role: str, pathway_id: str) -> PartnerEndpoint | None:
        for table in self._tables(Addressee(role=role, worker=None, team=None, pathway_id=pathway_id)):
            if role in table.partners:
                return table.partners[role]
        return None
