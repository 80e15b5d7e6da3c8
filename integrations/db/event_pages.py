"""A case's history stored a page per decision, not a row per event (issue #14, storage).

One command (a worker's completion, a fired timer, a partner's answer, a start) produces a run of
events with consecutive sequence numbers, the same moment and the same actor: about ten on
average, a hundred over an eviction-prevention case. Stored a row each, every event repeated the
case id, its moment and actor and paid a row's overhead in the b-tree and, on PostgreSQL, a tuple
header of its own; its data, a hundred bytes of JSON, was too short to compress well. Stored as
one page, `case_event_pages` holds the run once: the case, the first and last sequence numbers,
the moment and actor of the first event, and the events as one JSON array (packed with the trained
dictionary, `packed_json`). Temporal keeps its histories the same
way, a batch of events per workflow task.

An entry is `[type, data]`, followed only where needed by the reason, the actor (when it differs
from the page's) and the moment (microseconds since 1970 UTC, when it differs): `[type, data,
reason, actor, at]`. Sequence numbers are implicit (`first_seq` plus the entry's place). Nothing
above the database layer sees pages: `pages_of` makes them from events, `events_of` reads them back
(`archive.history` is the one reader of a case's history).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.events import Event
from integrations.db.errors import StorageError
from integrations.db.models import micros_of, moment_of


class EventPageError(StorageError):
    """A stored page that does not read back as events (a hand edit, or a newer carepath)."""


def _entry(event: Mapping[str, Any], at: datetime, actor: str) -> list[Any]:
    entry: list[Any] = [event["type"], event["data"]]
    differs_at = event["at"] != at
    differs_actor = event["actor"] != actor
    if event["reason"] is not None or differs_actor or differs_at:
        entry.append(event["reason"])
    if differs_actor or differs_at:
        entry.append(event["actor"])
    if differs_at:
        entry.append(micros_of(event["at"]))
    return entry


def pages_of(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Page rows for event rows (`case_id`, `seq`, `type`, `at`, `actor`, `reason`, `data`) in the
    order they were decided: one page for each run of one case's consecutive sequence numbers."""
    pages: list[dict[str, Any]] = []
    page: dict[str, Any] | None = None
    for event in events:
        if page is None or event["case_id"] != page["case_id"] or event["seq"] != page["last_seq"] + 1:
            page = {"case_id": event["case_id"], "first_seq": event["seq"], "last_seq": event["seq"],
                    "at": event["at"], "actor": event["actor"], "events": []}
            pages.append(page)
        else:
            page["last_seq"] = event["seq"]
        page["events"].append(_entry(event, page["at"], page["actor"]))
    return pages


def events_of(case_id: str, first_seq: int, last_seq: int, at: datetime, actor: str,
              entries: Sequence[Any]) -> list[Event]:
    """The events a stored page holds, in order."""
    if not isinstance(entries, list) or len(entries) != last_seq - first_seq + 1:
        raise EventPageError(f"zaak {case_id}: de pagina met gebeurtenissen {first_seq} t/m {last_seq} "
                             f"bevat {len(entries) if isinstance(entries, list) else 'geen lijst van'} gebeurtenissen")
    found: list[Event] = []
    for offset, entry in enumerate(entries):
        if not isinstance(entry, list) or not 2 <= len(entry) <= 5:
            raise EventPageError(f"zaak {case_id}: gebeurtenis {first_seq + offset} is onleesbaar opgeslagen "
                                 f"({entry!r:.80})")
        reason = entry[2] if len(entry) > 2 else None
        event_actor = entry[3] if len(entry) > 3 else actor
        moment = moment_of(entry[4]) if len(entry) > 4 else at
        found.append(Event(case_id=case_id, seq=first_seq + offset, type=entry[0], at=moment, actor=event_actor,
                           data=entry[1], reason=reason))
    return found
