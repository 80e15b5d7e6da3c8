"""The fixed periods analysts may ask for, the cell-key perturbation of published counts, and what
the published assembly does with them (no database)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ValidationError
from integrations.reporting.cellkey import MAX_NOISE, cell_key, noise, perturb, record_key
from integrations.reporting.figures import (
    EXACT,
    PUBLISHED,
    Aggregates,
    LeadTimes,
    PathwayInfo,
    TrackCounts,
    assemble,
)
from integrations.reporting.periods import Period, PeriodKind, choices, latest_ended, parse_period, period_of

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "period", "start", "end", "label"), [
    ("2026-02", Period(2026, PeriodKind.MONTH, 2), date(2026, 2, 1), date(2026, 2, 28), "februari 2026"),
    ("2024-02", Period(2024, PeriodKind.MONTH, 2), date(2024, 2, 1), date(2024, 2, 29), "februari 2024"),
    ("2025-K4", Period(2025, PeriodKind.QUARTER, 4), date(2025, 10, 1), date(2025, 12, 31), "4e kwartaal 2025"),
    ("2025-q1", Period(2025, PeriodKind.QUARTER, 1), date(2025, 1, 1), date(2025, 3, 31), "1e kwartaal 2025"),
    ("2025", Period(2025, PeriodKind.YEAR), date(2025, 1, 1), date(2025, 12, 31), "2025"),
])
def test_periods_are_written_as_people_type_them(text: str, period: Period, start: date, end: date,
                                                 label: str) -> None:
    assert parse_period(text) == period
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period_of(start, end) == period
    assert parse_period(period.code) == period


@pytest.mark.parametrize("text", ["2025-13", "2025-K5", "25", "2025-03-01", "1999", "9999", "", "2025-00"])
def test_other_periods_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="periode"):
        parse_period(text)


def test_free_periods_are_refused() -> None:
    for start, end in ((date(2025, 3, 1), date(2025, 3, 30)), (date(2025, 3, 2), date(2025, 3, 31)),
                       (date(2025, 2, 1), date(2025, 4, 30)), (date(2025, 1, 1), date(2026, 12, 31)),
                       (date(1, 1, 1), date(1, 1, 31)), (date(9999, 12, 1), date(9999, 12, 31))):
        with pytest.raises(ValidationError, match="periode"):
            period_of(start, end)


def test_only_ended_periods() -> None:
    assert Period(2026, PeriodKind.MONTH, 2).ended(NOW)
    assert not Period(2026, PeriodKind.MONTH, 3).ended(NOW)
    assert not Period(2026, PeriodKind.QUARTER, 1).ended(NOW)
    assert latest_ended(NOW, PeriodKind.QUARTER) == Period(2025, PeriodKind.QUARTER, 4)
    assert latest_ended(NOW, PeriodKind.MONTH) == Period(2026, PeriodKind.MONTH, 2)
    assert latest_ended(datetime(2026, 1, 15, tzinfo=UTC), PeriodKind.MONTH) == Period(2025, PeriodKind.MONTH, 12)
    # 31 December 23:30 UTC is already 1 January in Amsterdam: December has ended.
    assert Period(2025, PeriodKind.MONTH, 12).ended(datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    offered = choices(NOW)
    assert offered[0] == Period(2026, PeriodKind.MONTH, 2) and all(p.ended(NOW) for p in offered)
    assert Period(2025, PeriodKind.YEAR) in offered and len(set(offered)) == len(offered)


def test_record_keys_are_fixed_and_spread() -> None:
    assert record_key("C00001") == record_key("C00001") != record_key("C00002")
    assert all(0 <= record_key(f"C{i}") < 2**31 for i in range(1000))


def test_the_same_records_always_get_the_same_noise() -> None:
    keys = [record_key(f"case-{i}") for i in range(40)]
    assert perturb(40, sum(keys)) == perturb(40, sum(keys))
    assert noise(40, sum(keys)) == noise(40, cell_key(sum(keys)))


def test_noise_is_small_symmetric_and_never_makes_a_count_negative() -> None:
    seen = Counter(noise(25, record_key(f"cell-{i}")) for i in range(20_000))
    assert set(seen) == set(range(-MAX_NOISE, MAX_NOISE + 1))
    assert abs(sum(d * n for d, n in seen.items()) / 20_000) < 0.05  # mean about zero
    assert seen[0] > seen[1] > seen[2] and abs(seen[1] - seen[-1]) < 400
    assert all(perturb(v, k) >= 0 for v in range(4) for k in range(200))


# --- the published assembly, without a database ------------------------------------------------------

INFO = PathwayInfo("p", "Pad", (("ok", "Goed"), ("no", "Niet")), tracks=(("a", "Schulden"), ("b", "Wonen")))


@st.composite
def aggregates(draw: st.DrawFn) -> Aggregates:
    ok, no = draw(st.integers(0, 60)), draw(st.integers(0, 60))
    started = {("p", t): (draw(st.integers(0, 40)), draw(st.integers(0, 2**40))) for t in ("a", "b")}
    closed: dict[tuple[str, str, str | None], tuple[int, int]] = {
        ("p", t, r): (draw(st.integers(0, 20)), draw(st.integers(0, 2**40)))
              for t in ("a", "b") for r in ("achieved", "not_achieved", "stopped")}
    n_started = sum(n for n, _ in started.values())
    clients = draw(st.integers(min(n_started, 1), max(n_started, 1)))
    tracks = TrackCounts(started=started, closed=closed, clients=(clients, draw(st.integers(0, 2**40))),
                         started_cases=min(n_started, clients), closed_cases={
                             "achieved": sum(v[0] for k, v in closed.items() if k[2] == "achieved"),
                             "not_achieved": sum(v[0] for k, v in closed.items() if k[2] == "not_achieved"),
                             "stopped": sum(v[0] for k, v in closed.items() if k[2] == "stopped"),
                             "total": sum(v[0] for v in closed.values())})
    keys = {"started": draw(st.integers(0, 2**40)), "open": draw(st.integers(0, 2**40)),
            "closed": draw(st.integers(0, 2**40)), ("outcome", "p", "ok"): draw(st.integers(0, 2**40)),
            ("outcome", "p", "no"): draw(st.integers(0, 2**40))}
    return Aggregates(started=draw(st.integers(0, 200)), open_at_end=draw(st.integers(0, 200)), closed=ok + no,
                      closed_by_outcome={("p", "ok"): ok, ("p", "no"): no}, keys=keys,
                      lead_times=LeadTimes(ok + no, 12.34, 40.6), pathways=("p",), tracks=tracks)


@settings(max_examples=150, deadline=None)
@given(aggregates())
def test_published_counts_are_near_the_truth_and_never_small(agg: Aggregates) -> None:
    exact, published = (assemble(agg, [INFO], municipality="GM0344", pathway_id="p", start=date(2025, 1, 1),
                                 end=date(2025, 12, 31), as_of=NOW, protection=p) for p in (EXACT, PUBLISHED))
    assert published.perturbed and not exact.perturbed
    for t_exact, t_pub in zip(exact.tables, published.tables, strict=True):
        for r_exact, r_pub in zip(t_exact.rows, t_pub.rows, strict=True):
            assert len(r_exact.cells) == len(r_pub.cells)
            # A total row has no share column: the cells are as many as in the exact report.
            for unit, c_exact, c_pub in zip(t_exact.units, r_exact.cells, r_pub.cells, strict=False):
                if unit != "count":
                    continue
                assert c_exact.suppressed == c_pub.suppressed  # the same counts are suppressed
                if c_pub.suppressed:
                    continue
                assert abs(c_pub.value - c_exact.value) <= MAX_NOISE  # type: ignore[operator]
                assert c_exact.value >= 10  # type: ignore[operator]
            if t_pub.key == "lead_time":
                cell = r_pub.cells[0]
                assert cell.suppressed or (agg.lead_times.count >= 50 and cell.value == int(cell.value))  # type: ignore[arg-type]
