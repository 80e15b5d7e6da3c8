"""Small-cell suppression of the municipal reports: the rules, the audits, and properties over
random tables and random reports, checked by attackers written here independently of the code.

The attackers know what a reader of a report knows: the published figures, which figures are
totals of which (every table's `sums`), and that counts are whole numbers of at least 0 (at least 1
for a row shown only when it is not empty). Every suppressed count has the same note, so a reader
cannot tell a cell under the threshold from one suppressed to protect it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.reporting.figures import (
    SUPPRESSED,
    Aggregates,
    LeadTimes,
    PathwayInfo,
    Report,
    TaskCounts,
    assemble,
    suppressed_note,
)
from integrations.reporting.suppression import Equation, Figure, Why, derivable, pinned, protect

# --- independent attackers ---------------------------------------------------------------------------

Bounds = dict[str, tuple[int, float]]


def subtraction_attack(published: Mapping[str, int | None], equations: Sequence[Equation]) -> dict[str, int]:
    """What a reader gets by subtracting published parts from published totals (and adding parts to
    get totals), repeatedly, each result used again: the brief's attacker."""
    known = {k: v for k, v in published.items() if v is not None}
    found: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for eq in equations:
            missing = [k for k in eq.members if k not in known]
            if len(missing) != 1:
                continue
            (key,) = missing
            parts = sum(known[p] for p in eq.parts if p != key)
            value = known[eq.total] - parts if key != eq.total else parts
            known[key] = found[key] = value
            changed = True
    return found


def _feasible(domains: dict[str, tuple[int, int]], equations: Sequence[Equation], constants: Mapping[str, int]) -> bool:
    """Whether whole numbers within `domains` satisfy every equation (bounds propagation, then branching)."""
    domains = dict(domains)
    while True:
        changed = False
        for eq in equations:
            terms = [(k, 1) for k in eq.parts] + [(eq.total, -1)]
            rest = -sum(c * constants[k] for k, c in terms if k in constants)  # sum over unknowns of c*x == rest
            unknown = [(k, c) for k, c in terms if k not in constants]
            if not unknown:
                if rest != 0:
                    return False
                continue
            low = sum(c * (domains[k][0] if c > 0 else domains[k][1]) for k, c in unknown)
            high = sum(c * (domains[k][1] if c > 0 else domains[k][0]) for k, c in unknown)
            if not low <= rest <= high:
                return False
            for k, c in unknown:
                others_low = low - c * (domains[k][0] if c > 0 else domains[k][1])
                others_high = high - c * (domains[k][1] if c > 0 else domains[k][0])
                # c*x == rest - others, with others in [others_low, others_high]
                a, b = rest - others_high, rest - others_low
                lo_x, hi_x = (a, b) if c > 0 else (-b, -a)
                new = (max(domains[k][0], lo_x), min(domains[k][1], hi_x))
                if new[0] > new[1]:
                    return False
                if new != domains[k]:
                    domains[k] = new
                    changed = True
        if not changed:
            break
    open_keys = [k for k, (lo, hi) in domains.items() if lo < hi]
    if not open_keys:
        return all(
            sum(constants.get(p, domains.get(p, (0, 0))[0]) for p in eq.parts)
            == constants.get(eq.total, domains.get(eq.total, (0, 0))[0])
            for eq in equations
        )
    key = min(open_keys, key=lambda k: domains[k][1] - domains[k][0])
    lo, hi = domains[key]
    middle = (lo + hi) // 2
    return (_feasible({**domains, key: (lo, middle)}, equations, constants)
            or _feasible({**domains, key: (middle + 1, hi)}, equations, constants))


def exact_disclosures(truth: Mapping[str, int], published: Mapping[str, int | None], bounds: Bounds,
                      equations: Sequence[Equation]) -> set[str]:
    """The suppressed figures that only one whole number fits, given everything a reader knows."""
    constants = {k: v for k, v in published.items() if v is not None}
    unknown = [k for k, v in published.items() if v is None]
    cap = 2 * sum(truth.values()) + 50  # alternatives, when they exist, are found well below this
    domains = {k: (int(bounds[k][0]), int(min(bounds[k][1], cap))) for k in unknown}
    relevant = [eq for eq in equations if any(k in domains for k in eq.members)]
    found = set()
    for key in unknown:
        v = truth[key]
        assert domains[key][0] <= v <= domains[key][1], f"the true value of {key} is outside what the reader knows"
        below = v > domains[key][0] and _feasible({**domains, key: (domains[key][0], v - 1)}, relevant, constants)
        above = v < domains[key][1] and _feasible({**domains, key: (v + 1, domains[key][1])}, relevant, constants)
        if not below and not above:
            found.add(key)
    return found


def reader_bounds(figure: Figure, suppressed: bool) -> tuple[int, float]:
    return (figure.at_least, math.inf) if suppressed else (figure.value, figure.value)


def check_protected(figures: Mapping[str, Figure], equations: Sequence[Equation], why: Mapping[str, Why],
                    min_cell: int) -> None:
    for key, figure in figures.items():
        if figure.basis < min_cell:
            assert why.get(key) is Why.PRIMARY, f"{key} ({figure}) is under the threshold but published"
        else:
            assert why.get(key) is not Why.PRIMARY
    for eq in equations:
        assert sum(1 for k in eq.members if k in why) != 1, f"one suppressed figure alone in {eq}"
    published = {k: (None if k in why else f.value) for k, f in figures.items()}
    assert not subtraction_attack(published, equations)
    truth = {k: f.value for k, f in figures.items()}
    bounds = {k: reader_bounds(f, k in why) for k, f in figures.items()}
    assert not exact_disclosures(truth, published, bounds, equations)


# --- the rules, by example ---------------------------------------------------------------------------


def _table(values: dict[str, int], total: str = "t") -> tuple[dict[str, Figure], list[Equation]]:
    figures = {k: Figure(v) for k, v in values.items()}
    figures[total] = Figure(sum(values.values()))
    return figures, [Equation(total, tuple(values))]


def test_figures_under_the_threshold_are_suppressed_zero_included() -> None:
    why = protect({"a": Figure(9), "b": Figure(10), "c": Figure(0), "d": Figure(250)}, [], 10)
    assert why == {"a": Why.PRIMARY, "c": Why.PRIMARY}


def test_task_figures_are_judged_by_the_cases_they_come_from() -> None:
    why = protect({"late": Figure(40, cases=3), "on_time": Figure(12, cases=12)}, [], 10)
    assert why == {"late": Why.PRIMARY}


def test_one_suppressed_cell_takes_the_next_smallest_with_it_not_the_total() -> None:
    figures, equations = _table({"a": 4, "b": 30, "c": 12, "d": 50})
    why = protect(figures, equations, 10)
    assert why == {"a": Why.PRIMARY, "c": Why.SECONDARY}
    check_protected(figures, equations, why, 10)


def test_ties_go_to_the_first_in_table_order() -> None:
    figures, equations = _table({"a": 3, "b": 20, "c": 20})
    assert protect(figures, equations, 10) == {"a": Why.PRIMARY, "b": Why.SECONDARY}


def test_two_suppressed_cells_need_no_third() -> None:
    figures, equations = _table({"a": 4, "b": 6, "c": 30, "d": 31})
    why = protect(figures, equations, 10)
    # 4 + 6 = 10 is published implicitly, but neither 4 nor 6 follows from it (the reader knows
    # both are under 10: any split of 10 into two numbers under 10 fits).
    assert why == {"a": Why.PRIMARY, "b": Why.PRIMARY}
    check_protected(figures, equations, why, 10)


def test_a_single_part_goes_with_its_total() -> None:
    figures, equations = _table({"a": 7})
    assert protect(figures, equations, 10) == {"a": Why.PRIMARY, "t": Why.PRIMARY}
    figures = {"a": Figure(7), "b": Figure(0), "t": Figure(7)}
    why = protect(figures, [Equation("t", ("a", "b"))], 10)
    assert set(why) == {"a", "b", "t"}


def test_suppressed_cells_that_sum_to_zero_are_not_left_alone() -> None:
    """Two zeros suppressed next to a published total and part: the reader would see they are 0."""
    figures = {"on_time": Figure(0), "late": Figure(0), "open": Figure(25), "total": Figure(25)}
    equations = [Equation("total", ("on_time", "late", "open"))]
    assert derivable({k: f.value for k, f in figures.items()}, {"on_time", "late"}, equations) == set()
    assert pinned(figures, {"on_time", "late"}, equations) == {"on_time", "late"}
    why = protect(figures, equations, 10)
    assert why == {"on_time": Why.PRIMARY, "late": Why.PRIMARY, "open": Why.SECONDARY}  # 0 + 0 + 25 = 25: open in 0..25
    check_protected(figures, equations, why, 10)


def test_a_row_shown_only_when_not_empty_is_at_least_one() -> None:
    """An 'unknown outcome' row appears only when some case has it: with its neighbour suppressed
    and a sum of 1 left, both would be known (1 and 0)."""
    figures = {"kept": Figure(30), "other": Figure(0), "unknown": Figure(1, at_least=1), "total": Figure(31)}
    equations = [Equation("total", ("kept", "other", "unknown"))]
    assert pinned(figures, {"other", "unknown"}, equations) == {"other", "unknown"}
    why = protect(figures, equations, 10)
    assert set(why) == {"other", "unknown", "kept"}
    check_protected(figures, equations, why, 10)


def test_a_figure_in_two_tables_is_suppressed_in_both() -> None:
    """`closed` is the total of the outcomes and a part of nothing else; when the outcomes table has
    a single outcome its total goes, and with it the same figure in the cases table."""
    figures = {"outcome.kept": Figure(8), "closed": Figure(8), "started": Figure(40)}
    why = protect(figures, [Equation("closed", ("outcome.kept",))], 10)
    assert set(why) == {"outcome.kept", "closed"}


def test_hierarchy_repairs_cascade_upwards() -> None:
    """Origin: three groups make 'registered'; registered and not registered make the total."""
    figures = {"native": Figure(40), "western": Figure(12), "non_western": Figure(20), "registered": Figure(72),
               "not_registered": Figure(3), "started": Figure(75)}
    equations = [Equation("registered", ("native", "western", "non_western")),
                 Equation("started", ("registered", "not_registered"))]
    why = protect(figures, equations, 10)
    assert why == {"not_registered": Why.PRIMARY, "registered": Why.SECONDARY, "western": Why.SECONDARY}
    check_protected(figures, equations, why, 10)


def _two_way(cells: list[list[int]]) -> tuple[dict[str, Figure], list[Equation]]:
    figures: dict[str, Figure] = {}
    equations = []
    rows, cols = len(cells), len(cells[0])
    for i in range(rows):
        for j in range(cols):
            figures[f"c{i}{j}"] = Figure(cells[i][j])
    for i in range(rows):
        figures[f"r{i}"] = Figure(sum(cells[i]))
        equations.append(Equation(f"r{i}", tuple(f"c{i}{j}" for j in range(cols))))
    for j in range(cols):
        figures[f"k{j}"] = Figure(sum(cells[i][j] for i in range(rows)))
        equations.append(Equation(f"k{j}", tuple(f"c{i}{j}" for i in range(rows))))
    figures["all"] = Figure(sum(map(sum, cells)))
    equations.append(Equation("all", tuple(f"r{i}" for i in range(rows))))
    equations.append(Equation("all", tuple(f"k{j}" for j in range(cols))))
    return figures, equations


def test_the_linear_audit_finds_what_never_one_alone_misses() -> None:
    """In a two-way table every row and column can hold two or more suppressed cells while a cell is
    still determined: two 2x2 blocks joined by one cell (a bridge between two cycles)."""
    small = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)}
    cells = [[3 if (i, j) in small else 20 + i + j for j in range(4)] for i in range(4)]
    figures, equations = _two_way(cells)
    primary = {f"c{i}{j}" for i, j in small}
    assert all(sum(1 for k in eq.members if k in primary) != 1 for eq in equations)  # never one alone holds
    values = {k: f.value for k, f in figures.items()}
    assert derivable(values, primary, equations) == {"c12"}
    why = protect(figures, equations, 10)
    assert len(why) > len(primary)
    check_protected(figures, equations, why, 10)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        protect({}, [], 1)
    with pytest.raises(ValueError, match="not the sum"):
        protect({"a": Figure(3), "t": Figure(4)}, [Equation("t", ("a",))], 10)
    with pytest.raises(ValueError, match="unknown figures"):
        protect({"t": Figure(4)}, [Equation("t", ("a",))], 10)
    with pytest.raises(ValueError, match="not a count"):
        protect({"a": Figure(3, cases=4)}, [], 10)


# --- properties over random tables ------------------------------------------------------------------


@dataclass
class Structure:
    figures: dict[str, Figure]
    equations: list[Equation]


@st.composite
def values_for(draw: st.DrawFn, n: int, task_like: bool) -> list[Figure]:
    small = st.integers(0, 14)
    values = draw(st.lists(st.one_of(small, st.integers(0, 60)), min_size=n, max_size=n))
    if not task_like:
        return [Figure(v) for v in values]
    return [Figure(v, draw(st.integers(0, v)) if v else 0) for v in values]


@st.composite
def structures(draw: st.DrawFn) -> Structure:
    """One to three linked tables shaped like a report's: flat, hierarchical, shared totals, two-way."""
    figures: dict[str, Figure] = {}
    equations: list[Equation] = []
    totals: list[str] = []
    for t in range(draw(st.integers(1, 3))):
        shape = draw(st.sampled_from(["flat", "flat_tasks", "hierarchy", "two_way"]))
        p = f"t{t}."
        if shape in ("flat", "flat_tasks"):
            parts = draw(values_for(draw(st.integers(1, 5)), shape == "flat_tasks"))
            keys = [f"{p}{i}" for i in range(len(parts))]
            figures.update(zip(keys, parts, strict=True))
            total_cases = None
            if shape == "flat_tasks":
                most = sum(f.basis for f in parts)
                least = max((f.basis for f in parts), default=0)
                total_cases = draw(st.integers(least, most)) if most else 0
            figures[f"{p}total"] = Figure(sum(f.value for f in parts), total_cases)
            equations.append(Equation(f"{p}total", tuple(keys)))
            if shape == "flat":
                totals.append(f"{p}total")
        elif shape == "hierarchy":
            groups = draw(values_for(3, False))
            keys = [f"{p}g{i}" for i in range(3)]
            figures.update(zip(keys, groups, strict=True))
            registered = sum(f.value for f in groups)
            figures[f"{p}registered"] = Figure(registered)
            figures[f"{p}not"] = draw(values_for(1, False))[0]
            figures[f"{p}total"] = Figure(registered + figures[f"{p}not"].value)
            equations += [Equation(f"{p}registered", tuple(keys)),
                          Equation(f"{p}total", (f"{p}registered", f"{p}not"))]
            totals.append(f"{p}total")
        else:
            rows, cols = draw(st.integers(2, 3)), draw(st.integers(2, 3))
            cells = [[f.value for f in draw(values_for(cols, False))] for _ in range(rows)]
            two_figures, two_equations = _two_way(cells)
            figures.update({p + k: f for k, f in two_figures.items()})
            equations += [Equation(p + e.total, tuple(p + k for k in e.parts)) for e in two_equations]
    if len(totals) >= 2 and draw(st.booleans()):  # a table of totals, like 'closed per pathway'
        figures["grand"] = Figure(sum(figures[k].value for k in totals))
        equations.append(Equation("grand", tuple(totals)))
    return Structure(figures, equations)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structure=structures(), min_cell=st.sampled_from([2, 3, 5, 10]))
def test_no_suppressed_figure_can_be_recovered(structure: Structure, min_cell: int) -> None:
    """Hypothesis: in any table shaped like a report's, no suppressed cell follows from published
    cells and totals: not by subtraction, not by any linear combination, not with the bounds."""
    why = protect(structure.figures, structure.equations, min_cell)
    check_protected(structure.figures, structure.equations, why, min_cell)


# --- properties over random reports -----------------------------------------------------------------

START, END = date(2026, 1, 1), date(2026, 3, 31)
AS_OF = datetime(2026, 5, 1, tzinfo=UTC)


@st.composite
def task_counts(draw: st.DrawFn) -> TaskCounts:
    buckets = []
    for _ in range(3):
        n = draw(st.one_of(st.integers(0, 12), st.integers(0, 400)))
        buckets.append((n, draw(st.integers(1 if n else 0, max(n, 0))) if n else 0))
    most = sum(c for _, c in buckets)
    least = max(c for _, c in buckets)
    total = (sum(n for n, _ in buckets), draw(st.integers(least, most)) if most else 0)
    return TaskCounts(on_time=buckets[0], late=buckets[1], not_done=buckets[2], total=total)


@st.composite
def reports(draw: st.DrawFn) -> tuple[Aggregates, list[PathwayInfo], str | None, int]:
    count = st.one_of(st.integers(0, 12), st.integers(0, 300))
    pathways = []
    for i in range(draw(st.integers(1, 3))):
        codes = [f"o{j}" for j in range(draw(st.integers(0, 4)))]
        pathways.append(PathwayInfo(f"p{i}", f"Pad {i}", tuple((c, f"Uitkomst {c}") for c in codes),
                                    registers_origin=draw(st.booleans()), has_evaluation=draw(st.booleans())))
    single = draw(st.booleans())
    scope = [pathways[0]] if single else [p for p in pathways if draw(st.booleans())]
    by_outcome: dict[tuple[str, str | None], int] = {}
    for info in scope:
        for code, _ in info.outcomes:
            by_outcome[(info.id, code)] = draw(count)
        if draw(st.integers(0, 4)) == 0:
            by_outcome[(info.id, draw(st.sampled_from([None, "retired"])))] = draw(st.integers(1, 12))
    by_origin = {g: draw(count) for g in ("native", "western", "non_western", "objected", None)}
    closed = sum(by_outcome.values())
    lead = LeadTimes(closed, *sorted([draw(st.floats(0, 400)), draw(st.floats(0, 400))])) if closed else LeadTimes()
    agg = Aggregates(
        started=sum(by_origin.values()), open_at_end=draw(count), closed=closed, closed_by_outcome=by_outcome,
        started_by_origin=by_origin, lead_times=lead, tasks=draw(task_counts()), evaluations=draw(task_counts()),
        pathways=tuple(p.id for p in scope),
    )
    return agg, pathways, pathways[0].id if single else None, draw(st.sampled_from([3, 5, 10]))


def _truth(agg: Aggregates, report: Report) -> tuple[dict[str, int], dict[str, int]]:
    """The true value of every figure a report names, from its aggregates (the test's own
    bookkeeping), and the cases behind the task figures."""
    truth = {"cases.started": agg.started, "cases.open_at_end": agg.open_at_end, "cases.closed": agg.closed}
    cases: dict[str, int] = {}
    for pid in agg.pathways:
        truth[f"closed.{pid}"] = sum(n for (p, _), n in agg.closed_by_outcome.items() if p == pid)
    for t in report.tables:
        if not t.key.startswith("outcomes."):
            continue
        pid = t.key.removeprefix("outcomes.")
        codes = {r.key.removeprefix(f"outcomes.{pid}.") for r in t.rows}
        for code in codes - {"~unknown"}:
            if f"outcomes.{pid}.{code}" in {r.key for r in t.rows}:
                truth[f"outcomes.{pid}.{code}"] = agg.closed_by_outcome.get((pid, code), 0)
        if "~unknown" in codes:
            truth[f"outcomes.{pid}.~unknown"] = sum(n for (p, c), n in agg.closed_by_outcome.items()
                                                    if p == pid and c not in codes)
    registered = 0
    for group in ("native", "western", "non_western"):
        truth[f"origin.{group}"] = agg.started_by_origin.get(group, 0)
        registered += truth[f"origin.{group}"]
    truth["origin.registered"] = registered
    truth["origin.not_registered"] = agg.started - registered
    for name, counts in (("tasks", agg.tasks), ("evaluations", agg.evaluations)):
        for bucket in ("on_time", "late", "not_done", "total"):
            truth[f"{name}.{bucket}"], cases[f"{name}.{bucket}"] = getattr(counts, bucket)
    return truth, cases


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=reports())
def test_no_suppressed_cell_of_a_report_can_be_recovered(
        drawn: tuple[Aggregates, list[PathwayInfo], str | None, int]) -> None:
    """Hypothesis over whole reports: read only what a municipality sees (the cells, the notes, the
    tables' sums) and try to recover every suppressed count."""
    agg, pathways, pathway_id, m = drawn
    report = assemble(agg, pathways, municipality="GM0014", pathway_id=pathway_id, start=START, end=END,
                      min_cell=m, as_of=AS_OF)
    truth, task_cases = _truth(agg, report)
    published: dict[str, int | None] = {}
    bounds: Bounds = {}
    equations: list[Equation] = []
    for t in report.tables:
        for total, parts in t.sums:
            eq = Equation(total, parts)
            assert truth[total] == sum(truth[p] for p in parts), f"{t.key}: the sums name a false equation {eq}"
            equations.append(eq)
        if t.units[0] != "count":
            continue
        for row in t.rows:
            first = row.cells[0]
            value = None if first.suppressed else first.value
            assert published.setdefault(row.key, value) == value, f"{row.key} differs between tables"  # type: ignore[arg-type]
            basis = task_cases.get(row.key, truth[row.key])
            if value is not None:
                assert value == truth[row.key]
                assert basis >= m, f"{row.key} = {value} comes from fewer than {m} cases"
                bounds[row.key] = (value, value)  # type: ignore[assignment]
            else:
                assert first.note == suppressed_note(m)  # one note: primary and secondary look alike
                bounds[row.key] = (1 if row.key.endswith("~unknown") else 0, math.inf)
            if len(row.cells) > 1:  # the share of this row in its total
                share = row.cells[1]
                base = next(total for total, parts in t.sums if row.key in parts)
                if first.suppressed:
                    assert share.suppressed
                elif not share.suppressed:
                    assert published.get(base, t.row(base).cells[0].value) is not SUPPRESSED
                    assert not t.row(base).cells[0].suppressed, f"{row.key}: a share of a suppressed total"
                    assert share.value == round(100 * truth[row.key] / truth[base], 1)
    assert not subtraction_attack(published, equations)
    assert not exact_disclosures(truth, published, bounds, equations)
    lead = report.table("lead_time")
    hidden = agg.lead_times.count < m or published["cases.closed"] is None
    assert all(c.suppressed for r in lead.rows for c in r.cells) == hidden
    keys = {t.key for t in report.tables}
    scope = [p for p in pathways if p.id in agg.pathways or p.id == pathway_id]
    assert ("origin" in keys) == any(p.registers_origin for p in scope)
    assert ("evaluations" in keys) == any(p.has_evaluation for p in scope)


def test_a_report_of_an_empty_municipality_is_all_suppressed() -> None:
    report = assemble(Aggregates(), [PathwayInfo("p", "Pad", (("a", "A"), ("b", "B")), True, True)],
                      municipality="GM0014", pathway_id="p", start=START, end=END, as_of=AS_OF)
    assert {t.key for t in report.tables} == {"cases", "outcomes.p", "lead_time", "tasks", "evaluations", "origin"}
    assert all(c.value is SUPPRESSED for t in report.tables for r in t.rows for c in r.cells)
