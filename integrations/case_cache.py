"""The live states of the cases this process changed last, kept so that the next command on one of
them is decided without reading the case again (issue #14; Temporal's workers keep their workflows'
state between tasks the same way, its "sticky" cache).

The database stays the source of truth. A command decided on a kept state is saved only `WHERE
version` is still the kept one, the optimistic lock every save has. Where the case had a personal
data row, the save also requires that row to be still there, because an erasure deletes it without
moving the version (`repository.PendingSave.had_personal`). A stale entry therefore never writes
anything: its save fails, the entry goes, and the command is decided again on the stored case; so
is a command refused on a kept state (the stored case may since allow it). Cases that are not
closed are kept, in their live form (`CaseState.live_view`: open tasks and live timers only, as the
database keeps them); the sweep lets go of the cases it fires.

One lock; the threads of a process share the cache. Bounded: the least recently used case goes.
`CAREPATH_CASE_CACHE` sets how many cases (default 1,000; 0 switches the cache off); a kept
eviction-prevention case in the middle of its work takes about 11 KB of memory (11 MB at the default).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import NamedTuple

from engine.errors import CarepathError
from engine.state import CaseState, CaseStatus

CASE_CACHE_ENV = "CAREPATH_CASE_CACHE"
DEFAULT_SIZE = 1000


class CaseCacheSettingError(CarepathError):
    """`CAREPATH_CASE_CACHE` is not a whole number of zero or more."""


def size_from_env() -> int:
    """The cache's size from `CAREPATH_CASE_CACHE` (default 1,000; 0: off)."""
    raw = os.environ.get(CASE_CACHE_ENV, "").strip()
    if not raw:
        return DEFAULT_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = -1
    if size < 0:
        raise CaseCacheSettingError(f"{CASE_CACHE_ENV}={raw!r}: verwacht een geheel getal van 0 of meer "
                                    f"(het aantal zaken dat een proces onthoudt; 0 zet dit uit)")
    return size


class Kept(NamedTuple):
    """A case as its last save left it: the live state, and whether it has a personal data row."""

    state: CaseState
    personal_row: bool


class CaseCache:
    """Live case states by case id, at most `size` of them (least recently used out)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._states: OrderedDict[str, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, case_id: str) -> Kept | None:
        """The kept case, or None. Callers must not change its state (the engine decides on a copy:
        `Engine.handle` clones the state it is given)."""
        if not self.size:
            return None
        with self._lock:
            kept = self._states.get(case_id)
            if kept is not None:
                self._states.move_to_end(case_id)
            return kept

    def keep(self, state: CaseState, *, personal_row: bool) -> None:
        """Keep `state` (its live form) as its case's newest, as just saved, with whether the case has
        a personal data row; a closed case is let go, and a newer version kept meanwhile (another
        thread's save) stays."""
        if not self.size:
            return
        if state.status is CaseStatus.CLOSED:
            self.drop(state.id)
            return
        live = state.live_view()
        with self._lock:
            found = self._states.get(state.id)
            if found is not None and found.state.version > live.version:
                return
            self._states[state.id] = Kept(live, personal_row)
            self._states.move_to_end(state.id)
            while len(self._states) > self.size:
                self._states.popitem(last=False)

    def drop(self, case_id: str) -> None:
        """Forget the case (its save failed, or something else changed it)."""
        with self._lock:
            self._states.pop(case_id, None)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def __len__(self) -> int:
        return len(self._states)
