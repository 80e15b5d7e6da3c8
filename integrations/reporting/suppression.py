"""Small-cell suppression for the municipal reports: primary, secondary, and an exact audit.

A report is a set of *figures* (counts, keyed by a name such as ``cases.closed``) and *equations*
between them (``total = part + part + ...``: the totals and subtotals a reader sees). A figure that
appears in two tables is one figure, so it is suppressed in both or in neither.

The method (docs/reporting.md):

1. **Primary suppression** (threshold rule): a figure computed from fewer than `min_cell` cases is
   suppressed, zero included.
2. **Secondary suppression** (minimum-frequency rule, "never one alone"): while an equation has
   exactly one suppressed member, the *smallest* published part of that equation is suppressed
   too (ties: fewest cases, then table order); only when no part is left is the total
   suppressed. Suppressing a figure can leave another equation it is in with one suppressed
   member; the rule runs until no equation has exactly one.
3. **Audit**, then more suppression where it fails, until it passes:
   * *linear*: the suppressed figures are the unknowns of the linear system the equations form
     with the published figures; none may be determined by it (exact rational elimination), so
     none can be recovered by adding and subtracting published figures and totals;
   * *interval*: a reader also knows that counts are whole numbers of at least 0 (at least 1
     for a row that is only shown when it is not empty: `Figure.at_least`). Each suppressed
     figure's smallest and largest value under all of that (two small linear programs) must
     differ, so no reasoning from the published figures pins it to one value (e.g. two
     suppressed cells whose sum is published as 0).
   An audit failure is repaired by step 2 on an equation the exposed figure is in (the least
   protected one), and the audit runs again.

The audit assumes a reader cannot tell a figure suppressed under the threshold from one suppressed
to protect it: a report gives both the same mark and note, as CBS tables do. (A reader who knew
that a cell counts fewer than `min_cell` cases, and its neighbour at least `min_cell`, could pin
both in some small tables.)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction


@dataclass(frozen=True)
class Figure:
    """A count. `cases`: the number of distinct cases it is computed from, when it counts something
    else (tasks); None when the value itself is a number of cases."""

    value: int
    cases: int | None = None
    at_least: int = 0  # what a reader knows the value is at least (a row shown only when not empty: 1)

    @property
    def basis(self) -> int:
        """The number of cases the figure is computed from."""
        return self.value if self.cases is None else self.cases


@dataclass(frozen=True)
class Equation:
    """``figures[total] == sum(figures[p] for p in parts)``."""

    total: str
    parts: tuple[str, ...]

    @property
    def members(self) -> tuple[str, ...]:
        return (*self.parts, self.total)


class Why(str, Enum):
    PRIMARY = "primary"  # computed from fewer than min_cell cases
    SECONDARY = "secondary"  # suppressed so that another suppressed figure cannot be recovered


def _check(figures: Mapping[str, Figure], equations: Sequence[Equation], min_cell: int) -> None:
    if min_cell < 2:
        raise ValueError(f"min_cell must be at least 2, not {min_cell}")
    for key, figure in figures.items():
        if figure.value < figure.at_least or figure.at_least < 0 or (
                figure.cases is not None and not 0 <= figure.cases <= figure.value):
            raise ValueError(f"figure {key} is not a count: {figure}")
    for eq in equations:
        missing = [k for k in eq.members if k not in figures]
        if missing:
            raise ValueError(f"equation for {eq.total} names unknown figures {missing}")
        if len(set(eq.members)) != len(eq.members):
            raise ValueError(f"equation for {eq.total} names a figure twice")
        if figures[eq.total].value != sum(figures[p].value for p in eq.parts):
            raise ValueError(f"figure {eq.total} is not the sum of {', '.join(eq.parts)}")


def _pick(equation: Equation, figures: Mapping[str, Figure], suppressed: Collection[str]) -> str | None:
    """The figure to suppress next in `equation`: its smallest published part, else its total."""
    open_parts = [(figures[p].value, figures[p].basis, i, p) for i, p in enumerate(equation.parts)
                  if p not in suppressed]
    if open_parts:
        return min(open_parts)[3]
    return None if equation.total in suppressed else equation.total


def protect(figures: Mapping[str, Figure], equations: Sequence[Equation], min_cell: int) -> dict[str, Why]:
    """The figures to suppress, each with why (see the module's description of the method)."""
    _check(figures, equations, min_cell)
    order = {key: i for i, key in enumerate(figures)}
    why = {key: Why.PRIMARY for key, figure in figures.items() if figure.basis < min_cell}
    while True:
        changed = True
        while changed:  # never one alone
            changed = False
            for eq in equations:
                if sum(1 for k in eq.members if k in why) == 1:
                    pick = _pick(eq, figures, why)
                    if pick is not None:
                        why[pick] = Why.SECONDARY
                        changed = True
        values = {k: f.value for k, f in figures.items()}
        exposed = derivable(values, why, equations) or pinned(figures, why, equations)
        if not exposed:
            return why
        pick = None
        for key in sorted(exposed, key=order.__getitem__):
            around = [eq for eq in equations if key in eq.members and _pick(eq, figures, why) is not None]
            if around:
                pick = _pick(min(around, key=lambda e: sum(1 for k in e.members if k in why)), figures, why)
                break
        if pick is None:  # every equation around them is suppressed already: give up the smallest published figure
            published = [(figures[k].value, order[k], k) for eq in equations for k in eq.members if k not in why]
            if not published:
                return why
            pick = min(published)[2]
        why[pick] = Why.SECONDARY


# --- the linear audit -------------------------------------------------------------------------------


def derivable(values: Mapping[str, int], suppressed: Collection[str], equations: Sequence[Equation]) -> set[str]:
    """The suppressed figures whose value the published figures and the equations determine.

    Each equation is a linear equation in the suppressed figures (published ones are constants);
    a suppressed figure is determined exactly when its unit vector lies in the row space of the
    coefficient matrix: when it is a pivot column of the reduced row echelon form whose row has no
    entry in a free column.
    """
    unknowns = [k for k in values if k in suppressed]
    index = {k: i for i, k in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for eq in equations:
        row = [Fraction(0)] * len(unknowns)
        for key, coefficient in [(p, 1) for p in eq.parts] + [(eq.total, -1)]:
            if key in index:
                row[index[key]] += coefficient
        if any(row):
            rows.append(row)
    pivots: list[int] = []  # the pivot column of each reduced row
    r = 0
    for col in range(len(unknowns)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        lead = rows[r][col]
        rows[r] = [x / lead for x in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][col] != 0:
                factor = rows[i][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(col)
        r += 1
    pivot_set = set(pivots)
    return {unknowns[col] for row_index, col in enumerate(pivots)
            if all(rows[row_index][j] == 0 for j in range(len(unknowns)) if j not in pivot_set)}


# --- the interval audit -----------------------------------------------------------------------------


def pinned(figures: Mapping[str, Figure], suppressed: Collection[str], equations: Sequence[Equation]) -> set[str]:
    """The suppressed figures that can take only one value given the published figures, the
    equations and that each is at least its `at_least`: their minimum and maximum (linear
    programs) coincide."""
    keys = [k for k in figures if k in suppressed]
    found: set[str] = set()
    for component in _components(keys, equations):
        unknowns = sorted(component, key=keys.index)
        index = {k: i for i, k in enumerate(unknowns)}
        rows: list[list[float]] = []
        rhs: list[float] = []
        for eq in equations:
            if not any(k in index for k in eq.members):
                continue
            row = [0.0] * len(unknowns)
            constant = 0.0
            for key, coefficient in [(p, 1.0) for p in eq.parts] + [(eq.total, -1.0)]:
                if key in index:
                    row[index[key]] += coefficient
                else:
                    constant -= coefficient * figures[key].value
            rows.append(row)
            rhs.append(constant)
        lows = [figures[k].at_least for k in unknowns]
        for j, key in enumerate(unknowns):
            low, high = _range(j, rows, rhs, lows)
            if high - low < 0.5:  # whole numbers: one value only
                found.add(key)
    return found


def _components(keys: Sequence[str], equations: Sequence[Equation]) -> list[set[str]]:
    """The suppressed figures grouped by the equations that link them (directly or through others)."""
    parent = {k: k for k in keys}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for eq in equations:
        members = [k for k in eq.members if k in parent]
        for other in members[1:]:
            parent[root(other)] = root(members[0])
    groups: dict[str, set[str]] = {}
    for k in keys:
        groups.setdefault(root(k), set()).add(k)
    return list(groups.values())


_EPS = 1e-9


def _range(j: int, rows: Sequence[Sequence[float]], rhs: Sequence[float], lows: Sequence[int]) -> tuple[float, float]:
    """The smallest and largest x[j] with rows·x = rhs and x >= lows (the largest may be infinite)."""
    # Shift to y = x - lows >= 0: rows·y = rhs - rows·lows.
    b = [value - sum(c * lows[i] for i, c in enumerate(row)) for row, value in zip(rows, rhs, strict=True)]
    cost = [0.0] * len(lows)
    cost[j] = 1.0
    smallest = _simplex_min(cost, rows, b)
    cost[j] = -1.0
    negated_largest = _simplex_min(cost, rows, b)
    assert smallest is not None  # y >= 0 bounds it below
    return lows[j] + smallest, (math.inf if negated_largest is None else lows[j] - negated_largest)


def _simplex_min(cost: Sequence[float], a: Sequence[Sequence[float]], b: Sequence[float]) -> float | None:
    """min cost·y with a·y = b, y >= 0 (two-phase tableau simplex, Bland's rule); None: unbounded.

    The systems here are tiny (a report's suppressed figures) and integral, so floats are exact
    enough; the caller only asks whether a range is narrower than one."""
    m, n = len(a), len(cost)
    rows = []
    for i in range(m):
        sign = -1.0 if b[i] < 0 else 1.0
        rows.append([sign * x for x in a[i]] + [1.0 if k == i else 0.0 for k in range(m)] + [sign * b[i]])
    basis = [n + i for i in range(m)]

    def pivot(r: int, col: int, objective: list[float]) -> None:
        lead = rows[r][col]
        rows[r] = [x / lead for x in rows[r]]
        for i in range(m):
            factor = rows[i][col]
            if i != r and factor != 0.0:
                rows[i] = [x - factor * y for x, y in zip(rows[i], rows[r], strict=True)]
        factor = objective[col]
        if factor != 0.0:
            objective[:] = [x - factor * y for x, y in zip(objective, rows[r], strict=True)]
        basis[r] = col

    def optimise(objective: list[float]) -> bool:
        for _ in range(50_000):
            col = next((k for k in range(n) if objective[k] < -_EPS), None)
            if col is None:
                return True
            best: tuple[float, int, int] | None = None
            for i in range(m):
                if rows[i][col] > _EPS:
                    ratio = rows[i][-1] / rows[i][col]
                    if best is None or ratio < best[0] - _EPS or (ratio <= best[0] + _EPS and basis[i] < best[1]):
                        best = (ratio, basis[i], i)
            if best is None:
                return False
            pivot(best[2], col, objective)
        raise RuntimeError("the suppression audit's simplex did not finish")

    # Phase 1: artificial variables carry the start; minimise their sum.
    objective = [0.0] * (n + m + 1)
    for row in rows:
        for k in range(n):
            objective[k] -= row[k]
        objective[-1] -= row[-1]
    optimise(objective)
    if -objective[-1] > 1e-6:
        raise ValueError("the published figures contradict the equations")
    for r in range(m):
        if basis[r] >= n:
            col = next((k for k in range(n) if abs(rows[r][k]) > _EPS), None)
            if col is not None:
                pivot(r, col, objective)
    # Phase 2: the real cost.
    objective = [*cost, *[0.0] * m, 0.0]
    for r in range(m):
        if basis[r] < n and cost[basis[r]] != 0.0:
            c = cost[basis[r]]
            objective = [x - c * y for x, y in zip(objective, rows[r], strict=True)]
    if not optimise(objective):
        return None
    return -objective[-1]
