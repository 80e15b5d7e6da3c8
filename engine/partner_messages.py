"""Messages to partners written in the pathway: Dutch text with `{field}` and `{due}` placeholders.

A template may only name case fields its partner is allowed to receive
(`may_receive` on the partner's role); the semantic check refuses others, and
rendering fills in nothing else, so a partner never gets more than declared.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

DUE = "due"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december")


def placeholders(text: str) -> Iterator[tuple[int, str]]:
    """(offset, name) of every `{name}` in `text`."""
    for match in _PLACEHOLDER.finditer(text):
        yield match.start(), match.group(1).strip()


def dutch_moment(moment: datetime) -> str:
    """`vrijdag 18 december 2026, 17:00` in Dutch local time."""
    local = moment.astimezone(_AMSTERDAM)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def render(text: str, data: Mapping[str, Any], allowed: tuple[str, ...], due: datetime | None) -> str:
    """The text with each placeholder filled in; a field not allowed or not filled in becomes `-`."""
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name == DUE:
            return dutch_moment(due) if due is not None else "-"
        if name in allowed and data.get(name) is not None:
            return _shown(data[name])
        return "-"

    return _PLACEHOLDER.sub(fill, text)
