"""engine.calendar: Dutch working days, DST, school holidays, quiet hours."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import calendar as engine_calendar
from engine import public_holidays_nl
from engine.calendar import END_OF_WORKING_DAY, WorkCalendar, _public_holidays, calendar_for
from engine.definition import CalendarKind, SchoolHoliday
from engine.durations import Duration, Unit
from engine.errors import CalendarError, EngineError

AMS = ZoneInfo("Europe/Amsterdam")

NL = calendar_for(CalendarKind.WORKING_DAYS)
NL_GOOD_FRIDAY = calendar_for(CalendarKind.WORKING_DAYS, good_friday=True)
ALWAYS = calendar_for(CalendarKind.ALWAYS)

HERFST_2026 = SchoolHoliday("Herfstvakantie", "2026-10-17", "2026-10-25")
KERST_2026 = SchoolHoliday("Kerstvakantie", "2026-12-19", "2027-01-03")
SCHOOL = calendar_for(CalendarKind.SCHOOL_WEEKS, [HERFST_2026, KERST_2026])


def ams(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local Amsterdam wall time as an aware UTC moment (fold=0)."""
    return datetime(year, month, day, hour, minute, tzinfo=AMS).astimezone(UTC)


def wd(n: int) -> Duration:
    return Duration(n, Unit.WORKING_DAYS)


def due_local(cal: WorkCalendar, start: datetime, d: Duration) -> datetime:
    result = cal.add(start, d)
    assert result.tzinfo is UTC
    return cal.local(result)


# --------------------------------------------------------------------------- public holidays


class TestHolidays:
    def test_kings_day_on_a_weekday(self) -> None:
        assert date(2026, 4, 27).weekday() == 0  # Monday
        assert NL.holiday_name(date(2026, 4, 27)) == "Koningsdag"
        assert not NL.is_working_day(date(2026, 4, 27))
        # Friday 24 April + 1 working day skips King's Day Monday
        assert due_local(NL, ams(2026, 4, 24, 10), wd(1)) == datetime(2026, 4, 28, 17, tzinfo=AMS)

    @pytest.mark.parametrize("year", [2025, 2031, 2036])
    def test_kings_day_on_sunday_moves_to_saturday_not_monday(self, year: int) -> None:
        assert date(year, 4, 27).weekday() == 6  # Sunday
        assert NL.holiday_name(date(year, 4, 26)) == "Koningsdag"
        assert NL.holiday_name(date(year, 4, 27)) is None
        # the Monday after is an ordinary working day (no "observed" Monday)
        assert NL.is_working_day(date(year, 4, 28))
        assert due_local(NL, ams(year, 4, 25, 10), wd(1)) == datetime(year, 4, 28, 17, tzinfo=AMS)

    def test_easter_monday(self) -> None:
        assert NL.holiday_name(date(2026, 4, 6)) == "Tweede Paasdag"
        assert NL.holiday_name(date(2026, 4, 5)) == "Eerste Paasdag"
        # Thursday 2 April + 2 working days: Friday 3 (Good Friday works by default), Tuesday 7
        assert due_local(NL, ams(2026, 4, 2, 9), wd(2)) == datetime(2026, 4, 7, 17, tzinfo=AMS)

    def test_ascension(self) -> None:
        assert NL.holiday_name(date(2026, 5, 14)) == "Hemelvaartsdag"
        assert due_local(NL, ams(2026, 5, 13, 9), wd(1)) == datetime(2026, 5, 15, 17, tzinfo=AMS)

    def test_whit_monday(self) -> None:
        assert NL.holiday_name(date(2026, 5, 25)) == "Tweede Pinksterdag"
        assert NL.holiday_name(date(2026, 5, 24)) == "Eerste Pinksterdag"
        assert due_local(NL, ams(2026, 5, 22, 9), wd(1)) == datetime(2026, 5, 26, 17, tzinfo=AMS)

    def test_christmas_boxing_day_and_new_year(self) -> None:
        assert NL.holiday_name(date(2025, 12, 25)) == "Eerste Kerstdag"
        assert NL.holiday_name(date(2025, 12, 26)) == "Tweede Kerstdag"
        assert NL.holiday_name(date(2026, 1, 1)) == "Nieuwjaarsdag"
        start = ams(2025, 12, 24, 11)  # Wednesday
        # Mon 29, Tue 30, Wed 31, (Thu 1 Jan off), Fri 2 Jan, Mon 5 Jan
        expected = [
            date(2025, 12, 29),
            date(2025, 12, 30),
            date(2025, 12, 31),
            date(2026, 1, 2),
            date(2026, 1, 5),
        ]
        got = [due_local(NL, start, wd(n)).date() for n in range(1, 6)]
        assert got == expected
        assert NL.working_days_between(date(2025, 12, 24), date(2026, 1, 5)) == 5
        assert NL.working_days_between(date(2026, 1, 5), date(2025, 12, 24)) == -5

    def test_no_observed_monday_for_sunday_holidays(self) -> None:
        # Christmas 2022 and New Year 2023 fell on Sundays: the Mondays after stayed working days
        assert date(2022, 12, 25).weekday() == 6
        assert NL.is_working_day(date(2022, 12, 27))
        assert date(2023, 1, 1).weekday() == 6
        assert NL.is_working_day(date(2023, 1, 2))

    def test_liberation_day_only_in_lustrum_years(self) -> None:
        assert date(2025, 5, 5).weekday() == 0 and date(2026, 5, 5).weekday() == 1
        assert NL.holiday_name(date(2025, 5, 5)) == "Bevrijdingsdag"
        assert not NL.is_working_day(date(2025, 5, 5))
        assert NL.holiday_name(date(2026, 5, 5)) is None
        assert NL.is_working_day(date(2026, 5, 5))
        assert due_local(NL, ams(2025, 5, 2, 9), wd(1)) == datetime(2025, 5, 6, 17, tzinfo=AMS)
        assert due_local(NL, ams(2026, 5, 4, 9), wd(1)) == datetime(2026, 5, 5, 17, tzinfo=AMS)
        assert not NL.is_working_day(date(2030, 5, 6 - 1))  # 2030 is a lustrum year too

    def test_library_lists_liberation_day_every_year_only_as_optional(self) -> None:
        # pin the library behaviour our decision relies on (documented in engine.calendar)
        optional = holidays.country_holidays("NL", years=2026, categories=("optional",))
        assert date(2026, 5, 5) in optional
        assert date(2026, 5, 5) not in holidays.country_holidays("NL", years=2026)

    def test_lustrum_rule_holds_even_if_the_library_lists_liberation_day_yearly(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # a library (and so a regenerated table) that lists 5 May every year
        yearly = dict(public_holidays_nl.TABLE)
        yearly[2026] = (*yearly[2026], (5, 5, "Bevrijdingsdag"))
        monkeypatch.setattr(public_holidays_nl, "TABLE", yearly)
        _public_holidays.cache_clear()
        try:
            fresh = WorkCalendar(CalendarKind.WORKING_DAYS)
            assert fresh.is_working_day(date(2026, 5, 5))
            assert not fresh.is_working_day(date(2030, 5, 6 - 1))
        finally:
            _public_holidays.cache_clear()

    def test_good_friday_is_an_option_default_off(self) -> None:
        good_friday = date(2026, 4, 3)
        assert NL.is_working_day(good_friday)
        assert NL.holiday_name(good_friday) is None
        assert not NL_GOOD_FRIDAY.is_working_day(good_friday)
        assert NL_GOOD_FRIDAY.holiday_name(good_friday) == "Goede Vrijdag"
        start = ams(2026, 4, 2, 9)  # Thursday
        assert due_local(NL, start, wd(1)) == datetime(2026, 4, 3, 17, tzinfo=AMS)
        assert due_local(NL_GOOD_FRIDAY, start, wd(1)) == datetime(2026, 4, 7, 17, tzinfo=AMS)

    def test_good_friday_matches_the_library_over_many_years(self) -> None:
        for year in range(1970, 2101):
            listed = holidays.country_holidays("NL", years=year, language="nl")
            fridays = [d for d, name in listed.items() if name.lower() == "goede vrijdag"]
            assert len(fridays) == 1, year
            assert NL_GOOD_FRIDAY.holiday_name(fridays[0]) == "Goede Vrijdag", year
            assert NL.is_working_day(fridays[0]), year
            assert NL.holiday_name(fridays[0] + timedelta(days=3)) == "Tweede Paasdag", year

    def test_ordinary_days(self) -> None:
        assert NL.is_working_day(date(2026, 3, 4))  # a Wednesday
        assert not NL.is_working_day(date(2026, 3, 7))  # Saturday
        assert not NL.is_working_day(date(2026, 3, 8))  # Sunday
        assert NL.holiday_name(date(2026, 3, 4)) is None

    def test_working_days_between(self) -> None:
        assert NL.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
        assert NL.working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 5
        assert NL.working_days_between(date(2026, 3, 6), date(2026, 3, 8)) == 0  # Fri -> Sun
        assert (
            NL.working_days_between(date(2026, 1, 1), date(2026, 12, 31)) == 255
        )  # 261 weekdays - 6 weekday holidays
        assert ALWAYS.working_days_between(date(2026, 3, 6), date(2026, 3, 8)) == 2


# --------------------------------------------------------------------------- add / subtract


class TestWorkingDays:
    def test_start_day_never_counts(self) -> None:
        monday = date(2026, 3, 2)
        for hour in (0, 8, 16, 17, 23):
            assert due_local(NL, ams(2026, 3, 2, hour), wd(1)).date() == monday + timedelta(days=1)

    def test_result_is_end_of_working_day(self) -> None:
        result = due_local(NL, ams(2026, 3, 2, 9, 13), wd(5))
        assert result == datetime(2026, 3, 9, 17, tzinfo=AMS)
        assert result.timetz().replace(tzinfo=None) == END_OF_WORKING_DAY

    def test_weekend_start_counts_from_next_working_day(self) -> None:
        for day in (7, 8):  # Saturday, Sunday
            assert due_local(NL, ams(2026, 3, day, 12), wd(1)) == datetime(2026, 3, 9, 17, tzinfo=AMS)

    def test_holiday_start_counts_from_next_working_day(self) -> None:
        # King's Day Monday 27 April 2026 + 1 working day = Tuesday 28 April
        assert due_local(NL, ams(2026, 4, 27, 12), wd(1)) == datetime(2026, 4, 28, 17, tzinfo=AMS)

    def test_local_date_of_start_counts_not_utc_date(self) -> None:
        # Monday 00:30 CEST is still Sunday 22:30 UTC: the local date (Monday) is what counts
        start = datetime(2026, 6, 7, 22, 30, tzinfo=UTC)
        assert NL.local(start).date() == date(2026, 6, 8)
        assert due_local(NL, start, wd(1)) == datetime(2026, 6, 9, 17, tzinfo=AMS)

    def test_many_working_days_cross_years(self) -> None:
        start = ams(2026, 3, 2, 9)
        result = NL.add(start, wd(600))
        assert NL.working_days_between(date(2026, 3, 2), NL.local(result).date()) == 600
        assert NL.subtract(result, wd(600)) == ams(2026, 3, 2, 17)

    def test_subtract_lands_on_nth_working_day_before(self) -> None:
        # due Tuesday 28 April 2026 17:00; 1 working day before skips King's Day -> Friday 24
        due = ams(2026, 4, 28, 17)
        assert NL.local(NL.subtract(due, wd(1))) == datetime(2026, 4, 24, 17, tzinfo=AMS)
        assert NL.local(NL.subtract(due, wd(2))) == datetime(2026, 4, 23, 17, tzinfo=AMS)
        # from a Sunday, the Friday before is the 1st working day before
        assert NL.local(NL.subtract(ams(2026, 3, 8, 12), wd(1))) == datetime(2026, 3, 6, 17, tzinfo=AMS)
        # across New Year backwards: Fri 2 Jan 2026 - 1 = Wed 31 Dec 2025
        assert NL.local(NL.subtract(ams(2026, 1, 2, 17), wd(1))) == datetime(2025, 12, 31, 17, tzinfo=AMS)

    def test_24x7_rejects_working_days(self) -> None:
        with pytest.raises(CalendarError, match="24x7"):
            ALWAYS.add(ams(2026, 3, 2, 9), wd(1))
        with pytest.raises(CalendarError, match="24x7"):
            ALWAYS.subtract(ams(2026, 3, 2, 9), wd(1))
        assert issubclass(CalendarError, EngineError)

    def test_24x7_everything_else_counts_every_day(self) -> None:
        assert ALWAYS.is_working_day(date(2026, 4, 27))
        assert ALWAYS.is_working_day(date(2026, 3, 8))
        assert ALWAYS.add(ams(2026, 3, 7, 12), Duration(1, Unit.DAYS)) == ams(2026, 3, 8, 12)
        assert ALWAYS.holiday_name(date(2026, 4, 27)) == "Koningsdag"  # named, but not a day off


class TestDaylightSaving:
    # 2026-03-29: 02:00 CET -> 03:00 CEST (23-hour day); 2026-10-25: 03:00 CEST -> 02:00 CET (25 hours)

    def test_hours_are_elapsed_time_spring_forward(self) -> None:
        start = ams(2026, 3, 28, 12)  # 11:00 UTC
        assert NL.add(start, Duration(24, Unit.HOURS)) == datetime(2026, 3, 29, 11, tzinfo=UTC)
        assert NL.local(NL.add(start, Duration(24, Unit.HOURS))).hour == 13
        assert NL.add(start, Duration(1440, Unit.MINUTES)) == datetime(2026, 3, 29, 11, tzinfo=UTC)

    def test_hours_are_elapsed_time_fall_back(self) -> None:
        start = ams(2026, 10, 24, 12)  # 10:00 UTC
        assert NL.local(NL.add(start, Duration(24, Unit.HOURS))).hour == 11

    def test_days_keep_wall_clock_time_spring_forward(self) -> None:
        start = ams(2026, 3, 28, 12)
        result = NL.add(start, Duration(1, Unit.DAYS))
        assert NL.local(result) == datetime(2026, 3, 29, 12, tzinfo=AMS)
        assert result - start == timedelta(hours=23)

    def test_days_keep_wall_clock_time_fall_back(self) -> None:
        start = ams(2026, 10, 24, 12)
        result = NL.add(start, Duration(1, Unit.DAYS))
        assert NL.local(result) == datetime(2026, 10, 25, 12, tzinfo=AMS)
        assert result - start == timedelta(hours=25)

    def test_weeks_keep_wall_clock_time_across_dst(self) -> None:
        start = ams(2026, 3, 23, 9)  # Monday before the change
        assert NL.local(NL.add(start, Duration(1, Unit.WEEKS))) == datetime(2026, 3, 30, 9, tzinfo=AMS)
        assert NL.local(NL.add(start, Duration(3, Unit.WEEKS))) == datetime(2026, 4, 13, 9, tzinfo=AMS)

    def test_nonexistent_wall_time_moves_one_hour_later(self) -> None:
        start = datetime(2026, 3, 28, 1, 30, tzinfo=UTC)  # 02:30 CET
        result = NL.add(start, Duration(1, Unit.DAYS))
        # 02:30 on 29 March does not exist: read with the pre-change offset -> 03:30 CEST
        assert result == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
        assert NL.local(result).strftime("%H:%M %Z") == "03:30 CEST"

    def test_ambiguous_wall_time_is_first_occurrence(self) -> None:
        start = datetime(2026, 10, 24, 0, 30, tzinfo=UTC)  # 02:30 CEST
        result = NL.add(start, Duration(1, Unit.DAYS))
        assert result == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, not 02:30 CET
        second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET (second occurrence)
        assert NL.add(second, Duration(1, Unit.DAYS)) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
        # and backwards to the ambiguous day also picks the first occurrence
        assert NL.subtract(
            datetime(2026, 10, 26, 1, 30, tzinfo=UTC), Duration(1, Unit.DAYS)
        ) == start + timedelta(days=1)

    def test_working_days_over_dst_weekends_end_at_local_17(self) -> None:
        spring = NL.add(ams(2026, 3, 27, 10), wd(1))  # Friday CET -> Monday CEST
        assert spring == datetime(2026, 3, 30, 15, tzinfo=UTC)
        autumn = NL.add(ams(2026, 10, 23, 10), wd(1))  # Friday CEST -> Monday CET
        assert autumn == datetime(2026, 10, 26, 16, tzinfo=UTC)
        assert NL.subtract(autumn, wd(1)) == datetime(2026, 10, 23, 15, tzinfo=UTC)


class TestMonths:
    def test_clamps_to_last_day_of_month(self) -> None:
        assert NL.local(NL.add(ams(2026, 1, 31, 10), Duration(1, Unit.MONTHS))) == datetime(
            2026, 2, 28, 10, tzinfo=AMS
        )
        assert NL.local(NL.add(ams(2028, 1, 31, 10), Duration(1, Unit.MONTHS))) == datetime(
            2028, 2, 29, 10, tzinfo=AMS
        )
        assert NL.local(NL.add(ams(2026, 1, 31, 10), Duration(2, Unit.MONTHS))) == datetime(
            2026, 3, 31, 10, tzinfo=AMS
        )
        assert NL.local(NL.add(ams(2026, 8, 31, 10), Duration(1, Unit.MONTHS))) == datetime(
            2026, 9, 30, 10, tzinfo=AMS
        )
        assert NL.local(NL.subtract(ams(2026, 3, 31, 10), Duration(1, Unit.MONTHS))) == datetime(
            2026, 2, 28, 10, tzinfo=AMS
        )

    def test_crosses_years_and_dst(self) -> None:
        assert NL.local(NL.add(ams(2026, 11, 15, 9), Duration(3, Unit.MONTHS))) == datetime(
            2027, 2, 15, 9, tzinfo=AMS
        )
        result = NL.add(ams(2026, 3, 15, 10), Duration(1, Unit.MONTHS))  # CET -> CEST
        assert result == datetime(2026, 4, 15, 8, tzinfo=UTC)
        assert NL.local(NL.add(ams(2026, 5, 15, 10), Duration(14, Unit.MONTHS))) == datetime(
            2027, 7, 15, 10, tzinfo=AMS
        )

    def test_subtract_months(self) -> None:
        assert NL.local(NL.subtract(ams(2027, 1, 15, 9), Duration(2, Unit.MONTHS))) == datetime(
            2026, 11, 15, 9, tzinfo=AMS
        )


class TestSchoolHolidays:
    def test_school_holidays_are_non_working_in_school_weeks(self) -> None:
        start = ams(2026, 10, 16, 10)  # Friday before the autumn break
        assert due_local(SCHOOL, start, wd(1)) == datetime(2026, 10, 26, 17, tzinfo=AMS)
        assert due_local(NL, start, wd(1)) == datetime(2026, 10, 19, 17, tzinfo=AMS)
        assert not SCHOOL.is_working_day(date(2026, 10, 19))
        assert SCHOOL.holiday_name(date(2026, 10, 19)) == "Herfstvakantie"
        assert NL.holiday_name(date(2026, 10, 19)) is None

    def test_ranges_are_inclusive_and_cross_new_year(self) -> None:
        assert SCHOOL.is_working_day(date(2026, 12, 18))
        assert not SCHOOL.is_working_day(date(2027, 1, 1))
        assert not SCHOOL.is_working_day(date(2026, 12, 21))
        assert SCHOOL.is_working_day(date(2027, 1, 4))
        # public holiday names win over the school holiday's
        assert SCHOOL.holiday_name(date(2026, 12, 25)) == "Eerste Kerstdag"
        assert SCHOOL.holiday_name(date(2026, 12, 28)) == "Kerstvakantie"
        assert due_local(SCHOOL, ams(2026, 12, 18, 10), wd(1)) == datetime(2027, 1, 4, 17, tzinfo=AMS)
        assert SCHOOL.subtract(ams(2027, 1, 4, 17), wd(1)) == ams(2026, 12, 18, 17)
        assert SCHOOL.working_days_between(date(2026, 12, 18), date(2027, 1, 4)) == 1

    def test_school_weeks_without_holidays_equals_working_days(self) -> None:
        plain = calendar_for(CalendarKind.SCHOOL_WEEKS)
        start = ams(2026, 10, 16, 10)
        assert plain.add(start, wd(3)) == NL.add(start, wd(3))

    def test_other_kinds_ignore_school_holidays(self) -> None:
        cal = calendar_for(CalendarKind.WORKING_DAYS, [HERFST_2026])
        assert cal.is_working_day(date(2026, 10, 19))

    def test_invalid_school_holidays_are_named(self) -> None:
        with pytest.raises(CalendarError, match="Voorjaarsvakantie"):
            calendar_for(
                CalendarKind.SCHOOL_WEEKS, [SchoolHoliday("Voorjaarsvakantie", "2026-02-30", "2026-03-01")]
            )
        with pytest.raises(CalendarError, match=r"eindigt .* voordat zij begint"):
            calendar_for(
                CalendarKind.SCHOOL_WEEKS, [SchoolHoliday("Meivakantie", "2026-05-08", "2026-04-25")]
            )


# --------------------------------------------------------------------------- quiet hours


class TestNextDeliveryMoment:
    def test_inside_working_hours_stays(self) -> None:
        moment = ams(2026, 4, 28, 10, 15)
        assert NL.next_delivery_moment(moment) == moment
        assert NL.next_delivery_moment(ams(2026, 4, 28, 8)) == ams(2026, 4, 28, 8)
        assert NL.next_delivery_moment(ams(2026, 4, 28, 17, 59)) == ams(2026, 4, 28, 17, 59)

    def test_sunday_moves_to_monday_morning(self) -> None:
        assert NL.next_delivery_moment(ams(2026, 3, 29, 12)) == ams(2026, 3, 30, 8)

    def test_kings_day_moves_to_next_morning(self) -> None:
        assert NL.next_delivery_moment(ams(2026, 4, 27, 11)) == ams(2026, 4, 28, 8)

    def test_evening_moves_to_next_working_morning(self) -> None:
        assert NL.next_delivery_moment(ams(2026, 4, 28, 18)) == ams(2026, 4, 29, 8)  # end is exclusive
        assert NL.next_delivery_moment(ams(2026, 4, 28, 22, 45)) == ams(2026, 4, 29, 8)
        assert NL.next_delivery_moment(ams(2026, 3, 27, 19)) == ams(2026, 3, 30, 8)  # Friday evening
        assert NL.next_delivery_moment(ams(2025, 12, 24, 20)) == ams(2025, 12, 29, 8)  # Christmas

    def test_early_morning_moves_to_start_same_day(self) -> None:
        assert NL.next_delivery_moment(ams(2026, 4, 28, 6, 30)) == ams(2026, 4, 28, 8)

    def test_custom_hours(self) -> None:
        moment = ams(2026, 4, 28, 8, 30)
        assert NL.next_delivery_moment(moment, start=time(9), end=time(17)) == ams(2026, 4, 28, 9)
        assert NL.next_delivery_moment(ams(2026, 4, 28, 17), start=time(9), end=time(17)) == ams(
            2026, 4, 29, 9
        )
        with pytest.raises(CalendarError, match="beginnen voordat ze eindigen"):
            NL.next_delivery_moment(moment, start=time(18), end=time(8))

    def test_school_holiday_is_quiet_in_school_weeks(self) -> None:
        assert SCHOOL.next_delivery_moment(ams(2026, 10, 20, 10)) == ams(2026, 10, 26, 8)

    def test_24x7_is_identity(self) -> None:
        for moment in (ams(2026, 3, 29, 3, 15), ams(2026, 4, 27, 23), ams(2026, 4, 28, 10)):
            assert ALWAYS.next_delivery_moment(moment) == moment


# --------------------------------------------------------------------------- validation, API


class TestValidation:
    def test_naive_datetimes_are_refused_and_named(self) -> None:
        naive = datetime(2026, 3, 2, 9, 0)
        message = "2026-03-02T09:00:00 heeft geen tijdzone"
        with pytest.raises(CalendarError, match=message):
            NL.add(naive, wd(1))
        with pytest.raises(CalendarError, match=message):
            NL.subtract(naive, Duration(1, Unit.HOURS))
        with pytest.raises(CalendarError, match=message):
            NL.next_delivery_moment(naive)
        with pytest.raises(CalendarError, match=message):
            NL.local(naive)

    def test_bad_durations(self) -> None:
        with pytest.raises(CalendarError, match="minstens 1"):
            NL.add(ams(2026, 3, 2, 9), Duration(0, Unit.DAYS))
        with pytest.raises(CalendarError, match="minstens 1"):
            NL.add(ams(2026, 3, 2, 9), Duration(-3, Unit.WORKING_DAYS))
        with pytest.raises(CalendarError, match="verwacht een duur"):
            NL.add(ams(2026, 3, 2, 9), "5 working days")  # type: ignore[arg-type]

    def test_dates_not_datetimes(self) -> None:
        with pytest.raises(CalendarError, match="lokale datum"):
            NL.is_working_day(datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
        with pytest.raises(CalendarError, match="lokale datum"):
            NL.working_days_between(date(2026, 3, 2), datetime(2026, 3, 9, tzinfo=UTC))

    def test_out_of_range(self) -> None:
        with pytest.raises(CalendarError, match="bereik"):
            NL.add(datetime(9999, 12, 1, tzinfo=UTC), Duration(3, Unit.MONTHS))
        with pytest.raises(CalendarError, match="bereik"):
            NL.add(datetime(9999, 12, 20, tzinfo=UTC), wd(20))

    def test_unknown_kind(self) -> None:
        with pytest.raises(CalendarError, match="onbekende soort kalender"):
            calendar_for("nl-bank-days")  # type: ignore[arg-type]

    def test_aware_non_utc_input_gives_utc_output(self) -> None:
        start = datetime(2026, 3, 2, 9, tzinfo=AMS)
        result = NL.add(start, Duration(2, Unit.HOURS))
        assert result.tzinfo is UTC
        assert result == datetime(2026, 3, 2, 10, tzinfo=UTC)

    def test_calendar_is_frozen_and_reused(self) -> None:
        assert calendar_for(CalendarKind.WORKING_DAYS) is NL
        assert calendar_for(CalendarKind.WORKING_DAYS, good_friday=True) is NL_GOOD_FRIDAY
        assert NL != NL_GOOD_FRIDAY
        with pytest.raises(dataclasses.FrozenInstanceError):
            NL.good_friday = True  # type: ignore[misc]
        assert WorkCalendar(CalendarKind.WORKING_DAYS) == NL

    def test_add_does_not_rebuild_holidays_per_call(self, monkeypatch: pytest.MonkeyPatch) -> None:
        NL.add(ams(2026, 3, 2, 9), wd(10))  # warm 2026
        calls: list[object] = []
        real = engine_calendar._library_holidays

        def counting(*args: Any, **kwargs: Any) -> Any:
            calls.append(args)
            return real(*args, **kwargs)

        monkeypatch.setattr(engine_calendar, "_library_holidays", counting)
        for day in range(2, 28):
            NL.add(ams(2026, 3, day % 28 + 1, 9), wd(10))
        assert calls == []


# --------------------------------------------------------------------------- properties

STARTS = st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2070, 1, 1), timezones=st.just(UTC))
CALENDARS = st.sampled_from([NL, NL_GOOD_FRIDAY, SCHOOL, ALWAYS])
UNITS = st.sampled_from(list(Unit))


def _allowed(cal: WorkCalendar, unit: Unit) -> bool:
    return not (cal is ALWAYS and unit in (Unit.WORKING_DAYS, Unit.WORKING_WEEKS))


@settings(max_examples=400, deadline=None)
@given(cal=CALENDARS, start=STARTS, unit=UNITS, a=st.integers(1, 400), b=st.integers(1, 400))
def test_add_is_later_and_monotone(cal: WorkCalendar, start: datetime, unit: Unit, a: int, b: int) -> None:
    if not _allowed(cal, unit):
        return
    small, large = sorted((a, b))
    first = cal.add(start, Duration(small, unit))
    second = cal.add(start, Duration(large, unit))
    assert first > start
    assert first.tzinfo is UTC
    assert first <= second
    if small < large:
        assert first < second


@settings(max_examples=400, deadline=None)
@given(cal=st.sampled_from([NL, NL_GOOD_FRIDAY, SCHOOL]), start=STARTS, n=st.integers(1, 60))
def test_working_days_land_at_17_on_a_working_day(cal: WorkCalendar, start: datetime, n: int) -> None:
    due = cal.local(cal.add(start, Duration(n, Unit.WORKING_DAYS)))
    assert due.time() == END_OF_WORKING_DAY
    assert cal.is_working_day(due.date())
    start_day = cal.local(start).date()
    assert cal.working_days_between(start_day, due.date()) == n
    # subtract then add: back to 17:00 on the last working day on or before the start's local date
    back = cal.local(
        cal.subtract(cal.add(start, Duration(n, Unit.WORKING_DAYS)), Duration(n, Unit.WORKING_DAYS))
    )
    assert back.time() == END_OF_WORKING_DAY
    assert cal.is_working_day(back.date())
    assert back.date() <= start_day
    assert cal.working_days_between(back.date(), start_day) == 0
    # add after subtract: 17:00 on the first working day on or after the moment's local date
    before = cal.subtract(start, Duration(n, Unit.WORKING_DAYS))
    assert cal.local(before).date() < start_day
    again = cal.local(cal.add(before, Duration(n, Unit.WORKING_DAYS)))
    assert again.date() >= start_day
    assert cal.is_working_day(again.date())
    assert cal.working_days_between(start_day - timedelta(days=1), again.date()) == 1


@settings(max_examples=400, deadline=None)
@given(
    start=STARTS,
    unit=st.sampled_from([Unit.MINUTES, Unit.HOURS, Unit.DAYS, Unit.WEEKS]),
    n=st.integers(1, 5000),
)
def test_subtract_inverts_add(start: datetime, unit: Unit, n: int) -> None:
    local = NL.local(start)
    if unit in (Unit.DAYS, Unit.WEEKS) and 2 <= local.hour < 3:
        return  # wall times in the DST hour need not round-trip (documented fold=0 resolution)
    d = Duration(n, unit)
    assert NL.subtract(NL.add(start, d), d) == start
    assert NL.add(NL.subtract(start, d), d) == start


@settings(max_examples=300, deadline=None)
@given(start=STARTS, n=st.integers(1, 120))
def test_months_round_trip_on_early_days(start: datetime, n: int) -> None:
    local = NL.local(start)
    if local.day > 28 or 2 <= local.hour < 3:
        return
    d = Duration(n, Unit.MONTHS)
    moved = NL.local(NL.add(start, d))
    assert (moved.day, moved.hour, moved.minute) == (local.day, local.hour, local.minute)
    assert NL.subtract(NL.add(start, d), d) == start


@settings(max_examples=300, deadline=None)
@given(cal=CALENDARS, moment=STARTS)
def test_next_delivery_moment_is_next_allowed_moment(cal: WorkCalendar, moment: datetime) -> None:
    result = cal.next_delivery_moment(moment)
    assert result >= moment
    if cal is ALWAYS:
        assert result == moment
        return
    local = cal.local(result)
    assert cal.is_working_day(local.date())
    assert time(8) <= local.time() < time(18)
    if result != moment:
        assert local.time() == time(8)
