"""Small-cell suppression for the municipal reports: primary, secondary, and an exact audit.

A report is a set of *figures* (counts, keyed by a name such as ``cases.closed``) and *equations*
between them (``total = part + part + ...``, the totals and subtotals a reader sees). A figure that
appears in two tables is one figure, so it is suppressed in both or in neither.

The method (documented in docs/reporting.md):

1. **Primary suppression** (threshold rule): a figure computed from fewer than `min_cell` cases
   is suppressed; zero included.
2. **Secondary suppression** (minimum-frequency rule, "never one alone"): while an equation has
   exactly one suppressed member, the *smallest* published part of that equation is suppressed
   too (ties: fewest cases, then the order of the table); only when no part is left is the total
   suppressed. Suppressing a figure can break another equation it is in; the rule runs until no
   equation has exactly one suppressed member.
3. **Audit**: the suppressed figures are the unknowns of the linear system the equations form
   with the published figures. A suppressed figure that the system determines (exact rational
   Gaussian elimination) could be recovered by subtracting and adding published figures; for
   each one, step 2 is applied to an equation it is in, and the audit runs again. The result:
   no suppressed figure follows from published figures and totals, by any combination of the
   equations. (Bounds remain: a figure suppressed under the threshold rule is known to lie below
   `min_cell`, as the published rule says.)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction


@dataclass(frozen=True)
class Figure:
    """A count and the number of distinct cases it is computed from (equal for case counts)."""

    value: int
    cases: int


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


def _pick(equation: Equation, figures: Mapping[str, Figure], suppressed: Collection[str]) -> str | None:
    """The figure to suppress next in `equation`: its smallest published part, else its total."""
    open_parts = [(figures[p].value, figures[p].cases, i, p) for i, p in enumerate(equation.parts)
                  if p not in suppressed]
    if open_parts:
        return min(open_parts)[3]
    return None if equation.total in suppressed else equation.total


def _check(figures: Mapping[str, Figure], equations: Sequence[Equation]) -> None:
    for eq in equations:
        missing = [k for k in eq.members if k not in figures]
        if missing:
            raise ValueError(f"equation for {eq.total} names unknown figures {missing}")
        if len(set(eq.members)) != len(eq.members):
            raise ValueError(f"equation for {eq.total} names a figure twice")


def protect(figures: Mapping[str, Figure], equations: Sequence[Equation], min_cell: int) -> dict[str, Why]:
    """The figures to suppress, each with why."""
    if min_cell < 1:
        raise ValueError(f"min_cell must be at least 1, not {min_cell}")
    _check(figures, equations)
    why = {key: Why.PRIMARY for key, figure in figures.items() if figure.cases < min_cell}
    while True:
        changed = True
        while changed:
            changed = False
            for eq in equations:
                if sum(1 for k in eq.members if k in why) == 1:
                    pick = _pick(eq, figures, why)
                    if pick is not None:
                        why[pick] = Why.SECONDARY
                        changed = True
        exposed = derivable({k: f.value for k, f in figures.items()}, why, equations)
        if not exposed:
            return why
        # Rare (linked equations): protect an exposed figure through its least protected equation.
        order = list(figures)
        pick = None
        for key in sorted(exposed, key=order.index):
            candidates = [eq for eq in equations if key in eq.members and _pick(eq, figures, why) is not None]
            if candidates:
                pick = _pick(min(candidates, key=lambda e: sum(1 for k in e.members if k in why)), figures, why)
                break
        if pick is None:  # every equation around them is suppressed: give up the smallest published figure
            published = [(figures[k].value, order.index(k), k) for eq in equations for k in eq.members if k not in why]
            if not published:
                return why
            pick = min(published)[2]
        why[pick] = Why.SECONDARY


def derivable(values: Mapping[str, int], suppressed: Collection[str], equations: Sequence[Equation]) -> set[str]:
    """The suppressed figures whose value the published figures and the equations determine.

    Each equation is a linear equation in the suppressed figures (published ones are constants);
    a suppressed figure is determined exactly when its unit vector lies in the row space of the
    coefficient matrix, i.e. when it is a pivot column of the reduced row echelon form whose row has
    no entry in a free column.
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
    pivots: list[int] = []  # pivot column of each reduced row
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
    found: set[str] = set()
    for row_index, col in enumerate(pivots):
        if all(rows[row_index][j] == 0 for j in range(len(unknowns)) if j not in pivot_set):
            found.add(unknowns[col])
    return found
