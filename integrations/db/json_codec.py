"""How carepath writes and reads the JSON it stores: compact, and fast.

One codec for both paths to the database: the hot path's fixed statements (`hot_sql`) and
SQLAlchemy's JSON columns (`engine_factory` hands it to `create_engine`), so a document is written
the same way whichever path wrote it. orjson writes the same text as
`json.dumps(value, separators=(",", ":"), ensure_ascii=False)` about ten times faster; integers
beyond 64 bits, which orjson refuses, go through `json`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def compact_json(value: Any) -> str:
    """`value` as compact JSON text (no spaces after separators, UTF-8 kept)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_json(text: str | bytes) -> Any:
    """A stored JSON document as Python values."""
    return orjson.loads(text)
