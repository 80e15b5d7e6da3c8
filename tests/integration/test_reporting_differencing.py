"""The differencing attack of issue #9, played against the reports, on SQLite and PostgreSQL.

A year of synthetic cases (a large pathway and a small one, outcomes, origin groups, interventions)
is loaded. Then:

1. *Reproduction*: on the old interface (exact figures over free dates) moving the end date one day
   at a time reads single starts straight off the differences of two published counts.
2. *Day by day* on the analyst's interface: every free period is refused (the API answers 422),
   so the attack has no second report to subtract.
3. *Every allowed query at once*: an attacker draws up every report an analyst may (each month,
   quarter and year, for each pathway and for all), more than the rate limit allows, and combines
   them by every relation it knows: months add up to quarters and years, pathways add up to all
   pathways, each table's totals and parts (the complement of totals), and the stock of open
   cases (open at the end of a month = open at the end of the month before + started - closed,
   with nothing open before the first case). It propagates the bounds every relation gives until
   nothing changes, knowing the largest perturbation. Against exact figures over the same fixed
   periods it pins small groups (so the attacker works, and fixed periods alone are not enough);
   against the published reports it pins no group of 1 to 9 cases.
4. Lead-time percentiles are published only per pathway over at least 50 cases; the rate limit
   answers 429.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from unittest.mock import patch

import pytest
from sqlalchemy import Engine, insert

from engine.clock import ManualClock
from engine.errors import ValidationError
from integrations.db.engine_factory import write_session
from integrations.db.models import CaseRow, CaseTrackRow
from integrations.reporting import figures
from integrations.reporting.cellkey import MAX_NOISE, record_key
from integrations.reporting.figures import Report, build_report
from integrations.reporting.periods import Period, PeriodKind, period_of
from integrations.reporting.published import published_report
from integrations.service import CaseService
from tests.fixtures.visits_pathway import visits_source
from web.app import create_app
from web.settings import WebSettings
from web.testing import MUNICIPALITY, WebClient, cheap_password_hashing, standard_accounts

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
YEAR = 2025
BIG, SMALL = "test-visits", "test-small"
MIN_CELL = 10
FILTERS: tuple[str | None, ...] = (None, BIG, SMALL)
# Figures that add up over time (not the stock of open cases, not distinct clients).
NOT_OVER_TIME = ("cases.open_at_end", "interventions.clients")


def _small_pathway() -> str:
    text = visits_source().replace("\nid: test-visits\n", f"\nid: {SMALL}\n", 1)
    return text.replace("\ntitle: Testpad huisbezoeken\n", "\ntitle: Klein pad\n", 1)


def _load(db: Engine) -> None:
    """A year of cases: about 30 a month on the big pathway, 1 to 3 on the small one."""
    rng = random.Random(20250101)
    cases: list[dict[str, object]] = []
    tracks: list[dict[str, object]] = []
    day = datetime(YEAR, 1, 1, 9, 0, tzinfo=UTC)
    n = 0
    while day.year == YEAR:
        for pathway, count in ((BIG, rng.choice([0, 0, 1, 1, 1, 2, 2])), (SMALL, int(rng.random() < 0.07))):
            for _ in range(count):
                n += 1
                case_id = f"D{n:05d}"
                opened = day + timedelta(minutes=rng.randrange(600))
                closed = opened + timedelta(days=rng.uniform(5, 150))
                closed_at = closed if closed < NOW and rng.random() < 0.85 else None
                funder = f"municipality:{MUNICIPALITY}"
                cases.append({
                    "id": case_id, "pathway_id": pathway, "pathway_version": 1,
                    "status": "closed" if closed_at else "open", "team": None, "pseudonym": f"p{case_id}",
                    "opened_at": opened, "closed_at": closed_at,
                    "outcome": (rng.choice(["helped", "helped", "helped", "other"]) if closed_at else None),
                    "close_reason": None, "version": 1, "state": {}, "municipality": MUNICIPALITY,
                    "origin_group": rng.choice(["native", "native", "western", "non_western", "objected", None]),
                    "funder": funder, "report_key": record_key(case_id),
                })
                for track in rng.sample(["debts", "housing"], rng.choice([0, 1, 2])):
                    done = closed_at or (opened + timedelta(days=60) if rng.random() < 0.5 else None)
                    tracks.append({
                        "case_id": case_id, "track_id": track, "pathway_id": pathway, "funder": funder,
                        "status": "closed" if done else "active", "started_at": opened + timedelta(days=2),
                        "closed_at": done, "result": rng.choice(["achieved", "achieved", "not_achieved", "stopped"])
                        if done else None, "report_key": record_key(f"{case_id}/{track}"),
                    })
        day += timedelta(days=1)
    with write_session(db) as session:
        session.execute(insert(CaseRow), cases)
        session.execute(insert(CaseTrackRow), tracks)


@pytest.fixture
def loaded(service: CaseService, db: Engine) -> Engine:
    service.publish_pathway(_small_pathway(), "small.yaml")
    _load(db)
    return db


def _periods() -> list[Period]:
    year = Period(YEAR, PeriodKind.YEAR)
    return [year, *[Period(YEAR, PeriodKind.QUARTER, q) for q in range(1, 5)], *year.months()]


# --- the attacker -----------------------------------------------------------------------------------

Var = tuple[str, str, str]  # (period code, pathway or "*", figure key)


@dataclass
class Attacker:
    """Interval constraint propagation over every linear relation between the figures it has seen."""

    noise: int
    min_cell: int
    bounds: dict[Var, tuple[float, float]] = field(default_factory=dict)
    relations: list[list[tuple[int, Var]]] = field(default_factory=list)  # sum(c * x) == 0
    figures: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))

    def observe(self, period: Period, pathway: str | None, report: Report) -> None:
        where = (period.code, pathway or "*")
        for table in report.tables:
            for row in table.rows:
                cell = row.cells[0]
                if table.units[0] != "count":
                    continue
                var = (*where, row.key)
                self.figures[where].add(row.key)
                if cell.suppressed:
                    self.bounds.setdefault(var, (0, math.inf))
                else:
                    value = int(cell.value)  # type: ignore[arg-type]
                    # A published count is within the noise of the truth, and never below the threshold.
                    self.bounds[var] = (max(self.min_cell, value - self.noise), value + self.noise)
            for total, parts in table.sums:
                self.relate([(1, (*where, total)), *[(-1, (*where, p)) for p in parts]])

    def relate(self, terms: list[tuple[int, Var]]) -> None:
        for _, var in terms:
            self.bounds.setdefault(var, (0, math.inf))
        self.relations.append(terms)

    def known_zero(self, var: Var) -> None:
        self.bounds[var] = (0, 0)

    def solve(self, rounds: int = 200) -> None:
        for _ in range(rounds):
            changed = False
            for terms in self.relations:
                for j, (cj, xj) in enumerate(terms):
                    lo = hi = 0.0  # bounds of -sum(others) / cj, with cj = +1 or -1
                    for i, (ci, xi) in enumerate(terms):
                        if i == j:
                            continue
                        a, b = self.bounds[xi]
                        lo_i, hi_i = (-ci * b, -ci * a) if ci > 0 else (-ci * a, -ci * b)
                        lo, hi = lo + lo_i, hi + hi_i
                    if cj < 0:
                        lo, hi = -hi, -lo
                    old_lo, old_hi = self.bounds[xj]
                    new = (max(old_lo, math.ceil(lo) if math.isfinite(lo) else lo),
                           min(old_hi, math.floor(hi) if math.isfinite(hi) else hi))
                    if new != (old_lo, old_hi):
                        self.bounds[xj] = new
                        changed = True
            if not changed:
                return

    def pinned(self, var: Var) -> bool:
        lo, hi = self.bounds[var]
        return lo == hi


def _cross_relations(attacker: Attacker, periods: list[Period]) -> None:
    """What the attacker knows besides each report: time, pathways, and the stock of open cases."""
    seen = attacker.figures
    codes = {p.code: p for p in periods}
    for pathway in ("*", BIG, SMALL):
        for period in periods:  # a quarter or a year is the sum of its months (and a year of its quarters)
            if period.kind is PeriodKind.MONTH:
                continue
            groups = [period.months()]
            if period.kind is PeriodKind.YEAR:
                groups.append([Period(YEAR, PeriodKind.QUARTER, q) for q in range(1, 5)])
            for parts in groups:
                for key in seen[(period.code, pathway)]:
                    if key in NOT_OVER_TIME or not all(key in seen[(m.code, pathway)] for m in parts):
                        continue
                    attacker.relate([(1, (period.code, pathway, key)), *[(-1, (m.code, pathway, key)) for m in parts]])
            last = period.months()[-1]  # the stock at the end of a quarter or year is its last month's
            attacker.relate([(1, (period.code, pathway, "cases.open_at_end")),
                             (-1, (last.code, pathway, "cases.open_at_end"))])
        months = [p for p in periods if p.kind is PeriodKind.MONTH]
        before = ("2024-12", pathway, "cases.open_at_end")
        attacker.known_zero(before)  # nothing was open before the first case
        previous = before
        for month in months:  # open(m) = open(m-1) + started(m) - closed(m)
            here = (month.code, pathway)
            attacker.relate([(1, (*here, "cases.open_at_end")), (-1, previous), (-1, (*here, "cases.started")),
                             (1, (*here, "cases.closed"))])
            previous = (*here, "cases.open_at_end")
    for code in codes:  # all pathways = the sum of the pathways
        everything = seen[(code, "*")]
        for key in everything:
            if key.startswith(("outcomes.", "interventions.area.")):
                owner = BIG if f".{BIG}." in key else SMALL
                attacker.relate([(1, (code, "*", key)), (-1, (code, owner, key))])
            elif key.startswith("closed."):
                attacker.relate([(1, (code, "*", key)), (-1, (code, key.split(".", 1)[1], "cases.closed"))])
            elif key != "interventions.clients" and "." in key:
                terms: list[tuple[int, Var]] = [(-1, (code, p, key)) for p in (BIG, SMALL) if key in seen[(code, p)]]
                attacker.relate([(1, (code, "*", key)), *terms])


def _unprotected(db: Engine, pathway: str | None, period: Period) -> Report:
    """The truth: the same report with nothing suppressed (for the test's judgement only)."""
    with patch.object(figures, "protect", lambda *_: {}):
        return build_report(db, MUNICIPALITY, pathway, period.start, period.end, now=NOW, min_cell=MIN_CELL)


def _attack(db: Engine, build: object, noise: int) -> tuple[Attacker, dict[Var, int]]:
    periods = _periods()
    attacker = Attacker(noise, MIN_CELL)
    truth: dict[Var, int] = {}
    for period in periods:
        for pathway in FILTERS:
            report = build(period, pathway)  # type: ignore[operator]
            attacker.observe(period, pathway, report)
            exact = _unprotected(db, pathway, period)
            for table in exact.tables:
                for row in table.rows:
                    if table.units[0] == "count":
                        truth[(period.code, pathway or "*", row.key)] = int(row.cells[0].value)  # type: ignore[arg-type]
    _cross_relations(attacker, periods)
    attacker.solve()
    return attacker, truth


# --- 1. the attack on the old interface --------------------------------------------------------------


def test_free_dates_give_single_starts_away(loaded: Engine) -> None:
    """Reproduction: exact figures over free periods, end date moved one day at a time."""
    derived: list[tuple[date, int]] = []
    previous = None
    first = date(YEAR, 3, 1)
    for day in range(14, 31):
        end = first + timedelta(days=day)
        report = build_report(loaded, MUNICIPALITY, BIG, first, end, now=NOW, min_cell=MIN_CELL)
        cell = report.table("cases").row("cases.started").cells[0]
        if previous is not None and not cell.suppressed and not previous.suppressed:
            derived.append((end, int(cell.value) - int(previous.value)))  # type: ignore[arg-type]
        previous = cell
    singles = [d for d, n in derived if n == 1]
    assert len(singles) >= 3, derived  # the cases started on those days, one by one


# --- 2. day by day on the analyst's interface -------------------------------------------------------


def test_free_periods_are_refused(loaded: Engine, service: CaseService) -> None:
    for day in range(1, 31):
        with pytest.raises(ValidationError, match="hele kalendermaand, een kwartaal of een jaar"):
            period_of(date(YEAR, 3, 1), date(YEAR, 3, 1) + timedelta(days=day - 1) if day != 31 else date(YEAR, 3, 30))
    assert period_of(date(YEAR, 3, 1), date(YEAR, 3, 31)) == Period(YEAR, PeriodKind.MONTH, 3)
    with pytest.raises(ValidationError, match="loopt nog"):
        published_report(loaded, MUNICIPALITY, BIG, Period(2026, PeriodKind.MONTH, 3), now=NOW)
    ada = _analyst(service, ManualClock(NOW))  # the service's clock stands at NOW too
    for end in ("2025-03-14", "2025-03-15", "2025-03-16"):
        answer = ada.get(f"/api/reports/outcomes?pathway={BIG}&start=2025-03-01&end={end}")
        assert answer.status_code == 422 and "kalendermaand" in answer.text
    assert ada.get(f"/api/reports/outcomes?pathway={BIG}&start=2025-03-01&end=2025-03-31").status_code == 200
    assert ada.get(f"/api/reports/outcomes?pathway={BIG}&period=2025-K1").status_code == 200
    assert ada.get(f"/api/reports/outcomes?pathway={BIG}&period=2026-K1").status_code == 422  # still running
    page = ada.get("/reports?period=2025-03-01")
    assert page.status_code == 422 and "kies een maand" in page.text


# --- 3. every allowed query, combined ----------------------------------------------------------------


def test_exact_figures_over_fixed_periods_still_give_small_groups_away(loaded: Engine) -> None:
    """Why perturbation is needed: suppression per report with fixed periods alone leaks across
    reports (and this shows the attacker below is able to find what it looks for)."""
    attacker, truth = _attack(
        loaded, lambda p, w: build_report(loaded, MUNICIPALITY, w, p.start, p.end, now=NOW, min_cell=MIN_CELL), 0)
    pinned = [v for v, n in truth.items() if 1 <= n < MIN_CELL and attacker.pinned(v)]
    print(f"\nexact figures over fixed periods: {len(pinned)} of "
          f"{sum(1 for n in truth.values() if 1 <= n < MIN_CELL)} small groups pinned")
    assert pinned, "the attacker found nothing even in exact figures"
    assert all(attacker.bounds[v] == (truth[v], truth[v]) for v in pinned)


def test_the_published_reports_give_no_small_group_away(loaded: Engine) -> None:
    attacker, truth = _attack(loaded, lambda p, w: published_report(loaded, MUNICIPALITY, w, p, now=NOW), MAX_NOISE)
    small = {v: n for v, n in truth.items() if 1 <= n < MIN_CELL}
    assert len(small) > 100  # plenty of small groups to find
    for var, n in small.items():
        lo, hi = attacker.bounds[var]
        assert lo <= n <= hi, (var, n, lo, hi)  # the attacker reasons soundly
        assert hi - lo >= 1, f"{var}: the attacker pinned a group of {n}"
    exposed_zeros = [v for v, n in truth.items() if n == 0 and attacker.pinned(v)]
    widths = sorted(attacker.bounds[v][1] - attacker.bounds[v][0] for v in small)
    print(f"\npublished: {len(small)} small groups, none pinned; narrowest range {widths[0]}, "
          f"median {widths[len(widths) // 2]}; {len(exposed_zeros)} of "
          f"{sum(1 for n in truth.values() if n == 0)} empty cells told empty")
    # An empty cell can sometimes be told empty: that reveals nobody (docs/reporting.md).
    assert len(exposed_zeros) < len([v for v, n in truth.items() if n == 0])


def test_the_same_figure_is_the_same_in_every_report(loaded: Engine) -> None:
    """Asking again, or in another table, gives the same perturbed value: noise cannot be averaged."""
    first = published_report(loaded, MUNICIPALITY, None, Period(YEAR, PeriodKind.QUARTER, 2), now=NOW)
    again = published_report(loaded, MUNICIPALITY, None, Period(YEAR, PeriodKind.QUARTER, 2), now=NOW)
    assert first.tables == again.tables
    closed = first.table("cases").row("cases.closed").cells[0]
    assert first.table("closed_by_pathway").row("cases.closed").cells[0] == closed


# --- 4. percentiles and the rate limit ---------------------------------------------------------------


def _closed(truth_report: Report) -> int:
    return int(truth_report.table("cases").row("cases.closed").cells[0].value)  # type: ignore[arg-type]


def test_percentiles_only_for_large_groups_per_pathway(loaded: Engine) -> None:
    for period in _periods():
        for pathway in FILTERS:
            report = published_report(loaded, MUNICIPALITY, pathway, period, now=NOW)
            exact = _unprotected(loaded, pathway, period)
            median = report.table("lead_time").row("lead_time.median").cells[0]
            if pathway is None or _closed(exact) < 50:
                assert median.suppressed
            else:
                assert not median.suppressed and float(median.value) == int(median.value)  # type: ignore[arg-type]
    year = published_report(loaded, MUNICIPALITY, BIG, Period(YEAR, PeriodKind.YEAR), now=NOW)
    assert not year.table("lead_time").row("lead_time.median").cells[0].suppressed


def _analyst(service: CaseService, clock: ManualClock, per_hour: int = 60) -> WebClient:
    cheap_password_hashing()
    people = standard_accounts(service.db, clock.now())
    app = create_app(service, settings=WebSettings(reports_per_hour=per_hour))
    client = WebClient(app)
    assert client.sign_in(people["analyst"].username).status_code == 303
    return client


def test_the_rate_limit(loaded: Engine, service: CaseService, clock: ManualClock) -> None:
    ada = _analyst(service, clock, per_hour=3)
    answers = [ada.get(f"/api/reports/outcomes?period=2025-0{m}").status_code for m in range(1, 6)]
    assert answers == [200, 200, 200, 429, 429]
    refused = ada.get("/reports?period=2025-06")
    assert refused.status_code == 429 and "rapporten opgevraagd" in refused.text

