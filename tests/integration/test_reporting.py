"""Municipal outcome reports on SQLite and PostgreSQL: the report columns, what the SQL counts (checked
against the cases' own states), Dutch period boundaries, percentiles, the CSV export, no personal
data, the migration, and the time a report over 100,000 cases takes on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, insert, inspect, select, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

from engine.clock import ManualClock
from engine.errors import NotFoundError, ValidationError
from engine.state import CaseState, CaseStatus, TaskStatus, TaskType
from integrations.db.engine_factory import create_db_engine, read_session, write_session
from integrations.db.models import REPORTED_TASKS, CaseRow, TaskRow
from integrations.migrations import alembic_config, upgrade_database
from integrations.reporting.cellkey import record_key
from integrations.reporting.figures import (
    SUPPRESSED,
    Report,
    aggregate,
    build_report,
    csv_safe,
    period_bounds,
    report_as_dict,
    report_to_csv,
)
from integrations.reporting.origin import OriginGroup, origin_group
from integrations.service import CaseService
from tests.fixtures.visits_pathway import YAML_PATH, visits_source
from tests.integration.conftest import with_search_path

MUNICIPALITY = "GM0014"  # Groningen
OTHER = "GM0034"
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
NAMES = [f"Cliënt{i:02d} Achternaam" for i in range(40)]


# --- origin groups (CBS) ----------------------------------------------------------------------------


@pytest.mark.parametrize(("origin", "objected", "group"), [
    ({"client": "NL", "mother": "NL", "father": "NL"}, False, OriginGroup.NATIVE),
    ({"client": "BE", "mother": "NL", "father": "NL"}, False, OriginGroup.NATIVE),  # born abroad, parents here
    ({"client": "NL", "mother": "MA", "father": "NL"}, False, OriginGroup.NON_WESTERN),  # second generation
    ({"client": "NL", "mother": "NL", "father": "DE"}, False, OriginGroup.WESTERN),
    ({"client": "NL", "mother": "PL", "father": "TR"}, False, OriginGroup.WESTERN),  # the mother's country decides
    ({"client": "NL", "mother": "NL", "father": "TR"}, False, OriginGroup.NON_WESTERN),  # Turkey is not western
    ({"client": "SR", "mother": "DE", "father": "DE"}, False, OriginGroup.NON_WESTERN),  # first generation: own country
    ({"client": "CW", "mother": "CW"}, False, OriginGroup.NON_WESTERN),  # Curaçao: abroad, non-western
    ({"client": "ID", "mother": "ID"}, False, OriginGroup.WESTERN),  # Indonesia and Japan count as western
    ({"client": "NL", "father": "JP"}, False, OriginGroup.WESTERN),
    ({"client": "AU"}, False, OriginGroup.WESTERN),  # parents unknown: the client's own country
    ({"client": "US", "mother": "NL"}, False, OriginGroup.WESTERN),
    ({"client": "NL"}, False, OriginGroup.NATIVE),
    ({"client": "NL", "mother": "NL"}, False, OriginGroup.NATIVE),
    ({"client": "NL", "grandmother_maternal": "MA"}, False, OriginGroup.NATIVE),  # third generation
    ({"mother": "NL", "father": "NL"}, False, OriginGroup.NATIVE),
    ({"mother": "GH"}, False, OriginGroup.NON_WESTERN),
    ({"mother": "NL"}, False, None),  # one parent here, nothing else known
    ({"client": "XX"}, False, None),  # unknown
    ({}, False, None),
    (None, False, None),
    ({"client": "MA"}, True, OriginGroup.OBJECTED),
])
def test_origin_groups_follow_cbs(origin: dict[str, str] | None, objected: bool, group: OriginGroup | None) -> None:
    assert origin_group(origin, objected) is group


# --- the report columns -----------------------------------------------------------------------------


def _start(service: CaseService, name: str, municipality: str | None = MUNICIPALITY, **extra: Any) -> str:
    return service.start_case("test-visits", "signal", {"client_name": name, "concern": "huur"}, actor="intake",
                              client_id=name, municipality=municipality, **extra).case_id


def test_saving_a_case_fills_the_report_columns(service: CaseService, db: Engine) -> None:
    plain = _start(service, "Anna")
    registered = _start(service, "Bert")
    service.register_origin(registered, {"client": "NL", "mother": "MA"}, actor="anna")
    objected = _start(service, "Carla", OTHER)
    service.register_origin(objected, {"client": "DE"}, actor="anna")
    service.object_to_origin(objected, actor="anna")
    nowhere = _start(service, "Dirk", None)
    with read_session(db) as session:
        rows = {r.id: (r.municipality, r.origin_group) for r in session.execute(select(CaseRow)).scalars()}
        funders = {r.id: r.funder for r in session.execute(select(CaseRow)).scalars()}
        tasks = {(r.case_id, r.funder, r.pathway_id) for r in session.execute(select(TaskRow)).scalars()}
    assert rows == {plain: (MUNICIPALITY, None), registered: (MUNICIPALITY, "non_western"),
                    objected: (OTHER, "objected"), nowhere: (None, None)}
    assert funders[plain] == funders[registered] == f"municipality:{MUNICIPALITY}" != funders[objected]
    assert tasks == {(case_id, funders[case_id], "test-visits") for case_id in (plain, registered, objected, nowhere)}


# --- what the SQL counts, against the cases' states -------------------------------------------------


@dataclass
class Scenario:
    case_ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


ORIGINS: list[dict[str, str] | str | None] = [
    None, None, {"client": "NL", "mother": "NL", "father": "NL"}, {"client": "NL", "mother": "MA"},
    {"client": "PL"}, {"client": "SR", "mother": "SR"}, {"client": "NL"}, "objected",
]


def _scenario(service: CaseService, clock: ManualClock, seed: int, cases: int = 36) -> Scenario:
    """Cases through March and into April, of three municipalities (one of them none), each
    handled differently: intakes on time or late, closed early, finished, evaluations held or not."""
    rng = random.Random(seed)
    out = Scenario()
    for i in range(cases):
        clock.advance(timedelta(hours=rng.randrange(4, 34)))
        municipality = rng.choice([MUNICIPALITY] * 5 + [OTHER, None])
        name = NAMES[i]
        case_id = _start(service, name, municipality, team="noord")
        out.case_ids.append(case_id)
        out.names.append(name)
        origin = rng.choice(ORIGINS)
        if origin == "objected":
            service.object_to_origin(case_id, actor="anna")
        elif isinstance(origin, dict):
            service.register_origin(case_id, origin, actor="anna")
        if rng.random() < 0.5:  # the intake now, later (perhaps late), or not yet
            intake = next(t.id for t in service.case(case_id).open_tasks())
            form = {"outcome": rng.choice(["help", "help", "no_help"]), "problems": []}
            service.complete_task(intake, form, actor="anna")
        if rng.random() < 0.15 and service.case(case_id).status is CaseStatus.OPEN:
            service.close_case(case_id, "client_moved", actor="coordinator")
    for _ in range(6):  # some weeks of work: timers fire, open tasks done on time or late
        clock.advance(timedelta(days=rng.randrange(1, 5)))
        service.fire_due()
        for case_id in out.case_ids:
            for task in service.case(case_id).open_tasks():
                if rng.random() < 0.3 and service.case(case_id).status is CaseStatus.OPEN:
                    answers: dict[str, Any] = {"outcome": "help", "problems": []} if task.step_id == "intake" else {}
                    service.complete_task(task.id, answers, actor="anna")
    return out


def _truth(states: list[CaseState], municipality: str, pathway_id: str | None, start: date, end: date,
           now: datetime) -> dict[str, Any]:
    """What a report over `states` must say, computed from the states alone."""
    lo, hi = period_bounds(start, end)
    mine = [s for s in states if s.municipality == municipality and pathway_id in (None, s.pathway_id)]
    closed = [s for s in mine if s.closed_at is not None and lo <= s.closed_at < hi]
    started = [s for s in mine if lo <= s.opened_at < hi]
    cut = min(hi, now)
    tasks: dict[tuple[str, str], list[str]] = {}
    for s in mine:
        for t in s.tasks.values():
            if t.type in (TaskType.HUMAN, TaskType.EVALUATION) and t.status is not TaskStatus.CANCELLED \
                    and lo <= t.due_at < cut:
                bucket = ("not_done" if t.completed_at is None else
                          "on_time" if t.completed_at <= t.due_at else "late")
                tasks.setdefault((t.type.value, bucket), []).append(s.id)
    days = sorted((s.closed_at - s.opened_at).total_seconds() / 86400 for s in closed if s.closed_at)
    return {
        "started": len(started),
        "open_at_end": sum(1 for s in mine if s.opened_at < hi and (s.closed_at is None or s.closed_at >= hi)),
        "closed": len(closed),
        "closed_by_outcome": dict(Counter((s.pathway_id, s.outcome) for s in closed)),
        "started_by_origin": dict(Counter(
            None if (g := origin_group(s.origin, s.origin_objection)) is None else g.value for s in started)),
        "lead_days": days,
        "tasks": {k: (len(v), len(set(v))) for k, v in tasks.items()},
        "pathways": {s.pathway_id for s in mine if s.opened_at < hi and (s.closed_at is None or s.closed_at >= lo)},
    }


def _check_aggregates(db: Engine, states: list[CaseState], pathway_id: str | None, start: date, end: date,
                      now: datetime, min_cell: int) -> None:
    truth = _truth(states, MUNICIPALITY, pathway_id, start, end, now)
    with read_session(db) as session:
        agg = aggregate(session, MUNICIPALITY, pathway_id, start, end, now, min_cell)
    assert (agg.started, agg.open_at_end, agg.closed) == (truth["started"], truth["open_at_end"], truth["closed"])
    assert dict(agg.closed_by_outcome) == truth["closed_by_outcome"]
    assert {k: v for k, v in agg.started_by_origin.items() if v} == truth["started_by_origin"]
    assert set(agg.pathways) == truth["pathways"]
    days = truth["lead_days"]
    assert agg.lead_times.count == len(days)
    if days:
        assert agg.lead_times.median == pytest.approx(statistics.median(days), abs=1e-6)
        p90 = statistics.quantiles(days, n=10, method="inclusive")[-1] if len(days) > 1 else days[0]
        assert agg.lead_times.p90 == pytest.approx(p90, abs=1e-6)
    exact = db.dialect.name == "sqlite"
    for kind, counts in ((TaskType.HUMAN.value, agg.tasks), (TaskType.EVALUATION.value, agg.evaluations)):
        total = 0
        for bucket in ("on_time", "late", "not_done"):
            n, cases = getattr(counts, bucket)
            true_n, true_cases = truth["tasks"].get((kind, bucket), (0, 0))
            assert n == true_n, (kind, bucket)
            # Exact on SQLite; on PostgreSQL at least what decides suppression.
            assert cases == true_cases if exact else (cases >= min_cell) == (true_cases >= min_cell)
            total += n
        n, cases = counts.total
        assert n == total


@pytest.mark.parametrize("seed", [3, 11])
def test_the_figures_are_the_cases_own(service: CaseService, clock: ManualClock, db: Engine, seed: int) -> None:
    scenario = _scenario(service, clock, seed)
    states = [service.case(case_id) for case_id in scenario.case_ids]
    now = clock.now()
    assert any(s.closed_at for s in states) and any(s.origin for s in states)
    for min_cell in (2, 10):
        _check_aggregates(db, states, "test-visits", *MARCH, now, min_cell)
        _check_aggregates(db, states, None, *MARCH, now, min_cell)
    _check_aggregates(db, states, "test-visits", date(2026, 3, 9), date(2026, 3, 22), now, 3)
    _check_aggregates(db, states, "test-visits", date(2026, 3, 1), date(2026, 4, 30), now - timedelta(days=9), 3)


def test_published_cells_are_the_true_figures(service: CaseService, clock: ManualClock, db: Engine) -> None:
    scenario = _scenario(service, clock, 5)
    states = [service.case(case_id) for case_id in scenario.case_ids]
    now = clock.now()
    truth = _truth(states, MUNICIPALITY, "test-visits", *MARCH, now)
    report = build_report(db, MUNICIPALITY, "test-visits", *MARCH, min_cell=3, now=now)
    cases = report.table("cases")
    expected = {"cases.started": truth["started"], "cases.open_at_end": truth["open_at_end"],
                "cases.closed": truth["closed"]}
    for row in cases.rows:
        cell = row.cells[0]
        assert cell.value in (expected[row.key], SUPPRESSED)
        assert expected[row.key] >= 3 or cell.suppressed
    outcomes = report.table("outcomes.test-visits")
    assert [r.label for r in outcomes.rows] == ["Geholpen", "Anders", "Totaal afgesloten"]
    for row in outcomes.rows[:-1]:
        code = row.key.rsplit(".", 1)[1]
        if not row.cells[0].suppressed:
            assert row.cells[0].value == truth["closed_by_outcome"].get(("test-visits", code), 0)
            assert row.cells[1].value == round(100 * row.cells[0].value / truth["closed"], 1)  # type: ignore[operator]
    lead = report.table("lead_time")
    if truth["closed"] >= 3 and not cases.row("cases.closed").cells[0].suppressed:
        assert lead.row("lead_time.median").cells[0].value == round(statistics.median(truth["lead_days"]), 1)
    assert {t.key for t in report.tables} == {"cases", "outcomes.test-visits", "lead_time", "tasks", "evaluations",
                                              "origin", "interventions", "interventions_per_client",
                                              "intervention_results", "interventions_by_area"}
    # The same report from a session the caller holds.
    with read_session(db) as session:
        assert build_report(session, MUNICIPALITY, "test-visits", *MARCH, min_cell=3, now=now) == report


def test_the_task_counts_read_the_partial_report_index(service: CaseService, clock: ManualClock, db: Engine) -> None:
    """`ix_tasks_funder_report` holds only the tasks a report counts (migration 0025): both planners use a
    partial index only when the query states its condition, so the report's statements are explained
    with the values they ran with (PostgreSQL told to avoid a sequential scan where it can)."""
    _scenario(service, clock, 5)
    ran: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if re.search(r"\bFROM tasks\b", statement):
            ran.append((statement, parameters))

    sqlalchemy_event.listen(db, "before_cursor_execute", keep)
    try:
        build_report(db, MUNICIPALITY, "test-visits", *MARCH, min_cell=3, now=clock.now())
    finally:
        sqlalchemy_event.remove(db, "before_cursor_execute", keep)
    assert ran
    with db.connect() as connection:
        if db.dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN QUERY PLAN " if db.dialect.name == "sqlite" else "EXPLAIN "
        for statement, parameters in ran:
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(explain + statement, parameters))
            assert "ix_tasks_funder_report" in plan, (statement, plan)


def test_the_report_condition_names_the_task_kinds_a_report_counts() -> None:
    condition = (f"type IN ('{TaskType.HUMAN.value}', '{TaskType.EVALUATION.value}') "
                 f"AND status <> '{TaskStatus.CANCELLED.value}'")
    assert condition == REPORTED_TASKS


def test_a_report_holds_no_name_pseudonym_or_case_id(service: CaseService, clock: ManualClock, db: Engine) -> None:
    scenario = _scenario(service, clock, 7)
    states = [service.case(case_id) for case_id in scenario.case_ids]
    for pathway_id in ("test-visits", None):
        report = build_report(db, MUNICIPALITY, pathway_id, *MARCH, min_cell=2, now=clock.now())
        dumps = (repr(report), report_to_csv(report), json.dumps(report_as_dict(report)))
        for needle in [*scenario.names, *(s.pseudonym for s in states), *scenario.case_ids]:
            assert all(needle not in d for d in dumps), needle
        assert all(s.id.lower() not in dumps[1].lower() for s in states)


# --- the period, in Dutch time ----------------------------------------------------------------------


def _insert(session: Session, case_id: str, opened: datetime, closed: datetime | None, *, outcome: str | None = None,
            municipality: str = MUNICIPALITY, origin: str | None = None, pathway_id: str = "test-visits") -> None:
    session.execute(insert(CaseRow).values(
        id=case_id, pathway_id=pathway_id, pathway_version=1, status="closed" if closed else "open", team=None,
        pseudonym="p" + case_id, opened_at=opened, closed_at=closed, outcome=outcome if closed else None,
        close_reason=None, version=1, state={}, municipality=municipality, origin_group=origin,
        funder=f"municipality:{municipality}", report_key=record_key(case_id),
    ))


def test_the_period_runs_from_midnight_to_midnight_dutch_time(service: CaseService, db: Engine) -> None:
    """1 March 00:00 CET is 28 February 23:00 UTC; 1 April 00:00 CEST (after the change to summer
    time on 29 March) is 31 March 22:00 UTC."""
    moments = {
        "before": datetime(2026, 2, 28, 22, 59, tzinfo=UTC), "first": datetime(2026, 2, 28, 23, 0, tzinfo=UTC),
        "last": datetime(2026, 3, 31, 21, 59, 59, tzinfo=UTC), "after": datetime(2026, 3, 31, 22, 0, tzinfo=UTC),
    }
    with write_session(db) as session:
        for name, moment in moments.items():
            _insert(session, f"open-{name}", moment, None)
            _insert(session, f"closed-{name}", moment - timedelta(days=40), moment, outcome="helped")
    with read_session(db) as session:
        agg = aggregate(session, MUNICIPALITY, "test-visits", *MARCH, datetime(2026, 6, 1, tzinfo=UTC))
    assert agg.started == 2  # first, last
    assert agg.closed == 2
    # Open at the end: opened before 1 April and not closed by then: open-before/first/last, and the
    # case closed at 'after' (still open at midnight).
    assert agg.open_at_end == 4


def test_lead_time_percentiles_interpolate_like_percentile_cont(service: CaseService, db: Engine) -> None:
    rng = random.Random(2)
    for n in (1, 2, 10, 11, 37):
        with write_session(db) as session:
            session.execute(text("DELETE FROM cases"))
            days = []
            for i in range(n):
                closed = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 600))
                lead = timedelta(minutes=rng.randrange(60, 200 * 24 * 60))
                days.append(lead.total_seconds() / 86400)
                _insert(session, f"c{i}", closed - lead, closed, outcome="helped")
        with read_session(db) as session:
            lead_times = aggregate(session, MUNICIPALITY, "test-visits", *MARCH, datetime(2026, 6, 1, tzinfo=UTC)
                                   ).lead_times
        assert lead_times.count == n
        assert lead_times.median == pytest.approx(statistics.median(days), abs=1e-6)
        expected_p90 = statistics.quantiles(days, n=10, method="inclusive")[-1] if n > 1 else days[0]
        assert lead_times.p90 == pytest.approx(expected_p90, abs=1e-6)
    report = build_report(db, MUNICIPALITY, "test-visits", *MARCH, now=datetime(2026, 6, 1, tzinfo=UTC))
    assert report.table("lead_time").row("lead_time.median").cells[0].value == round(statistics.median(days), 1)
    with write_session(db) as session:  # 8 of the 37 left
        session.execute(text(f"DELETE FROM cases WHERE id IN ({', '.join(repr(f'c{i}') for i in range(29))})"))
    report = build_report(db, MUNICIPALITY, "test-visits", *MARCH, now=datetime(2026, 6, 1, tzinfo=UTC))
    assert all(c.suppressed for r in report.table("lead_time").rows for c in r.cells)  # 8 closed: fewer than 10


# --- several pathways, labels of every version ------------------------------------------------------


def _variant(pathway_id: str, version: int = 1, *, helped_label: str = "Geholpen", extra_outcome: bool = False,
             origin: bool = True, evaluation: bool = True, title: str = "Testpad huisbezoeken") -> str:
    text_ = visits_source(version).replace("\nid: test-visits\n", f"\nid: {pathway_id}\n", 1)
    text_ = text_.replace("\ntitle: Testpad huisbezoeken\n", f"\ntitle: {title}\n", 1)
    text_ = text_.replace("{code: helped, label: Geholpen, successful: true}",
                          "{code: helped, label: " + json.dumps(helped_label) + ", successful: true}")
    if extra_outcome:
        text_ = text_.replace("  - {code: other, label: Anders}\n",
                              "  - {code: other, label: Anders}\n  - {code: referred, label: Doorverwezen}\n")
    if not origin:
        text_ = text_.replace("origin_registration: true", "origin_registration: false")
    if not evaluation:
        start, end = text_.index("\nevaluation:\n"), text_.index("\nsteps:\n")
        text_ = text_[:start] + "\n" + text_[end:]
    return text_


def test_all_pathways_and_labels_of_every_version(service: CaseService, db: Engine) -> None:
    service.publish_pathway(_variant("test-visits", 2, helped_label="Geholpen (nieuw)", extra_outcome=True),
                            "visits-v2.yaml")
    service.publish_pathway(_variant("test-other", origin=False, evaluation=False, title="Ander pad"), "other.yaml")
    service.publish_pathway(_variant("test-unused"), "unused.yaml")
    with write_session(db) as session:
        for i in range(14):
            _insert(session, f"v{i}", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC),
                    outcome="helped" if i < 11 else "referred")
        for i in range(12):
            _insert(session, f"o{i}", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC),
                    outcome="other", pathway_id="test-other")
        _insert(session, "x", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC),
                outcome="helped", municipality=OTHER, pathway_id="test-unused")
    now = datetime(2026, 5, 1, tzinfo=UTC)
    visits = build_report(db, MUNICIPALITY, "test-visits", *MARCH, now=now)
    outcomes = visits.table("outcomes.test-visits")
    assert [(r.label, r.cells[0].value) for r in outcomes.rows] == [
        ("Geholpen (nieuw)", 11), ("Anders", SUPPRESSED), ("Doorverwezen", SUPPRESSED), ("Totaal afgesloten", 14)]
    assert visits.pathway_title == "Testpad huisbezoeken"
    both = build_report(db, MUNICIPALITY, None, *MARCH, now=now)
    assert [t.key for t in both.tables] == ["cases", "closed_by_pathway", "outcomes.test-other",
                                           "outcomes.test-visits", "lead_time", "tasks", "evaluations",
                                           "interventions", "interventions_per_client", "intervention_results",
                                           "interventions_by_area", "origin"]
    by_pathway = both.table("closed_by_pathway")
    assert [(r.label, *(c.value for c in r.cells)) for r in by_pathway.rows] == [
        ("Ander pad", 12, 46.2), ("Testpad huisbezoeken", 14, 53.8), ("Totaal afgesloten", 26)]
    assert by_pathway.sums == (("cases.closed", ("closed.test-other", "closed.test-visits")),)
    other = build_report(db, MUNICIPALITY, "test-other", *MARCH, now=now)
    assert {t.key for t in other.tables} == {"cases", "outcomes.test-other", "lead_time", "tasks", "interventions",
                                             "interventions_per_client", "intervention_results",
                                             "interventions_by_area"}  # the variant keeps the tracks
    with pytest.raises(NotFoundError, match="pathway nope is not published"):
        build_report(db, MUNICIPALITY, "nope", *MARCH, now=now)


def test_bad_requests_are_refused(service: CaseService, db: Engine) -> None:
    with pytest.raises(ValidationError, match="ends"):
        build_report(db, MUNICIPALITY, "test-visits", date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ValidationError, match="at least 2"):
        build_report(db, MUNICIPALITY, "test-visits", *MARCH, min_cell=1)
    with pytest.raises(ValidationError, match="municipality"):
        build_report(db, " ", "test-visits", *MARCH)


# --- CSV ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n", "＝"])
def test_csv_safe_neutralises_formulas(start: str) -> None:
    assert csv_safe(f"{start}HYPERLINK(\"http://x\")") == f"'{start}HYPERLINK(\"http://x\")"
    assert csv_safe(f"a{start}b") == f"a{start}b"


def test_csv_for_excel(service: CaseService, db: Engine) -> None:
    service.publish_pathway(_variant("test-formula", helped_label="=HYPERLINK(\"http://evil\";\"klik\")"),
                            "formula.yaml")
    with write_session(db) as session:
        for i in range(25):
            _insert(session, f"f{i}", datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 2, 12, tzinfo=UTC)
                    + timedelta(days=i), outcome="helped" if i < 13 else "other", municipality="@GM0014",
                    pathway_id="test-formula")
    report = build_report(db, "@GM0014", "test-formula", *MARCH, now=datetime(2026, 5, 1, tzinfo=UTC))
    text_ = report_to_csv(report)
    assert text_.startswith("\ufeff")
    assert text_.encode("utf-8").startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(text_.removeprefix("\ufeff")), delimiter=";"))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'@GM0014" in cells and "'=HYPERLINK(\"http://evil\";\"klik\")" in cells
    helped = next(row for row in rows if row and row[0].startswith("'=HYPERLINK"))
    assert helped[1:3] == ["13", "52,0"]  # decimal comma with ';'
    lead = next(row for row in rows if row and row[0] == "Mediaan")
    assert lead[1] == "12,5"
    comma = list(csv.reader(io.StringIO(report_to_csv(report, delimiter=",").removeprefix("\ufeff"))))
    assert next(row for row in comma if row and row[0].startswith("'=HYPERLINK"))[1:3] == ["13", "52.0"]
    assert any(row[:2] == ["Anders", "12"] for row in comma)
    with pytest.raises(ValueError, match="separator"):
        report_to_csv(report, delimiter="\t")
    # Every table is there, with the suppression mark and its note.
    titles = [row[0] for row in rows if len(row) == 1]
    assert titles == [t.title for t in report.tables]
    suppressed = [row for row in rows if "x" in row[1:]]
    assert suppressed and all(row[-1] for row in suppressed)


# --- the migration ----------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def blank_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    schema = f"carepath_report_migration_{random.randrange(1 << 30)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(server, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _migrate(engine: Engine, url: str, revision: str, *, down: bool = False) -> None:
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_the_migration_fills_existing_cases_and_tasks(blank_database: str) -> None:
    engine = create_db_engine(blank_database)
    try:
        _migrate(engine, blank_database, "0003_web")
        state = {"municipality": MUNICIPALITY, "origin": {"client": "NL", "mother": "TR"}, "origin_objection": False}
        moment = datetime(2026, 3, 2, tzinfo=UTC)
        with engine.begin() as connection:
            for case_id, case_state in (("a", state), ("b", {"municipality": None, "origin": None,
                                                             "origin_objection": True})):
                connection.execute(text(
                    "INSERT INTO cases (id, pathway_id, pathway_version, status, pseudonym, opened_at, version, state)"
                    " VALUES (:id, 'test-visits', 1, 'open', 'p', :at, 1, :state)"
                ), {"id": case_id, "at": moment, "state": json.dumps(case_state)})
                connection.execute(text(
                    "INSERT INTO tasks (id, case_id, type, step, flow, title, role, status, due_at, created_at, "
                    "reminders_sent, escalation_level) VALUES (:id, :case, 'human_task', 's', 'main', 't', 'w', "
                    "'open', :at, :at, 0, 0)"
                ), {"id": case_id + ".1", "case": case_id, "at": moment})
        _migrate(engine, blank_database, "0024_postgresql_packed_documents")  # tasks.municipality went in 0025
        with engine.connect() as connection:
            assert connection.execute(text("SELECT id, municipality, origin_group FROM cases ORDER BY id")).all() == [
                ("a", MUNICIPALITY, "non_western"), ("b", None, "objected")]
            assert connection.execute(text("SELECT id, municipality, pathway_id FROM tasks ORDER BY id")).all() == [
                ("a.1", MUNICIPALITY, "test-visits"), ("b.1", None, "test-visits")]
        upgrade_database(blank_database, engine)
        _migrate(engine, blank_database, "0003_web", down=True)
        assert "municipality" not in {c["name"] for c in inspect(engine).get_columns("cases")}
        upgrade_database(blank_database, engine)
    finally:
        engine.dispose()


# --- speed --------------------------------------------------------------------------------------------

BIG = 100_000


def _bulk_load(engine: Engine, rng: random.Random) -> None:
    """100,000 cases of one municipality and pathway over 2025 (plus 20,000 of others), six tasks
    each (four human tasks, two evaluations), loaded with COPY."""
    year = period_bounds(date(2025, 1, 1), date(2025, 12, 31))[0]  # 2025 in Dutch time
    state = json.dumps({"note": "x" * 400})  # reports never read it; rows as wide as real ones
    raw = engine.raw_connection()
    try:
        cursor: Any = raw.cursor()
        cases = ("COPY cases (id, pathway_id, pathway_version, status, team, pseudonym, opened_at, closed_at, "
                 "outcome, close_reason, version, state, municipality, origin_group, funder, report_key) FROM STDIN")
        tasks = ("COPY tasks (id, case_id, type, step, flow, title, role, assignee, team, status, due_at, "
                 "created_at, completed_at, reminders_sent, escalation_level, pathway_id, funder, report_key) "
                 "FROM STDIN")
        opened_at = [year + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(BIG + 20_000)]
        with cursor.copy(cases) as copy:
            for i, opened in enumerate(opened_at):
                municipality = MUNICIPALITY if i < BIG else rng.choice([OTHER, "GM0363"])
                closed = opened + timedelta(days=rng.uniform(3, 200)) if rng.random() < 0.7 else None
                closed = closed if closed and closed < datetime(2026, 1, 1, tzinfo=UTC) else None
                copy.write_row((
                    f"C{i:08d}", "test-visits", 1, "closed" if closed else "open", "noord", f"p{i:08d}", opened,
                    closed, rng.choice(["helped", "other"]) if closed else None, None, 12, state, municipality,
                    rng.choice(["native", "native", "native", "western", "non_western", "objected", None]),
                    f"municipality:{municipality}", record_key(f"C{i:08d}"),
                ))
        with cursor.copy(tasks) as copy:
            for i, opened in enumerate(opened_at):
                municipality = MUNICIPALITY if i < BIG else OTHER
                for k in range(6):
                    due = opened + timedelta(days=3 * k + 2)
                    r = rng.random()
                    done = due - timedelta(hours=5) if r < 0.7 else due + timedelta(days=1) if r < 0.85 else None
                    copy.write_row((
                        f"C{i:08d}.{k}", f"C{i:08d}", "evaluation" if k >= 4 else "human_task", "stap", "main",
                        "Huisbezoek en gesprek met de huurder", "worker", None, "noord",
                        "completed" if done else "open", due, opened, done, 0, 0, "test-visits",
                        f"municipality:{municipality}", record_key(f"C{i:08d}.{k}"),
                    ))
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE cases"))
        connection.execute(text("VACUUM ANALYZE tasks"))


@pytest.mark.postgres
@pytest.mark.slow
def test_a_report_over_100000_cases_counts_them_all(postgresql_db: Engine, clock: ManualClock,
                                                                tmp_path: Path) -> None:
    from integrations.service import build_service

    service = build_service(str(postgresql_db.url), clock, data_dir=tmp_path, db=postgresql_db,
                            publish_shipped=False)
    service.publish_pathway(visits_source(), str(YAML_PATH))
    _bulk_load(postgresql_db, random.Random(1))
    now = datetime(2026, 2, 1, tzinfo=UTC)
    year = (date(2025, 1, 1), date(2025, 12, 31))
    build_report(postgresql_db, MUNICIPALITY, "test-visits", *year, now=now)  # warm: connections, pathway labels
    timings = []
    for _ in range(7):
        began = time.perf_counter()
        report: Report = build_report(postgresql_db, MUNICIPALITY, "test-visits", *year, now=now)
        timings.append(time.perf_counter() - began)
    print(f"\nreport over {BIG} cases: best {min(timings):.3f} s, median {statistics.median(timings):.3f} s")
    assert report.table("cases").row("cases.started").cells[0].value == BIG
    assert not any(c.suppressed for t in report.tables for r in t.rows for c in r.cells
                   if not t.key.startswith("intervention"))  # no tracks were loaded: those are all zero
    # The time is printed for the record, not asserted: speed is measured by bench/, never by a timed test.
