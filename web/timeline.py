"""The case timeline as a worker reads it on a tablet: newest first, grouped per day, with filters.

What comes (open deadlines, the next evaluation) stays on top; below it what
happened, the newest day first. The filters are the four things people look
for: tasks, the journal, messages sent (letters, e-mails, partners) and
decisions (start, closing, problem areas, pauses, transfers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from web.caseview import TimelineItem
from web.dutch import long_date
from web.timefmt import local

# filter (as in the URL) -> the label people read; the kinds of timeline items it shows
FILTERS: dict[str, str] = {"taken": "Taken", "journaal": "Journaal", "berichten": "Berichten",
                           "besluiten": "Besluiten"}
_CATEGORY = {
    "task": "taken", "done": "taken", "reminder": "taken", "escalation": "taken", "due": "taken",
    "journal": "journaal",
    "message": "berichten",
    "start": "besluiten", "close": "besluiten", "track": "besluiten", "note": "besluiten",
}


def category(item: TimelineItem) -> str:
    return _CATEGORY.get(item.kind, "besluiten")


@dataclass
class Day:
    label: str  # "donderdag 4 december 2026"
    iso: str
    items: list[TimelineItem]


def by_day(items: Iterable[TimelineItem], lang: str, chosen: str = "") -> list[Day]:
    """`items` newest first, grouped per Amsterdam calendar day; only the chosen filter's when given."""
    kept = [i for i in items if not chosen or category(i) == chosen]
    kept.sort(key=lambda i: i.at, reverse=True)
    days: list[Day] = []
    for item in kept:
        day = local(item.at).date()
        if not days or days[-1].iso != day.isoformat():
            days.append(Day(long_date(day, lang, weekday=True), day.isoformat(), []))
        days[-1].items.append(item)
    return days


def counts(items: Iterable[TimelineItem]) -> dict[str, int]:
    found = dict.fromkeys(FILTERS, 0)
    for item in items:
        found[category(item)] = found.get(category(item), 0) + 1
    return found
