"""A process's start-up objects set aside from the garbage collector once it has started (issue #14).

CPython's full collections walk every object the collector tracks. A carepath process holds 160,000
of them after start-up in the sweep (SQLAlchemy's and Prefect's modules, the pathways, compiled
statements), more in the web app, and they live as long as the process. Each full collection walked
them all: in a sweep of 4,000 timers four full collections took 0.38 s of its 1.4 s. `gc.freeze()`
moves every object alive at that moment into a permanent generation that collections skip, which
the Python documentation recommends for this case; a collection first, so that no garbage is frozen.
Measured: the same sweep in 1.1 s, its full collections 0.035 s (docs/benchmarks.md).

`settle()` is called where a long-running process has finished starting: the web app's factories,
`carepath serve`, and a flow run's runtime (`runtime.context.current`). Once per process; later calls
do nothing, so objects made afterwards (cases, requests) are collected as usual.
"""

from __future__ import annotations

import gc
import threading

_done = False
_lock = threading.Lock()


def settle() -> bool:
    """Collect, then freeze what is left (once per process). True when this call did it."""
    global _done
    with _lock:
        if _done:
            return False
        gc.collect()
        gc.freeze()
        _done = True
        return True
