"""A municipality's published figures come back from a synthetic cohort, on SQLite and PostgreSQL.

SWA 2010 (domain.md): 3,095 interventions started for 681 clients, 90 percent completed
successfully. Eviction prevention: two thirds of the tenants keep renting. The cohort generator
writes such a year; the organisation's own (exact) report gives the figures back exactly, and the
analyst's dashboard (perturbed) within its stated perturbation and the rounding of the published
figures.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from engine.errors import ConflictError, ValidationError
from integrations.db.engine_factory import read_session
from integrations.db.models import CaseEventPageRow, CaseRow, CaseTrackRow
from integrations.reporting.cellkey import MAX_NOISE
from integrations.reporting.cohort import CohortSpec, apportion, remove_cohort, write_cohort
from integrations.reporting.figures import Report, build_report
from integrations.reporting.periods import Period, PeriodKind
from integrations.reporting.published import published_report
from integrations.service import CaseService

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SWA = CohortSpec(
    municipality="GM0599", pathway_id="swa-trajectory", year=2010, clients=681,
    outcomes={"completed_successfully": 0.8, "partially_completed": 0.12, "dropped_out": 0.08},
    problems_per_client=3095 / 681, success=0.90, stopped=0.3,
    origin={"non_western": 0.82, "native": 0.08, "western": 0.02, "objected": 0.04, "unregistered": 0.04},
)
EVICTION = CohortSpec(
    municipality="GM1966", pathway_id="eviction-prevention", year=2025, clients=120,
    outcomes={"tenancy_kept": 2 / 3, "referred_to_bailiff": 0.2, "other": 2 / 15},
    problems_per_client=1.5, success={"credit_bank": 0.7, "housing_corporation": 0.8, "social_services": 0.6,
                                      "signalling_creditor": 0.5},
)


@pytest.fixture
def shipped(service: CaseService) -> CaseService:
    for name in ("swa-trajectory", "eviction-prevention"):
        path = ROOT / "pathways" / f"{name}.yaml"
        service.publish_pathway(path.read_text(encoding="utf-8"), str(path))
    return service


def _value(report: Report, table: str, row: str, column: int = 0) -> float:
    value = report.table(table).row(row).cells[column].value
    assert isinstance(value, int | float), (table, row, value)
    return value


def test_apportion_is_exact_and_adds_up() -> None:
    assert apportion(681, {"a": 0.9, "b": 0.1}) == {"a": 613, "b": 68}
    assert apportion(3, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}) == {"a": 1, "b": 1, "c": 1}
    assert sum(apportion(3095, {"x": 0.9, "y": 0.07, "z": 0.03}).values()) == 3095


def test_swa_2010_comes_back(shipped: CaseService, db: Engine) -> None:
    written = write_cohort(shipped, SWA)
    assert (written.cases, written.interventions) == (681, 3095)
    year = Period(2010, PeriodKind.YEAR)
    exact = build_report(db, "GM0599", "swa-trajectory", year.start, year.end, now=NOW)
    assert _value(exact, "interventions", "interventions.started") == 3095
    assert _value(exact, "interventions", "interventions.clients") == 681
    assert _value(exact, "interventions_per_client", "interventions.per_client") == 4.5
    assert _value(exact, "intervention_results", "interventions.achieved", 1) == 90.0
    assert _value(exact, "cases", "cases.started") == 681
    assert _value(exact, "outcomes.swa-trajectory", "outcomes.swa-trajectory.completed_successfully", 1) == 80.0
    assert _value(exact, "origin", "origin.non_western", 1) == round(100 * 558 / 627, 1)  # of the registered

    published = published_report(db, "GM0599", "swa-trajectory", year, now=NOW)
    assert abs(_value(published, "interventions", "interventions.started") - 3095) <= MAX_NOISE
    assert abs(_value(published, "interventions", "interventions.clients") - 681) <= MAX_NOISE
    # 3,095 / 681 = 4.54; from the perturbed counts 4.5 or 4.6.
    assert abs(_value(published, "interventions_per_client", "interventions.per_client") - 3095 / 681) < 0.1
    assert round(_value(published, "intervention_results", "interventions.achieved", 1)) == 90
    assert abs(_value(published, "cases", "cases.closed") - 681) <= MAX_NOISE
    by_area = published.table("interventions_by_area")
    assert len(by_area.rows) == 10 and by_area.rows[-1].label == "Totaal"  # nine problem areas and the total
    assert all(not c.suppressed for r in by_area.rows for c in r.cells)
    # The same cases, seen by the municipality's analyst account of another year: nothing.
    empty = published_report(db, "GM0599", "swa-trajectory", Period(2011, PeriodKind.YEAR), now=NOW)
    assert empty.table("cases").row("cases.started").cells[0].suppressed


def test_eviction_two_thirds_keep_renting(shipped: CaseService, db: Engine) -> None:
    write_cohort(shipped, EVICTION)
    year = Period(2025, PeriodKind.YEAR)
    exact = build_report(db, "GM1966", "eviction-prevention", year.start, year.end, now=NOW)
    assert _value(exact, "outcomes.eviction-prevention", "outcomes.eviction-prevention.tenancy_kept") == 80
    assert _value(exact, "outcomes.eviction-prevention", "outcomes.eviction-prevention.tenancy_kept", 1) == 66.7
    published = published_report(db, "GM1966", "eviction-prevention", year, now=NOW)
    kept = _value(published, "outcomes.eviction-prevention", "outcomes.eviction-prevention.tenancy_kept", 1)
    # Within the perturbation of 80 of 120: (80 +/- 2) / (120 +/- 2).
    assert 100 * 78 / 122 - 0.05 <= kept <= 100 * 82 / 118 + 0.05
    assert isinstance(EVICTION.success, dict)
    for track, rate in EVICTION.success.items():  # success per problem area, as whole interventions allow
        row = f"interventions.area.eviction-prevention.{track}.started"
        started, achieved = _value(exact, "interventions_by_area", row), _value(exact, "interventions_by_area", row, 2)
        assert abs(achieved - started * rate) < 1, (track, started, achieved)


def test_the_cohort_is_real_history_and_can_be_removed(shipped: CaseService, db: Engine) -> None:
    spec = CohortSpec(municipality="GM0505", pathway_id="swa-trajectory", year=2024, clients=12,
                      outcomes={"completed_successfully": 1.0}, problems_per_client=2, success=0.5,
                      funder="health_insurer:3311")
    write_cohort(shipped, spec)
    state = shipped.case("COH-GM0505-2024-00001")  # replays from its events like any case
    assert state.funder == "health_insurer:3311" and state.team is None and len(state.tracks) == 2
    with read_session(db) as session:
        assert session.execute(select(func.count()).select_from(CaseRow).where(
            CaseRow.funder == "health_insurer:3311")).scalar_one() == 12
    with pytest.raises(ConflictError, match="verwijder het eerst"):
        write_cohort(shipped, spec)
    assert remove_cohort(shipped, "GM0505", 2024) == 12
    with read_session(db) as session:
        for row in (CaseRow, CaseEventPageRow, CaseTrackRow):
            assert session.execute(select(func.count()).select_from(row)).scalar_one() == 0


@pytest.mark.parametrize(("change", "message"), [
    ({"outcomes": {"won": 1.0}}, "onbekende uitkomst"),
    ({"outcomes": {"completed_successfully": 0.5}}, "samen 1"),
    ({"problems_per_client": 12.0}, "0 tot 9"),
    ({"municipality": "Rotterdam"}, "CBS-code"),
    ({"origin": {"martian": 1.0}}, "onbekende herkomstgroep"),
    ({"success": {"gardening": 1.0}}, "onbekend"),
    ({"funder": "bank:1"}, "onbekende soort"),
])
def test_bad_cohorts_are_refused(shipped: CaseService, change: dict[str, object], message: str) -> None:
    values = {**SWA.__dict__, "clients": 5, **change}
    with pytest.raises(ValidationError, match=message):
        write_cohort(shipped, CohortSpec(**values))


def test_the_cli_writes_a_cohort(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"CAREPATH_DATABASE_URL": url, "CAREPATH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "integrations.cli", "cohort", "write", "--municipality", "GM1966",
               "--pathway", "eviction-prevention", "--year", "2025", "--clients", "30",
               "--outcome", "tenancy_kept=0.6667", "--outcome", "referred_to_bailiff=0.3333"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "30 zaken (tenancy_kept 20, referred_to_bailiff 10)" in done.stdout
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 1 and "verwijder het eerst" in again.stderr
    bad = subprocess.run([*command[:-2], "--outcome", "tenancy_kept"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "code=aandeel" in bad.stderr
