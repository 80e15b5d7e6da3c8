"""Partner meetings on the database: which pathways hold one, the generated agenda of a team's
cases, the stored meeting (case ids and counts only), and decisions as events on each case."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from engine import commands as c
from engine.compiled import CompiledPathway
from engine.errors import NotFoundError, ValidationError
from engine.meetings import Agenda, build_agenda, next_meeting
from engine.state import CaseState
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CaseRow, TaskRow
from integrations.db.partner_tables import PartnerMeetingRow
from integrations.service import CaseService, CommandResult


@dataclass(frozen=True)
class Meeting:
    id: int
    pathway_id: str
    team: str | None
    held_on: datetime
    chaired_by: str
    attendees: tuple[str, ...]
    case_ids: frozenset[str]


def meeting_pathways(service: CaseService) -> list[CompiledPathway]:
    """The newest version of every published pathway that declares a partner meeting."""
    with read_session(service.db) as session:
        published = service.catalog.published(session)
    newest: dict[str, int] = {}
    for pathway_id, version, _at in published:
        newest[pathway_id] = max(version, newest.get(pathway_id, 0))
    found = [service.catalog.lookup(p, v) for p, v in sorted(newest.items())]
    return [cp for cp in found if cp.pathway.partner_meeting is not None]


def agenda(service: CaseService, cp: CompiledPathway, team: str, now: datetime) -> Agenda:
    """The agenda of the coming meeting over the team's cases of the pathway (all versions)."""
    meeting = cp.pathway.partner_meeting
    if meeting is None:
        raise ValidationError(f"zorgpad {cp.key} heeft geen ketenoverleg")
    coming, previous = next_meeting(meeting, cp.calendar, now)
    titles: dict[str, str] = {}
    with read_session(service.db) as session:
        rows = session.execute(
            select(CaseRow.state).where(CaseRow.pathway_id == cp.pathway.id, CaseRow.team == team,
                                        or_(CaseRow.status != "closed", CaseRow.closed_at >= previous))
        ).scalars().all()
        cases = [CaseState.from_json(row) for row in rows]  # without personal data: the agenda needs none
        closed = [r["task_id"] for case in cases for r in case.referrals.values() if r["task_id"] not in case.tasks]
        for chunk in range(0, len(closed), 500):  # closed partner tasks are history in the live states
            titles.update({task_id: title for task_id, title in session.execute(
                select(TaskRow.id, TaskRow.title).where(TaskRow.id.in_(closed[chunk:chunk + 500])))})
    return build_agenda(cp, cases, now, coming, previous, titles)


def start_meeting(service: CaseService, cp: CompiledPathway, team: str, *, chair: str,
                  attendees: Sequence[str], now: datetime) -> int:
    """Hold the meeting now: its agenda is fixed (case ids per section) and decisions may follow."""
    meeting = cp.pathway.partner_meeting
    if meeting is None:
        raise ValidationError(f"zorgpad {cp.key} heeft geen ketenoverleg")
    unknown = sorted(set(attendees) - set(meeting.attendees))
    if unknown:
        raise ValidationError(f"geen deelnemers van dit overleg: {', '.join(unknown)}")
    generated = agenda(service, cp, team, now)
    with write_session(service.db) as session:
        row = PartnerMeetingRow(pathway_id=cp.pathway.id, team=team, held_on=now, chaired_by=chair,
                                attendees=list(attendees), agenda=generated.to_json(), notes=None)
        session.add(row)
        session.flush()
        return row.id


def get_meeting(service: CaseService, meeting_id: int) -> Meeting:
    with read_session(service.db) as session:
        row = session.get(PartnerMeetingRow, meeting_id)
        if row is None:
            raise NotFoundError(f"geen overleg {meeting_id}")
        sections = (row.agenda or {}).get("sections", {})
        case_ids = frozenset(case for ids in sections.values() for case in ids)
        return Meeting(row.id, row.pathway_id, row.team, row.held_on, row.chaired_by, tuple(row.attendees),
                       case_ids)


def recent_meetings(service: CaseService, teams: Sequence[str], limit: int = 20) -> list[Meeting]:
    with read_session(service.db) as session:
        rows = session.execute(select(PartnerMeetingRow).where(PartnerMeetingRow.team.in_(list(teams)))
                               .order_by(PartnerMeetingRow.held_on.desc()).limit(limit)).scalars().all()
        return [Meeting(r.id, r.pathway_id, r.team, r.held_on, r.chaired_by, tuple(r.attendees), frozenset())
                for r in rows]


def record_decision(service: CaseService, meeting: Meeting, case_id: str, decision: str, *,
                    actor: str) -> CommandResult:
    """A decision about one case of the meeting's agenda: an event on that case."""
    if case_id not in meeting.case_ids:
        raise ValidationError(f"zaak {case_id} staat niet op de agenda van overleg {meeting.id}")
    return service.execute(c.RecordMeetingDecision(case_id=case_id, actor=actor, meeting=str(meeting.id),
                                                   decision=decision))
