"""The client's data export (inzage, AVG art. 15): everything carepath keeps about one client's case.

The personal fields, the rest of the case data, the journal and the tasks with
their answers, as one JSON document a coordinator hands to the client. Statistics
and the audit log are not the client's data about themselves and stay out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from integrations.db import journal, repository


def client_data(session: Session, case_id: str, *, now: datetime) -> dict[str, Any]:
    """The export of one case (NotFoundError when there is no such case)."""
    state = repository.load_case(session, case_id)
    personal = repository.personal_data_of(session, case_id) or {}
    tasks = sorted(state.tasks.values(), key=lambda t: (t.created_at, t.id))
    return {
        "export": "carepath: gegevens van de cliënt",
        "made_at": now.isoformat(),
        "case": {
            "id": state.id, "pathway": state.pathway_id, "pathway_version": state.pathway_version,
            "status": state.status.value, "opened_at": state.opened_at.isoformat(),
            "closed_at": state.closed_at.isoformat() if state.closed_at else None, "outcome": state.outcome,
        },
        "personal_data": personal,
        "case_data": {k: v for k, v in state.data.items() if k not in personal},
        "journal": [e.to_json() for e in reversed(journal.entries(session, case_id, limit=100_000))],
        "tasks": [{"title": t.title, "status": t.status.value, "due_at": t.due_at.isoformat(),
                   "completed_at": t.completed_at.isoformat() if t.completed_at else None,
                   "answers": dict(t.data or {})} for t in tasks],
    }
