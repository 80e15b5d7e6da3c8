"""What publishing a new version changes, said before it happens.

Before a coordinator publishes, the editor shows the difference with the
current version: steps added, removed and changed (and in what: title, form,
deadlines, branches, ...), problem areas, roles and outcomes added or removed,
and which running cases it concerns. Running cases stay on their version until
they are migrated; cases with open work at a removed or changed step need a
step mapping then. A version that changes nothing but its number is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sqlalchemy import distinct, func, select

from engine.definition import Pathway, Step
from engine.errors import NotFoundError
from integrations.db.engine_factory import read_session
from integrations.db.models import CaseRow, TaskRow

# Step attributes in the words a coordinator uses.
_ASPECTS = {
    "kind": "soort stap", "title": "titel", "instructions": "instructies", "role": "rol", "due": "termijn",
    "form": "formulier", "reminders": "herinneringen", "escalation": "escalatie", "params": "instellingen",
    "next": "vervolg (takken)", "max_visits": "aantal bezoeken", "on_max_visits": "na het laatste bezoek",
    "tracks": "probleemgebieden", "tracks_from": "probleemgebieden uit", "mode": "volgorde van probleemgebieden",
    "outcome": "uitkomst", "close_reason": "sluitreden", "result": "resultaat", "timeout": "antwoordtermijn",
    "on_timeout": "na de antwoordtermijn",
}


@dataclass(frozen=True)
class StepChange:
    id: str
    title: str
    aspects: tuple[str, ...]  # Dutch words: "formulier", "termijn", ...


@dataclass
class PathwayDiff:
    old_version: int
    new_version: int
    added: list[tuple[str, str]] = field(default_factory=list)  # (step id, title)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[StepChange] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # Dutch sentences about tracks, roles, outcomes, ...
    running: int = 0  # running cases of the coordinator's teams on older versions
    at_touched_steps: int = 0  # of which with open work at a removed or changed step

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed or self.other)


def _all_steps(pathway: Pathway) -> dict[str, Step]:
    found = {s.id: s for s in pathway.steps}
    for track in pathway.tracks:
        found.update({s.id: s for s in track.steps})
    return found


def _named(items: Iterable[Any], attr: str = "id") -> dict[str, Any]:
    return {getattr(item, attr): item for item in items}


def _set_change(what: str, old: dict[str, Any], new: dict[str, Any], label: str = "title") -> list[str]:
    said = []
    for key in sorted(set(new) - set(old)):
        said.append(f"{what} toegevoegd: {getattr(new[key], label, key) or key}")
    for key in sorted(set(old) - set(new)):
        said.append(f"{what} verwijderd: {getattr(old[key], label, key) or key}")
    for key in sorted(set(old) & set(new)):
        if old[key] != new[key]:
            said.append(f"{what} gewijzigd: {getattr(new[key], label, key) or key}")
    return said


def compare(old: Pathway, new: Pathway) -> PathwayDiff:
    """The difference between two versions of a pathway, in a coordinator's words."""
    diff = PathwayDiff(old.version, new.version)
    before, after = _all_steps(old), _all_steps(new)
    diff.added = [(sid, after[sid].title or sid) for sid in after if sid not in before]
    diff.removed = [(sid, before[sid].title or sid) for sid in before if sid not in after]
    for sid in after:
        if sid in before and before[sid] != after[sid]:
            aspects = tuple(_ASPECTS.get(f.name, f.name) for f in fields(Step)
                            if getattr(before[sid], f.name) != getattr(after[sid], f.name))
            diff.changed.append(StepChange(sid, after[sid].title or sid, aspects))
    if old.title != new.title:
        diff.other.append(f"Titel: «{old.title}» wordt «{new.title}»")
    if old.description != new.description:
        diff.other.append("Beschrijving gewijzigd")
    diff.other += _set_change("Probleemgebied", _named(old.tracks), _named(new.tracks))
    diff.other += _set_change("Rol", _named(old.roles), _named(new.roles))
    diff.other += _set_change("Uitkomst", _named(old.outcomes, "code"), _named(new.outcomes, "code"), "label")
    diff.other += _set_change("Sluitreden", _named(old.close_reasons, "code"), _named(new.close_reasons, "code"),
                              "label")
    diff.other += _set_change("Signaal", _named(old.triggers, "type"), _named(new.triggers, "type"), "label")
    if dict(old.case_data) != dict(new.case_data):
        diff.other.append("Zaakgegevens (het formulier bij registratie) gewijzigd")
    if old.personal_data != new.personal_data:
        diff.other.append("Welke velden persoonsgegevens zijn, is gewijzigd")
    if old.evaluation != new.evaluation:
        diff.other.append("Evaluatie gewijzigd")
    if old.lead_time != new.lead_time:
        diff.other.append("Doorlooptijd van de zaak gewijzigd")
    if (old.calendar, old.school_holidays) != (new.calendar, new.school_holidays):
        diff.other.append("Kalender gewijzigd")
    if old.reopen_within != new.reopen_within:
        diff.other.append("Termijn om te heropenen gewijzigd")
    if not diff.other and diff.identical:
        rest_old = replace(old, version=new.version, fingerprint="")
        if rest_old != replace(new, fingerprint=""):
            diff.other.append("Overige instellingen gewijzigd")
    return diff


def running_cases(portal: Any, pathway_id: str, version: int, teams: Sequence[str],
                  touched_steps: Sequence[str]) -> tuple[int, int]:
    """(running cases of `teams` on versions below `version`, of which with open work at `touched_steps`)."""
    if not teams:
        return 0, 0
    running = (CaseRow.pathway_id == pathway_id, CaseRow.pathway_version < version,
               CaseRow.status.in_(("open", "suspended")), CaseRow.team.in_(list(teams)))
    with read_session(portal.db) as session:
        total = int(session.execute(select(func.count()).select_from(CaseRow).where(*running)).scalar_one())
        touched = 0
        if touched_steps:
            touched = int(session.execute(
                select(func.count(distinct(TaskRow.case_id))).join(CaseRow, CaseRow.id == TaskRow.case_id)
                .where(*running, TaskRow.status == "open", TaskRow.step.in_(list(touched_steps)))).scalar_one())
    return total, touched


def review(portal: Any, principal: Any, pathway: Pathway) -> PathwayDiff | None:
    """The difference with the newest published version of the same pathway (None: a new pathway)."""
    with read_session(portal.db) as session:
        try:
            latest = portal.service.catalog.latest_version(session, pathway.id)
        except NotFoundError:
            return None
    current = portal.service.catalog.lookup(pathway.id, latest).pathway
    diff = compare(current, pathway)
    touched = [sid for sid, _ in diff.removed] + [c.id for c in diff.changed]
    diff.running, diff.at_touched_steps = running_cases(portal, pathway.id, pathway.version, principal.teams,
                                                        touched)
    return diff
