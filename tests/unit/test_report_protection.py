"""The fixed periods analysts may ask for, and the cell-key perturbation of published counts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from engine.errors import ValidationError
from integrations.reporting.cellkey import MAX_NOISE, cell_key, noise, perturb, record_key
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
