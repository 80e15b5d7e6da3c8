"""Batch work yields the CPU to people.

A sweep over thousands of due timers, a delivery run or a retention run takes
every CPU cycle it is given; on a machine that also serves the web app, a
worker opening "Mijn werk" would wait behind it. Processes that do only batch
work (a Prefect worker's flow-run process, `carepath sweep`, `carepath
dispatch`) therefore lower their own CPU priority to `$CAREPATH_BATCH_NICE`
(a Unix niceness, default 10, 0 leaves it alone): when the CPUs are busy the
kernel gives the web process about ten times their share, and when they are
idle the batch work runs at full speed. Nothing is delayed that is not
waiting for a CPU anyway, and no timer fires later than the sweep that finds
it: only the order in which ready processes get a CPU changes.

Not applied inside `carepath serve`: there the runtime loop is a thread of the
web process, and a lower-priority thread holding Python's interpreter lock
would hold up the pages instead (priority inversion).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping

from integrations.runtime.config import ConfigError

log = logging.getLogger("carepath.runtime")

BATCH_NICE_ENV = "CAREPATH_BATCH_NICE"
DEFAULT_BATCH_NICE = 10
MAX_NICE = 19


def batch_niceness(environ: Mapping[str, str] | None = None) -> int:
    """The niceness batch processes run at (`$CAREPATH_BATCH_NICE`, 0-19, default 10)."""
    raw = (environ if environ is not None else os.environ).get(BATCH_NICE_ENV, "").strip()
    if not raw:
        return DEFAULT_BATCH_NICE
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{BATCH_NICE_ENV}={raw!r}: geen geheel getal (0 tot en met {MAX_NICE}; 0 laat de "
                          "voorrang van het proces zoals hij is)") from None
    if not 0 <= value <= MAX_NICE:
        raise ConfigError(f"{BATCH_NICE_ENV}={raw!r}: moet tussen 0 en {MAX_NICE} liggen")
    return value


def yield_to_people(environ: Mapping[str, str] | None = None) -> int:
    """Raise this process's niceness to the batch setting (never lower it: that needs root); the niceness now.

    On Linux the niceness belongs to each thread and a new thread inherits its creator's, so every
    thread the process has so far is lowered (the threads Prefect or a pool started before this call)."""
    target = batch_niceness(environ)
    if not hasattr(os, "setpriority"):  # not a Unix: run as is
        return 0
    for thread in _threads():
        with contextlib.suppress(OSError):  # a thread that just ended, or a platform that refuses
            if os.getpriority(os.PRIO_PROCESS, thread) < target:
                os.setpriority(os.PRIO_PROCESS, thread, target)
    now = os.getpriority(os.PRIO_PROCESS, 0)
    if target:
        log.info("batch process: niceness %d (%s)", now, BATCH_NICE_ENV)
    return now


def _threads() -> list[int]:
    """Ids of this process's threads (Linux: /proc/self/task); elsewhere 0, the process itself."""
    try:
        return [int(name) for name in os.listdir("/proc/self/task")]
    except OSError:
        return [0]
