"""Stream a DDAS delivery file: check it whole first, then hand out its signals one by one.

`check(path)` reads the file once with ijson (never all of it in memory) and returns every error
against the contract: the envelope, each delivery header, each signal and case, duplicate signal IDs
of one partner, and deliveries that occur twice. Only a file without errors is imported; then
`signals(path, headers)` reads it a second time and yields each signal with its delivery header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import orjson

from integrations.exchange.ddas.contract import Contract, ContractError, default_contract

_LEVERING = "leveringen.item"
_SIGNAL = "leveringen.item.vroegsignalen.item"
_ZAAK = "leveringen.item.vroegsignaalzaken.item"
_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")


@dataclass(frozen=True)
class Header:
    """One delivery (`levering`) without its signals."""

    index: int
    gemeentecode: str
    organisation_name: str
    kvk: str | None
    teller: int

    @property
    def partner(self) -> str:
        """The signal partner that owns the signal IDs: its KvK number, else its name."""
        return f"kvk:{self.kvk}" if self.kvk else f"naam:{self.organisation_name.strip().casefold()}"


@dataclass
class CheckResult:
    """What `check` found: the errors, and when there are none, what an import needs."""

    errors: list[ContractError] = field(default_factory=list)
    headers: list[Header] = field(default_factory=list)
    envelope: dict[str, Any] = field(default_factory=dict)
    signals: int = 0
    zaken: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Item:
    """A streamed piece of the file."""

    kind: str  # envelope | levering_start | levering_field | levering_end | signal | zaak
    levering: int = -1
    index: int = -1  # signal or case index within its delivery
    key: str = ""
    value: Any = None


def _build(events: Iterator[tuple[str, str, Any]], opening: str) -> Any:
    """The value that starts with `opening` (start_map/start_array), built from the following events.
    Inline rather than ijson's ObjectBuilder: this loop runs for every event of 100,000 signals."""
    root: Any = {} if opening == "start_map" else []
    stack: list[Any] = [root]
    key: Any = None
    for _, event, value in events:
        if event == "map_key":
            key = value
        elif event == "end_map" or event == "end_array":
            stack.pop()
            if not stack:
                break
        else:
            top = stack[-1]
            if event == "start_map" or event == "start_array":
                value = {} if event == "start_map" else []
                stack.append(value)
            if isinstance(top, list):
                top.append(value)
            else:
                top[key] = value
    return root


def _items(handle: BinaryIO) -> Iterator[Item]:
    """The file's envelope fields, delivery header fields, signals and cases, in file order."""
    levering = -1
    counters = {"signal": -1, "zaak": -1}
    events = ijson.parse(handle, use_float=True)
    try:
        for prefix, event, value in events:
            if event == "map_key":
                continue
            if prefix in (_SIGNAL, _ZAAK):
                kind = "signal" if prefix == _SIGNAL else "zaak"
                counters[kind] += 1
                whole = _build(events, event) if event in _OPEN else value
                yield Item(kind, levering, counters[kind], "", whole)
                continue
            if prefix == _LEVERING:
                if event == "start_map":
                    levering += 1
                    counters.update(signal=-1, zaak=-1)
                    yield Item("levering_start", levering)
                    continue
                if event == "end_map":
                    yield Item("levering_end", levering)
                    continue
                kind, key = "envelope", "leveringen"  # an item that is not an object: the schema says so
            elif prefix.startswith(_LEVERING + ".") and prefix.count(".") == 2:
                key = prefix.rsplit(".", 1)[1]
                if key in ("vroegsignalen", "vroegsignaalzaken") and event in ("start_array", "end_array"):
                    continue
                kind = "levering_field"
            elif prefix == "leveringen" and event in ("start_array", "end_array"):
                continue
            elif prefix and "." not in prefix:
                kind, key = "envelope", prefix
            elif prefix == "" and event in ("start_map", "end_map"):
                continue
            elif prefix == "":
                kind, key = "envelope", ""
            else:
                continue
            whole = _build(events, event) if event in _OPEN else value
            yield Item(kind, levering, -1, key, whole)
    except ijson.JSONError as exc:
        raise _Unreadable(str(exc)) from exc


class _Unreadable(Exception):
    pass


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _where(levering: int, index: int | None = None, signal_id: Any = None, what: str = "signaal") -> str:
    text = f"levering {levering + 1}"
    if index is not None:
        text += f", {what} {index + 1}"
        if isinstance(signal_id, str):
            text += f" (ID {signal_id})"
    return text


def check(path: Path, contract: Contract | None = None) -> CheckResult:
    """Every error in the file at `path` (empty when it may be imported), streamed."""
    contract = contract or default_contract()
    result = CheckResult()
    headers: dict[int, dict[str, Any]] = {}
    ids: dict[int, dict[str, int]] = {}  # levering -> signal ID -> first index
    digests: dict[int, Any] = {}
    envelope: dict[str, Any] = {}
    try:
        with path.open("rb") as handle:
            for item in _items(handle):
                if item.kind == "envelope":
                    if item.key == "":
                        result.errors.append(ContractError("bestand", "", "het bestand moet één JSON-object zijn"))
                    else:
                        envelope[item.key] = item.value
                elif item.kind == "levering_start":
                    headers[item.levering] = {}
                    ids[item.levering] = {}
                    digests[item.levering] = hashlib.sha256()
                elif item.kind == "levering_field":
                    headers[item.levering][item.key] = item.value
                    digests[item.levering].update(b"H" + item.key.encode() + _canonical(item.value))
                elif item.kind == "signal":
                    result.signals += 1
                    digests[item.levering].update(b"S" + _canonical(item.value))
                    signal_id = item.value.get("ID") if isinstance(item.value, dict) else None
                    for veld, fout in contract.signal_errors(item.value):
                        result.errors.append(ContractError(_where(item.levering, item.index, signal_id), veld, fout,
                                                           item.levering, item.index))
                    if isinstance(signal_id, str):
                        first = ids[item.levering].setdefault(signal_id, item.index)
                        if first != item.index:
                            result.errors.append(ContractError(
                                _where(item.levering, item.index, signal_id), "ID", f"dubbel signaal-ID: komt ook voor als signaal {first + 1} "
                                "in deze levering", item.levering, item.index))
                elif item.kind == "zaak":
                    result.zaken += 1
                    digests[item.levering].update(b"Z" + _canonical(item.value))
                    where = _where(item.levering, item.index, None, "vroegsignaalzaak")
                    for veld, fout in contract.zaak_errors(item.value):
                        result.errors.append(ContractError(where, veld, fout, item.levering, item.index))
    except _Unreadable as exc:
        result.errors.append(ContractError("bestand", "", f"geen geldige JSON: {exc}"))
        return result
    except OSError as exc:
        result.errors.append(ContractError("bestand", "", f"kan het bestand niet lezen: {exc.strerror or exc}"))
        return result
    result.envelope = envelope
    if headers:
        envelope = {**envelope, "leveringen": [headers[i] for i in sorted(headers)]}
    for veld, fout in contract.envelope_errors(envelope):
        parts = veld.split(".", 1)
        if parts[0].startswith("leveringen["):
            index = int(parts[0][len("leveringen["):-1])
            result.errors.append(ContractError(_where(index), parts[1] if len(parts) > 1 else "", fout, index))
        else:
            result.errors.append(ContractError("bestand", veld, fout))
    _check_unique(result, headers, ids, digests)
    if not result.errors:
        result.headers = [_header(i, headers[i]) for i in sorted(headers)]
    result.errors.sort(key=lambda e: (e.levering if e.levering is not None else -1,
                                      e.signaal if e.signaal is not None else -1))
    return result


def _check_unique(result: CheckResult, headers: dict[int, dict[str, Any]], ids: dict[int, dict[str, int]],
                  digests: dict[int, Any]) -> None:
    """The same delivery twice (`uniqueItems`), and one partner's signal ID in two deliveries."""
    seen_digest: dict[str, int] = {}
    for index in sorted(headers):
        digest = digests[index].hexdigest()
        if digest in seen_digest:
            result.errors.append(ContractError(_where(index), "", f"levering is gelijk aan levering "
                                               f"{seen_digest[digest] + 1} (leveringen moeten uniek zijn)", index))
        seen_digest.setdefault(digest, index)
    by_partner: dict[str, dict[str, int]] = {}
    for index in sorted(headers):
        organisation = headers[index].get("aanleverendeOrganisatie")
        if not isinstance(organisation, dict):
            continue
        partner = _header(index, headers[index]).partner
        known = by_partner.setdefault(partner, {})
        for signal_id, position in ids[index].items():
            if signal_id in known and known[signal_id] != index:
                result.errors.append(ContractError(
                    _where(index, position, signal_id), "ID",
                    f"dubbel signaal-ID: dezelfde signaalpartner leverde dit ID ook in levering {known[signal_id] + 1}",
                    index, position))
            known.setdefault(signal_id, index)


def _header(index: int, data: dict[str, Any]) -> Header:
    organisation = data.get("aanleverendeOrganisatie") or {}
    return Header(index=index, gemeentecode=str(data.get("gemeentecode", "")),
                  organisation_name=str(organisation.get("naam", "")), kvk=organisation.get("kvk-nummer"),
                  teller=int(data.get("teller", 0)))


def signals(path: Path, headers: list[Header]) -> Iterator[tuple[Header, dict[str, Any]]]:
    """Each signal of a checked file with its delivery header (a second, streamed read)."""
    with path.open("rb") as handle:
        for item in _items(handle):
            if item.kind == "signal":
                yield headers[item.levering], item.value
