"""Is the database already at the newest schema? Answered without loading Alembic.

Every `carepath` command and every start brings the database to the newest schema first
(`integrations.migrations.upgrade_database`). Importing Alembic and running its upgrade costs about a
second even when there is nothing to do, most of a CLI command's time. The newest revision can be
read from the migration files' `revision = ...` / `down_revision = ...` lines, and the database's
from `alembic_version`; only when they differ (or the files cannot be read that simply) does the
caller need Alembic.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

VERSIONS_DIR = Path(__file__).resolve().parents[1] / "migrations" / "versions"
_ASSIGN = re.compile(r'^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$', re.M)
_QUOTED = re.compile(r'"([^"]+)"|\'([^\']+)\'')


@cache
def script_head(versions_dir: Path = VERSIONS_DIR) -> str | None:
    """The one revision no migration builds on, or None when that is not plain to see (a merge,
    a computed id): then Alembic decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions_dir.glob("*.py"):
        found: dict[str, str] = {m.group(1): m.group(2) for m in _ASSIGN.finditer(path.read_text(encoding="utf-8"))}
        if "revision" not in found:
            return None
        names = [a or b for a, b in _QUOTED.findall(found["revision"])]
        if len(names) != 1:
            return None
        revisions.add(names[0])
        parents.update(a or b for a, b in _QUOTED.findall(found.get("down_revision", "None")))
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


def at_head(engine: Engine) -> bool:
    """True when the database's recorded revision is the newest migration's."""
    head = script_head()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:
        return False  # no alembic_version table yet: a new database
    return list(rows) == [head]
