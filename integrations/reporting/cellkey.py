"""Record keys and cell-key perturbation (the method of the ABS TableBuilder and CBS for free queries).

Every counted record (a case, a task, an intervention) carries a fixed random-looking *record key*
(`record_key`, stored in `report_key` columns). A published count's *cell key* is the sum of the
record keys of the records it counts, modulo 2**31: the same records always give the same cell key,
whatever query or table they appear in, and a set that differs by even one record gives an
unrelated one. The published value is the true count plus a small *perturbation* looked up from the
count and the cell key (`perturb`), so:

* asking the same figure again, in any table, gives the same answer (noise cannot be averaged away);
* a difference of two published figures (a quarter minus its months, all pathways minus the
  others, a total minus its parts) carries the perturbation of both, which the reader does not
  know, so a small group left over by differencing is not revealed exactly.

Only counts at or above the report's threshold are published at all (smaller ones are suppressed
first), so a perturbed count is never negative and never below the threshold minus `MAX_NOISE`.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Final

MODULUS: Final = 2**31
MAX_NOISE: Final = 2  # a published count is within +/- 2 of the true count
# How often each perturbation occurs, out of 16 (a symmetric table with mean 0): -2, -1, 0, +1, +2.
_TABLE: Final = ((-2, 1), (-1, 4), (0, 6), (1, 4), (2, 1))
_SPREAD: Final = tuple(d for d, n in _TABLE for _ in range(n))
_SALT: Final = b"carepath cell key v1"


@lru_cache(maxsize=8192)  # a task's key is asked when it opens and again when a save changes it
def record_key(identifier: str) -> int:
    """The fixed record key of a record (case id, task id, case id + track): 0 <= key < 2**31."""
    digest = hashlib.blake2b(identifier.encode("utf-8"), digest_size=8, key=_SALT).digest()
    return int.from_bytes(digest, "big") % MODULUS


def cell_key(key_sum: int) -> int:
    """The cell key of a count from the sum of its records' keys."""
    return key_sum % MODULUS


def noise(value: int, key: int) -> int:
    """The perturbation of a count `value` with cell key `key`: a function of both only."""
    mixed = hashlib.blake2b(f"{value}:{cell_key(key)}".encode(), digest_size=4, key=_SALT).digest()
    return _SPREAD[int.from_bytes(mixed, "big") % len(_SPREAD)]


def perturb(value: int, key: int) -> int:
    """The published value of a count at or above the threshold (never negative)."""
    return max(0, value + noise(value, key))
