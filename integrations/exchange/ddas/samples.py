"""Fictitious DDAS deliveries: for the demo, the tests and the benchmark (never real people).

`write_delivery` streams the file signal by signal, so even a 100,000-signal file is written without
being held in memory. BSNs are made up (`9` followed by eight digits, a range the BRP does not hand
out as real numbers in these tests' sense), addresses are random postcodes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

PARTNERS: tuple[tuple[str, str, str], ...] = (  # (name, kvk, DDAS partner type)
    ("Woonstichting Noord", "01012345", "Huur"),
    ("Energie Noord", "02023456", "Energie"),
    ("Waterbedrijf Groningen", "03034567", "Water"),
    ("Zorgverzekeraar Ommeland", "04045678", "Zorg"),
    ("CAK", "05056789", "CAK Zorgverzekeringen"),
)


def signal(rng: random.Random, number: int, partner_type: str, day: date, *, client: dict[str, Any] | None = None,
           crisis: bool | None = None, warm: bool = False) -> dict[str, Any]:
    """One fictitious signal."""
    if client is None:
        if rng.random() < 0.7:
            client = {"burgerservicenummer": f"9{rng.randrange(10**8):08d}"}  # DDAS: a BSN client has nothing else
        else:
            client = {"postcode": f"{rng.randrange(1000, 9999)}{rng.choice('ABCDEFGHJK')}{rng.choice('ABCDEFGHJK')}",
                      "huisnummer": str(rng.randrange(1, 300)),
                      "geboortedatum": (date(1950, 1, 1) + timedelta(days=rng.randrange(20000))).isoformat(),
                      "geslachtsaanduiding": rng.choice(("Man", "Vrouw", "Onbekend"))}
            if rng.random() < 0.2:
                client["huisnummertoevoeging"] = rng.choice(("A", "B", "1", "bis"))
    return {
        "ID": f"S{number:08d}", "crisissignaal": rng.random() < 0.1 if crisis is None else crisis,
        "warmeOverdracht": warm, "bedrag": rng.randrange(50, 5000),
        "ontstaansdatum": (day - timedelta(days=rng.randrange(30, 120))).isoformat(),
        "signaaldatum": day.isoformat(), "signaalpartner": {"type": partner_type}, "client": client,
    }


def _header(gemeentecode: str, teller: int, partner: tuple[str, str, str]) -> dict[str, Any]:
    return {"teller": teller, "gemeentecode": gemeentecode,
            "aanleverendeOrganisatie": {"naam": partner[0], "kvk-nummer": partner[1]}}


def envelope(first: date, last: date) -> dict[str, Any]:
    return {"startdatumLevering": first.isoformat(), "einddatumLevering": last.isoformat(),
            "aanleverdatumEnTijd": f"{last.isoformat()}T23:00:00+01:00", "codeGegevensleverancier": "CAREPATH-DEMO"}


def delivery(signals_by_levering: Sequence[tuple[str, tuple[str, str, str], Sequence[dict[str, Any]]]],
             first: date, last: date) -> dict[str, Any]:
    """A whole (small) delivery document: one levering per (gemeentecode, partner, signals)."""
    return {**envelope(first, last), "leveringen": [
        {**_header(code, i + 1, partner), "vroegsignalen": list(items)}
        for i, (code, partner, items) in enumerate(signals_by_levering)]}


def _signals(rng: random.Random, count: int, first: date, days: int, partner: tuple[str, str, str],
             start: int, repeat_share: float) -> Iterator[dict[str, Any]]:
    clients: list[dict[str, Any]] = []
    for n in range(count):
        day = first + timedelta(days=rng.randrange(days))
        if clients and rng.random() < repeat_share:
            yield signal(rng, start + n, partner[2], day, client=rng.choice(clients))
            continue
        item = signal(rng, start + n, partner[2], day)
        if len(clients) < 5000:
            clients.append(item["client"])
        yield item


def write_delivery(path: Path, count: int, *, gemeentecodes: Sequence[str] = ("0014",), first: date = date(2026, 1, 1),
                   days: int = 90, seed: int = 11, repeat_share: float = 0.05) -> Path:
    """Write a delivery of `count` signals spread over the partners and municipalities, streamed."""
    rng = random.Random(seed)
    groups = [(code, partner) for code in gemeentecodes for partner in PARTNERS]
    per_group = [count // len(groups) + (1 if i < count % len(groups) else 0) for i in range(len(groups))]
    with path.open("w", encoding="utf-8") as out:
        head = json.dumps(envelope(first, first + timedelta(days=days - 1)), ensure_ascii=False)
        out.write(head[:-1] + ', "leveringen": [')
        number = 1
        for index, ((code, partner), n) in enumerate(zip(groups, per_group, strict=True)):
            out.write("," if index else "")
            _write_levering(out, _header(code, index + 1, partner),
                            _signals(rng, n, first, days, partner, number, repeat_share))
            number += n
        out.write("]}")
    return path


def _write_levering(out: TextIO, header: dict[str, Any], items: Iterator[dict[str, Any]]) -> None:
    text = json.dumps(header, ensure_ascii=False)
    out.write(text[:-1] + ', "vroegsignalen": [')
    for i, item in enumerate(items):
        out.write(("," if i else "") + json.dumps(item, ensure_ascii=False, separators=(",", ":")))
    out.write("]}")
