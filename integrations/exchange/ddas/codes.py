"""The DDAS v1.2 code lists carepath uses, and the rules that follow from them.

The values are the standard's own (Dutch) strings; `tests/unit/test_ddas_codes.py` checks them
against the shared JSON Schema so a new version of the standard cannot drift past unnoticed.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Final
from zoneinfo import ZoneInfo

AMSTERDAM: Final = ZoneInfo("Europe/Amsterdam")

CONTACTSOORTEN: Final = (
    "Administratief", "Afspraak op locatie", "Brief", "Huisbezoek", "Kaartje", "Mail", "Onbekend", "Overige",
    "SMS/Whatsapp", "Telefoon",
)
DAGDELEN: Final = ("Ochtend", "Middag", "Avond")
EINDRESULTATEN: Final = (
    "(Budget)advies en/of quick fix",
    "Definitief geen contact kunnen krijgen",
    "Geen reactie na eerder contact",
    "Inwoner al bekend bij schuldhulpverlening",
    "Inwoner heeft al een ander lopend traject",
    "Inwoner heeft zelf al betaald/betalingsregeling getroffen",
    "Inwoner is overleden",
    "Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering",
    "Niet opgepakt: andere reden",
    "Niet opgepakt: herhaalde melding",
    "Niet opgepakt: onterecht signaal",
    "Persoon is geen inwoner (meer) in de gemeente",
    "Vervolghulp en/of verwijzing",
    "Vervolghulp en/of verwijzing financieel",
    "Vervolghulp en/of verwijzing niet financieel",
    "Verwijzing zonder tussenkomst inwoner",
)
SIGNAALPARTNERS: Final = (
    "Belastingdienst", "CAK Eigen bijdrage", "CAK Zorgverzekeringen", "Dienst Toeslagen", "DUO", "Energie", "Huur",
    "Hypotheek", "Overige", "Water", "Zorg",
)
SIGNAALSTATUSSEN: Final = (
    "Inwoner al bekend bij schuldhulpverlening",
    "Inwoner is overleden",
    "Niet opgepakt: andere reden",
    "Niet opgepakt: herhaalde melding",
    "Niet opgepakt: onterecht signaal",
    "Nog niet opgepakt",
    "Opgepakt",
    "Persoon is geen inwoner (meer) in de gemeente",
)

OPGEPAKT: Final = "Opgepakt"
NOG_NIET_OPGEPAKT: Final = "Nog niet opgepakt"
HERHAALDE_MELDING: Final = "Niet opgepakt: herhaalde melding"
GEEN_INWONER: Final = "Persoon is geen inwoner (meer) in de gemeente"
ANDERE_REDEN: Final = "Niet opgepakt: andere reden"

# Where a signal goes: rent arrears to eviction prevention, everything else to the shipped
# `early-signal` pathway (energy, water, health insurance, CAK, DUO, Belastingdienst/Toeslagen, mortgage).
EVICTION_PREVENTION: Final = "eviction-prevention"
EARLY_SIGNAL: Final = "early-signal"
SIGNAL_PATHWAYS: Final = (EVICTION_PREVENTION, EARLY_SIGNAL)
_TO_EVICTION_PREVENTION: Final = frozenset({"Huur"})

# The `signal_type` a case on early-signal carries for each partner type (its case data enum).
SIGNAL_TYPES: Final = {
    "Belastingdienst": "tax", "CAK Eigen bijdrage": "cak_contribution", "CAK Zorgverzekeringen": "cak_insurance",
    "Dienst Toeslagen": "allowances", "DUO": "student_debt", "Energie": "energy", "Huur": "rent",
    "Hypotheek": "mortgage", "Overige": "other", "Water": "drinking_water", "Zorg": "health_insurance",
}


def pathway_for(partner_type: str | None) -> str:
    """The pathway a signal of this partner type opens a case on."""
    return EVICTION_PREVENTION if partner_type in _TO_EVICTION_PREVENTION else EARLY_SIGNAL


def dagdeel(moment: time | datetime) -> str:
    """DDAS dagdeel of a moment (local time): Ochtend before 12:00, Middag 12:00-18:00, Avond from 18:00."""
    local = moment.astimezone(AMSTERDAM).time() if isinstance(moment, datetime) else moment
    if local.hour < 12:
        return "Ochtend"
    return "Middag" if local.hour < 18 else "Avond"


def ddas_municipality(gemeentecode: str) -> str:
    """DDAS `gemeentecode` (`0014`) as carepath's municipality code (`GM0014`)."""
    code = gemeentecode.strip().upper()
    return code if code.startswith("GM") else "GM" + code.zfill(4)


def ddas_gemeentecode(municipality: str) -> str:
    """carepath's municipality (`GM0014`) as the DDAS `gemeentecode` (`0014`)."""
    code = municipality.strip().upper()
    return code[2:] if code.startswith("GM") else code.zfill(4)
