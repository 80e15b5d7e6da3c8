"""Start-up speed of the `carepath` command (issue #10: every command under 1.5 s on a warm install).

Command modules import their heavy dependencies inside their handlers. The one cost left that every
command touching a pathway paid again in each process was building celpy's CEL grammar tables (lark's
LALR analysis: 0.3-0.4 s CPU). lark can keep those tables in a cache file; celpy does not ask it to.
`cache_cel_grammar()` arranges that when (and only when) `celpy.celparser` is imported, its `Lark` is
created with `cache=` a file in the installation's data directory (`$CAREPATH_DATA_DIR/cache`, mode
0700; everything carepath keeps is in the data directory, nothing in HOME). lark checks a SHA-256 of
the grammar, its options, lark's and Python's version stored in the file, so a celpy or lark upgrade
rebuilds it; an unreadable or half-written file is rebuilt too. Not `/tmp`: the cache is a pickle, and
nobody else may be able to write it. When the data directory does not exist (`carepath validate` in
a folder without one: no data directory is made for it) or the cache folder is not private, nothing
changes (the tables are built as before).

The engine is not involved (it reads no files): this is the edge's process set-up.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

CEL_MODULE = "celpy.celparser"
DATA_DIR_ENV = "CAREPATH_DATA_DIR"
CACHE_NAME = "cel-grammar.lark-cache"


def cache_dir() -> Path | None:
    """`<data dir>/cache`, made if needed; None without a data directory or when it is not private."""
    data = Path(os.environ.get(DATA_DIR_ENV) or "./data")  # as integrations.db.engine_factory (no SQLAlchemy)
    if not data.is_dir():
        return None
    folder = data / "cache"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None  # someone else could put a pickle here
    return folder


def _patch(module: ModuleType, cache_file: Path) -> None:
    lark_class = getattr(module, "Lark")  # noqa: B009 - celpy does not declare it

    def cached_lark(grammar: str, **options: Any) -> Any:
        options.setdefault("cache", str(cache_file))
        return lark_class(grammar, **options)

    setattr(module, "Lark", cached_lark)  # noqa: B010 - celpy does not declare it


class _CelGrammarCache(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when `celpy.celparser` is found by the next finder, patches it after loading."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != CEL_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        folder = cache_dir()
        if spec is None or spec.loader is None or folder is None:
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _patch(module, folder / CACHE_NAME)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def cache_cel_grammar() -> None:
    """Let celpy's grammar tables come from the cache file from now on in this process (see above)."""
    if CEL_MODULE in sys.modules or any(isinstance(f, _CelGrammarCache) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _CelGrammarCache())
