"""The municipal dashboard: `integrations.reporting` tables as inline SVG bar charts and tables.

The charts are drawn on the server (no JavaScript, no external library). Each
chart has a title and a text alternative that states every bar, and the table
with the same figures stands next to it; a suppressed cell draws no bar and
reads "x (onderdrukt)". CSV comes from `reporting.report_to_csv` unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from fastapi import HTTPException
from markupsafe import Markup
from sqlalchemy import Engine

from engine.errors import ValidationError
from engine.funding import KIND_LABELS, parse_funder_key
from integrations.reporting import figures as reporting
from integrations.reporting import periods, published
from integrations.reporting.figures import Report, Table
from integrations.reporting.periods import Period
from web.principal import Principal

# Bar colours with at least 3:1 contrast against white (WCAG 1.4.11 non-text contrast).
_COLOURS = ("#1f5f99", "#2e7d4f", "#8a4b00", "#6b3fa0", "#a3303a", "#3d5a6c", "#006d77", "#7a5c00")


def scope_of(principal: Principal) -> str:
    """The funder key whose aggregates `principal` (an analyst) sees: their funder's or municipality's."""
    return published.analyst_scope(principal.municipality, principal.account.funder)


def check_rate(db: Engine, who: str, now: datetime, per_hour: int) -> None:
    """429 with a Dutch message when `who` drew up `per_hour` reports in the last hour: many
    queries are what a differencing attack needs, and no analyst reads sixty reports an hour."""
    if published.recent_reports(db, who, now) >= per_hour:
        raise HTTPException(status_code=429, headers={"Retry-After": "3600"},
                            detail=f"U heeft het afgelopen uur al {per_hour} rapporten opgevraagd; probeer het later opnieuw.")


def period_from(period: str, start: str, end: str, now: datetime) -> Period:
    """The fixed period asked for: `period` (2026-03, 2026-K1, 2026), else `start`..`end` when that
    is exactly a month, quarter or year, else the last quarter that has ended. ValidationError
    (Dutch) for anything else, including a free period."""
    if period:
        return periods.parse_period(period)
    if start or end:
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            raise ValidationError("een datum schrijf je als JJJJ-MM-DD; geef begin en eind van een maand, kwartaal "
                                  "of jaar, of kies een periode") from None
        return periods.period_of(first, last)
    return periods.latest_ended(now, periods.PeriodKind.QUARTER)


def build(db: Engine, scope: str, pathway_id: str | None, period: Period, now: datetime) -> Report:
    return published.published_report(db, scope, pathway_id, period, now=now)


def cell_text(cell: reporting.Cell, unit: str, lang: str = "nl") -> str:
    if cell.suppressed:
        return "x"
    value = cell.value
    if isinstance(value, float) and unit == "days":
        text = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
        return text.replace(".", ",") if lang == "nl" else text
    if isinstance(value, float):
        text = f"{value:.1f}"
        return text.replace(".", ",") if lang == "nl" else text
    return str(value)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: suppressed
    text: str


def bars(table: Table, lang: str = "nl") -> list[Bar]:
    """The item rows of a table as bars: the first column, with the share when there is one."""
    found = []
    for row in table.rows:
        if row.kind is not reporting.RowKind.ITEM or not row.cells:
            continue
        first = row.cells[0]
        share = row.cells[1] if len(row.cells) > 1 and table.units[1] == "percent" else None
        text = cell_text(first, table.units[0], lang)
        if share is not None and not share.suppressed:
            text += f" ({cell_text(share, 'percent', lang)}%)"
        value = None if first.suppressed else float(first.value)  # type: ignore[arg-type]
        found.append(Bar(row.label, value, text if not first.suppressed else "x (onderdrukt)"))
    return found


def bar_chart(table: Table, chart_id: str, lang: str = "nl") -> Markup:
    """A horizontal bar chart of `table` as accessible inline SVG."""
    items = bars(table, lang)
    if not items:
        return Markup("")
    width, label_w, value_w, row_h = 560, 230, 110, 30
    plot_w = width - label_w - value_w - 10
    top = max((b.value or 0.0) for b in items) or 1.0
    height = row_h * len(items) + 10
    summary = "; ".join(f"{b.label}: {b.text}" for b in items)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-t">{escape(table.title)}</title>',
        f'<desc id="{chart_id}-d">{escape(summary)}</desc>',
    ]
    for i, bar in enumerate(items):
        y = 5 + i * row_h
        label = bar.label if len(bar.label) <= 32 else bar.label[:30] + "…"
        parts.append(f'<text x="0" y="{y + 19}" class="chart-label">{escape(label)}</text>')
        parts.append(f'<line x1="{label_w}" y1="{y}" x2="{label_w}" y2="{y + row_h - 2}" class="chart-axis"/>')
        if bar.value is None:
            parts.append(f'<rect x="{label_w}" y="{y + 6}" width="{plot_w}" height="{row_h - 12}" '
                         f'class="chart-suppressed"/>')
        else:
            w = max(1.0, plot_w * bar.value / top) if bar.value > 0 else 0.0
            colour = _COLOURS[i % len(_COLOURS)]
            parts.append(f'<rect x="{label_w}" y="{y + 6}" width="{w:.1f}" height="{row_h - 12}" '
                         f'fill="{colour}" rx="2"/>')
        parts.append(f'<text x="{label_w + plot_w + 8}" y="{y + 19}" class="chart-value">{escape(bar.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def chartable(table: Table) -> bool:
    """Tables whose rows are parts of a whole (counts with shares) make a bar chart."""
    return bool(table.units) and table.units[0] == "count" and len(table.units) > 1


def to_csv(report: Report) -> str:
    return reporting.report_to_csv(report)


def as_dict(report: Report) -> dict[str, Any]:
    return reporting.report_as_dict(report)


def scope_title(principal: Principal, municipalities: Mapping[str, str]) -> str:
    """Whose figures the dashboard shows, as a heading: the municipality's name, or the funder."""
    if principal.account.funder:
        kind, code = parse_funder_key(principal.account.funder)
        return f"{KIND_LABELS[kind]} {code} ({principal.organisation})"
    code = principal.municipality or ""
    return municipalities.get(code, code)
