"""Batch processes yield the CPU to the web app (`integrations/runtime/priority.py`).

Each check runs in a child process: lowering the priority of the test process itself would slow
the rest of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from integrations.runtime.config import ConfigError
from integrations.runtime.priority import BATCH_NICE_ENV, DEFAULT_BATCH_NICE, batch_niceness

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("carepath")
CAREPATH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "integrations.cli"]

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="niceness is a Unix setting")


def _child(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**env, "PYTHONPATH": str(ROOT)},
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}, **extra}


def test_the_setting_defaults_to_ten_and_accepts_zero_to_nineteen() -> None:
    assert batch_niceness({}) == DEFAULT_BATCH_NICE == 10
    assert batch_niceness({BATCH_NICE_ENV: " 0 "}) == 0
    assert batch_niceness({BATCH_NICE_ENV: "19"}) == 19


@pytest.mark.parametrize(("raw", "says"), [("hoog", "geen geheel getal"), ("20", "tussen 0 en 19"),
                                           ("-5", "tussen 0 en 19"), ("2.5", "geen geheel getal")])
def test_a_bad_setting_is_refused_by_name(raw: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        batch_niceness({BATCH_NICE_ENV: raw})
    assert f"{BATCH_NICE_ENV}={raw!r}" in str(refused.value) and says in str(refused.value)


def test_every_thread_of_the_process_is_lowered_and_new_threads_inherit_it() -> None:
    done = _child("""
        import os, threading
        from integrations.runtime.priority import yield_to_people
        started, go = threading.Event(), threading.Event()
        seen = {}
        def early():
            started.set(); go.wait()
            seen["early"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        thread = threading.Thread(target=early); thread.start(); started.wait()
        before = os.nice(0)
        now = yield_to_people()
        go.set(); thread.join()
        late = threading.Thread(target=lambda: seen.__setitem__("late", os.nice(0))); late.start(); late.join()
        print(before, now, os.nice(0), seen["early"], seen["late"])
    """, _env(CAREPATH_BATCH_NICE="7"))
    assert done.returncode == 0, done.stderr
    before, now, main, early, late = map(int, done.stdout.split())
    expected = max(before, 7)
    assert (now, main, early, late) == (expected, expected, expected, expected)


def test_it_never_lowers_a_niceness_that_is_already_higher_nor_moves_with_zero() -> None:
    done = _child("""
        import os
        from integrations.runtime.priority import yield_to_people
        os.nice(15 - os.nice(0)) if os.nice(0) < 15 else None
        print(yield_to_people(), yield_to_people({"CAREPATH_BATCH_NICE": "0"}))
    """, _env(CAREPATH_BATCH_NICE="5"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(max(15, os.nice(0)))] * 2


def test_a_flow_run_process_building_its_runtime_from_the_environment_yields(tmp_path: Path) -> None:
    """What a Prefect worker's flow-run process does first: `current()` from the environment."""
    data = tmp_path / "data"
    data.mkdir()
    done = _child("""
        import os
        from integrations.runtime.context import current
        before = os.nice(0)
        current()
        print(before, os.nice(0))
    """, _env(CAREPATH_DATA_DIR=str(data), CAREPATH_BATCH_NICE="12",
              CAREPATH_PATHWAYS_DIR=str(ROOT / "tests" / "fixtures")))
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert after == max(before, 12)


def test_the_sweep_command_refuses_a_bad_setting_before_it_touches_the_database(tmp_path: Path) -> None:
    env = _env(CAREPATH_DATA_DIR=str(tmp_path / "data"), CAREPATH_BATCH_NICE="laag")
    done = subprocess.run([*CAREPATH, "sweep", "--once", "--no-prefect"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "carepath sweep: CAREPATH_BATCH_NICE='laag': geen geheel getal" in done.stderr
    assert not (tmp_path / "data" / "carepath.db").exists()
