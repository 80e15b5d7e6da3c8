"""The case journal (rapportage): what a worker writes down about contacts with the client.

Entries are personal data: they live in their own table, outside the case's
state and history, are deleted when the client's personal data is erased and
are part of the client's data export. An entry can be changed by its author for
a short while after writing (a typo, a missing sentence); after that it is
fixed and a correction is a new entry that names the one it corrects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from integrations.db.models import CaseJournalRow
from integrations.db.sql import rowcount

# kind -> the word a worker reads (one term per concept, see docs/glossary.md)
KINDS: dict[str, str] = {
    "contact": "Contact",
    "telefoongesprek": "Telefoongesprek",
    "huisbezoek": "Huisbezoek",
    "overleg": "Overleg",
    "notitie": "Notitie",
}
MAX_TEXT = 10_000
DEFAULT_EDIT_WINDOW = timedelta(minutes=30)


class JournalError(ValueError):
    """An entry that cannot be written or changed; `field` names the form field, the message is Dutch."""

    def __init__(self, message: str, field: str = "text") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class JournalEntry:
    id: int
    case_id: str
    kind: str
    happened_at: datetime
    written_at: datetime
    edited_at: datetime | None
    author: str
    text: str
    task_id: str | None
    track_id: str | None
    corrects: int | None

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def editable_by(self, actor: str, now: datetime, window: timedelta = DEFAULT_EDIT_WINDOW) -> bool:
        """Only its author, and only within `window` of writing it."""
        return actor == self.author and now < self.written_at + window

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "kind": self.kind, "happened_at": self.happened_at.isoformat(),
            "written_at": self.written_at.isoformat(),
            "edited_at": self.edited_at.isoformat() if self.edited_at else None, "author": self.author,
            "text": self.text, "task_id": self.task_id, "track_id": self.track_id, "corrects": self.corrects,
        }


def _entry(row: CaseJournalRow) -> JournalEntry:
    return JournalEntry(row.id, row.case_id, row.kind, row.happened_at, row.written_at, row.edited_at, row.author,
                        row.text, row.task_id, row.track_id, row.corrects)


def check(kind: str, text: str, happened_at: datetime, now: datetime) -> str:
    """The text as stored (trimmed), or JournalError naming what is wrong."""
    if kind not in KINDS:
        raise JournalError(f"Kies een soort: {', '.join(k.lower() for k in KINDS.values())}.", "kind")
    cleaned = text.strip()
    if not cleaned:
        raise JournalError("Schrijf op wat er is gebeurd: de tekst is leeg.")
    if len(cleaned) > MAX_TEXT:
        raise JournalError(f"De tekst is {len(cleaned)} tekens; het maximum is {MAX_TEXT}.")
    if happened_at > now + timedelta(minutes=5):
        raise JournalError("De datum ligt in de toekomst; schrijf op wat al gebeurd is.", "happened_at")
    return cleaned


def add(session: Session, *, case_id: str, kind: str, text: str, author: str, now: datetime,
        happened_at: datetime | None = None, task_id: str | None = None, track_id: str | None = None,
        corrects: int | None = None) -> JournalEntry:
    """Write a new entry (a correction names the entry of the same case it corrects)."""
    moment = happened_at or now
    cleaned = check(kind, text, moment, now)
    if corrects is not None:
        earlier = session.get(CaseJournalRow, corrects)
        if earlier is None or earlier.case_id != case_id:
            raise JournalError(f"Er is geen journaalregel {corrects} in deze zaak om te corrigeren.", "corrects")
    row = CaseJournalRow(case_id=case_id, kind=kind, happened_at=moment, written_at=now, edited_at=None,
                         author=author, text=cleaned, task_id=task_id, track_id=track_id, corrects=corrects)
    session.add(row)
    session.flush()
    return _entry(row)


def edit(session: Session, entry_id: int, *, case_id: str, author: str, text: str, kind: str, now: datetime,
         window: timedelta = DEFAULT_EDIT_WINDOW) -> JournalEntry:
    """Change an entry: only its author, only within `window` of writing it; otherwise JournalError."""
    row = session.get(CaseJournalRow, entry_id, with_for_update=True)
    if row is None or row.case_id != case_id:
        raise JournalError(f"Er is geen journaalregel {entry_id} in deze zaak.", "entry")
    entry = _entry(row)
    if entry.author != author:
        raise JournalError("Alleen wie de regel schreef, kan haar wijzigen. Schrijf een correctie.", "entry")
    if not entry.editable_by(author, now, window):
        minutes = int(window.total_seconds() // 60)
        raise JournalError(f"Een regel is na {minutes} minuten vastgelegd en niet meer te wijzigen. "
                           "Schrijf een correctie als nieuwe regel.", "entry")
    row.text = check(kind, text, row.happened_at, now)
    row.kind = kind
    row.edited_at = now
    session.flush()
    return _entry(row)


def _like_pattern(query: str) -> str:
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def entries(session: Session, case_id: str, *, query: str | None = None, kind: str | None = None,
            limit: int = 1000) -> list[JournalEntry]:
    """The case's entries, newest first; `query` matches words in the text (case-insensitive)."""
    stmt = select(CaseJournalRow).where(CaseJournalRow.case_id == case_id)
    if query and query.strip():
        for word in query.split()[:8]:
            stmt = stmt.where(func.lower(CaseJournalRow.text).like(_like_pattern(word), escape="\\"))
    if kind:
        stmt = stmt.where(CaseJournalRow.kind == kind)
    stmt = stmt.order_by(CaseJournalRow.happened_at.desc(), CaseJournalRow.id.desc()).limit(limit)
    return [_entry(row) for row in session.execute(stmt).scalars()]


def count(session: Session, case_id: str) -> int:
    return int(session.execute(select(func.count()).select_from(CaseJournalRow)
                               .where(CaseJournalRow.case_id == case_id)).scalar_one())


def erase(session: Session, case_id: str) -> int:
    """Delete every entry of the case (with the client's personal data); the number deleted."""
    return rowcount(session.execute(delete(CaseJournalRow).where(CaseJournalRow.case_id == case_id)))
