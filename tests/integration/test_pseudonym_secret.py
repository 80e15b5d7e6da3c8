"""The installation's pseudonym secret (`integrations/pseudonym.py`): made once, private, on disk
before it is used (a power cut must not leave an empty key or none, which would link no client to
their earlier cases), and a damaged key file refused by name instead of used."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from integrations.db.errors import StorageError
from integrations.pseudonym import SECRET_FILE, load_or_create_secret


def test_the_secret_is_made_once_private_and_read_back(tmp_path: Path) -> None:
    secret = load_or_create_secret(tmp_path / "data")
    path = tmp_path / "data" / SECRET_FILE
    assert len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(tmp_path / "data") == secret
    assert [p.name for p in (tmp_path / "data").iterdir()] == [SECRET_FILE]  # no temporary file left


def test_the_new_secret_and_its_name_are_flushed_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flushed: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    load_or_create_secret(tmp_path)
    assert len(flushed) == 2
    assert Path(flushed[0]).name.startswith(f".{SECRET_FILE}.")  # the file, before it is linked into place
    assert Path(flushed[1]) == tmp_path.resolve()  # then the directory that names it
    flushed.clear()
    load_or_create_secret(tmp_path)
    assert flushed == []  # reading an existing secret writes nothing


@pytest.mark.parametrize(
    ("content", "problem"),
    [("", "te kort (0 bytes"), ("\n", "te kort (0 bytes"), ("ab" * 8, "te kort (8 bytes"),
     ("not a key at all", "geen hexadecimale tekst")],
)
def test_a_damaged_key_file_is_refused_by_name(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / SECRET_FILE
    path.write_text(content, encoding="ascii")
    with pytest.raises(StorageError, match=re.escape(problem)) as refused:
        load_or_create_secret(tmp_path)
    assert str(path) in str(refused.value) and "back-up" in str(refused.value)
    assert path.read_text(encoding="ascii") == content  # left as it was: never replaced by a new secret


def test_an_older_sixteen_byte_key_is_still_read(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("cd" * 16 + "\n", encoding="ascii")
    assert load_or_create_secret(tmp_path) == bytes.fromhex("cd" * 16)
