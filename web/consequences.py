"""What an answer will do before it is given: does it end the case or a problem area?

Completing a task may follow a branch to an end step ("Huurder wil hulp: Ja"
without a partner closed the case as an objection) or close a track. Before
such an answer is stored, the task page asks for confirmation and says what will
happen. The engine is pure, so a dry run is the same decision on the same state
without saving it: what the page announces is exactly what completing does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine import commands as c
from engine.compiled import CompiledPathway
from engine.decide import Engine
from engine.errors import CarepathError
from engine.state import CaseState
from web.i18n import translate

_RESULTS = {"achieved": "behaald", "not_achieved": "niet behaald", "stopped": "gestopt"}


@dataclass(frozen=True)
class Consequence:
    """The endings an answer causes, in words a worker reads."""

    ends_case: str | None = None  # the outcome label, when the case closes
    closes_tracks: tuple[str, ...] = field(default_factory=tuple)  # "Schulden (behaald)"
    cancelled_tasks: int = 0  # other open tasks that lapse

    def __bool__(self) -> bool:
        return self.ends_case is not None or bool(self.closes_tracks)

    def sentences(self, lang: str) -> list[str]:
        said = []
        if self.ends_case is not None:
            said.append(translate("De zaak wordt gesloten met uitkomst «{outcome}».", lang, outcome=self.ends_case))
            if self.cancelled_tasks == 1:
                said.append(translate("De andere open taak vervalt.", lang))
            elif self.cancelled_tasks > 1:
                said.append(translate("De {n} andere open taken vervallen.", lang, n=self.cancelled_tasks))
            said.append(translate("Heropenen kan daarna alleen een coördinator, met een reden.", lang))
        for track in self.closes_tracks:
            said.append(translate("Het probleemgebied {track} wordt afgesloten.", lang, track=track))
        return said


def preview(engine: Engine, cp: CompiledPathway, state: CaseState, task_id: str, data: Mapping[str, Any], *,
            actor: str, now: datetime, lang: str) -> Consequence:
    """The endings completing `task_id` with `data` would cause (none when the engine refuses it:
    completing will then say why)."""
    try:
        decision = engine.handle(state, c.CompleteTask(case_id=state.id, actor=actor, task_id=task_id,
                                                       data=dict(data)), now)
    except CarepathError:
        return Consequence()
    ends_case = None
    tracks: list[str] = []
    cancelled = 0
    for event in decision.events:
        if event.type == "case_closed":
            code = event.data.get("outcome")
            ends_case = next((o.label for o in cp.pathway.outcomes if o.code == code), str(code or ""))
        elif event.type == "track_closed":
            template = cp.tracks.get(event.data.get("track_id", ""))
            title = template.title if template else str(event.data.get("track_id"))
            result = translate(_RESULTS.get(event.data.get("result", ""), event.data.get("result", "")), lang)
            tracks.append(f"«{title}» ({result})" if result else f"«{title}»")
        elif event.type == "task_cancelled":
            cancelled += 1
    return Consequence(ends_case, tuple(tracks), cancelled)
