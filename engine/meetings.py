"""Partner meetings: when the next one is, and its agenda generated from the cases.

A pathway declares `partner_meeting` (title, cadence, first date, chair, attending partner
roles). The agenda lists, for the chair and the attendees together:

- referrals overdue (open, past their due moment) and referrals rejected since the last meeting;
- cases waiting on a partner (an open referral, or one held for consent);
- cases closed since the last meeting without a successful outcome;
- counts per attending partner (open, overdue, completed, rejected).

The common agenda holds case codes, step titles, partner names and statuses only: no client data
at all, so no attendee sees more than it may. Pure: the caller passes the cases and `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.calendar import WorkCalendar
from engine.compiled import CompiledPathway
from engine.definition import PartnerMeeting
from engine.referrals import DUTCH_STATUS, Referral, ReferralStatus, referrals_of
from engine.state import CaseState, CaseStatus

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SECTIONS = ("overdue", "rejected", "waiting", "closed_without_result")
SECTION_TITLES: Mapping[str, str] = {
    "overdue": "Verwijzingen over de termijn",
    "rejected": "Afgewezen verwijzingen",
    "waiting": "Zaken die wachten op een partner",
    "closed_without_result": "Zaken afgesloten zonder resultaat",
}


@dataclass(frozen=True)
class AgendaItem:
    case_id: str
    section: str
    partner: str  # role id ('' when the item is about the whole case)
    partner_title: str
    what: str  # step title, or the outcome
    status: str  # Dutch
    since: datetime | None


@dataclass
class PartnerCount:
    partner: str
    title: str
    open: int = 0
    overdue: int = 0
    completed: int = 0
    rejected: int = 0


@dataclass
class Agenda:
    pathway_id: str
    title: str
    meeting_at: datetime
    since: datetime  # the previous meeting (what "since the last meeting" means)
    items: list[AgendaItem] = field(default_factory=list)
    counts: list[PartnerCount] = field(default_factory=list)

    def section(self, name: str) -> list[AgendaItem]:
        return [i for i in self.items if i.section == name]

    def case_ids(self) -> list[str]:
        return list(dict.fromkeys(i.case_id for i in self.items))

    def to_json(self) -> dict[str, object]:
        """What a stored meeting keeps: case ids per section and the counts (no client data)."""
        return {
            "sections": {name: [i.case_id for i in self.section(name)] for name in SECTIONS},
            "counts": {c.partner: {"open": c.open, "overdue": c.overdue, "completed": c.completed,
                                   "rejected": c.rejected} for c in self.counts},
            "since": self.since.isoformat(), "meeting_at": self.meeting_at.isoformat(),
        }


def meeting_moments(meeting: PartnerMeeting, calendar: WorkCalendar, until: date) -> list[datetime]:
    """Every meeting from the first until `until`: every `every` after `first`, each moved to the
    next working day, at `at` local time (UTC out)."""
    hour, minute = (int(x) for x in meeting.at.split(":"))
    start = datetime.combine(date.fromisoformat(meeting.first), time(hour, minute), AMSTERDAM)
    moments: list[datetime] = []
    planned = start
    for _ in range(1000):
        day = planned.astimezone(AMSTERDAM).date()
        if day > until:
            break
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        moments.append(datetime.combine(day, time(hour, minute), AMSTERDAM).astimezone(ZoneInfo("UTC")))
        planned = calendar.add(planned, meeting.every).astimezone(AMSTERDAM)
    return moments


def next_meeting(meeting: PartnerMeeting, calendar: WorkCalendar, now: datetime) -> tuple[datetime, datetime]:
    """(the coming meeting, or today's; the one before it) as seen at `now`."""
    today = now.astimezone(AMSTERDAM).date()
    moments = meeting_moments(meeting, calendar, today + timedelta(days=400))
    upcoming = [m for m in moments if m.astimezone(AMSTERDAM).date() >= today]
    coming = upcoming[0] if upcoming else moments[-1]
    earlier = [m for m in moments if m < coming]
    previous = earlier[-1] if earlier else coming - (moments[1] - moments[0] if len(moments) > 1 else timedelta(60))
    return coming, previous


def _title(cp: CompiledPathway, role: str) -> str:
    found = cp.roles.get(role)
    return found.title if found is not None and found.title else role


def build_agenda(cp: CompiledPathway, cases: Iterable[CaseState], now: datetime,
                 meeting_at: datetime, since: datetime, titles: Mapping[str, str] | None = None) -> Agenda:
    """The agenda of one meeting of `cp`'s pathway over `cases` (the team's cases of that pathway).
    `titles` names partner tasks that are history in a live state (closed: not in `state.tasks`)."""
    meeting = cp.pathway.partner_meeting
    attendees = meeting.attendees if meeting is not None else ()
    agenda = Agenda(cp.pathway.id, meeting.title if meeting is not None else cp.pathway.title, meeting_at, since)
    counts = {p: PartnerCount(p, _title(cp, p)) for p in attendees}
    for state in cases:
        waiting = False
        for referral in referrals_of(state.referrals):
            task = state.tasks.get(referral.task_id)
            due = task.due_at if task is not None else None
            count = counts.get(referral.partner)
            what = task.title if task is not None else (titles or {}).get(referral.task_id, referral.step_id)

            def item(section: str, referral: Referral = referral, what: str = what,
                     case_id: str = state.id) -> AgendaItem:
                return AgendaItem(case_id=case_id, section=section, partner=referral.partner,
                                  partner_title=_title(cp, referral.partner), what=what,
                                  status=DUTCH_STATUS[referral.status], since=referral.since)

            if referral.open and state.status is not CaseStatus.CLOSED:
                waiting = True
                if count is not None:
                    count.open += 1
                if due is not None and due < now:
                    agenda.items.append(item("overdue"))
                    if count is not None:
                        count.overdue += 1
            elif referral.status is ReferralStatus.REJECTED:
                if count is not None:
                    count.rejected += 1
                if referral.since >= since:
                    agenda.items.append(item("rejected"))
            elif referral.status is ReferralStatus.COMPLETED and count is not None:
                count.completed += 1
        if state.held_referrals and state.status is not CaseStatus.CLOSED:
            waiting = True
        if waiting:
            partners = sorted({r.partner for r in referrals_of(state.referrals) if r.open}
                              | {h["partner"] for h in state.held_referrals.values()})
            agenda.items.append(AgendaItem(
                case_id=state.id, section="waiting", partner=",".join(partners),
                partner_title=", ".join(_title(cp, p) for p in partners), what="wacht op antwoord of toestemming",
                status="lopend", since=None))
        if state.status is CaseStatus.CLOSED and state.closed_at is not None and state.closed_at >= since:
            outcome = cp.outcomes.get(state.outcome or "")
            if outcome is None or outcome.successful is not True:
                agenda.items.append(AgendaItem(
                    case_id=state.id, section="closed_without_result", partner="", partner_title="",
                    what=outcome.label if outcome is not None else (state.outcome or "-"), status="gesloten",
                    since=state.closed_at))
    order = {name: index for index, name in enumerate(SECTIONS)}
    agenda.items.sort(key=lambda i: (order[i.section], i.since or meeting_at, i.case_id))
    agenda.counts = list(counts.values())
    return agenda
