"""JSON documents stored compressed on SQLite: the events' data, the outbox payloads and the case
states (issue #14, storage).

A case's history is most of its bytes: a closed eviction-prevention case has about a hundred
events, whose data (110 bytes of JSON on average) repeat the same keys, step names, titles and
moments from case to case; its messages' payloads are alike, and its state (3 to 4 KB) repeats the
pathway's keys. Compressed one by one with zlib they hardly shrink (too short to find their own
repeats); with zstd and a dictionary trained on the four shipped pathways' documents
(`scripts/train_json_dictionary.py`) events and payloads become about a third of their size and a
state about a fifth, at a few microseconds each way.

The stored form is one format byte and the zstd frame: `0x01` is dictionary 1
(`dictionaries/json-1.zdict`, trained on single events), `0x02` dictionary 2 (`json-2.zdict`,
trained on pages of events, `event_pages`: about 225 -> 173 bytes a page), which carepath writes
now. A dictionary, once shipped, is never changed: the rows written with it must stay readable for
the years a history is kept. A better one gets the next number, and all are read. JSON text (what carepath wrote before migration 0018, or a value written by hand) is read
as it is.

PostgreSQL stores the same packed form in `bytea` (migration 0024). It kept JSONB before, but JSONB
is not compressed below about 2 KB, which is most of these documents: an open eviction-prevention
case took 18.3 KB there against 9.3 KB packed. SQL cannot look inside the packed form on either
database: nothing in carepath does (`caselists.open_escalations` unpacks the few states it needs).
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

import zstandard

from integrations.db.errors import StorageError
from integrations.db.json_codec import compact_json, parse_json

DICTIONARY_1 = 0x01
DICTIONARY_2 = 0x02
SHIPPED = (DICTIONARY_1, DICTIONARY_2)
CURRENT = DICTIONARY_2
_DICTIONARIES = Path(__file__).parent / "dictionaries"
_LEVEL = 3


class PackedJsonError(StorageError):
    """A stored document that cannot be read back: unknown format byte or a damaged frame."""


@cache
def _dictionary(number: int, level: int = _LEVEL) -> zstandard.ZstdCompressionDict:
    """Dictionary `number` prepared for compressing at `level` (a dictionary prepared for one level
    makes a compressor use that level's parameters, whatever level it was asked for)."""
    path = _DICTIONARIES / f"json-{number}.zdict"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PackedJsonError(f"opgeslagen JSON in formaat {number}: het woordenboek {path.name} ontbreekt "
                              f"in deze installatie") from None
    dictionary = zstandard.ZstdCompressionDict(data)
    dictionary.precompute_compress(level=level)
    return dictionary


class _Contexts(threading.local):
    """zstd contexts are not safe to share between threads: one pair per thread, made on first use."""

    def __init__(self) -> None:
        self.compressors: dict[int, zstandard.ZstdCompressor] = {}
        self.decompressors: dict[int, zstandard.ZstdDecompressor] = {}


_contexts = _Contexts()


def _compressor(level: int) -> zstandard.ZstdCompressor:
    found = _contexts.compressors.get(level)
    if found is None:
        found = _contexts.compressors[level] = zstandard.ZstdCompressor(
            level=level, dict_data=_dictionary(CURRENT, level), write_checksum=False, write_content_size=True,
            write_dict_id=False)
    return found


def _decompressor(number: int) -> zstandard.ZstdDecompressor:
    found = _contexts.decompressors.get(number)
    if found is None:
        found = _contexts.decompressors[number] = zstandard.ZstdDecompressor(dict_data=_dictionary(number))
    return found


def pack(value: Any, *, level: int = _LEVEL) -> bytes:
    """`value` as stored: the format byte, then its compact JSON compressed. A higher
    `level` packs tighter and slower (the archive of a closed case, written once: 9)."""
    return bytes((CURRENT,)) + _compressor(level).compress(compact_json(value).encode())


def unpack(stored: bytes | str | memoryview | dict[str, Any] | list[Any]) -> Any:
    """A stored document as Python values: packed (any shipped format), plain JSON text, or a
    document the driver has parsed already (a JSONB column on PostgreSQL before migration 0024,
    read by a migration before it)."""
    if isinstance(stored, dict | list):
        return stored
    if isinstance(stored, str):
        return parse_json(stored)
    data = bytes(stored)
    if not data:
        raise PackedJsonError("opgeslagen JSON is leeg")
    number = data[0]
    if number in SHIPPED:
        try:
            return parse_json(_decompressor(number).decompress(data[1:]))
        except zstandard.ZstdError as exc:
            raise PackedJsonError(f"opgeslagen JSON in formaat {number} is beschadigd ({exc})") from exc
    if data[:1] in (b"{", b"["):
        return parse_json(data)
    raise PackedJsonError(f"opgeslagen JSON in onbekend formaat {number}: deze versie van carepath leest "
                          f"formaat {' en '.join(map(str, SHIPPED))} en JSON-tekst")
