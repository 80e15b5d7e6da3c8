"""Working calendars: what `5 working days`, `3 weeks` or `48 hours` after a moment means.

Moments in and out are timezone-aware datetimes; every moment this module
returns is in UTC (`tzinfo=timezone.utc`). Aware moments in another zone are
accepted and converted; naive datetimes raise `CalendarError`. Days are
reasoned about in Europe/Amsterdam: "the local date of a moment" is its date
on a wall clock in the Netherlands.

Semantics of `WorkCalendar.add(start, d)` (and, mirrored, `subtract`):

- **minutes, hours**: elapsed time, plain UTC arithmetic. `24 hours` across the
  spring-forward night ends at a local wall time one hour later than the start
  (that night has 23 hours); across the fall-back night one hour earlier (25).
- **days, weeks, months**: the same local wall-clock time N days / 7N days /
  N months later. Months clamp to the last day of the target month
  (31 January + 1 month = 28 or 29 February; 31 March - 1 month = 28/29
  February). The wall time is then resolved with PEP 495 `fold=0`, always:
  a wall time that does not exist (02:00-03:00 on the spring-forward Sunday)
  is read with the offset in force *before* the change, so 02:30 becomes
  03:30 CEST (the deadline moves one hour later, never earlier); a wall time
  that occurs twice (02:00-03:00 on the fall-back Sunday) is its *first*
  occurrence (CEST, the earlier moment). The result is therefore always at
  least 23 hours per day after the start.
- **working days**: 17:00 Europe/Amsterdam (`END_OF_WORKING_DAY`) on the Nth
  working day after the local date of `start`. The start day itself never
  counts, whatever the hour; a start on a weekend or holiday counts from the
  next working day (Saturday + 1 working day = Monday 17:00). Backwards
  (`subtract`), it is 17:00 on the Nth working day *before* the local date of
  the moment. In `24x7` calendars working days raise `CalendarError` (the
  loader rejects them there too).

Working days are Monday to Friday minus the Dutch public holidays from the
`holidays` library (`holidays.NL`, public category), with these decisions:

- **King's Day**: 27 April, or Saturday 26 April when the 27th is a Sunday
  (as the library does and the law says). The Sunday itself is not a holiday
  that year and the Monday after is an ordinary working day.
- **Liberation Day** (5 May) is a day off only in lustrum years (year
  divisible by 5: 2025, 2030, ...), as most collective agreements have it and
  as the domain says. The library's public category agrees; this module also
  enforces it, so a library change cannot silently add 5 May every year.
- **Good Friday** is a day off only with `good_friday=True` (some employers);
  the library lists it as public, so it is dropped by default.
- Easter Sunday and Whit Sunday are listed too (they only ever fall on a
  Sunday, so they never change a working-day count).
- In `nl-school-weeks` the calendar's school holidays (inclusive date ranges)
  are non-working days as well; in the other kinds they are ignored.
- In `24x7` every day is a working day and quiet hours do not apply.

Holiday names are Dutch, each word capitalised: Nieuwjaarsdag, Goede Vrijdag,
Eerste/Tweede Paasdag, Koningsdag, Bevrijdingsdag, Hemelvaartsdag,
Eerste/Tweede Pinksterdag, Eerste/Tweede Kerstdag.

The library's holidays come from `engine/public_holidays_nl.py`, a table
generated from it (`scripts/generate_public_holidays.py`, its whole range
1966-2100, checked against the pinned library by a unit test): importing the
library loads all of its countries, about 20 MB and half a second in every
process. Outside the table's years the library itself is asked.

Speed: public holidays are computed once per year per process, and each
calendar keeps a sorted list of the working days of every year it has seen,
so `add(..., N working days)` is a couple of bisections, not a day-by-day walk,
and the UTC moment of 17:00 on a given date is cached too. Pre-1966 years have
no public holidays (the library starts with the Algemene termijnenwet); years
outside 1-9999 raise `CalendarError`. Nothing here reads the wall clock or
does I/O.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from engine import public_holidays_nl
from engine.definition import CalendarKind, SchoolHoliday
from engine.durations import Duration, Unit
from engine.errors import CalendarError
from engine.messages import msg

__all__ = [
    "AMSTERDAM",
    "END_OF_WORKING_DAY",
    "UTC",
    "WorkCalendar",
    "calendar_for",
]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
END_OF_WORKING_DAY = time(17, 0)

_GOOD_FRIDAY = "Goede Vrijdag"
_WORKING_UNITS = {Unit.WORKING_DAYS: 1, Unit.WORKING_WEEKS: 5}  # a working week is five working days
_LIBERATION_DAY = (5, 5)


# --------------------------------------------------------------------------- public holidays


def _easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _dutch_title(name: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in name.split())


@lru_cache(maxsize=1024)
def _public_holidays(year: int) -> Mapping[date, str]:
    """Every Dutch public holiday of `year`, Good Friday included, names in Dutch.

    Built once per year per process; callers filter Good Friday themselves.
    """
    listed = _library_holidays(year)
    result: dict[date, str] = {}
    for day, name in listed.items():
        if (day.month, day.day) == _LIBERATION_DAY and year % 5 != 0:
            continue  # Liberation Day is a day off in lustrum years only (see module docstring)
        result[day] = _dutch_title(name)
    if year >= 1966:  # the library's first year (Algemene termijnenwet); it lists Good Friday as public
        result[_good_friday(year)] = _GOOD_FRIDAY
    return result


def _library_holidays(year: int) -> Mapping[date, str]:
    """The `holidays` library's Dutch public holidays of `year` as it lists them, names in Dutch.

    From the table generated from the library; a year outside it asks the library itself (which
    knows none there today: the table is its whole range).
    """
    listed = public_holidays_nl.TABLE.get(year)
    if listed is not None:
        return {date(year, month, day): name for month, day, name in listed}
    import holidays  # only outside the table's years: the import loads every country

    return dict(holidays.country_holidays("NL", years=year, language="nl"))


def _good_friday(year: int) -> date:
    return _easter_sunday(year) - timedelta(days=2)


# --------------------------------------------------------------------------- helpers


def _aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise CalendarError(msg("calendar.not_aware", what=what, kind=type(value).__name__, value=repr(value)))
    if value.tzinfo is None or value.utcoffset() is None:
        raise CalendarError(msg("calendar.naive", what=what, value=value.isoformat()))
    return value


def _to_utc(value: object, what: str) -> datetime:
    if type(value) is datetime and value.tzinfo is UTC:
        return value  # the common case, checked cheaply
    return _aware(value, what).astimezone(UTC)


def _amount(d: object) -> tuple[int, Unit]:
    if not isinstance(d, Duration) or not isinstance(d.unit, Unit) or isinstance(d.amount, bool):
        raise CalendarError(msg("calendar.not_duration", value=repr(d)))
    if not isinstance(d.amount, int) or d.amount < 1:
        raise CalendarError(msg("calendar.amount", value=repr(d)))
    return d.amount, d.unit


def _plain_date(value: object, what: str) -> date:
    if isinstance(value, datetime):
        raise CalendarError(msg("calendar.datetime_not_date", what=what, value=value.isoformat()))
    if not isinstance(value, date):
        raise CalendarError(msg("calendar.not_date", what=what, kind=type(value).__name__, value=repr(value)))
    return value


def _resolve_wall(wall: datetime) -> datetime:
    """A naive Amsterdam wall time as a UTC moment (fold=0: see the module docstring)."""
    return wall.replace(tzinfo=AMSTERDAM, fold=0).astimezone(UTC)


def _at_local(day: date, at: time) -> datetime:
    return _resolve_wall(datetime.combine(day, at))


@lru_cache(maxsize=1 << 16)
def _end_of_working_day(ordinal: int) -> datetime:
    """17:00 Amsterdam on the day with this ordinal, as UTC (cached: every due moment is one)."""
    return _at_local(date.fromordinal(ordinal), END_OF_WORKING_DAY)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _shift_months(wall: datetime, months: int) -> datetime:
    index = wall.year * 12 + (wall.month - 1) + months
    year, month0 = divmod(index, 12)
    last = _MONTH_DAYS[month0]
    if month0 == 1 and (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        last = 29
    return wall.replace(year=year, month=month0 + 1, day=min(wall.day, last))


def _parse_school_holiday(holiday: object) -> Iterator[int]:
    if not isinstance(holiday, SchoolHoliday):
        raise CalendarError(msg("calendar.not_holiday", kind=type(holiday).__name__, value=repr(holiday)))
    try:
        first = date.fromisoformat(holiday.first_day)
        last = date.fromisoformat(holiday.last_day)
    except (TypeError, ValueError) as exc:
        raise CalendarError(msg("calendar.holiday_dates", name=holiday.name, first=repr(holiday.first_day),
                                last=repr(holiday.last_day))) from exc
    if last < first:
        raise CalendarError(msg("calendar.holiday_order", name=holiday.name, first=holiday.first_day,
                                last=holiday.last_day))
    return iter(range(first.toordinal(), last.toordinal() + 1))


# --------------------------------------------------------------------------- the calendar


@dataclass(frozen=True)
class WorkCalendar:
    """One pathway's notion of time; see the module docstring for the semantics.

    Cheap to build (`calendar_for` also reuses instances); the working days of
    a year are computed the first time a year is touched and kept.
    """

    kind: CalendarKind
    school_holidays: tuple[SchoolHoliday, ...] = ()
    good_friday: bool = False
    _school_days: Mapping[int, str] = field(init=False, repr=False, compare=False)
    _years: dict[int, list[int]] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, CalendarKind):
            raise CalendarError(msg("calendar.kind", kind=repr(self.kind), known=[k.value for k in CalendarKind]))
        object.__setattr__(self, "school_holidays", tuple(self.school_holidays))
        school: dict[int, str] = {}
        for holiday in self.school_holidays:
            for ordinal in _parse_school_holiday(holiday):
                school.setdefault(ordinal, holiday.name)
        if self.kind is not CalendarKind.SCHOOL_WEEKS:
            school = {}
        object.__setattr__(self, "_school_days", school)

    # ----------------------------------------------------------------- days

    def _is_public_day_off(self, day: date) -> bool:
        if day not in _public_holidays(day.year):
            return False
        return self.good_friday or day != _good_friday(day.year)

    def _working_days_of(self, year: int) -> list[int]:
        """Sorted ordinals of the working days of `year` (cached per calendar)."""
        days = self._years.get(year)
        if days is None:
            if not 1 <= year <= 9999:
                raise CalendarError(msg("calendar.year", year=year))
            first = date(year, 1, 1).toordinal()
            last = date(year, 12, 31).toordinal()
            days = [ordinal for ordinal in range(first, last + 1) if self._is_working_ordinal(ordinal)]
            self._years[year] = days
        return days

    def _is_working_ordinal(self, ordinal: int) -> bool:
        day = date.fromordinal(ordinal)
        return day.weekday() < 5 and not self._is_public_day_off(day) and ordinal not in self._school_days

    def is_working_day(self, day: date) -> bool:
        """Monday-Friday and not a holiday this calendar observes; every day in 24x7."""
        day = _plain_date(day, "day")
        if self.kind is CalendarKind.ALWAYS:
            return True
        return self._is_working_ordinal(day.toordinal())

    def holiday_name(self, day: date) -> str | None:
        """The Dutch name of the holiday on `day`, or None.

        Public holidays this calendar observes (Good Friday only with
        `good_friday=True`; Liberation Day only in lustrum years), and in
        `nl-school-weeks` the school holiday's name. In 24x7 the public holiday
        is still named (for display), although it does not stop the clock.
        """
        day = _plain_date(day, "day")
        name = _public_holidays(day.year).get(day)
        if name is not None and (self.good_friday or day != _good_friday(day.year)):
            return name
        return self._school_days.get(day.toordinal())

    def working_days_between(self, a: date, b: date) -> int:
        """The number of working days d with a < d <= b (negative when b < a).

        So `working_days_between(local(start).date(), local(add(start, N working days)).date()) == N`.
        In 24x7 every day counts: `(b - a).days`.
        """
        a = _plain_date(a, "a")
        b = _plain_date(b, "b")
        if b < a:
            return -self.working_days_between(b, a)
        if self.kind is CalendarKind.ALWAYS:
            return (b - a).days
        lo, hi = a.toordinal(), b.toordinal()
        total = 0
        for year in range(a.year, b.year + 1):
            days = self._working_days_of(year)
            total += bisect_right(days, hi) - bisect_right(days, lo)
        return total

    def _nth_working_day_after(self, day: date, n: int) -> int:
        year = day.year
        days = self._working_days_of(year)
        index = bisect_right(days, day.toordinal()) + n - 1
        while index >= len(days):
            index -= len(days)
            year += 1
            days = self._working_days_of(year)
        return days[index]

    def _nth_working_day_before(self, day: date, n: int) -> int:
        year = day.year
        days = self._working_days_of(year)
        index = bisect_left(days, day.toordinal()) - n
        while index < 0:
            year -= 1
            days = self._working_days_of(year)
            index += len(days)
        return days[index]

    def _require_working_days(self, d: Duration) -> None:
        if self.kind is CalendarKind.ALWAYS:
            raise CalendarError(msg("calendar.working_days_24x7", duration=f"'{d}'"))

    # ----------------------------------------------------------------- moments

    def postpone(self, moment: datetime, paused_from: datetime, paused_until: datetime) -> datetime:
        """Where a deadline lands after the case was suspended from `paused_from` to `paused_until`.

        In 24x7 the deadline moves by the elapsed time. Elsewhere it moves by
        the number of working days the suspension covered, keeping its local
        wall-clock time (so 17:00 stays 17:00 across DST, and a deadline never
        lands on a weekend or holiday because of the move).
        """
        moment = _to_utc(moment, "moment")
        start = _to_utc(paused_from, "paused_from")
        end = _to_utc(paused_until, "paused_until")
        if self.kind is CalendarKind.ALWAYS:
            return moment + (end - start)
        lost = self.working_days_between(start.astimezone(AMSTERDAM).date(), end.astimezone(AMSTERDAM).date())
        if lost <= 0:
            return moment
        local = moment.astimezone(AMSTERDAM)
        day = date.fromordinal(self._nth_working_day_after(local.date(), lost))
        return _resolve_wall(datetime.combine(day, local.time().replace(tzinfo=None)))

    def add(self, start: datetime, d: Duration) -> datetime:
        """The due moment `d` after `start` (UTC); see the module docstring."""
        moment = _to_utc(start, "start")
        n, unit = _amount(d)
        try:
            if unit is Unit.MINUTES:
                return moment + timedelta(minutes=n)
            if unit is Unit.HOURS:
                return moment + timedelta(hours=n)
            local = moment.astimezone(AMSTERDAM)
            if unit in _WORKING_UNITS:
                self._require_working_days(d)
                return _end_of_working_day(self._nth_working_day_after(local.date(), n * _WORKING_UNITS[unit]))
            wall = local.replace(tzinfo=None)
            if unit is Unit.MONTHS:
                return _resolve_wall(_shift_months(wall, n))
            days = n * 7 if unit is Unit.WEEKS else n
            return _resolve_wall(wall + timedelta(days=days))
        except (OverflowError, ValueError) as exc:
            raise CalendarError(msg("calendar.out_of_range", start=start.isoformat(), sign="+", duration=str(d))) from exc

    def due(self, start: datetime, d: Duration) -> datetime:
        """A deadline `d` after `start`: `add`, moved off holidays.

        A deadline in calendar days, weeks or months that falls on a public
        holiday this calendar observes (or, in `nl-school-weeks`, a school
        holiday) moves to the same wall-clock time on the next working day. In
        `24x7` every day counts and nothing moves; minutes and hours are elapsed
        time and do not move either; working days never land on a holiday.
        """
        moment = self.add(start, d)
        if self.kind is CalendarKind.ALWAYS or d.unit in (Unit.MINUTES, Unit.HOURS) or d.unit in _WORKING_UNITS:
            return moment
        local = moment.astimezone(AMSTERDAM)
        if self.holiday_name(local.date()) is None:
            return moment
        day = date.fromordinal(self._nth_working_day_after(local.date(), 1))
        return _resolve_wall(datetime.combine(day, local.time().replace(tzinfo=None)))

    def subtract(self, moment: datetime, d: Duration) -> datetime:
        """The moment `d` before `moment` (UTC), e.g. a reminder `before` a due moment.

        Mirrors `add`: minutes/hours are elapsed time, days/weeks/months the same
        local wall time earlier (months clamped), working days 17:00 on the Nth
        working day before the local date of `moment`.
        """
        at = _to_utc(moment, "moment")
        n, unit = _amount(d)
        try:
            if unit is Unit.MINUTES:
                return at - timedelta(minutes=n)
            if unit is Unit.HOURS:
                return at - timedelta(hours=n)
            local = at.astimezone(AMSTERDAM)
            if unit in _WORKING_UNITS:
                self._require_working_days(d)
                return _end_of_working_day(self._nth_working_day_before(local.date(), n * _WORKING_UNITS[unit]))
            wall = local.replace(tzinfo=None)
            if unit is Unit.MONTHS:
                return _resolve_wall(_shift_months(wall, -n))
            days = n * 7 if unit is Unit.WEEKS else n
            return _resolve_wall(wall - timedelta(days=days))
        except (OverflowError, ValueError) as exc:
            raise CalendarError(msg("calendar.out_of_range", start=moment.isoformat(), sign="-",
                                    duration=str(d))) from exc

    def next_delivery_moment(
        self, moment: datetime, *, start: time = time(8, 0), end: time = time(18, 0)
    ) -> datetime:
        """The earliest moment >= `moment` inside working hours [start, end) on a working day (UTC).

        For quiet hours: a moment inside working hours on a working day is
        returned unchanged; before `start` on a working day it moves to `start`
        that day; otherwise to `start` on the next working day. In 24x7 it is
        the identity.
        """
        at = _to_utc(moment, "moment")
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, time) or value.tzinfo is not None:
                raise CalendarError(msg("calendar.wall_time", what=name, value=repr(value)))
        if not start < end:
            raise CalendarError(msg("calendar.hours_order", start=str(start), end=str(end)))
        if self.kind is CalendarKind.ALWAYS:
            return at
        local = at.astimezone(AMSTERDAM)
        day = local.date()
        if self._is_working_ordinal(day.toordinal()):
            wall = local.time()
            if start <= wall < end:
                return at
            if wall < start:
                return max(at, _at_local(day, start))
        ordinal = self._nth_working_day_after(day, 1)
        return _at_local(date.fromordinal(ordinal), start)

    def local(self, moment: datetime) -> datetime:
        """`moment` on a wall clock in Europe/Amsterdam (for display)."""
        return _aware(moment, "moment").astimezone(AMSTERDAM)


@lru_cache(maxsize=256)
def _cached_calendar(
    kind: CalendarKind, school: tuple[SchoolHoliday, ...], good_friday: bool
) -> WorkCalendar:
    return WorkCalendar(kind, school, good_friday)


def calendar_for(
    kind: CalendarKind, school_holidays: Sequence[SchoolHoliday] = (), *, good_friday: bool = False
) -> WorkCalendar:
    """The calendar of a pathway; equal arguments give the same (warmed-up) instance."""
    if not isinstance(kind, CalendarKind):
        try:
            kind = CalendarKind(kind)
        except ValueError as exc:
            raise CalendarError(msg("calendar.kind", kind=repr(kind), known=[k.value for k in CalendarKind])) from exc
    school = tuple(school_holidays)
    try:
        return _cached_calendar(kind, school, bool(good_friday))
    except TypeError:  # an unhashable element: build uncached and let validation name it
        return WorkCalendar(kind, school, bool(good_friday))
