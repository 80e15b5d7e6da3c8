"""Access rules that pathways declare: who sees their cases, and whose roles count in them.

- `access.teams`: only members of those teams see a case of that pathway version (and then
  whatever team registered it); nobody else sees anything of it, in pages, the API, lists or search.
- `role_scope: pathway`: a plain role id on an account does not count in that pathway, except for
  roles marked `shared: true`; `<pathway id>:<role id>` on an account counts only in that pathway.
  In pathways with the default `role_scope: shared`, both forms count.

Built from the published pathway versions (the portal rebuilds it when the list changes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, false, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from engine.definition import Pathway, RoleScope
from integrations.db.caselists import Visibility
from integrations.db.models import CaseRow, TaskRow

Version = tuple[str, int]


@dataclass(frozen=True)
class _Rules:
    teams: frozenset[str]  # empty: no restriction
    scoped_roles: frozenset[str]  # roles a plain role id does not reach


def qualified(pathway_id: str, role_id: str) -> str:
    """How an account holds a role of one pathway only: `pathway_id:role_id`."""
    return f"{pathway_id}:{role_id}"


class PathwayAccess:
    """The access rules of every published pathway version."""

    def __init__(self, pathways: Iterable[Pathway]) -> None:
        self._rules: dict[Version, _Rules] = {}
        for p in pathways:
            scoped = frozenset(r.id for r in p.roles if not r.shared) if p.role_scope is RoleScope.PATHWAY \
                else frozenset()
            self._rules[(p.id, p.version)] = _Rules(frozenset(p.access_teams), scoped)

    def _of(self, pathway_id: str, version: int) -> _Rules:
        return self._rules.get((pathway_id, version), _Rules(frozenset(), frozenset()))

    # --- seeing cases -----------------------------------------------------------------------------
    def sees(self, teams: Sequence[str], case_team: str | None, pathway_id: str, version: int) -> bool:
        """Whether someone in `teams` sees a case of `case_team` on this pathway version."""
        allowed = self._of(pathway_id, version).teams
        if allowed:
            return bool(allowed & set(teams))
        return case_team is not None and case_team in teams

    def sees_pathway(self, teams: Sequence[str], case_team: str | None, pathway_id: str) -> bool:
        """`sees` when only the pathway id is known (an inbox message): restricted if any version is."""
        allowed = [rules.teams for (p, _v), rules in self._rules.items() if p == pathway_id and rules.teams]
        if allowed:
            return any(teams_ & set(teams) for teams_ in allowed)
        return case_team is not None and case_team in teams

    def visibility(self, teams: Sequence[str], *, admit: bool = True) -> Visibility:
        """The case-list condition for someone in `teams` (`admit`: include restricted pathways'
        cases of other teams that admit one of `teams`)."""
        hidden: list[Version] = []
        admitted: list[Version] = []
        for version, rules in sorted(self._rules.items()):
            if not rules.teams:
                continue
            (admitted if rules.teams & set(teams) else hidden).append(version)
        return Visibility(tuple(teams), tuple(hidden), tuple(admitted) if admit else ())

    # --- holding roles ----------------------------------------------------------------------------
    def holds(self, roles: Sequence[str], pathway_id: str, version: int, role_id: str) -> bool:
        """Whether an account with `roles` holds `role_id` in this pathway version."""
        if qualified(pathway_id, role_id) in roles:
            return True
        return role_id in roles and role_id not in self._of(pathway_id, version).scoped_roles

    def queue_clause(self, roles: Sequence[str]) -> ColumnElement[bool]:
        """The tasks whose role the account holds (cases joined), for the role queues."""
        plain = [r for r in roles if ":" not in r]
        parts: list[ColumnElement[bool]] = []
        if plain:
            clause: ColumnElement[bool] = TaskRow.role.in_(plain)
            scoped = [and_(CaseRow.pathway_id == p, CaseRow.pathway_version == v,
                           TaskRow.role.in_(sorted(rules.scoped_roles & set(plain))))
                      for (p, v), rules in sorted(self._rules.items()) if rules.scoped_roles & set(plain)]
            if scoped:
                clause = and_(clause, not_(or_(*scoped)))
            parts.append(clause)
        for entry in roles:
            pathway_id, colon, role_id = entry.partition(":")
            if colon:
                parts.append(and_(CaseRow.pathway_id == pathway_id, TaskRow.role == role_id))
        return or_(*parts) if parts else false()
