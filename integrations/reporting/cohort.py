"""A synthetic cohort for a municipality (or another funder), written into the database.

A municipality rehearses its dashboard before real cases exist, or checks that carepath counts what
it publishes: `write_cohort` writes `clients` closed cases of one pathway in one calendar year with
chosen rates (outcome shares, parallel problems per client, success per problem, origin split), so
the published report of that year gives the municipality's own figures back within rounding (and
within the perturbation, docs/reporting.md). For example SWA 2010: 681 clients, 3,095 interventions,
90 percent completed successfully; eviction prevention: two thirds keep renting.

Rates are met exactly, not by chance: counts are apportioned by the largest-remainder method and
only the order (which client gets what) is drawn from the seed. The cases carry a recognisable id
(``COH-<code>-<year>-00001``), no team (so no worker ever sees them in a list), no personal data,
and a history of real events (started, origin, interventions planned, started and closed, case
closed) that replays to the stored state. `remove_cohort` deletes them again.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

from engine.decide import Decision
from engine.errors import ConflictError, ValidationError
from engine.events import Event, replay
from engine.funding import parse_funder_key
from integrations.db import repository
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CaseRow
from integrations.db.sql import rowcount
from integrations.pseudonym import unlinked_pseudonym
from integrations.reporting.origin import OriginGroup
from integrations.service import CaseService

LOCAL = ZoneInfo("Europe/Amsterdam")
ACTOR: Final = "system:cohort"
RESULTS: Final = ("achieved", "not_achieved", "stopped")
ORIGIN_CHOICES: Final = (*(g.value for g in OriginGroup), "unregistered")
# A registration that falls in each origin group (integrations/reporting/origin.py decides the group).
_ORIGINS: Final[Mapping[str, dict[str, str]]] = {
    OriginGroup.NATIVE.value: {"client": "NL", "mother": "NL", "father": "NL"},
    OriginGroup.WESTERN.value: {"client": "NL", "mother": "DE", "father": "NL"},
    OriginGroup.NON_WESTERN.value: {"client": "NL", "mother": "CW", "father": "CW"},
}


@dataclass(frozen=True)
class CohortSpec:
    """What to write: `clients` cases of `pathway_id` for `municipality` (CBS code) in `year`."""

    municipality: str
    pathway_id: str
    year: int
    clients: int
    outcomes: Mapping[str, float]  # outcome code -> share of the cases (the shares add up to 1)
    problems_per_client: float = 0.0  # mean number of parallel problems (interventions) per client
    success: float | Mapping[str, float] = 0.0  # share of interventions achieved, overall or per problem area
    stopped: float = 0.0  # share of the interventions not achieved that were stopped rather than not achieved
    origin: Mapping[str, float] = field(default_factory=dict)  # origin group or "unregistered" -> share
    funder: str | None = None  # funder key, when not the municipality (engine/funding.py)
    seed: int = 1


@dataclass(frozen=True)
class CohortWritten:
    prefix: str
    cases: int
    interventions: int
    achieved: int
    outcomes: dict[str, int]


def apportion(total: int, shares: Mapping[str, float]) -> dict[str, int]:
    """`total` split by `shares` (largest remainder, ties in the given order): whole counts whose
    shares are as close as whole numbers allow, adding up to `total`."""
    weight = sum(shares.values())
    exact = {k: total * v / weight for k, v in shares.items()}
    counts = {k: int(x) for k, x in exact.items()}
    order = sorted(shares, key=lambda k: (-(exact[k] - counts[k]), list(shares).index(k)))
    for k in order[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


def prefix_of(spec: CohortSpec) -> str:
    return f"COH-{spec.municipality}-{spec.year}-"


def _check(spec: CohortSpec, outcomes: Sequence[str], tracks: Sequence[str], registers_origin: bool) -> None:
    where = f"cohort {spec.pathway_id} {spec.municipality} {spec.year}"
    if not (len(spec.municipality) == 6 and spec.municipality.startswith("GM") and spec.municipality[2:].isdigit()):
        raise ValidationError(f"{where}: de gemeente is een CBS-code zoals GM0599, niet {spec.municipality!r}")
    if not 2000 <= spec.year <= 2999:
        raise ValidationError(f"{where}: het jaar {spec.year} valt buiten 2000-2999")
    if not 1 <= spec.clients <= 100_000:
        raise ValidationError(f"{where}: het aantal cliënten is 1 tot 100.000, niet {spec.clients}")
    unknown = sorted(set(spec.outcomes) - set(outcomes))
    if unknown:
        raise ValidationError(f"{where}: onbekende uitkomst(en) {', '.join(unknown)}; het pad kent {', '.join(outcomes)}")
    if not spec.outcomes or any(v < 0 for v in spec.outcomes.values()) or abs(sum(spec.outcomes.values()) - 1) > 1e-6:
        raise ValidationError(f"{where}: de aandelen van de uitkomsten moeten samen 1 zijn")
    if spec.problems_per_client and not tracks:
        raise ValidationError(f"{where}: het pad {spec.pathway_id} kent geen probleemgebieden (tracks)")
    if not 0 <= spec.problems_per_client <= len(tracks):
        raise ValidationError(f"{where}: problemen per cliënt is 0 tot {len(tracks)} (zoveel probleemgebieden "
                              f"kent het pad), niet {spec.problems_per_client}")
    rates = spec.success.values() if isinstance(spec.success, Mapping) else [spec.success]
    if any(not 0 <= r <= 1 for r in [*rates, spec.stopped]):
        raise ValidationError(f"{where}: een slagingskans of aandeel gestopt ligt tussen 0 en 1")
    if isinstance(spec.success, Mapping) and (bad := sorted(set(spec.success) - set(tracks))):
        raise ValidationError(f"{where}: onbekend(e) probleemgebied(en) {', '.join(bad)}; het pad kent "
                              f"{', '.join(tracks)}")
    if spec.origin:
        if not registers_origin:
            raise ValidationError(f"{where}: het pad {spec.pathway_id} registreert geen herkomst")
        if bad := sorted(set(spec.origin) - set(ORIGIN_CHOICES)):
            raise ValidationError(f"{where}: onbekende herkomstgroep(en) {', '.join(bad)}; kies uit "
                                  f"{', '.join(ORIGIN_CHOICES)}")
        if abs(sum(spec.origin.values()) - 1) > 1e-6:
            raise ValidationError(f"{where}: de aandelen van de herkomst moeten samen 1 zijn")
    if spec.funder is not None:
        parse_funder_key(spec.funder)


def _moment(year: int, day: int, hour: int) -> datetime:
    return datetime.combine(date(year, 1, 1) + timedelta(days=day), time(hour), LOCAL).astimezone(UTC)


def _per_client(total: int, clients: int, most: int, rng: random.Random) -> list[int]:
    """How many problems each client has: `total` spread as evenly as `most` allows, in random order."""
    base, extra = divmod(total, clients)
    counts = [min(most, base + (1 if i < extra else 0)) for i in range(clients)]
    rng.shuffle(counts)
    return counts


def write_cohort(service: CaseService, spec: CohortSpec) -> CohortWritten:
    """Write the cohort; ConflictError when one with the same id prefix exists (remove it first)."""
    with read_session(service.db) as session:
        version = service.catalog.latest_version(session, spec.pathway_id)
        exists = session.execute(select(func.count()).select_from(CaseRow).where(
            CaseRow.id.startswith(prefix_of(spec), autoescape=True))).scalar_one()
    pathway = service.catalog.lookup(spec.pathway_id, version).pathway
    tracks = {t.id: t for t in pathway.tracks}
    _check(spec, [o.code for o in pathway.outcomes], list(tracks), pathway.origin_registration)
    if exists:
        raise ConflictError(f"er staat al een cohort {prefix_of(spec)}* ({exists} zaken); verwijder het eerst")
    rng = random.Random(spec.seed)
    n = spec.clients
    outcomes = [code for code, k in apportion(n, spec.outcomes).items() for _ in range(k)]
    rng.shuffle(outcomes)
    origins = [g for g, k in apportion(n, spec.origin).items() for _ in range(k)] if spec.origin else [""] * n
    rng.shuffle(origins)
    total = round(n * spec.problems_per_client)
    per_client = _per_client(total, n, len(tracks), rng)
    chosen = [rng.sample(sorted(tracks), k) for k in per_client]  # which problem areas each client works on
    results = _results(chosen, spec, rng)
    written_tracks = achieved = 0
    with write_session(service.db) as session:
        for i in range(n):
            case_id = f"{prefix_of(spec)}{i + 1:05d}"
            opened = _moment(spec.year, rng.randrange(0, 230), 9 + rng.randrange(8))
            closed = opened + timedelta(days=rng.randrange(30, 125), hours=rng.randrange(6))
            events = _history(case_id, spec, version, pathway.triggers[0].type, opened, closed, outcomes[i],
                              origins[i], chosen[i], results[i], tracks, rng,
                              pseudonym=unlinked_pseudonym())
            state = replay(events)
            repository.insert_case(session, Decision(state, tuple(events)), ())
            written_tracks += len(chosen[i])
            achieved += sum(1 for r in results[i] if r == "achieved")
    return CohortWritten(prefix_of(spec), n, written_tracks, achieved, apportion(n, spec.outcomes))


def _results(chosen: list[list[str]], spec: CohortSpec, rng: random.Random) -> list[list[str]]:
    """The result of every intervention: per problem area (or overall) exactly the success share."""
    slots: dict[str, list[tuple[int, int]]] = {}
    for i, areas in enumerate(chosen):
        for j, area in enumerate(areas):
            slots.setdefault(area if isinstance(spec.success, Mapping) else "*", []).append((i, j))
    results = [[""] * len(areas) for areas in chosen]
    for group, places in slots.items():
        rate = spec.success.get(group, 0.0) if isinstance(spec.success, Mapping) else spec.success
        split = apportion(len(places), {"achieved": rate, "stopped": (1 - rate) * spec.stopped,
                                        "not_achieved": (1 - rate) * (1 - spec.stopped)})
        labels = [r for r, k in split.items() for _ in range(k)]
        rng.shuffle(labels)
        for (i, j), label in zip(places, labels, strict=True):
            results[i][j] = label
    return results


def _history(case_id: str, spec: CohortSpec, version: int, trigger: str, opened: datetime, closed: datetime,
             outcome: str, origin: str, areas: list[str], results: list[str], tracks: Mapping[str, Any],
             rng: random.Random, *, pseudonym: str) -> list[Event]:
    """The events of one cohort case, in order: what the engine would have recorded, without the tasks."""
    events: list[Event] = []

    def emit(kind: str, at: datetime, data: dict[str, Any]) -> None:
        events.append(Event(case_id=case_id, seq=len(events) + 1, type=kind, at=at, actor=ACTOR, data=data))

    emit("case_started", opened, {
        "pathway_id": spec.pathway_id, "pathway_version": version, "trigger": trigger, "data": {},
        "pseudonym": pseudonym, "team": None, "municipality": spec.municipality, "assignments": {},
        **({"funder": spec.funder} if spec.funder else {}),
    })
    if origin == "objected":
        emit("origin_objected", opened, {})
    elif origin in _ORIGINS:
        emit("origin_registered", opened, {"origin": dict(_ORIGINS[origin])})
    span = (closed - opened).total_seconds()
    for area in areas:
        emit("track_planned", opened + timedelta(hours=1), {"track_id": area, "owner_role": tracks[area].owner})
    for area in areas:
        emit("track_started", opened + timedelta(hours=1), {"track_id": area})
    ends = sorted(opened + timedelta(seconds=span * rng.uniform(0.3, 0.95)) for _ in areas)
    for area, result, end in zip(areas, results, ends, strict=True):
        emit("track_closed", end, {"track_id": area, "result": result})
    emit("case_closed", closed, {"outcome": outcome, "reason_code": None})
    return events


def remove_cohort(service: CaseService, municipality: str, year: int) -> int:
    """Delete the cohort cases of `municipality` and `year` (with their events and interventions)."""
    prefix = f"COH-{municipality}-{year}-"
    with write_session(service.db) as session:
        found = session.execute(delete(CaseRow).where(CaseRow.id.startswith(prefix, autoescape=True)))
        return rowcount(found)  # events, tasks and interventions go with them (ON DELETE CASCADE)
