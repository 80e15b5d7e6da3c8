"""Demo data: an account for every role and a few hundred cases at a realistic state.

`seed(service)` creates the demo teams and accounts (README, "Demo accounts")
and then runs cases on the four shipped pathways through the real application
service on a manual clock that starts months in the past: cases arrive over
that time, simulated workers claim and complete their tasks as people do (most
on time, some late, some not yet), partners answer or stay silent, timers fire
reminders, escalations and three-weekly evaluations, and the clock advances to
now. What is left is what a team has on a Monday morning: open and overdue
tasks, cases in evaluation, closed cases with their outcomes.

Forms are filled with `engine.simulate.fill_form` (the coordinator's dry run),
with plausible Dutch names, addresses and notes instead of placeholders. All
of it is fictitious. Seeding is idempotent: a marker in `web_settings` says it
was done, demo case ids are fixed (`DEP001`, ...), and accounts that exist are
left as they are.
"""

from __future__ import annotations

import copy
import heapq
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Event
from typing import Any

from sqlalchemy import Engine as Database
from sqlalchemy import func, select

from engine import commands as c
from engine.clock import Clock, ManualClock
from engine.compiled import CompiledPathway
from engine.errors import CarepathError, ConflictError
from engine.expressions import evaluate
from engine.json_validation import validator_for
from engine.simulate import WorkerModel, choices, fill_form
from engine.state import CaseState, CaseStatus, Task, TaskStatus, TaskType, TrackStatus
from integrations.db import accounts
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import TaskRow, TimerRow
from integrations.service import CaseService

log = logging.getLogger("carepath.demo")

DEMO_PASSWORD = "carepath-demo"
MARKER = "demo_seeded"


@dataclass(frozen=True)
class DemoTeam:
    id: str
    name: str
    organisation: str
    pathway: str
    prefix: str  # of demo case ids
    municipalities: tuple[str, ...]
    places: tuple[str, ...]


TEAMS = (
    DemoTeam("noord-groningen", "Preventie huisuitzetting Noord-Groningen", "AMW Noord-Groningen",
             "eviction-prevention", "DEP", ("GM1966", "GM1966", "GM1966", "GM1969", "GM0014"),
             ("9981 Uithuizen", "9989 Warffum", "9951 Winsum", "9791 Ten Boer", "9741 Groningen")),
    DemoTeam("utrecht-tcm", "Teamcasemanagement Utrecht", "Portes", "team-case-management", "DTC", ("GM0344",),
             ("3526 Utrecht", "3533 Utrecht", "3564 Utrecht", "3524 Utrecht")),
    DemoTeam("drenthe-smw", "Schoolmaatschappelijk werk Drenthe", "SMW Drenthe", "school-social-work", "DSW",
             ("GM0106", "GM0114", "GM0118"), ("9401 Assen", "7811 Emmen", "7902 Hoogeveen")),
    DemoTeam("rotterdam-swa", "SWA Rotterdam-Dordrecht", "SWA", "swa-trajectory", "DSA", ("GM0599", "GM0599", "GM0505"),
             ("3074 Rotterdam", "3082 Rotterdam", "3311 Dordrecht", "3025 Rotterdam")),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    role: AccountRole
    organisation: str
    teams: tuple[str, ...] = ()
    pathway_roles: tuple[str, ...] = ()
    municipality: str | None = None
    funder: str | None = None  # an analyst of a funder other than a municipality


# The school board that pays for the school social work of the demo cases whose funding is "school".
SCHOOL_BOARD = "school_board:41234"

ACCOUNTS = (
    DemoAccount("anna", "Anna de Vries", AccountRole.WORKER, "AMW Noord-Groningen", ("noord-groningen",),
                ("outreach_worker",)),
    DemoAccount("bram", "Bram Hoekstra", AccountRole.WORKER, "AMW Noord-Groningen", ("noord-groningen",),
                ("outreach_worker",)),
    DemoAccount("carla", "Carla Mulder", AccountRole.COORDINATOR, "AMW Noord-Groningen", ("noord-groningen",),
                ("coordinator", "manager")),
    DemoAccount("sanne", "Sanne Visser", AccountRole.WORKER, "Portes", ("utrecht-tcm",),
                ("case_manager", "team_member", "introducing_colleague")),
    DemoAccount("youssef", "Youssef El Amrani", AccountRole.WORKER, "Portes", ("utrecht-tcm",),
                ("case_manager", "team_member", "introducing_colleague")),
    DemoAccount("dirk", "Dirk Jansen", AccountRole.COORDINATOR, "Portes", ("utrecht-tcm",), ("coordinator", "manager")),
    DemoAccount("lotte", "Lotte Bakker", AccountRole.WORKER, "SMW Drenthe", ("drenthe-smw",), ("school_social_worker",)),
    DemoAccount("ingrid", "Ingrid Kuipers", AccountRole.COORDINATOR, "SMW Drenthe", ("drenthe-smw",),
                ("coordinator", "manager", "school_social_worker")),
    DemoAccount("jermaine", "Jermaine Martina", AccountRole.WORKER, "SWA", ("rotterdam-swa",),
                ("social_worker", "mentor_coach")),
    DemoAccount("priya", "Priya Ramdin", AccountRole.WORKER, "SWA", ("rotterdam-swa",), ("psychologist", "social_worker")),
    DemoAccount("fatima", "Fatima Ouali", AccountRole.COORDINATOR, "SWA", ("rotterdam-swa",), ("coordinator", "manager")),
    DemoAccount("henk", "Henk Smit", AccountRole.ANALYST, "Gemeente Het Hogeland", municipality="GM1966"),
    DemoAccount("marloes", "Marloes de Graaf", AccountRole.ANALYST, "Gemeente Utrecht", municipality="GM0344"),
    DemoAccount("ruud", "Ruud van Dijk", AccountRole.ANALYST, "Gemeente Rotterdam", municipality="GM0599"),
    DemoAccount("sophie", "Sophie Wolters", AccountRole.ANALYST, "Stichting Onderwijs Drenthe", funder=SCHOOL_BOARD),
    DemoAccount("beheer", "Beheerder carepath", AccountRole.ADMIN, "carepath"),
    # partner contacts (docs/partners.md): they see only the referrals addressed to them
    DemoAccount("kredietbank", "Karin Dijkstra (Kredietbank)", AccountRole.PARTNER, "Kredietbank Noord-Groningen",
                ("noord-groningen",), ("credit_bank",)),
    DemoAccount("woonborg", "Wim Bosma (Woonborg)", AccountRole.PARTNER, "Woningcorporatie Woonborg",
                ("noord-groningen",), ("housing_corporation",)),
)

_FIRST = ("Jan", "Maria", "Pieter", "Fatma", "Sandra", "Mohamed", "Linda", "Kees", "Anouk", "Sevda", "Ricardo",
          "Joyce", "Dewi", "Tom", "Esther", "Rachid", "Shanti", "Gerrit", "Naomi", "Luuk", "Iris", "Dennis")
_LAST = ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer",
         "Bos", "Vos", "Peters", "Hendriks", "Dekker", "Brouwer", "Yilmaz", "Martina", "Ramdin", "El Idrissi",
         "Kok", "Postma", "Huisman", "Wever")
_STREETS = ("Dorpsstraat", "Kerkstraat", "Molenweg", "Schoolstraat", "Julianastraat", "Beatrixlaan", "Stationsweg",
            "Kanaalweg", "Lindenlaan", "Vondellaan", "Marktstraat", "Oranjestraat")
_NOTES = {
    "goal": ("Post openen en sorteren, samen één keer per week", "Elke ochtend om acht uur op", "Betalingsregeling met "
             "de verhuurder aanvragen", "Eén keer per week naar het buurthuis", "Afspraak bij de huisarts maken",
             "Aanvraag huurtoeslag indienen", "Vaste bedtijden voor de kinderen"),
    "concern": ("Kinderen komen vaak te laat en zonder ontbijt op school.", "Moeder maakt een uitgeputte indruk; "
                "veel rekeningen op de mat.", "Spanningen tussen de ouders, buren hoorden ruzie."),
    "referral_reason": ("Veel verzuim sinds de herfstvakantie; leerling trekt zich terug.", "Leerling vertelt over "
                        "geldzorgen thuis en kan zich slecht concentreren.", "Conflicten met klasgenoten, "
                        "mentor maakt zich zorgen over de thuissituatie."),
    "agreements": ("Jeugdzorg sluit aan bij het teamoverleg; casemanager blijft aanspreekpunt.",),
}
_PROGRESS = ("Kleine stap gezet; afspraken worden nagekomen.", "Nog weinig beweging, nieuw kleiner doel afgesproken.",
             "Goed gesprek gehad; cliënt neemt zelf meer initiatief.", "Terugval na een moeilijke week.",
             "Doel bijna bereikt; volgende keer evalueren we afronden.")
# How often workers and partners give which answer, so outcomes look like the field's: about two
# thirds of tenants keep their home, most trajectories end well, some families drop out.
ANSWERS: dict[str, Any] = {
    "doorstep_visit.contact_result": {"spoken": 6, "not_home": 3, "visit_refused": 1},
    "doorstep_visit.help_accepted": {"true": 8, "false": 2},
    "follow_up_check.status": {"resolved": 45, "continuing": 25, "at_risk": 10, "bailiff": 10, "moved": 10},
    "request_payment_plan.payment_plan_agreed": {"true": 3, "false": 1},
    "request_debt_help.debt_help_started": {"true": 4, "false": 1},
    "request_income_support.decision": {"granted": 12, "partly_granted": 5, "rejected": 3},
    "introduction.result": {"accepted": 15, "hesitant": 4, "refused": 1},
    "intake.domestic_violence": {"true": 15, "false": 85},
    "intake.youth_care_needed": {"true": 1, "false": 3},
    "closing_talk.result": {"family_stable": 9, "handed_over": 7, "youth_care_took_over": 2, "dropped_out": 2},
    "intake.consent": {"pupil_and_parents": 14, "pupil_16_plus": 4, "refused": 2},
    "evaluation_talk.progress": {"back_on_track": 7, "improving": 8, "needs_other_help": 3, "dropped_out": 2},
    "closing.outcome": {"back_on_track": 12, "referred": 5, "dropped_out": 2, "other": 1},
    "closing.result": {"completed_successfully": 16, "partially_completed": 3, "dropped_out": 1},
    "trajectory_plan.client_signed": {"true": 17, "false": 3},
    **{f"{domain}_result.result": {"achieved": 10, "not_yet": 7, "stopped": 3} for domain in (
        "social_network", "material_situation", "parenting_climate", "psychosocial_wellbeing", "work_education",
        "psychological", "family_parenting", "participation")},
    **{f"{domain}_result.result": {"achieved": 7, "partly": 2, "stopped": 1} for domain in (
        "debts", "housing", "income", "justice")},
    **{f"call_{partner}.reached": {"true": 17, "false": 3} for partner in (
        "credit_bank", "housing_corporation", "social_services")},
}
_ORIGINS = ({"client": "CW", "mother": "CW", "father": "CW"}, {"client": "NL", "mother": "AW", "father": "CW"},
            {"client": "AW", "mother": "AW", "father": "AW"}, {"client": "NL", "mother": "NL", "father": "CW"})


def _ensure_accounts(db: Database, now: datetime, password: str) -> None:
    with read_session(db) as session:
        missing = [spec for spec in ACCOUNTS if accounts.find_account(session, spec.username) is None]
    # One argon2 hash (0.1 s, 64 MiB) for every demo account, made before the write transaction: they
    # share the password the README publishes, and the transaction does not hold the write lock
    # for eighteen hashes while `carepath serve --demo` already answers pages.
    hashed = accounts.hash_password(password) if missing else None
    with write_session(db) as session:
        for team in TEAMS:
            accounts.upsert_team(session, team.id, team.name, team.organisation)
        from integrations.db import ownership

        for team in TEAMS:  # each shipped pathway belongs to the organisation of the team that runs it
            if ownership.owner_of(session, team.pathway) is None and ownership.is_published(session, team.pathway):
                ownership.set_owner(session, team.pathway, team.organisation, now, "system:demo")
        for spec in ACCOUNTS:
            if accounts.find_account(session, spec.username) is not None:
                continue
            accounts.create_account(
                session, username=spec.username, display_name=spec.name, password=password, role=spec.role,
                organisation=spec.organisation, now=now, teams=spec.teams, pathway_roles=spec.pathway_roles,
                municipality=spec.municipality, check_rules=False, funder=spec.funder, password_hash=hashed)


def seed(service: CaseService, db: Database | None = None, clock: Clock | None = None, *, cases: int = 240,
         months: int = 8, seed: int = 2026, password: str = DEMO_PASSWORD, stop: Event | None = None,
         **_ignored: Any) -> bool:
    """Create the demo accounts and `cases` demo cases (spread over the four pathways) that have run
    for up to `months` months until now. False when the demo data was already there, or when `stop`
    was set before it was complete (`carepath serve` stopped while seeding): every action is its own
    transaction and the marker is written last, so the next seed goes on where this one stopped."""
    db = db or service.db
    now = (clock or service.clock).now().replace(second=0, microsecond=0)
    _ensure_accounts(db, now, password)
    with read_session(db) as session:
        if accounts.get_setting(session, MARKER) is not None:
            return False
    runner = _DemoRun(service, db, now, months, seed, stop)
    runner.run(cases)
    if runner.stopped():
        log.info("demo data: stopped after %d cases, %d worker actions", runner.started, runner.actions)
        return False
    from web.demo_signals import seed_signals  # early signalling: a DDAS delivery for Noord-Groningen

    seed_signals(service, now)
    with write_session(db) as session:
        accounts.put_setting(session, MARKER, {"cases": cases, "seed": seed, "until": now.isoformat(),
                                               "started": runner.started, "actions": runner.actions}, now)
    log.info("demo data: %d cases, %d worker actions", runner.started, runner.actions)
    return True


class _DemoRun:
    def __init__(self, service: CaseService, db: Database, now: datetime, months: int, seed: int,
                 stop: Event | None = None) -> None:
        self.stop = stop
        self.until = now
        self.start = now - timedelta(days=30 * months)
        self.clock = ManualClock(self.start)
        self.service = copy.copy(service)  # the same database and catalog, on the demo clock
        self.service.clock = self.clock
        self.db = db
        self.rng = random.Random(seed)
        self.model = WorkerModel(problems_min=1, problems_max=3, optional_field=0.6, answers=ANSWERS)
        # SWA plans tackle four to five problems at once (docs: the domain); each becomes a track.
        self.plan_model = WorkerModel(problems_min=4, problems_max=5, optional_field=0.6, answers=ANSWERS)
        self.heap: list[tuple[datetime, int, str, str]] = []
        self.seq = 0
        self.planned: set[str] = set()
        self.last_scan = self.start - timedelta(seconds=1)
        self.started = 0
        self.actions = 0
        self.members: dict[str, list[DemoAccount]] = {}
        for spec in ACCOUNTS:
            for team in spec.teams:
                self.members.setdefault(team, []).append(spec)

    # --- the loop -----------------------------------------------------------------------------------
    def run(self, total: int) -> None:
        # Eviction prevention gets the most (its analyst's dashboard should show figures above the
        # suppression threshold); the rest share equally.
        shares = [0.4] + [0.6 / (len(TEAMS) - 1)] * (len(TEAMS) - 1)
        per_team = [int(total * share) for share in shares]
        per_team[0] += total - sum(per_team)
        span = (self.until - timedelta(days=4) - self.start).total_seconds()  # office hours move a weekend on
        for team, n in zip(TEAMS, per_team, strict=True):
            for k in range(n):
                # More cases arrive lately than long ago (a growing caseload), none in the last days.
                when = self.start + timedelta(seconds=span * (self.rng.random() ** 0.8))
                self._push(_working_hours(when, self.rng), "start", f"{team.id}|{k + 1}")
        while self.heap:
            if self.stopped():
                return
            when, _, kind, ref = heapq.heappop(self.heap)
            if when > self.until:
                break
            self._advance(when)
            try:
                if kind == "start":
                    team_id, number = ref.split("|")
                    self._start(next(t for t in TEAMS if t.id == team_id), int(number))
                else:
                    self._act(ref)
            except CarepathError as exc:  # a refused action is skipped, as a worker would move on
                log.debug("demo action %s %s refused (%s)", kind, ref, type(exc).__name__)
            self._scan()
        self._advance(self.until)
        self._scan()

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _push(self, when: datetime, kind: str, ref: str) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, kind, ref))

    def _advance(self, when: datetime) -> None:
        if when > self.clock.now():
            self.clock.set(when)
        with read_session(self.db) as session:
            due = session.execute(select(func.min(TimerRow.due_at)).where(TimerRow.status == "pending")).scalar()
        if due is not None and due <= self.clock.now():
            self.service.fire_due(now=self.clock.now())

    def _scan(self) -> None:
        """Plan what workers do with tasks opened since the last look."""
        with read_session(self.db) as session:
            rows = session.execute(
                select(TaskRow.id, TaskRow.case_id, TaskRow.type, TaskRow.due_at, TaskRow.created_at)
                .where(TaskRow.status == "open", TaskRow.created_at >= self.last_scan)
                .order_by(TaskRow.created_at, TaskRow.id)
            ).all()
        self.last_scan = self.clock.now()
        for task_id, _case_id, task_type, due_at, _created in rows:
            if task_id in self.planned:
                continue
            self.planned.add(task_id)
            self._plan(task_id, task_type, due_at)

    def _plan(self, task_id: str, task_type: str, due_at: datetime) -> None:
        now = self.clock.now()
        if task_type == TaskType.PARTNER.value and self.rng.random() > 0.8:
            return  # the partner never answers: the timeout decides
        span = max((due_at - now).total_seconds(), 3600.0)
        if self.rng.random() < 0.75:
            when = now + timedelta(seconds=span * self.rng.uniform(0.15, 0.95))
        else:
            when = due_at + timedelta(days=self.rng.uniform(0.2, 12.0))
        when = _working_hours(when, self.rng)
        self._push(when, "act", task_id)

    # --- what people do -----------------------------------------------------------------------------
    def _case_data(self, cp: CompiledPathway, team: DemoTeam, arrived: datetime) -> tuple[str, dict[str, Any]]:
        p = cp.pathway
        for _ in range(60):
            data = fill_form(self.rng, p.case_data, self.model, "case", arrived, cp.validators["case_data"])
            data = self._realistic(p.id, data, team, arrived)
            if list(cp.validators["case_data"].iter_errors(data)):
                continue
            for trigger in p.triggers:
                if trigger.condition is None:
                    return trigger.type, data
                try:
                    if evaluate(trigger.condition, {"case": data, "now": arrived}) is True:
                        return trigger.type, data
                except CarepathError:
                    continue
        raise ConflictError(f"could not draw demo case data for {p.key}")

    def _realistic(self, pathway_id: str, data: dict[str, Any], team: DemoTeam, arrived: datetime) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        address = f"{rng.choice(_STREETS)} {rng.randint(1, 180)}, {rng.choice(team.places)}"
        phone = f"06-{rng.randint(10000000, 99999999)}"
        day = arrived.date()
        if pathway_id == "eviction-prevention":
            data.update(tenant_name=f"{first} {last}", address=address,
                        arrears_amount=float(rng.randrange(600, 4800, 25)), signal_date=day.isoformat())
            data["arrears_months"] = rng.choice((2, 2, 2, 3, 3, 4, 5))
            data["reminder_sent"] = True
            if "phone" in data:
                data["phone"] = phone
            if "email" in data:
                data["email"] = f"{first.lower()}.{last.split()[-1].lower()}@example.nl"
        elif pathway_id == "team-case-management":
            data.update(family_name=f"Familie {last}", address=address, signal_date=day.isoformat(),
                        concern=rng.choice(_NOTES["concern"]))
            if "phone" in data:
                data["phone"] = phone
            if "children_at_home" in data:
                data["children_at_home"] = rng.randint(1, 5)
        elif pathway_id == "school-social-work":
            born = day - timedelta(days=365 * rng.randint(11, 18) + rng.randint(0, 364))
            data.update(pupil_name=f"{first} {last}", date_of_birth=born.isoformat(),
                        school_name=rng.choice(("CSG Het Noordik", "Dr. Nassau College", "Drenthe College",
                                                "Esdal College", "Obs De Kolibrie")),
                        referral_reason=rng.choice(_NOTES["referral_reason"]))
            if "parent_phone" in data:
                data["parent_phone"] = phone
        elif pathway_id == "swa-trajectory":
            born = day - timedelta(days=365 * rng.randint(17, 52) + rng.randint(0, 364))
            data.update(client_name=f"{first} {last}", date_of_birth=born.isoformat())
            if rng.random() < 0.8:
                data["address"] = address
            else:
                data.pop("address", None)
            if "phone" in data:
                data["phone"] = phone
        for key, value in list(data.items()):
            if value == "(gesimuleerd)":
                data[key] = rng.choice(_NOTES.get(key, ("Besproken en vastgelegd.",)))
        return data

    def _start(self, team: DemoTeam, number: int) -> None:
        version = self._latest(team.pathway)
        cp = self.service.catalog.lookup(team.pathway, version)
        trigger, data = self._case_data(cp, team, self.clock.now())
        case_id = f"{team.prefix}{number:03d}"
        coordinator = next(a for a in self.members[team.id] if a.role is AccountRole.COORDINATOR)
        try:
            self.service.start_case(team.pathway, trigger, data, actor=f"user:{coordinator.username}",
                                    team=team.id, municipality=self.rng.choice(team.municipalities),
                                    case_id=case_id, client_id=f"demo-{case_id}",
                                    funder=SCHOOL_BOARD if data.get("funding") == "school" else None)
        except ConflictError:
            return  # already there (a seed that stopped halfway)
        self.started += 1
        if cp.pathway.origin_registration:
            roll = self.rng.random()
            if roll < 0.1:
                self.service.object_to_origin(case_id, actor=f"user:{coordinator.username}")
            elif roll < 0.75:
                self.service.register_origin(case_id, dict(self.rng.choice(_ORIGINS)),
                                             actor=f"user:{coordinator.username}")

    def _latest(self, pathway_id: str) -> int:
        with read_session(self.db) as session:
            return self.service.catalog.latest_version(session, pathway_id)

    def _worker_for(self, state: CaseState, task: Task) -> str:
        if task.assignee:
            return task.assignee
        carried = state.assignments.get(task.role)
        if carried:
            return carried
        team = state.team or ""
        able = [a for a in self.members.get(team, []) if task.role in a.pathway_roles]
        if not able:
            able = [a for a in self.members.get(team, []) if a.role is AccountRole.COORDINATOR]
        return f"user:{self.rng.choice(able).username}"

    def _act(self, task_id: str) -> None:
        case_id = task_id.rpartition(".")[0]
        state = self.service.case(case_id)
        task = state.tasks.get(task_id)
        if task is None or task.status is not TaskStatus.OPEN or state.status is not CaseStatus.OPEN:
            return
        cp = self.service.catalog.lookup(state.pathway_id, state.pathway_version)
        self.actions += 1
        if task.type is TaskType.PARTNER:
            step = cp.steps[task.step_id]
            schema = step.params.get("answer")
            data = fill_form(self.rng, schema, self.model, step.id, self.clock.now(), validator_for(schema)) \
                if isinstance(schema, Mapping) else {}
            self._answer_referral(state, task_id, task.role, self._texts(data))
            return
        worker = self._worker_for(state, task)
        if task.assignee is None:
            self.service.claim(task_id, worker)
        if task.type is TaskType.EVALUATION:
            if cp.close_reasons and self.rng.random() < 0.03:
                reason = self.rng.choice(sorted(cp.close_reasons))
                self.service.close_case(case_id, reason, actor=worker, reason="besproken in het team")
                return
            data = self._evaluation(state, cp)
        else:
            step = cp.steps[task.step_id]
            validator = cp.validators.get(step.id)
            model = self.plan_model if cp.pathway.id == "swa-trajectory" else self.model
            data = {} if validator is None else self._texts(
                fill_form(self.rng, step.form or {}, model, step.id, self.clock.now(), validator))
        self.service.complete_task(task_id, data, actor=worker)

    def _answer_referral(self, state: CaseState, task_id: str, partner: str, data: dict[str, Any]) -> None:
        """Partners answer as they do in the field: mostly from their account, some by the e-mail
        link, some by phone (the worker records it); one in twenty refuses."""
        if task_id not in state.referrals:
            self.service.complete_task(task_id, data, actor=f"partner:{partner}")
            return
        roll = self.rng.random()
        channel = "account" if roll < 0.6 else "link" if roll < 0.85 else "phone"
        actor = f"partner:{partner}" if channel != "phone" else self._worker_for(state, state.tasks[task_id])
        case_id = state.id
        if self.rng.random() < 0.05:
            self.service.execute(c.AnswerReferral(case_id=case_id, actor=actor, task_id=task_id, status="rejected",
                                                  channel=channel, reason="Valt buiten onze voorwaarden"))
            return
        self.service.execute(c.AnswerReferral(case_id=case_id, actor=actor, task_id=task_id, status="accepted",
                                              channel=channel))
        self.service.execute(c.AnswerReferral(case_id=case_id, actor=actor, task_id=task_id, status="completed",
                                              channel=channel, data=data))

    def _texts(self, data: dict[str, Any]) -> dict[str, Any]:
        for key, value in list(data.items()):
            if value == "(gesimuleerd)":
                data[key] = self.rng.choice(_NOTES.get(key, ("Besproken en vastgelegd.",)))
        return data

    def _evaluation(self, state: CaseState, cp: CompiledPathway) -> dict[str, Any]:
        from engine.compiled import evaluation_form_schema

        schema = evaluation_form_schema(cp.pathway)
        own = {k: v for k, v in schema["properties"].items()
               if k not in ("track_reviews", "close_tracks", "add_tracks", "focus")}
        data: dict[str, Any] = {}
        for name, sub in own.items():
            if name in schema["required"] or self.rng.random() < 0.5:
                offered = choices(sub)
                if offered:
                    data[name] = self.rng.choice(offered)
                elif sub.get("type") == "boolean":
                    data[name] = self.rng.random() < 0.3
                elif sub.get("type") == "string":
                    data[name] = self.rng.choice(_PROGRESS)
        active = [t for t in state.tracks.values() if t.status is TrackStatus.ACTIVE]
        if active:
            data["track_reviews"] = [{"track": t.id, "progress": self.rng.choice(_PROGRESS)} for t in active]
            closing = [t for t in active if self.rng.random() < 0.2]
            if closing:
                data["close_tracks"] = [{"track": t.id, "result": self.rng.choice(
                    ("achieved", "achieved", "achieved", "not_achieved"))} for t in closing]
        return data


def _working_hours(moment: datetime, rng: random.Random) -> datetime:
    """The moment moved into office hours (Mon-Fri 09:00-17:00 Amsterdam), as people work."""
    from web.timefmt import AMSTERDAM

    local = moment.astimezone(AMSTERDAM)
    while local.weekday() >= 5:
        local = (local + timedelta(days=1)).replace(hour=9, minute=0)
    if local.hour < 9:
        local = local.replace(hour=9, minute=rng.randint(0, 59))
    elif local.hour >= 17:
        local = (local + timedelta(days=1)).replace(hour=9, minute=rng.randint(0, 59))
        while local.weekday() >= 5:
            local += timedelta(days=1)
    return local.astimezone(moment.tzinfo)


def demo_usernames() -> Sequence[tuple[str, str, str]]:
    """(user name, role, what to look at) for the README."""
    return [(a.username, a.role.value, a.organisation) for a in ACCOUNTS]
