"""The CLI's start-up help (`integrations/cli/speed.py`): celpy's grammar tables come from a private cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.cli.speed import CACHE_NAME, cache_dir

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = """
import logging, sys
import lark
from integrations.cli.speed import cache_cel_grammar
cache_cel_grammar()
lark.logger.setLevel(logging.DEBUG)
lark.logger.addHandler(logging.StreamHandler(sys.stdout))
from engine.expressions import syntax_problem
assert syntax_problem("case.arrears_months >= 2") is None
assert syntax_problem("case.arrears_months >= ") is not None
"""


def _run(data_dir: Path) -> str:
    env = {**os.environ, "CAREPATH_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_grammar_is_built_once_then_read_from_the_cache(tmp_path: Path) -> None:
    first = _run(tmp_path)
    cache = tmp_path / "cache" / CACHE_NAME
    assert "Saving grammar to cache" in first and cache.is_file()
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700
    second = _run(tmp_path)
    assert "Loading grammar from cache" in second and "Saving grammar" not in second
    cache.write_bytes(b"not a pickle\n")  # damaged: rebuilt, expressions still parse
    assert "Saving grammar to cache" in _run(tmp_path)


def test_no_cache_in_a_directory_others_may_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "cache"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path))
    assert cache_dir() is None
    assert "cache" not in _run(tmp_path).lower() and not (shared / CACHE_NAME).exists()


def test_no_data_directory_is_made_for_a_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "none"))
    assert cache_dir() is None
    assert "cache" not in _run(tmp_path / "none").lower() and not (tmp_path / "none").exists()
