"""Origin groups for the municipal reports: the CBS classification the national AMW registration uses.

A case stores, at most, the country of birth of the client, the parents and the grandparents
(ISO 3166 alpha-2, `engine.decide`), and only when the pathway registers origin and the client
has not objected. Reports never show a country: they count cases per *origin group*, computed
here when a case is saved (`cases.origin_group`, filled by `integrations.db.repository`).

The rule (CBS, "Afbakening generaties met migratieachtergrond", 2016; the classification the AMW
registration model of 2008 uses):

* A person has a **migration background** when at least one parent was born abroad; a person
  whose parents were both born in the Netherlands has a **Dutch background**, wherever the person
  was born. Grandparents do not count (the "third generation" has a Dutch background).
* The country that decides the group (the *herkomstland*): for the first generation (born abroad)
  the own country of birth; for the second generation (born in the Netherlands) the mother's
  country of birth when she was born abroad, otherwise the father's.
* **Western**: Europe (excluding Turkey), North America, Oceania, Indonesia and Japan.
  **Non-western**: every other country (Africa, Latin America including the Caribbean, Asia
  including Turkey).
* Incomplete registrations: when not both parents' countries are known and none of the known ones
  is abroad, the client's own country of birth decides (born abroad: migration background, grouped
  by that country; born in the Netherlands: Dutch background). With no country at all the case is
  "not registered".

Decisions made here, documented in docs/reporting.md:

* "Abroad" is any code other than ``NL``. Aruba (AW), Curaçao (CW), Sint Maarten (SX) and the
  Caribbean Netherlands (BQ) are outside the European Netherlands and, as in the CBS
  classification ("Nederlandse Antillen en Aruba"), non-western.
* Europe, North America and Oceania follow the UN M49 geographic regions (Europe includes the
  Russian Federation, Belarus, Ukraine and Moldova; the Caucasus and Central Asia are Asia), plus
  Cyprus (an EU member state) and Kosovo (``XK``, user-assigned but in common use).
* ``XX`` and ``ZZ`` (in use for "unknown") count as not registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any


class OriginGroup(str, Enum):
    """The value stored in `cases.origin_group` (NULL: nothing registered)."""

    NATIVE = "native"  # Nederlandse achtergrond
    WESTERN = "western"  # westerse migratieachtergrond
    NON_WESTERN = "non_western"  # niet-westerse migratieachtergrond
    OBJECTED = "objected"  # the client objected to registering origin


NETHERLANDS = "NL"
UNKNOWN_CODES = frozenset({"XX", "ZZ"})

EUROPE = frozenset({
    "AD", "AL", "AT", "AX", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FO",
    "FR", "GB", "GG", "GI", "GR", "HR", "HU", "IE", "IM", "IS", "IT", "JE", "LI", "LT", "LU", "LV", "MC",
    "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "RU", "SE", "SI", "SJ", "SK", "SM", "UA",
    "VA", "XK",
})  # Turkey (TR) is not in it
NORTH_AMERICA = frozenset({"BM", "CA", "GL", "PM", "US"})
OCEANIA = frozenset({
    "AS", "AU", "CC", "CK", "CX", "FJ", "FM", "GU", "HM", "KI", "MH", "MP", "NC", "NF", "NR", "NU", "NZ",
    "PF", "PG", "PN", "PW", "SB", "TK", "TO", "TV", "UM", "VU", "WF", "WS",
})
WESTERN_EXCEPTIONS = frozenset({"ID", "JP"})  # Indonesia and Japan
WESTERN = EUROPE | NORTH_AMERICA | OCEANIA | WESTERN_EXCEPTIONS


def _country(origin: Mapping[str, Any], key: str) -> str | None:
    value = origin.get(key)
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return None if not code or code in UNKNOWN_CODES else code


def _group_of(country: str) -> OriginGroup:
    return OriginGroup.WESTERN if country in WESTERN else OriginGroup.NON_WESTERN


def origin_group(origin: Mapping[str, Any] | None, objected: bool = False) -> OriginGroup | None:
    """The origin group of a case's registered countries of birth; None when nothing is registered."""
    if objected:
        return OriginGroup.OBJECTED
    if not origin:
        return None
    client, mother, father = (_country(origin, k) for k in ("client", "mother", "father"))
    abroad = [p for p in (mother, father) if p is not None and p != NETHERLANDS]
    if abroad:
        if client is not None and client != NETHERLANDS:
            return _group_of(client)  # first generation: own country of birth
        return _group_of(abroad[0])  # second generation: the mother's country, else the father's
    if mother is not None and father is not None:
        return OriginGroup.NATIVE  # both parents born in the Netherlands
    if client is None:
        return None
    return OriginGroup.NATIVE if client == NETHERLANDS else _group_of(client)
