"""The plan of a case with several problem areas (SWA: four or five at once) as one overview.

Per problem area: who owns it, where it stands, the soonest deadline and whether
it is overdue, and the last evaluation note: what a coordinator and the
client's worker look at first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from engine.compiled import CompiledPathway
from engine.state import CaseState
from web.caseview import TrackItem


@dataclass(frozen=True)
class TrackRow:
    id: str
    title: str
    status: str  # active | planned | closed
    result: str
    owner_role: str
    owner: str  # the worker carrying the owner role in this case, if any
    step: str
    due: datetime | None
    overdue: bool
    open_tasks: int
    last_note_at: str  # ISO moment of the last evaluation note
    last_note: str
    lead_time_exceeded: bool


def rows(tracks: list[TrackItem], state: CaseState, cp: CompiledPathway, names: Mapping[str, str],
         now: datetime) -> list[TrackRow]:
    role_titles = {r.id: r.title for r in cp.pathway.roles}
    found = []
    for track in tracks:
        template = cp.tracks.get(track.id)
        owner_role = template.owner if template else ""
        worker = state.assignments.get(owner_role)
        due = min((t.due_at for t in track.open_tasks), default=None)
        last = track.progress[-1] if track.progress else {}
        found.append(TrackRow(
            id=track.id, title=track.title, status=track.status, result=track.result,
            owner_role=role_titles.get(owner_role, owner_role), owner=names.get(worker or "", worker or ""),
            step=track.step, due=due, overdue=due is not None and due < now, open_tasks=len(track.open_tasks),
            last_note_at=str(last.get("at", "")), last_note=str(last.get("progress", "")),
            lead_time_exceeded=track.lead_time_exceeded))
    order = {"active": 0, "planned": 1, "closed": 2}
    return sorted(found, key=lambda r: (order.get(r.status, 3), not r.overdue, r.due or now))
