"""Keep the client's identifying fields out of events, state JSON and statistics.

A pathway names its personal fields (`Pathway.personal_data`). They are split
off the case data before anything is stored and kept in one row of
`case_personal_data`; the stored state and history carry the rest. Loading a
case merges them back, so the engine always sees the whole case data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.events import Event

# Event types whose data holds case data, and where in the data it is.
_CASE_DATA_KEYS = {"case_started": "data", "case_data_updated": "changes"}


def split(data: Mapping[str, Any], fields: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data without the personal fields, the personal fields alone)."""
    personal_names = set(fields)
    public = {k: v for k, v in data.items() if k not in personal_names}
    personal = {k: v for k, v in data.items() if k in personal_names}
    return public, personal


def event_json(event: Event, fields: Iterable[str]) -> dict[str, Any]:
    """The event's data as stored: case data without personal fields."""
    key = _CASE_DATA_KEYS.get(event.type)
    if key is None or key not in event.data:
        return event.data
    public, _ = split(event.data[key], fields)
    return {**event.data, key: public}


def personal_changes(events: Iterable[Event], fields: Iterable[str]) -> bool:
    """Whether any of `events` sets a personal field (so its row must be written)."""
    names = set(fields)
    for event in events:
        key = _CASE_DATA_KEYS.get(event.type)
        if key is not None and names.intersection(event.data.get(key) or {}):
            return True
    return False
