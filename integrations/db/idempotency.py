"""Idempotency keys: a command repeated with the same key returns the first answer.

The key is stored in the same transaction as the command's events, so "was it
applied?" and "is the key stored?" can never disagree. A key reused for a
different command is refused rather than silently answered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.errors import ConflictError
from integrations.db import hot_sql
from integrations.db.models import IdempotencyKeyRow
from integrations.db.sql import table


@dataclass(frozen=True)
class StoredResult:
    case_id: str
    result: dict[str, Any]


def command_hash(what: Mapping[str, Any]) -> str:
    """A stable hash of what a command asks (never of who the client is)."""
    text = json.dumps(what, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def find(session: Session, key: str, expected_hash: str) -> StoredResult | None:
    row = session.execute(select(IdempotencyKeyRow).where(IdempotencyKeyRow.key == key)).scalar_one_or_none()
    if row is None:
        return None
    if row.command != expected_hash:
        raise ConflictError(
            f"idempotency key {key!r} was already used for another command on case {row.case_id}"
        )
    return StoredResult(row.case_id, dict(row.result))


def store(session: Session, key: str, case_id: str, what_hash: str, result: Mapping[str, Any], now: datetime) -> None:
    session.execute(
        insert(IdempotencyKeyRow).values(key=key, case_id=case_id, command=what_hash, result=dict(result),
                                         created_at=now)
    )


def find_on(cursor: Any, dialect_name: str, key: str, expected_hash: str) -> StoredResult | None:
    """`find` on a DBAPI cursor in a transaction (`hot_sql.raw_write`)."""
    d = hot_sql.dialect(dialect_name)
    cursor.execute(f"SELECT case_id, command, result FROM idempotency_keys WHERE key = {d.mark}", (key,))
    row = cursor.fetchone()
    if row is None:
        return None
    case_id, command, result = row
    if command != expected_hash:
        raise ConflictError(f"idempotency key {key!r} was already used for another command on case {case_id}")
    return StoredResult(case_id, dict(d.read_json(result)))


def store_on(cursor: Any, dialect_name: str, key: str, case_id: str, what_hash: str, result: Mapping[str, Any],
             now: datetime) -> None:
    """`store` on a DBAPI cursor in a transaction (`hot_sql.raw_write`)."""
    hot_sql.insert_rows(cursor, dialect_name, table(IdempotencyKeyRow), [
        {"key": key, "case_id": case_id, "command": what_hash, "result": dict(result), "created_at": now}])
