"""What changed between two versions of a pathway, in Dutch lines a coordinator reads before publishing.

Compares the canonical data (`engine.pathway_data.pathway_to_data`), so layout,
comments and unit spelling never count as a change. Used by `carepath publish`.
"""

from __future__ import annotations

from typing import Any

from engine.definition import Pathway
from engine.pathway_data import pathway_to_data

_SECTIONS = (("roles", "id", "rol"), ("outcomes", "code", "uitkomst"), ("close_reasons", "code", "sluitreden"),
             ("triggers", "type", "aanleiding"), ("message_templates", "id", "berichtsjabloon"))
_SETTINGS = {
    "title": "titel", "description": "beschrijving", "owner": "eigenaar", "calendar": "kalender",
    "school_holidays": "schoolvakanties", "reopen_within": "heropenen binnen", "case_data": "zaakgegevens",
    "personal_data": "persoonsgegevens", "origin_registration": "herkomstregistratie", "lead_time": "doorlooptijd",
    "evaluation": "evaluatie", "access": "toegang (teams)", "role_scope": "rollen per zorgpad",
    "registration": "registratiemodel",
}


def _by(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(item[key]): item for item in items}


def _steps(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    steps = {s["id"]: s for s in data.get("steps", [])}
    for track in data.get("tracks", []):
        steps.update({s["id"]: s for s in track["steps"]})
    return steps


def _changed_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _compare(what: str, old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"{what} toegevoegd: {name}" for name in new if name not in old]
    lines += [f"{what} verwijderd: {name}" for name in old if name not in new]
    for name in new:
        if name in old and old[name] != new[name]:
            lines.append(f"{what} gewijzigd: {name} ({', '.join(_changed_keys(old[name], new[name]))})")
    return lines


def diff(old: Pathway | None, new: Pathway) -> list[str]:
    """One line per change from `old` to `new` (`old` None: a new pathway); [] when nothing changed."""
    if old is None:
        return [f"nieuw zorgpad {new.key}: {len(new.steps)} stappen, {len(new.roles)} rollen, "
                f"{len(new.tracks)} probleemgebieden"]
    a, b = pathway_to_data(old), pathway_to_data(new)
    lines = [f"{label} gewijzigd" for key, label in _SETTINGS.items() if a.get(key) != b.get(key)]
    for section, key, what in _SECTIONS:
        lines += _compare(what, _by(a.get(section, []), key), _by(b.get(section, []), key))
    lines += _compare("probleemgebied", {t["id"]: {k: v for k, v in t.items() if k != "steps"}
                                         for t in a.get("tracks", [])},
                      {t["id"]: {k: v for k, v in t.items() if k != "steps"} for t in b.get("tracks", [])})
    lines += _compare("stap", _steps(a), _steps(b))
    return lines
