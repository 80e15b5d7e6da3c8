"""What a saved case contributes to the report tables: its funder and its interventions.

Used by the repository on every save and by migration 0009 for existing rows, so both agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.funding import municipality_key
from integrations.reporting.cellkey import record_key


def case_funder(funder: str | None, municipality: str | None) -> str | None:
    """The funder key a case is reported under: the one it names, else its municipality's."""
    if funder:
        return funder
    return municipality_key(municipality) if municipality else None


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def track_rows(case_id: str, pathway_id: str, funder: str | None,
               tracks: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`case_tracks` rows from a case's tracks (state JSON or `TrackState` objects): one per track
    that has started (a planned track not yet begun is no intervention yet)."""
    rows = []
    for track_id, track in tracks.items():
        data = track if isinstance(track, Mapping) else track.to_json()
        started = _moment(data.get("started_at"))
        if started is None:
            continue
        rows.append({
            "case_id": case_id, "track_id": track_id, "pathway_id": pathway_id, "funder": funder,
            "status": data["status"], "started_at": started, "closed_at": _moment(data.get("closed_at")),
            "result": data.get("result"), "report_key": record_key(f"{case_id}/{track_id}"),
        })
    return rows
