"""Pathway roles as people read them: each pathway's own label, grouped by pathway.

A role id can be shared by pathways (`coordinator`) with a different label in
each; showing one pathway's label everywhere misleads. Here every label stays
with its pathway. Partner roles (kind `partner`: the housing corporation, the
credit bank) belong to partner systems' accounts: a staff member does not carry
them next to staff roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RoleGroup:
    title: str  # the pathway's title, or "Partnerrollen"
    roles: list[tuple[str, str]] = field(default_factory=list)  # (role id, label)


@dataclass
class RoleCatalog:
    groups: list[RoleGroup]
    labels: dict[str, list[tuple[str, str]]]  # role id -> [(pathway title, label)]
    partner_only: set[str]  # role ids that are a partner's in every pathway naming them


def catalog(portal: Any) -> RoleCatalog:
    """Every published pathway's roles (newest version), grouped by pathway; partner roles apart."""
    newest: dict[str, int] = {}
    for pathway_id, version, _at in portal.published():
        newest[pathway_id] = max(version, newest.get(pathway_id, 0))
    labels: dict[str, list[tuple[str, str]]] = {}
    kinds: dict[str, set[str]] = {}
    groups: list[RoleGroup] = []
    partners = RoleGroup("Partnerrollen (alleen voor koppelingen van partners)")
    seen_partner: set[str] = set()
    for pathway_id in sorted(newest):
        pathway = portal.service.catalog.lookup(pathway_id, newest[pathway_id]).pathway
        group = RoleGroup(pathway.title)
        for role in pathway.roles:
            labels.setdefault(role.id, []).append((pathway.title, role.title))
            kinds.setdefault(role.id, set()).add(role.kind.value)
            if role.kind.value == "partner":
                if role.id not in seen_partner:
                    partners.roles.append((role.id, role.title))
                    seen_partner.add(role.id)
            elif pathway.role_scope.value == "pathway" and not role.shared:
                # a role of this pathway alone: the account carries `pathway:role` (docs/pathway-language.md)
                group.roles.append((f"{pathway_id}:{role.id}", f"{role.title} ({pathway.title})"))
            else:
                group.roles.append((role.id, role.title))
        groups.append(group)
    partner_only = {rid for rid, found in kinds.items() if found == {"partner"}}
    # a role shared with staff kinds is listed with the staff groups only once (its first pathway)
    listed: set[str] = set()
    for group in groups:
        kept = []
        for rid, label in group.roles:
            if rid not in listed:
                listed.add(rid)
                kept.append((rid, label))
        group.roles = kept
    groups = [g for g in groups if g.roles]
    if partners.roles:
        groups.append(partners)
    return RoleCatalog(groups, labels, partner_only)


def mixing_error(chosen: Iterable[str], partner_only: set[str]) -> str | None:
    """A Dutch message when staff roles and partner roles are given to one account, else None."""
    picked = set(chosen)
    partner = picked & partner_only
    if partner and picked - partner_only:
        return ("Partnerrollen zijn voor koppelingen van partners, niet voor medewerkers: kies óf rollen van "
                f"medewerkers óf partnerrollen ({', '.join(sorted(partner))}).")
    return None
