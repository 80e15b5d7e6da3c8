"""The reports an analyst gets: fixed ended periods, fixed breakdowns, perturbed counts, a rate limit.

`figures.build_report` computes exact figures over any period; handing that to an analyst let one
move the end date a day at a time and read single starts, closes, outcomes and a client's lead time
off the differences (issue #9). What an analyst is given instead (docs/reporting.md, "Protection"):

* only a whole calendar month, quarter or year that has ended (`integrations.reporting.periods`):
  no two allowed periods differ by less than a month, and a period is not reported while it runs;
* fixed tables: the breakdowns are the report's own (pathway, outcome, origin group, problem area);
  the only choice besides the period is one pathway or all;
* small-cell suppression with protection of totals (`suppression.protect`), as before;
* cell-key perturbation of every published count (`cellkey`): a difference between two reports, or
  between a total and its published parts, carries noise the reader does not know;
* lead-time percentiles only per pathway, over at least 50 closed cases, in whole days;
* a limit on the number of reports per account per hour (`recent_reports`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Engine, func, select

from engine.errors import ValidationError
from integrations.db.engine_factory import read_session
from integrations.db.models import AuditLogRow
from integrations.reporting.figures import DEFAULT_MIN_CELL, PUBLISHED, Report, build_report
from integrations.reporting.periods import Period

REPORT_ACTION: Final = "report"  # the audit action of every report an analyst draws up
DEFAULT_PER_HOUR: Final = 60


def analyst_scope(municipality: str | None, funder: str | None) -> str:
    """Whose cases an analyst's reports count: their funder's key, else their municipality's CBS
    code (which `build_report` reads as the key ``municipality:<code>``)."""
    if funder:
        return funder
    if not municipality:
        raise ValidationError("dit account hoort bij geen gemeente of financier")
    return municipality


def published_report(db: Engine, scope: str, pathway_id: str | None, period: Period, *, now: datetime,
                     min_cell: int = DEFAULT_MIN_CELL) -> Report:
    """The protected report of `scope` (a funder key) for `period`; ValidationError (Dutch) for a
    period that has not ended."""
    if not period.ended(now):
        raise ValidationError(
            f"periode {period.label} loopt nog: rapporten gaan alleen over afgelopen maanden, kwartalen en jaren")
    return build_report(db, scope, pathway_id, period.start, period.end, min_cell=min_cell, now=now,
                        protection=PUBLISHED)


def recent_reports(db: Engine, who: str, now: datetime, window: timedelta = timedelta(hours=1)) -> int:
    """How many reports `who` drew up in the `window` before `now` (their audit entries)."""
    with read_session(db) as session:
        a = AuditLogRow
        return int(session.execute(select(func.count()).select_from(a).where(
            a.who == who, a.action == REPORT_ACTION, a.at > now - window)).scalar_one())
