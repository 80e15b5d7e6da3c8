"""The embedded SQLite store flushes every commit to disk unless told otherwise
(`CAREPATH_SQLITE_SYNC`, `engine_factory`): a command that returned survives a power cut. A value
that is not a mode is refused before any connection, naming the variable and what it may be."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from integrations.db.engine_factory import SQLITE_SYNC_ENV, create_db_engine, sqlite_sync
from integrations.db.errors import StorageError

# PRAGMA synchronous reports a number: 1 NORMAL, 2 FULL.
FULL, NORMAL = 2, 1


def _synchronous(url: str) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("PRAGMA synchronous")).scalar_one())
    finally:
        engine.dispose()


def test_every_commit_is_flushed_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SQLITE_SYNC_ENV, raising=False)
    assert _synchronous(f"sqlite:///{tmp_path / 'carepath.db'}") == FULL


@pytest.mark.parametrize(("given", "expected"), [("normal", NORMAL), ("NORMAL", NORMAL), (" full ", FULL), ("", FULL)])
def test_the_setting_chooses_the_flush(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str,
                                       expected: int) -> None:
    monkeypatch.setenv(SQLITE_SYNC_ENV, given)
    assert _synchronous(f"sqlite:///{tmp_path / 'carepath.db'}") == expected


def test_a_wrong_value_is_refused_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SQLITE_SYNC_ENV, "off")
    with pytest.raises(StorageError, match=r"CAREPATH_SQLITE_SYNC='off' is geen geldige waarde: kies full of normal"):
        create_db_engine(f"sqlite:///{tmp_path / 'carepath.db'}")
    assert not (tmp_path / "carepath.db").exists()  # refused before the file was made


def test_the_mode_is_read_from_the_environment_given() -> None:
    assert sqlite_sync({}) == "FULL"
    assert sqlite_sync({SQLITE_SYNC_ENV: "normal"}) == "NORMAL"
