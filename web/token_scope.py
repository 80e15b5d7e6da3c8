"""What an API token may do: named operations, and a partner organisation's referrals only.

A token is never wider than its account, and can be narrower: limited to named operations (a
reporting system needs `reports.read`, nothing else), and/or to a partner organisation (a housing
corporation's system answers the partner requests of its referrals and sees no team's cases, no
case list, no client's personal data). A system account's tokens are always limited to its
partner organisation. Every API route names its operation here; a route without one is open only
to tokens without limits, so a new route is closed to scoped tokens until it is listed.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request

from web.principal import Principal

# operation -> what a person reads when choosing it (Dutch, as on the token form)
OPERATIONS: dict[str, str] = {
    "tasks.read": "Taken lezen (werklijst en één taak)",
    "tasks.act": "Taken oppakken, teruggeven en afronden",
    "tasks.reassign": "Taken overdragen (coördinator)",
    "cases.read": "Zaken lezen, met persoonsgegevens",
    "cases.write": "Zaken registreren, sluiten, pauzeren en heropenen",
    "pathways.read": "Zorgpaden lezen",
    "pathways.publish": "Zorgpaden controleren, publiceren en zaken overzetten",
    "reports.read": "Gemeentelijke rapportages lezen",
    "audit.export": "Verwerkingenlogboek exporteren (beheerder)",
    "referrals": "Verwijzingen van de eigen partnerorganisatie",
}
# What a partner-limited token can ever do: its referrals, and the partner requests about them.
PARTNER_OPERATIONS = frozenset({"tasks.read", "tasks.act", "referrals"})
ALWAYS = "me"

ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/me"): ALWAYS,
    ("GET", "/api/tasks"): "tasks.read",
    ("GET", "/api/tasks/{task_id}"): "tasks.read",
    ("POST", "/api/tasks/{task_id}/claim"): "tasks.act",
    ("POST", "/api/tasks/{task_id}/release"): "tasks.act",
    ("POST", "/api/tasks/{task_id}/complete"): "tasks.act",
    ("POST", "/api/tasks/{task_id}/reassign"): "tasks.reassign",
    ("GET", "/api/cases"): "cases.read",
    ("GET", "/api/cases/{case_id}"): "cases.read",
    ("POST", "/api/cases/{case_id}/reveal"): "cases.read",
    ("GET", "/api/cases/{case_id}/history"): "cases.read",
    ("GET", "/api/cases/{case_id}/audit"): "cases.read",
    ("GET", "/api/team/caseload"): "cases.read",
    ("POST", "/api/cases"): "cases.write",
    ("POST", "/api/cases/{case_id}/close"): "cases.write",
    ("POST", "/api/cases/{case_id}/suspend"): "cases.write",
    ("POST", "/api/cases/{case_id}/resume"): "cases.write",
    ("POST", "/api/cases/{case_id}/reopen"): "cases.write",
    ("POST", "/api/cases/{case_id}/tracks"): "cases.write",
    ("POST", "/api/cases/{case_id}/escalations/{escalation_id}/resolve"): "cases.write",
    ("GET", "/api/pathways"): "pathways.read",
    ("GET", "/api/pathways/{pathway_id}/versions/{version}"): "pathways.read",
    ("GET", "/api/pathways/{pathway_id}/migrations"): "pathways.read",
    ("POST", "/api/pathways/check"): "pathways.publish",
    ("POST", "/api/pathways"): "pathways.publish",
    ("POST", "/api/pathways/{pathway_id}/migrations"): "pathways.publish",
    ("GET", "/api/reports/outcomes"): "reports.read",
    ("GET", "/api/reports/outcomes.csv"): "reports.read",
    ("GET", "/api/audit/export"): "audit.export",
}


class ScopeError(Exception):
    """The token is not meant for this operation (403)."""


def clean_operations(chosen: Iterable[str], *, partner: bool) -> tuple[str, ...] | None:
    """The operations a new token gets: None (everything the account may do) when none were chosen
    and it is not a partner token; a partner token never gets more than PARTNER_OPERATIONS."""
    picked = {op for op in chosen if op in OPERATIONS}
    if partner:
        picked = (picked or set(PARTNER_OPERATIONS)) & PARTNER_OPERATIONS
        return tuple(sorted(picked))
    return tuple(sorted(picked)) if picked else None


def operation_of(request: Request) -> str | None:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return None if path is None else ROUTES.get((request.method, str(path)))


def check(principal: Principal, operation: str | None) -> None:
    """ScopeError unless a limited token may use this operation (unlimited ones pass)."""
    if principal.operations is None and principal.partner is None:
        return
    if operation == ALWAYS:
        return
    allowed = set(principal.operations) if principal.operations is not None else set(OPERATIONS)
    if principal.partner is not None:
        allowed &= PARTNER_OPERATIONS
    if operation is None or operation not in allowed:
        raise ScopeError(f"dit API-token is niet bedoeld voor deze handeling ({operation or 'onbekend'}); "
                         f"het mag: {', '.join(sorted(allowed)) or 'niets'}")
