"""The referral desk: what a partner sees of a referral, and the one way every answer is recorded.

Three doors, one event: the partner's own account, the single-use e-mail link and the worker
recording a phone answer all end in `CaseService.execute(AnswerReferral(...))`, which the engine
turns into a `referral_updated` event (and, for an outcome, the task's completion). A partner
sees only what the step declares in `shares` (minimum necessary), never the rest of the case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import commands as c
from engine.compiled import CompiledPathway
from engine.definition import RoleKind
from engine.errors import NotFoundError
from engine.referrals import (
    DUTCH_CHANNEL,
    AnswerChannel,
    Referral,
    ReferralStatus,
    referrals_of,
    shared_fields,
)
from engine.state import CaseState
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CaseRow, TaskRow
from integrations.partners import links
from integrations.service import CaseService, CommandResult

# What a partner may do next, per status, in the order the screen offers it.
ANSWERS: Mapping[ReferralStatus, tuple[ReferralStatus, ...]] = {
    ReferralStatus.REQUESTED: (ReferralStatus.ACCEPTED, ReferralStatus.REJECTED, ReferralStatus.COMPLETED),
    ReferralStatus.RECEIVED: (ReferralStatus.ACCEPTED, ReferralStatus.REJECTED, ReferralStatus.COMPLETED),
    ReferralStatus.ACCEPTED: (ReferralStatus.IN_PROGRESS, ReferralStatus.ON_HOLD, ReferralStatus.COMPLETED),
    ReferralStatus.IN_PROGRESS: (ReferralStatus.ON_HOLD, ReferralStatus.COMPLETED),
    ReferralStatus.ON_HOLD: (ReferralStatus.IN_PROGRESS, ReferralStatus.COMPLETED),
}


@dataclass(frozen=True)
class SharedField:
    name: str
    label: str
    value: str


@dataclass(frozen=True)
class ReferralCard:
    """One referral as a list shows it: no client data, only the case code and the step."""

    referral: Referral
    case_id: str
    team: str | None
    pathway_id: str
    title: str
    partner_title: str
    due_at: datetime | None
    overdue: bool

    @property
    def task_id(self) -> str:
        return self.referral.task_id


@dataclass(frozen=True)
class ReferralView:
    """The answer screen of one referral: the question, the shared data, the answer form."""

    card: ReferralCard
    question: str
    shared: tuple[SharedField, ...]
    answer_schema: Mapping[str, Any]
    next_statuses: tuple[ReferralStatus, ...]
    history: tuple[tuple[datetime, str, str, str], ...]  # (when, status, by, channel) in Dutch


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def partner_title(cp: CompiledPathway, role: str) -> str:
    found = cp.roles.get(role)
    return found.title if found is not None and found.title else role


class ReferralDesk:
    """Queries and answers of referrals, on top of the case service."""

    def __init__(self, service: CaseService) -> None:
        self.service = service

    def _cp(self, state: CaseState) -> CompiledPathway:
        return self.service.catalog.lookup(state.pathway_id, state.pathway_version)

    def card(self, state: CaseState, referral: Referral, now: datetime,
             task_row: tuple[str, datetime] | None = None) -> ReferralCard:
        """The card of one referral; `task_row` (title, due moment) from the tasks table for a stored
        (live) state, whose closed partner tasks are history."""
        cp = self._cp(state)
        task = state.tasks.get(referral.task_id)
        title, due = ((task.title, task.due_at) if task is not None
                      else task_row if task_row is not None else (referral.step_id, None))
        return ReferralCard(
            referral=referral, case_id=state.id, team=state.team, pathway_id=state.pathway_id,
            title=title,
            partner_title=partner_title(cp, referral.partner), due_at=due,
            overdue=bool(referral.open and due is not None and due < now),
        )

    def cards_of_case(self, state: CaseState, now: datetime) -> list[ReferralCard]:
        return [self.card(state, r, now) for r in referrals_of(state.referrals)]

    def held_of_case(self, state: CaseState) -> list[tuple[str, str, str]]:
        """(step title, partner title, why) of each referral that waits for the client's consent."""
        cp = self._cp(state)
        out = []
        for held in state.held_referrals.values():
            step = cp.steps.get(held["step_id"])
            title = step.title if step is not None and step.title else held["step_id"]
            partner = partner_title(cp, held["partner"])
            out.append((title, partner, f"Wacht op toestemming van de cliënt om gegevens te delen met {partner}. "
                                        "Leg de toestemming vast om de verwijzing te versturen."))
        return out

    def consent_candidates(self, state: CaseState) -> list[tuple[str, str]]:
        """(role, title) of partners whose referral waits for consent."""
        cp = self._cp(state)
        return [(h["partner"], partner_title(cp, h["partner"])) for h in state.held_referrals.values()]

    def view(self, task_id: str, now: datetime) -> tuple[ReferralView, CaseState]:
        case_id = _case_of(task_id)
        state = self.service.case(case_id)  # personal data merged: only `shares` of it is shown
        raw = state.referrals.get(task_id)
        if raw is None:
            raise NotFoundError(f"geen verwijzing {task_id}")
        referral = Referral.from_json(raw)
        cp = self._cp(state)
        step = cp.steps[referral.step_id]
        props = (cp.pathway.case_data or {}).get("properties", {}) if isinstance(cp.pathway.case_data, Mapping) else {}
        shared = tuple(
            SharedField(name, str((props.get(name) or {}).get("title") or name), _shown(state.data.get(name)))
            for name in shared_fields(step) if name in state.data
        )
        answer = step.params.get("answer")
        history = tuple(
            (e.at, str(e.data["status"]), e.actor, DUTCH_CHANNEL[AnswerChannel(e.data.get("channel", "system"))])
            for e in self.service.history(case_id)
            if e.type == "referral_updated" and e.data.get("task_id") == task_id
        )
        view = ReferralView(
            card=self.card(state, referral, now), question=str(step.params.get("question", "")), shared=shared,
            answer_schema=answer if isinstance(answer, Mapping) else {"type": "object", "properties": {}},
            next_statuses=ANSWERS.get(referral.status, ()) if state.status.value == "open" else (),
            history=history,
        )
        return view, state

    # --- the three doors -------------------------------------------------------------------------
    def answer(self, task_id: str, status: str, channel: AnswerChannel, *, actor: str, reason: str | None = None,
               data: Mapping[str, Any] | None = None) -> CommandResult:
        return self.service.execute(c.AnswerReferral(
            case_id=_case_of(task_id), actor=actor, task_id=task_id, status=status, channel=channel.value,
            reason=(reason or "").strip() or None, data=dict(data or {})))

    def mark_received(self, view: ReferralView, channel: AnswerChannel, *, actor: str) -> bool:
        """The partner opened a referral that was only sent: it is now `received` (FHIR). Opening a
        link does not spend it."""
        if view.card.referral.status is not ReferralStatus.REQUESTED or not view.next_statuses:
            return False
        self.answer(view.card.task_id, ReferralStatus.RECEIVED.value, channel, actor=actor)
        return True

    def link_target(self, token: str, now: datetime) -> links.ReferralLink:
        with read_session(self.service.db) as session:
            return links.find_link(session, token, now)

    def answer_by_link(self, token: str, status: str, *, reason: str | None = None,
                       data: Mapping[str, Any] | None = None) -> CommandResult:
        now = self.service.clock.now()
        with write_session(self.service.db) as session:
            target = links.find_link(session, token, now)
            if not links.spend_link(session, token, now):
                raise NotFoundError("deze link is verlopen, al gebruikt of bestaat niet")
        try:
            return self.answer(target.task_id, status, AnswerChannel.LINK, actor=f"partner-link:{target.partner}",
                               reason=reason, data=data)
        except Exception:
            with write_session(self.service.db) as session:
                links.unspend_link(session, token)
            raise

    def record_consent(self, case_id: str, partner: str, *, actor: str) -> CommandResult:
        return self.service.execute(c.RecordConsent(case_id=case_id, actor=actor, partner=partner))

    # --- lists -----------------------------------------------------------------------------------
    def for_partner(self, roles: Sequence[str], teams: Sequence[str], now: datetime,
                    limit: int = 200) -> list[ReferralCard]:
        """Referrals addressed to a partner organisation (its roles, in the teams it works with)."""
        if not roles or not teams:
            return []
        with read_session(self.service.db) as session:
            rows = session.execute(
                select(TaskRow.id, CaseRow.state, TaskRow.title, TaskRow.due_at)
                .join(CaseRow, CaseRow.id == TaskRow.case_id)
                .where(TaskRow.type == "partner_request", TaskRow.role.in_(list(roles)),
                       TaskRow.team.in_(list(teams)))
                .order_by(TaskRow.status.desc(), TaskRow.due_at).limit(limit)
            ).all()
        return self._cards(rows, now)

    def for_team(self, teams: Sequence[str], now: datetime, limit: int = 200) -> list[ReferralCard]:
        """Every referral of a coordinator's teams, open ones first."""
        if not teams:
            return []
        with read_session(self.service.db) as session:
            rows = session.execute(
                select(TaskRow.id, CaseRow.state, TaskRow.title, TaskRow.due_at)
                .join(CaseRow, CaseRow.id == TaskRow.case_id)
                .where(TaskRow.type == "partner_request", TaskRow.team.in_(list(teams)))
                .order_by(TaskRow.status.desc(), TaskRow.due_at).limit(limit)
            ).all()
        return self._cards(rows, now)

    def for_worker(self, actor: str, teams: Sequence[str], now: datetime, limit: int = 200) -> list[ReferralCard]:
        """Referrals in the cases a worker carries (their role in the case), open ones first."""
        if not teams:
            return []
        with read_session(self.service.db) as session:
            rows = session.execute(
                select(TaskRow.id, CaseRow.state, TaskRow.title, TaskRow.due_at)
                .join(CaseRow, CaseRow.id == TaskRow.case_id)
                .where(TaskRow.type == "partner_request", TaskRow.team.in_(list(teams)))
                .order_by(TaskRow.status.desc(), TaskRow.due_at).limit(limit * 5)
            ).all()
        mine = [row for row in rows if actor in (row[1].get("assignments") or {}).values()]
        return self._cards(mine[:limit], now)

    def _cards(self, rows: Sequence[Any], now: datetime) -> list[ReferralCard]:
        cards = []
        for task_id, raw_state, title, due_at in rows:
            raw = (raw_state.get("referrals") or {}).get(task_id)
            if raw is None:
                continue  # a partner task from before referrals were recorded
            state = CaseState.from_json(raw_state)
            cards.append(self.card(state, Referral.from_json(raw), now, (title, due_at)))
        return sorted(cards, key=lambda k: (not k.referral.open, k.due_at or now))


def partner_roles(cp: CompiledPathway) -> list[str]:
    return [r.id for r in cp.pathway.roles if r.kind is RoleKind.PARTNER]


def _case_of(task_id: str) -> str:
    case_id, dot, number = task_id.rpartition(".")
    if not dot or not case_id or not number.isdigit():
        raise NotFoundError(f"geen verwijzing {task_id}")
    return case_id
