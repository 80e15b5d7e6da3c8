"""Moments as people read them: Europe/Amsterdam wall clock, Dutch (or English) words."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_DAYS = {
    "nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTHS = {
    "nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def local(moment: datetime) -> datetime:
    return moment.astimezone(AMSTERDAM)


def fmt_date(value: datetime | date | None, lang: str = "nl", *, weekday: bool = True) -> str:
    if value is None:
        return ""
    day = local(value).date() if isinstance(value, datetime) else value
    months = _MONTHS.get(lang, _MONTHS["nl"])
    text = f"{day.day} {months[day.month - 1]} {day.year}"
    if weekday:
        text = f"{_DAYS.get(lang, _DAYS['nl'])[day.weekday()]} {text}"
    return text


def fmt_datetime(value: datetime | None, lang: str = "nl") -> str:
    """E.g. `di 3 mrt 2026 17:00` (always Amsterdam time)."""
    if value is None:
        return ""
    moment = local(value)
    return f"{fmt_date(moment, lang)} {moment:%H:%M}"


def iso_local(value: datetime | None) -> str:
    """For <time datetime="..."> attributes: ISO 8601 with the Amsterdam offset."""
    return "" if value is None else local(value).isoformat(timespec="minutes")


def relative(value: datetime | None, now: datetime, lang: str = "nl") -> str:
    """`over 2 dagen`, `3 dagen te laat`, `vandaag`, ... counted in Amsterdam calendar days."""
    if value is None:
        return ""
    days = (local(value).date() - local(now).date()).days
    late = value < now
    if lang == "en":
        if late:
            if days == 0:
                return "overdue today"
            return f"{-days} day{'s' if days != -1 else ''} overdue"
        if days == 0:
            return "today"
        if days == 1:
            return "tomorrow"
        return f"in {days} days"
    if late:
        if days == 0:
            return "vandaag verlopen"
        return f"{-days} dag{'en' if days != -1 else ''} te laat"
    if days == 0:
        return "vandaag"
    if days == 1:
        return "morgen"
    return f"over {days} dagen"


def duration_text(seconds: float, lang: str = "nl") -> str:
    days = seconds / 86400
    if lang == "en":
        return f"{days:.0f} days" if days >= 2 else f"{seconds / 3600:.0f} hours"
    return f"{days:.0f} dagen" if days >= 2 else f"{seconds / 3600:.0f} uur"


def urgency(due: datetime, now: datetime, soon: timedelta = timedelta(days=2)) -> str:
    """`overdue`, `soon` (within two days) or `later`: for badges and sorting."""
    if due < now:
        return "overdue"
    if due - now <= soon:
        return "soon"
    return "later"
