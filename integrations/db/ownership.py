"""Who may publish a pathway: the organisation that owns its id, from the account registry.

A pathway id belongs to one organisation (`pathway_owners`): the organisation of the coordinator who
first published it, or the one an operator assigned (`carepath owner`). Only coordinators
of that organisation publish new versions; anyone else copies it under an id of their own. The
`owner` text inside a pathway file is a description, never an authority.

Version numbers are carepath's, not the text's: a publication gets the next number (1 for a new
id) and the stored source says so, whatever `version:` the submitted text had, so no number in a
file can block an owner (issue #9: a version of 2^63-1 did).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from integrations.db.models import PathwayOwnerRow, PathwayVersionRow

_VERSION_LINE = re.compile(r"^version[ \t]*:[^\n]*$", re.MULTILINE)
_ID_LINE = re.compile(r"^id[ \t]*:[ \t]*(?P<id>[^\s#]+)[^\n]*$", re.MULTILINE)


@dataclass(frozen=True)
class Owner:
    pathway_id: str
    organisation: str
    assigned_at: datetime
    assigned_by: str


def _owner(row: PathwayOwnerRow) -> Owner:
    return Owner(row.pathway_id, row.organisation, row.assigned_at, row.assigned_by)


def owner_of(session: Session, pathway_id: str, *, for_update: bool = False) -> Owner | None:
    """The owning organisation; with `for_update` the row is locked, so publications of one id queue."""
    query = select(PathwayOwnerRow).where(PathwayOwnerRow.pathway_id == pathway_id)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    return None if row is None else _owner(row)


def owners(session: Session) -> dict[str, str]:
    """pathway id -> owning organisation, for lists."""
    return {pid: org for pid, org in session.execute(select(PathwayOwnerRow.pathway_id, PathwayOwnerRow.organisation))}


def set_owner(session: Session, pathway_id: str, organisation: str, now: datetime, by: str) -> Owner:
    """Assign (or move) a pathway id to an organisation."""
    if not organisation.strip():
        raise ValidationError("een zorgpad hoort bij een organisatie: geef de naam uit het accountregister")
    row = session.get(PathwayOwnerRow, pathway_id)
    if row is None:
        row = PathwayOwnerRow(pathway_id=pathway_id, organisation=organisation, assigned_at=now, assigned_by=by)
        session.add(row)
    else:
        row.organisation, row.assigned_at, row.assigned_by = organisation, now, by
    session.flush()
    return _owner(row)


def is_published(session: Session, pathway_id: str) -> bool:
    return bool(session.execute(select(func.count()).select_from(PathwayVersionRow)
                                .where(PathwayVersionRow.pathway_id == pathway_id)).scalar_one())


def latest(session: Session, pathway_id: str) -> PathwayVersionRow | None:
    return session.execute(
        select(PathwayVersionRow).where(PathwayVersionRow.pathway_id == pathway_id)
        .order_by(PathwayVersionRow.version.desc()).limit(1)
    ).scalar_one_or_none()


def with_version(text: str, version: int) -> str:
    """The source with its top-level `version:` line set to `version` (carepath numbers versions)."""
    found = _VERSION_LINE.search(text)
    if found is None:
        raise ValidationError("het zorgpad heeft geen regel 'version:' bovenaan (zonder inspringing); "
                              "carepath vult daar het nieuwe versienummer in")
    return text[:found.start()] + f"version: {version}" + text[found.end():]


def with_id(text: str, pathway_id: str) -> str:
    """The source with its top-level `id:` set to `pathway_id` (a copy under an id of one's own)."""
    found = _ID_LINE.search(text)
    if found is None:
        return text
    return text[:found.start()] + f"id: {pathway_id}" + text[found.end():]
