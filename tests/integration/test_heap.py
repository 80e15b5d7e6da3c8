"""A process's start-up objects leave the collector's walks once it has started (integrations/runtime/heap.py).

Each case runs in a fresh interpreter: freezing is once per process, and the test process's own
heap is left as it is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import gc, json
from integrations.runtime.heap import settle
import sqlalchemy.orm  # something long-lived to freeze
garbage = []
garbage.append(garbage)  # a cycle: garbage once dropped
del garbage
first, again = settle(), settle()
frozen = gc.get_freeze_count()
cycle = []
cycle.append(cycle)
del cycle
made_after = gc.collect()  # objects made after start-up are still collected
print(json.dumps({"first": first, "again": again, "frozen": frozen, "made_after": made_after}))
"""


def test_settle_freezes_once_and_later_garbage_is_still_collected() -> None:
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout)
    assert seen["first"] is True and seen["again"] is False
    assert seen["frozen"] > 10_000
    assert seen["made_after"] >= 1


def test_the_web_factory_settles_the_heap(tmp_path: Path) -> None:
    probe = ("import gc, json, os; from web.app import app_from_env; app_from_env(); "
             "print(json.dumps(gc.get_freeze_count()))")
    env = {"CAREPATH_DATABASE_URL": f"sqlite:///{tmp_path / 'carepath.db'}", "CAREPATH_DATA_DIR": str(tmp_path),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) > 10_000
