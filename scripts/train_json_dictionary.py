"""Train the zstd dictionary that packs event data, message payloads and case states on SQLite (integrations/db/packed_json.py).

Runs the demo's cases on the four shipped pathways (web.demo.seed: arrivals over eight months,
workers who are on time or late, partners who answer or not, reminders, evaluations, escalations)
twice, with two seeds, on a fresh SQLite file, and trains a dictionary (32 KiB unless `--size`) on the data of every
event, the payload of every outbox message and the state of every case they wrote. It prints how well the dictionary packs
those of a third seed it did not see.

A shipped dictionary is never replaced: rows packed with it must stay readable. Run this to make
the *next* one, as `json-<N>.zdict` with the next number, and teach packed_json to write it:

    uv run python scripts/train_json_dictionary.py --number 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import zstandard  # noqa: E402
from sqlalchemy import select  # noqa: E402

from engine.clock import ManualClock  # noqa: E402
from integrations.db.json_codec import compact_json  # noqa: E402
from integrations.db.models import CaseEventPageRow, CaseRow, OutboxRow  # noqa: E402
from integrations.service import build_service  # noqa: E402

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
SIZE = 32 * 1024


def documents(seed: int, cases: int) -> dict[str, list[bytes]]:
    """The compact JSON of every page of events, every message's payload and every case's state in a
    demo run with `seed`, by kind."""
    from web.demo import seed as seed_demo

    with tempfile.TemporaryDirectory(prefix="carepath-dict-") as tmp:
        service = build_service(f"sqlite:///{tmp}/train.db", ManualClock(NOW), data_dir=Path(tmp))
        seed_demo(service, cases=cases, seed=seed)
        with service.db.connect() as conn:
            found = {kind: [compact_json(value).encode() for (value,) in conn.execute(select(column))]
                     for kind, column in (("event pages", CaseEventPageRow.events), ("payloads", OutboxRow.payload),
                                          ("states", CaseRow.state))}
        service.db.dispose()
    return found


def _store_plain() -> None:
    """Write plain JSON while training: the dictionary being made may not exist yet, and plain JSON
    text is a stored form that packed_json.unpack reads as it is."""
    from integrations.db import packed_json

    packed_json.pack = lambda value: compact_json(value).encode()  # type: ignore[assignment]


def main() -> None:
    _store_plain()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, required=True, help="the dictionary's format number")
    parser.add_argument("--cases", type=int, default=400, help="demo cases a seed (default 400)")
    parser.add_argument("--size", type=int, default=SIZE, help=f"dictionary bytes (default {SIZE})")
    args = parser.parse_args()
    samples = [d for seed in (11, 12) for kind in documents(seed, args.cases).values() for d in kind]
    dictionary = zstandard.train_dictionary(args.size, samples, k=64, d=8, threads=1)
    out = ROOT / "integrations" / "db" / "dictionaries" / f"json-{args.number}.zdict"
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(dictionary.as_bytes())
    packer = zstandard.ZstdCompressor(level=3, dict_data=dictionary, write_checksum=False, write_dict_id=False)
    print(f"{out.relative_to(ROOT)}: {len(samples)} documents trained on; unseen ones (a third seed):")
    for kind, unseen in documents(13, args.cases // 2).items():
        plain = sum(map(len, unseen))
        packed = sum(len(packer.compress(d)) + 1 for d in unseen)
        print(f"  {kind}: {len(unseen)}, {plain / len(unseen):.0f} -> {packed / len(unseen):.0f} bytes each "
              f"({plain / packed:.1f}x)")


if __name__ == "__main__":
    main()
