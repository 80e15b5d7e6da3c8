"""engine/public_holidays_nl.py is the pinned `holidays` library's Dutch public holidays, and nothing imports the library."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from importlib.metadata import version
from pathlib import Path

import holidays

from engine import calendar, public_holidays_nl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import generate_public_holidays  # noqa: E402


def test_the_table_is_what_the_pinned_library_lists_for_every_year() -> None:
    assert version("holidays") == public_holidays_nl.LIBRARY_VERSION, (
        "holidays is bijgewerkt: draai scripts/generate_public_holidays.py en bekijk het verschil"
    )
    for year in range(public_holidays_nl.FIRST_YEAR - 3, public_holidays_nl.LAST_YEAR + 4):
        library = dict(holidays.country_holidays("NL", years=year, language="nl"))
        assert calendar._library_holidays(year) == library, year


def test_the_committed_table_is_exactly_what_the_generator_writes() -> None:
    assert generate_public_holidays.generated() == generate_public_holidays.TARGET.read_text(encoding="utf-8")


def test_the_years_around_the_table_ask_the_library_and_find_none() -> None:
    assert calendar._library_holidays(public_holidays_nl.FIRST_YEAR - 1) == {}
    assert calendar._library_holidays(public_holidays_nl.LAST_YEAR + 1) == {}
    assert calendar._library_holidays(2026)[date(2026, 4, 27)] == "Koningsdag"


def test_working_days_are_counted_without_importing_the_library() -> None:
    code = (
        "import sys\n"
        "from datetime import date\n"
        "from engine.calendar import calendar_for\n"
        "from engine.definition import CalendarKind\n"
        "nl = calendar_for(CalendarKind.WORKING_DAYS)\n"
        "assert not nl.is_working_day(date(2026, 4, 27))\n"
        "assert nl.holiday_name(date(2030, 5, 5)) == 'Bevrijdingsdag'\n"
        "assert 'holidays' not in sys.modules, 'holidays imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
