"""Small typed helpers over SQLAlchemy results."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result, Table


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (Session.execute types its result loosely)."""
    return int(cast(CursorResult[Any], result).rowcount)


def table(model: Any) -> Table:
    """The Core table of a mapped class (for prebuilt executemany statements)."""
    return cast(Table, model.__table__)
