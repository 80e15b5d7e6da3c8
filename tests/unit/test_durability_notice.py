"""`carepath serve` says at start when a command is not on disk when it returns: the embedded SQLite
store with `CAREPATH_SQLITE_SYNC=normal` (docs/deployment.md); silent otherwise."""

from __future__ import annotations

from integrations.runtime.server import durability_notice

SQLITE = "sqlite:////srv/carepath/data/carepath.db"
POSTGRES = "postgresql+psycopg://carepath@db/carepath"


def test_sqlite_with_the_flush_left_out_is_announced_in_dutch_and_english() -> None:
    notice = durability_notice(SQLITE, {"CAREPATH_SQLITE_SYNC": "normal"})
    assert notice is not None
    dutch, english = notice
    assert "CAREPATH_SQLITE_SYNC=normal" in dutch and "stroomstoring" in dutch
    assert "power cut" in english


def test_nothing_is_said_when_every_commit_is_on_disk() -> None:
    assert durability_notice(SQLITE, {}) is None
    assert durability_notice(SQLITE, {"CAREPATH_SQLITE_SYNC": "full"}) is None
    assert durability_notice(POSTGRES, {"CAREPATH_SQLITE_SYNC": "normal"}) is None  # PostgreSQL flushes its own commits
