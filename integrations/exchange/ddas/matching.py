"""Matching a signal to a client: keyed hashes of the BSN or the address, and how sure a match is.

A signal names its client by BSN, or by postcode + huisnummer (+ toevoeging). carepath keeps neither
in its routing tables: it keeps the installation's pseudonym (HMAC) of the normalised BSN, which is
also the pseudonym of a case started for that BSN, and of the normalised address. A BSN match is
certain ("zeker"); an address match is likely ("waarschijnlijk": a housemate gets the same key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from integrations.pseudonym import Pseudonymiser


class MatchLevel(str, Enum):
    BSN = "bsn"  # zeker: the same BSN
    ADDRESS = "adres"  # waarschijnlijk: the same postcode, huisnummer and toevoeging
    NONE = "geen"  # no open case of this client: a new one
    ELSEWHERE = "buiten_gemeente"  # the municipality is not served here: not matched


MATCH_LABELS = {
    MatchLevel.BSN: "zeker (BSN)",
    MatchLevel.ADDRESS: "waarschijnlijk (postcode, huisnummer en toevoeging)",
    MatchLevel.NONE: "geen lopende zaak: nieuwe cliënt",
    MatchLevel.ELSEWHERE: "niet gekoppeld: gemeente niet aangesloten",
}


def normal_postcode(postcode: str) -> str:
    return "".join(postcode.split()).upper()


def address_identifier(client: Mapping[str, Any]) -> str | None:
    """`adres:9741AB|12|A` for an address-only client; None for a BSN client."""
    if "burgerservicenummer" in client or "postcode" not in client:
        return None
    toevoeging = str(client.get("huisnummertoevoeging", "")).strip().upper()
    return f"adres:{normal_postcode(str(client['postcode']))}|{str(client['huisnummer']).strip().upper()}|{toevoeging}"


@dataclass(frozen=True)
class ClientKeys:
    """The keys one signal's client is found by: exactly one of the two is set."""

    client_key: str | None  # pseudonym of the BSN (also the pseudonym of a case started for it)
    address_key: str | None  # pseudonym of the address identifier

    @property
    def key(self) -> str:
        return self.client_key or self.address_key or ""

    @property
    def level(self) -> MatchLevel:
        return MatchLevel.BSN if self.client_key else MatchLevel.ADDRESS


def client_keys(client: Mapping[str, Any], pseudonymise: Pseudonymiser) -> ClientKeys:
    bsn = client.get("burgerservicenummer")
    if isinstance(bsn, str) and bsn.strip():
        return ClientKeys(pseudonymise(bsn), None)
    identifier = address_identifier(client)
    return ClientKeys(None, pseudonymise(identifier) if identifier else None)


def address_text(client: Mapping[str, Any]) -> str | None:
    """How a worker reads the address of an address-only client: `9741 AB 12-A`."""
    if "postcode" not in client:
        return None
    postcode = normal_postcode(str(client["postcode"]))
    shown = f"{postcode[:4]} {postcode[4:]}" if len(postcode) == 6 else postcode
    extra = str(client.get("huisnummertoevoeging", "")).strip()
    return f"{shown} {client.get('huisnummer', '')}{'-' + extra if extra else ''}"
