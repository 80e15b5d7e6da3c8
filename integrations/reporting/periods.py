"""The fixed periods a report can be asked for: calendar months, quarters and years that have ended.

A free period lets a reader move its end one day at a time and read single cases off the
differences (issue #9). With fixed periods the smallest step between two reports is a whole month,
and a period still running is not reported (asking again tomorrow would be the same attack over
real time). Written as people type them: ``2026-03`` (March 2026), ``2026-K1`` (first quarter;
``2026-Q1`` is accepted too) and ``2026`` (the year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from engine.errors import ValidationError

LOCAL = ZoneInfo("Europe/Amsterdam")
FIRST_YEAR = 2000  # nothing is reported before carepath could have held cases
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


class PeriodKind(str, Enum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: PeriodKind
    number: int = 1  # month 1-12, quarter 1-4; 1 for a year

    @property
    def start(self) -> date:
        if self.kind is PeriodKind.MONTH:
            return date(self.year, self.number, 1)
        if self.kind is PeriodKind.QUARTER:
            return date(self.year, 3 * self.number - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        """The last day of the period."""
        months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self.kind]
        first = self.start
        month = first.month - 1 + months
        return date(first.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)

    @property
    def code(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}-K{self.number}"
        return str(self.year)

    @property
    def label(self) -> str:
        """Dutch: "maart 2026", "1e kwartaal 2026", "2026"."""
        if self.kind is PeriodKind.MONTH:
            return f"{MONTHS[self.number - 1]} {self.year}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.number}e kwartaal {self.year}"
        return str(self.year)

    def ended(self, now: datetime) -> bool:
        """True once the last day of the period is over in Dutch time."""
        return self.end < now.astimezone(LOCAL).date()

    def months(self) -> list[Period]:
        first = self.start.month
        count = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self.kind]
        return [Period(self.year, PeriodKind.MONTH, m) for m in range(first, first + count)]


_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[KkQq]([1-4])")
_YEAR = re.compile(r"(\d{4})")


def _year(text: str) -> int:
    year = int(text)
    if year < FIRST_YEAR or year > 2999:
        raise ValidationError(f"periode: het jaar {year} valt buiten {FIRST_YEAR}-2999")
    return year


def parse_period(text: str) -> Period:
    """The period written as ``2026-03``, ``2026-K1`` or ``2026``; ValidationError (Dutch) otherwise."""
    text = text.strip()
    if m := _MONTH.fullmatch(text):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise ValidationError(f"periode {text!r}: maand {month} bestaat niet")
        return Period(_year(m.group(1)), PeriodKind.MONTH, month)
    if m := _QUARTER.fullmatch(text):
        return Period(_year(m.group(1)), PeriodKind.QUARTER, int(m.group(2)))
    if m := _YEAR.fullmatch(text):
        return Period(_year(m.group(1)), PeriodKind.YEAR)
    raise ValidationError(f"periode {text[:20]!r}: kies een maand (2026-03), een kwartaal (2026-K1) of een jaar (2026)")


def period_of(start: date, end: date) -> Period:
    """The fixed period running exactly from `start` to `end`; ValidationError when there is none."""
    if not FIRST_YEAR <= start.year <= 2999:
        raise ValidationError(f"periode: het jaar {start.year} valt buiten {FIRST_YEAR}-2999")
    candidates = [Period(start.year, PeriodKind.MONTH, start.month), Period(start.year, PeriodKind.YEAR)]
    if start.month % 3 == 1:
        candidates.append(Period(start.year, PeriodKind.QUARTER, (start.month + 2) // 3))
    for period in candidates:
        if period.start == start and period.end == end:
            return period
    raise ValidationError(
        f"periode {start.isoformat()} tot en met {end.isoformat()}: rapporten gaan over een hele kalendermaand, "
        f"een kwartaal of een jaar (vrije periodes zouden via verschillen losse zaken verraden)")


def latest_ended(now: datetime, kind: PeriodKind) -> Period:
    """The most recent period of `kind` that has ended."""
    today = now.astimezone(LOCAL).date()
    if kind is PeriodKind.YEAR:
        return Period(today.year - 1, kind)
    if kind is PeriodKind.QUARTER:
        q = (today.month - 1) // 3  # the quarter before this one, 0 = last year's fourth
        return Period(today.year, kind, q) if q else Period(today.year - 1, kind, 4)
    return Period(today.year, kind, today.month - 1) if today.month > 1 else Period(today.year - 1, kind, 12)


def choices(now: datetime, years: int = 3) -> list[Period]:
    """The ended periods of the last `years` years, newest first: years, quarters, months."""
    found: list[Period] = []
    last_year = latest_ended(now, PeriodKind.YEAR).year + 1
    for year in range(last_year, last_year - years - 1, -1):
        found += [p for p in ([Period(year, PeriodKind.YEAR)]
                              + [Period(year, PeriodKind.QUARTER, q) for q in range(4, 0, -1)]
                              + [Period(year, PeriodKind.MONTH, m) for m in range(12, 0, -1)])
                  if p.ended(now) and p.year >= FIRST_YEAR]
    return found
