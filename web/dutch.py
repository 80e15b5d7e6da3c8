"""Dutch as people write it: "4 december 2026", "€ 1.234,56", "1 taak" / "2 taken".

One place for the forms of dates, amounts and plurals the casework pages use (see
docs/glossary.md for the words themselves).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from web.timefmt import local

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def long_date(value: date | datetime | None, lang: str = "nl", *, weekday: bool = False) -> str:
    """`4 december 2026` (`donderdag 4 december 2026` with `weekday`); a moment in Amsterdam time."""
    if value is None:
        return ""
    day = local(value).date() if isinstance(value, datetime) else value
    if lang == "en":
        text = f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
        return f"{WEEKDAYS_EN[day.weekday()]} {text}" if weekday else text
    text = f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def amount(value: float | int | Decimal | None, lang: str = "nl") -> str:
    """`€ 1.234,56` (Dutch: a dot between thousands, a decimal comma, a space after the euro sign)."""
    if value is None:
        return ""
    cents = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    whole, _, fraction = f"{abs(cents):.2f}".partition(".")
    grouped = f"{int(whole):,}"
    if lang == "en":
        return f"{sign}€{grouped}.{fraction}"
    return f"{sign}€ {grouped.replace(',', '.')},{fraction}"


def plural(n: int, one: str, many: str) -> str:
    """`1 taak`, `0 taken`, `3 taken`: the count with the right form of the word."""
    return f"{n} {one if n == 1 else many}"
