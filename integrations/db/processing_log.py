"""The audit log as a processing log (Logboek Dataverwerkingen) for a privacy officer.

The Dutch standard records every processing of personal data as a span of a trace (OpenTelemetry
style): trace id, span id, the operation's name, start and end, status, the system (resource) and
the processing activity and data subject as attributes (`dpl.core.*`). carepath keeps one audit
entry per read or change; this module writes them out in that shape, one JSON object per line,
or as CSV for a spreadsheet. The data subject is the case (its id, never a name or BSN).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.db.models import AuditLogRow

SYSTEM = {"name": "carepath", "version": "1"}
CSV_COLUMNS = ("trace_id", "span_id", "moment", "operation", "activity", "status", "resource", "case_id", "who",
               "role", "organisation", "token_id", "what", "why")


def records(session: Session, start: datetime, end: datetime, *, case_id: str | None = None,
            batch: int = 1000) -> Iterator[dict[str, Any]]:
    """The entries of [start, end) (oldest first) in the standard's shape, read in batches."""
    last_id = 0
    while True:
        query = (select(AuditLogRow).where(AuditLogRow.at >= start, AuditLogRow.at < end, AuditLogRow.id > last_id)
                 .order_by(AuditLogRow.id).limit(batch))
        if case_id is not None:
            query = query.where(AuditLogRow.case_id == case_id)
        rows = list(session.execute(query).scalars())
        if not rows:
            return
        for row in rows:
            yield record(row)
        last_id = rows[-1].id


def record(row: AuditLogRow) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "dpl.core.processing_activity_id": row.activity or "",
        "dpl.core.user_id": row.who,
        "carepath.role": row.role,
        "carepath.organisation": row.organisation,
        "carepath.action": row.action,
        "carepath.what": row.what,
    }
    if row.case_id:
        attributes["dpl.core.data_subject_id"] = row.case_id
        attributes["dpl.core.data_subject_id_type"] = "carepath-zaak"
    if row.why:
        attributes["carepath.reason"] = row.why
    if row.token_id is not None:
        attributes["carepath.api_token_id"] = row.token_id
    moment = row.at.isoformat()
    return {
        "trace_id": row.trace_id or "", "span_id": f"{row.id:016x}", "name": row.operation or "",
        "start_time": moment, "end_time": moment,
        "status_code": "OK" if (row.status or "ok") == "ok" else "ERROR",
        "resource": {**SYSTEM, "object": f"zaak/{row.case_id}" if row.case_id else row.action},
        "attributes": attributes,
    }


def as_jsonl(items: Iterator[dict[str, Any]]) -> Iterator[str]:
    for item in items:
        yield json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n"


def as_csv(items: Iterator[dict[str, Any]]) -> Iterator[str]:
    """CSV lines; a cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for item in items:
        a = item["attributes"]
        row = (item["trace_id"], item["span_id"], item["start_time"], item["name"],
               a["dpl.core.processing_activity_id"], item["status_code"], item["resource"]["object"],
               a.get("dpl.core.data_subject_id", ""), a["dpl.core.user_id"], a.get("carepath.role") or "",
               a.get("carepath.organisation") or "", a.get("carepath.api_token_id", ""), a["carepath.what"],
               a.get("carepath.reason", ""))
        writer.writerow([_safe(str(v)) for v in row])
        yield flush()


def _safe(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
